// A small in-test lab and backend for the web server's own tests: the environment is a
// kubeconfig pointing nowhere (the terminal is a real sandboxed bash; nothing here talks to a
// cluster), and the grader passes a step once its solution was applied. What is under test is
// the server around them: auth, origins, sessions, limits, persistence.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ClusterBackend, Environment, ProvisionRequest } from '../../server/backends/types.ts';
import type { Coursework, LabOutline, StepGrader } from '../../server/http/ports.ts';
import { createKubelabServer, type KubelabServer, type ServerOptions } from '../../server/http/app.ts';
import { Store } from '../../server/store/index.ts';
import { buildWebBundle } from '../../server/http/bundle.ts';

export const lab: LabOutline = {
  summary: { id: 'demo', title: 'Demo lab', summary: 'For tests', minutes: 5, steps: 2, questions: 1 },
  steps: [
    { id: 'one', title: 'Step one', hints: ['first hint', 'second hint'], hasSolution: true },
    { id: 'two', title: 'Step two', hints: [], hasSolution: true },
  ],
  questions: [{ id: 'q1', kind: 'single', prompt: '<p>Pick b</p>', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }] }],
  environment: { labId: 'demo', setup: [], externalHosts: [], images: [] },
};

export function testCoursework(): Coursework & { solved: Set<string> } {
  const solved = new Set<string>();
  return {
    solved,
    list: () => [lab],
    get: (id) => (id === 'demo' ? lab : undefined),
    renderStep: async (_lab, stepId, ctx) => `<h2>${stepId}</h2><p>Hello ${ctx.learner.replace(/[<&]/g, '')}</p><pre data-run="true"><code>kubectl get ns</code></pre>`,
    gradeAnswer: async (_lab, _q, answer) => ({ correct: answer === 'b', score: answer === 'b' ? 1 : 0, explanation: 'b is right' }),
    grader: (_labId, env): StepGrader => ({
      gradeStep: async (stepId) => {
        const ok = solved.has(`${env.id}/${stepId}`);
        return {
          stepId,
          outcome: ok ? 'passed' : 'failed',
          summary: ok ? 'all good' : 'not yet',
          at: Date.now(),
          checks: [
            { id: 'blocked', title: 'frontend cannot reach the API', kind: 'probe', status: ok ? 'pass' : 'fail', explanation: 'blocked: api is isolated for ingress', probe: { source: 'web/frontend', target: 'api.payments', port: 80, protocol: 'TCP', expected: 'timeout', observed: ok ? 'timeout' : 'connected' } },
          ],
        };
      },
      applySolution: async (stepId) => void solved.add(`${env.id}/${stepId}`),
      resetStep: async (stepId) => void solved.delete(`${env.id}/${stepId}`),
      applyStepSetup: async () => {},
      snapshot: async () => ({ cluster: { namespaces: [], pods: [] }, policies: [] }),
      close: async () => {},
    }),
    problems: () => [],
    reload: async () => {},
  };
}

export function testBackend(): ClusterBackend & { provisioned: ProvisionRequest[]; disposed: number } {
  const backend = {
    name: 'embedded' as const,
    provisioned: [] as ProvisionRequest[],
    disposed: 0,
    async provision(req: ProvisionRequest): Promise<Environment> {
      backend.provisioned.push(req);
      req.onProgress?.({ phase: 'creating-cluster', message: 'Creating your cluster', fraction: 0.5 });
      await new Promise((r) => setTimeout(r, 20));
      req.onProgress?.({ phase: 'ready', message: 'Ready', fraction: 1 });
      return {
        id: `env-${backend.provisioned.length}`,
        backend: 'embedded',
        dataPlane: 'none',
        kubeconfig: 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n',
        kubeconfigPath: '/nonexistent',
        server: 'https://127.0.0.1:1',
        shellEnv: {},
        dispose: async () => void backend.disposed++,
      };
    },
    async close() {},
  };
  return backend;
}

const log = pino({ level: process.env.KUBELAB_TEST_LOG ?? 'silent' });
let webDir: string | undefined;

export interface Harness {
  server: KubelabServer;
  url: string;
  origin: string;
  store: Store;
  coursework: ReturnType<typeof testCoursework>;
  backend: ReturnType<typeof testBackend>;
  dir: string;
  close(): Promise<void>;
}

/** A server on an ephemeral port with its own database (or `dbFile` to reopen one). */
export async function startHarness(overrides: Partial<ServerOptions> = {}, dbFile?: string): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-http-'));
  if (!webDir) {
    webDir = join(mkdtempSync(join(tmpdir(), 'kubelab-web-')), 'web');
    await buildWebBundle(webDir);
  }
  const store = new Store(dbFile ?? join(dir, 'kubelab.db'));
  const coursework = testCoursework();
  const backend = testBackend();
  const server = createKubelabServer({ store, coursework, backend, log, instructorToken: 'teacher-secret-token', webDir, ...overrides });
  const url = await server.listen(0, '127.0.0.1');
  return {
    server, url, origin: url, store, coursework, backend, dir,
    async close() {
      await server.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  cookie?: string;
}

/** A JSON request from our own origin, carrying `cookie` when given. */
export async function call<T = unknown>(h: Harness, method: string, path: string, opts: { body?: unknown; cookie?: string; origin?: string | null; raw?: string; type?: string } = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.origin !== null) headers.origin = opts.origin ?? h.origin;
  if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const res = await fetch(h.url + path, { method, headers, body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  const set = res.headers.get('set-cookie');
  return { status: res.status, body: body as T, headers: res.headers, cookie: set ? set.split(';')[0] : undefined };
}

export async function join_(h: Harness, name = 'Ada'): Promise<string> {
  const r = await call(h, 'POST', '/api/join', { body: { name } });
  if (r.status !== 201 || !r.cookie) throw new Error(`join failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.cookie;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
