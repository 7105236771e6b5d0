// A simulated learner: the browser's side of the platform over plain HTTP and one terminal
// WebSocket, as the web UI uses them (JSON API with our Origin, session cookie, typed terminal
// frames acknowledged as xterm.js would). Used by the reliability suite and the platform benchmark.
//
// Each learner may bind its own loopback source address (127.0.0.x), so a server's per-address
// join limit sees a class of learners instead of one client.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import WebSocket from 'ws';
import type { ServerMessage } from '../../shared/terminal-protocol.ts';

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: http.IncomingHttpHeaders;
}

export interface LearnerOptions {
  /** loopback address to send from (e.g. 127.0.0.7) */
  localAddress?: string;
  /** Origin header; the server's own URL by default */
  origin?: string;
  /** request timeout (default 60 s) */
  timeoutMs?: number;
}

export class Learner {
  cookie = '';
  id = '';
  private readonly agent: http.Agent;

  constructor(
    readonly url: string,
    readonly opts: LearnerOptions = {},
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 4, localAddress: opts.localAddress });
  }

  get origin(): string {
    return this.opts.origin ?? this.url;
  }

  /**
   * One JSON request; never throws for an HTTP status, only for a broken connection. Like a
   * browser, it sends again once when a kept-alive connection turns out to have been closed by
   * the server just before the request went out (nothing reached the server then).
   */
  async request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    try {
      return await this.send<T>(method, path, body, headers);
    } catch (err) {
      if ((err as { reusedSocket?: boolean }).reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET') return this.send<T>(method, path, body, headers);
      throw err;
    }
  }

  private send<T>(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Reply<T>> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const target = new URL(path, this.url);
    let answered = false;
    return new Promise((resolve, reject) => {
      const req = http.request(
        target,
        {
          method,
          agent: this.agent,
          timeout: this.opts.timeoutMs ?? 60_000,
          headers: {
            origin: this.origin,
            ...(this.cookie ? { cookie: this.cookie } : {}),
            ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
            ...headers,
          },
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T, headers: res.headers });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${this.opts.timeoutMs ?? 60_000} ms`)));
      req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket && !answered })));
      req.end(payload);
    });
  }

  async join(name: string): Promise<this> {
    const r = await this.request<{ learner?: { id: string } }>('POST', '/api/join', { name });
    const set = r.headers['set-cookie']?.[0];
    if (r.status !== 201 || !set || !r.body.learner) throw new Error(`join as ${name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    this.cookie = set.split(';')[0];
    this.id = r.body.learner.id;
    return this;
  }

  async start(labId: string): Promise<void> {
    const r = await this.request('POST', `/api/labs/${labId}/start`, {});
    if (r.status !== 202) throw new Error(`start ${labId}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  }

  /** Poll the lab session until the environment is ready; throws with the server's message if it failed. */
  async waitReady(labId: string, timeoutMs = 120_000, everyMs = 20): Promise<void> {
    const start = Date.now();
    for (;;) {
      const r = await this.request<{ environment?: { status: string; message?: string } }>('GET', `/api/labs/${labId}/session`);
      const env = r.body.environment;
      if (r.status !== 200 || !env) throw new Error(`session of ${labId}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      if (env.status === 'ready') return;
      if (env.status === 'failed' || env.status === 'none') throw new Error(`environment ${env.status}: ${env.message ?? ''}`);
      if (Date.now() - start > timeoutMs) throw new Error(`environment not ready after ${timeoutMs} ms (${env.status}: ${env.message ?? ''})`);
      await sleep(everyMs);
    }
  }

  openTerminal(labId: string, extraHeaders: Record<string, string> = {}): Promise<Term> {
    const ws = new WebSocket(`${this.url.replace(/^http/, 'ws')}/ws/terminal?lab=${encodeURIComponent(labId)}&cols=120&rows=40`, {
      headers: { origin: this.origin, ...(this.cookie ? { cookie: this.cookie } : {}), ...extraHeaders },
      localAddress: this.opts.localAddress,
      perMessageDeflate: false,
    });
    return Term.attach(ws);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** One terminal connection: acknowledges output like the browser, keeps the recent text. */
export class Term {
  /** the most recent output (bounded) */
  text = '';
  /** every character received since open (for flood checks) */
  received = 0;
  hello: Extract<ServerMessage, { type: 'hello' }> | undefined;
  closed: { code: number; reason: string } | undefined;
  errors: string[] = [];
  private waiters: Array<{ test: (t: string) => boolean; resolve: () => void }> = [];
  private closeWaiters: Array<() => void> = [];
  private seq = 0;
  private readonly nonce = Math.random().toString(36).slice(2, 8);

  private constructor(
    readonly ws: WebSocket,
    private readonly keep = 64 * 1024,
  ) {
    ws.on('message', (d) => {
      let m: ServerMessage;
      try {
        m = JSON.parse(d.toString()) as ServerMessage;
      } catch {
        this.errors.push('a frame that is not JSON');
        return;
      }
      if (m.type === 'hello') {
        this.hello = m;
        this.add(m.replay);
      } else if (m.type === 'output') {
        this.received += m.data.length;
        this.add(m.data);
        ws.send(JSON.stringify({ type: 'ack', chars: m.data.length }));
      } else if (m.type === 'error') {
        this.errors.push(m.message);
      }
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters) w();
      this.closeWaiters = [];
    });
  }

  static attach(ws: WebSocket): Promise<Term> {
    const t = new Term(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(t));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`terminal refused: HTTP ${res.statusCode} ${body}`), { status: res.statusCode })));
      });
      ws.once('error', reject);
    });
  }

  private add(data: string): void {
    this.text = (this.text + data).slice(-this.keep);
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(this.text)) return true;
      w.resolve();
      return false;
    });
  }

  waitFor(pattern: RegExp | string, timeoutMs = 15_000): Promise<void> {
    const test = (t: string) => (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t));
    if (test(this.text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`terminal never showed ${pattern} in ${timeoutMs} ms; it shows:\n${this.text.slice(-600)}`));
      }, timeoutMs);
      const waiter = { test, resolve: () => (clearTimeout(timer), resolve()) };
      this.waiters.push(waiter);
    });
  }

  send(data: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'input', data }));
  }

  /** Run a command line and wait for it to finish; resolves with its exit status and output. */
  async run(command: string, timeoutMs = 30_000): Promise<{ exitCode: number; output: string }> {
    // unique per connection: a replayed screen may hold marks of an earlier connection's commands
    const mark = `__kubelab_done_${this.nonce}_${++this.seq}_`;
    const from = this.text.length;
    // the mark's digits come from $?, so the echoed command line itself never matches
    this.send(`${command}; echo ${mark}$?\r`);
    const re = new RegExp(`${mark}(\\d+)`);
    await this.waitFor(re, timeoutMs);
    const m = re.exec(this.text)!;
    return { exitCode: Number(m[1]), output: this.text.slice(Math.min(from, m.index), m.index) };
  }

  /** Time from sending a keystroke to seeing it echoed, in ms. */
  async echo(timeoutMs = 10_000): Promise<number> {
    const marker = `k${this.nonce}${++this.seq}q`;
    const t0 = performance.now();
    this.send(marker);
    await this.waitFor(marker, timeoutMs);
    const ms = performance.now() - t0;
    this.send('\x15'); // Ctrl-U: clear the line for the next keystrokes
    return ms;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      this.ws.close();
      setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** MemAvailable from /proc/meminfo, in MiB (undefined off Linux). */
export function memAvailableMiB(): number | undefined {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
