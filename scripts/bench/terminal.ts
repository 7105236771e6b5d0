// Terminal figures, measured through the real web server over real WebSockets:
// - start lab → prompt: POST /start until the terminal shows the prompt, on the embedded backend
//   with the first lab under labs/ (when that backend is present on this checkout);
// - keystroke echo with 100 connected terminals, each a sandboxed bash (the shell does not need
//   a cluster for this, so those environments are shell-only);
// - the same while one of the terminals runs `yes`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import WebSocket from 'ws';
import type { BenchResult } from './types.ts';
import { summarize } from './types.ts';
import type { ClusterBackend, Environment } from '../../server/backends/types.ts';
import type { Coursework, LabOutline, StepGrader } from '../../server/http/ports.ts';
import { createKubelabServer, type KubelabServer } from '../../server/http/app.ts';
import { loadCoursework } from '../../server/http/coursework.ts';
import { buildWebBundle } from '../../server/http/bundle.ts';
import { Store } from '../../server/store/index.ts';
import type { ServerMessage } from '../../shared/terminal-protocol.ts';

const log = pino({ level: 'silent' });

function percentile(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** Environments that are only a shell: for measuring the terminal path alone. */
function shellOnlyBackend(): ClusterBackend {
  let n = 0;
  return {
    name: 'embedded',
    async provision(): Promise<Environment> {
      n++;
      return { id: `shell-${n}`, backend: 'embedded', dataPlane: 'none', kubeconfig: 'apiVersion: v1\nkind: Config\n', kubeconfigPath: '/nonexistent', server: 'https://127.0.0.1:1', shellEnv: {}, dispose: async () => {} };
    },
    async close() {},
  };
}

const shellLab: LabOutline = {
  summary: { id: 'shell', title: 'Shell', summary: '', minutes: 1, steps: 0, questions: 0 },
  steps: [],
  questions: [],
  environment: { labId: 'shell', setup: [], externalHosts: [], images: [] },
};

function shellCoursework(): Coursework {
  const unavailable = async (): Promise<never> => {
    throw new Error('no grader in this benchmark');
  };
  const grader: StepGrader = { gradeStep: unavailable, applySolution: unavailable, resetStep: unavailable, applyStepSetup: unavailable, snapshot: unavailable, close: async () => {} };
  return { list: () => [shellLab], get: (id) => (id === 'shell' ? shellLab : undefined), renderStep: async () => '', gradeAnswer: unavailable, grader: () => grader, problems: () => [], reload: async () => {} };
}

interface Client {
  cookie: string;
}

async function post(url: string, path: string, cookie: string | undefined, body: unknown = {}): Promise<{ status: number; cookie?: string; json: unknown }> {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', origin: url, ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
  return { status: res.status, cookie: res.headers.get('set-cookie')?.split(';')[0], json: await res.json().catch(() => undefined) };
}

async function join_(url: string, name: string): Promise<Client> {
  const r = await post(url, '/api/join', undefined, { name });
  if (!r.cookie) throw new Error(`join failed: ${r.status}`);
  return { cookie: r.cookie };
}

async function waitReady(url: string, cookie: string, labId: string, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    const res = await fetch(`${url}/api/labs/${labId}/session`, { headers: { cookie } });
    const s = (await res.json()) as { environment: { status: string; message?: string } };
    if (s.environment.status === 'ready') return;
    if (s.environment.status === 'failed') throw new Error(s.environment.message ?? 'environment failed');
    if (Date.now() - start > timeoutMs) throw new Error('environment not ready in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A terminal connection that acknowledges output like the browser does and collects its text. */
class Term {
  text = '';
  private waiters: Array<{ re: RegExp | string; resolve: () => void }> = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      if (m.type === 'output' || m.type === 'hello') {
        const data = m.type === 'hello' ? m.replay : m.data;
        this.text = (this.text + data).slice(-4000);
        if (m.type === 'output') ws.send(JSON.stringify({ type: 'ack', chars: m.data.length }));
        this.waiters = this.waiters.filter((w) => {
          const hit = typeof w.re === 'string' ? this.text.includes(w.re) : w.re.test(this.text);
          if (hit) w.resolve();
          return !hit;
        });
      }
    });
  }
  static open(url: string, cookie: string, labId: string): Promise<Term> {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws/terminal?lab=${labId}`, { headers: { cookie, origin: url } });
    const t = new Term(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(t));
      ws.once('unexpected-response', (_q, res) => reject(new Error(`terminal refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }
  waitFor(re: RegExp | string, timeoutMs = 10_000): Promise<void> {
    if (typeof re === 'string' ? this.text.includes(re) : re.test(this.text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}`)), timeoutMs);
      this.waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
  send(data: string): void {
    this.ws.send(JSON.stringify({ type: 'input', data }));
  }
}

async function startServer(backend: ClusterBackend, coursework: Coursework, max: number): Promise<{ server: KubelabServer; url: string; done(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-bench-'));
  const webDir = join(dir, 'web');
  await buildWebBundle(webDir);
  const store = new Store(join(dir, 'kubelab.db'));
  const server = createKubelabServer({ store, coursework, backend, log, instructorToken: 'bench', webDir, limits: { max }, maxTerminals: max, rates: { joinsPerMinute: 100_000, checksPerMinute: 100_000 } });
  const url = await server.listen(0, '127.0.0.1');
  return {
    server,
    url,
    async done() {
      await server.close({ dispose: true });
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startToPrompt(): Promise<BenchResult> {
  let backend: ClusterBackend | undefined;
  try {
    const mod = (await import(new URL('../../server/backends/embedded.ts', import.meta.url).href)) as { createEmbeddedBackend?: (o: Record<string, unknown>) => ClusterBackend };
    backend = mod.createEmbeddedBackend?.({});
  } catch {
    backend = undefined;
  }
  const { coursework } = await loadCoursework(resolve('labs'));
  const lab = coursework.list()[0];
  const onEmbedded = Boolean(backend && lab);
  const s = await startServer(backend ?? shellOnlyBackend(), onEmbedded ? coursework : shellCoursework(), 50);
  const labId = onEmbedded ? lab.summary.id : 'shell';
  const samples: number[] = [];
  try {
    for (let i = 0; i < 8; i++) {
      const c = await join_(s.url, `bench${i}`);
      const t0 = performance.now();
      await post(s.url, `/api/labs/${labId}/start`, c.cookie);
      await waitReady(s.url, c.cookie, labId);
      const term = await Term.open(s.url, c.cookie, labId);
      await term.waitFor('learner@kubelab');
      samples.push(performance.now() - t0);
      term.ws.close();
    }
  } finally {
    await s.done();
  }
  return {
    name: onEmbedded ? `start lab → terminal prompt (embedded, ${labId})` : 'start lab → terminal prompt (shell only: no embedded backend on this checkout)',
    value: summarize(samples).median / 1000,
    unit: 's p50',
    goal: '≤ 0.5 s p50',
    samples: samples.map((x) => x / 1000),
  };
}

export async function echoLatency(): Promise<BenchResult[]> {
  const N = 100;
  const s = await startServer(shellOnlyBackend(), shellCoursework(), N + 5);
  const terms: Term[] = [];
  const results: BenchResult[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const c = await join_(s.url, `t${i}`);
      await post(s.url, '/api/labs/shell/start', c.cookie);
      await waitReady(s.url, c.cookie, 'shell');
      terms.push(await Term.open(s.url, c.cookie, 'shell'));
    }
    await Promise.all(terms.map((t) => t.waitFor('learner@kubelab', 30_000)));
    let seq = 0;
    const measure = async (count: number, skip: Set<number>): Promise<number[]> => {
      const samples: number[] = [];
      for (let k = 0; k < count; k++) {
        const i = k % N;
        if (skip.has(i)) continue;
        const t = terms[i];
        const marker = `q${seq++}z`;
        const t0 = performance.now();
        t.send(marker);
        await t.waitFor(marker, 10_000);
        samples.push(performance.now() - t0);
        t.send('\x15'); // Ctrl-U: clear the line for the next keystrokes
      }
      return samples;
    };
    await measure(50, new Set());
    const idle = await measure(400, new Set());
    results.push(
      { name: `keystroke echo p50, ${N} terminals`, value: percentile(idle, 0.5), unit: 'ms', samples: idle },
      { name: `keystroke echo p99, ${N} terminals`, value: percentile(idle, 0.99), unit: 'ms', goal: '≤ 25 ms p99', samples: idle },
    );
    terms[0].send('yes kubelab-bench\r');
    await terms[0].waitFor(/(kubelab-bench\r\n){20}/);
    const busy = await measure(400, new Set([0]));
    terms[0].send('\x03');
    results.push(
      { name: `keystroke echo p50, ${N} terminals, one running yes`, value: percentile(busy, 0.5), unit: 'ms', samples: busy },
      { name: `keystroke echo p99, ${N} terminals, one running yes`, value: percentile(busy, 0.99), unit: 'ms', goal: '≤ 25 ms p99', samples: busy },
    );
  } finally {
    for (const t of terms) t.ws.close();
    await s.done();
  }
  return results;
}

export async function benchTerminal(): Promise<BenchResult[]> {
  return [await startToPrompt(), ...(await echoLatency())];
}
