// Test harness around the fake kind/docker (test/kind/fake-kind): a private state directory, the
// environment that points the backend at the fakes, the recorded calls, and cleanup that stops
// every embedded cluster the fake started, whatever the test did.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KindBackendOptions } from '../../server/backends/kind/index.ts';
import type { Clock } from '../../server/backends/kind/clock.ts';
import { systemClock } from '../../server/backends/kind/clock.ts';

export const FAKE_BIN = fileURLToPath(new URL('./fake-kind/bin', import.meta.url));
export const CALICO_FIXTURE = fileURLToPath(new URL('./fixtures/calico-embedded.yaml', import.meta.url));

export interface Call {
  tool: 'kind' | 'docker';
  argv: string[];
  stdin?: string;
  start: number;
  end: number;
  code: number;
}

interface FakeCluster {
  name: string;
  pid: number;
  kubeconfig: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes (not this one) whose command line mentions `path`. */
function processesMentioning(path: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path)) out.push(pid);
    } catch {
      // gone
    }
  }
  return out;
}

export class FakeWorld {
  readonly root = mkdtempSync(join(tmpdir(), 'kubelab-kind-test-'));
  readonly fakeState = join(this.root, 'fake');
  readonly backendState = join(this.root, 'backend');
  readonly logs: string[] = [];

  constructor(readonly extraEnv: Record<string, string> = {}) {}

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, FAKE_KIND_STATE: this.fakeState, PATH: `${FAKE_BIN}:${process.env.PATH ?? ''}`, ...this.extraEnv };
  }

  options(extra: KindBackendOptions = {}): KindBackendOptions {
    return {
      stateDir: this.backendState,
      kindBinary: join(FAKE_BIN, 'kind'),
      dockerBinary: join(FAKE_BIN, 'docker'),
      commandEnv: this.env,
      calicoManifest: CALICO_FIXTURE,
      pollIntervalMs: 200,
      timeouts: { readyMs: 60_000, setupMs: 60_000, createMs: 120_000, deleteMs: 30_000, loadImagesMs: 30_000 },
      log: (level, message) => this.logs.push(`${level}: ${message}`),
      ...extra,
    };
  }

  calls(): Call[] {
    const file = join(this.fakeState, 'calls.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Call);
  }

  kindCalls(sub: string): Call[] {
    return this.calls().filter((c) => c.tool === 'kind' && c.argv.slice(0, sub.split(' ').length).join(' ') === sub);
  }

  private records(): FakeCluster[] {
    const dir = join(this.fakeState, 'clusters');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as FakeCluster);
  }

  /** Run the fake kind as an operator would, outside the backend. */
  kind(args: string[], stdin = ''): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(join(FAKE_BIN, 'kind'), args, { env: this.env, input: stdin, encoding: 'utf8' });
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  }

  /** The local routes `docker exec <node> ip route ...` left on a node container. */
  nodeRoutes(node: string): string[] {
    const file = join(this.fakeState, 'clusters', `${node}.routes`);
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** `kind get clusters`, as the fake sees them (processes alive). */
  liveClusters(): string[] {
    return this.records()
      .filter((r) => alive(r.pid))
      .map((r) => r.name)
      .sort();
  }

  writeFile(name: string, text: string): string {
    const p = join(this.root, name);
    writeFileSync(p, text);
    return p;
  }

  /**
   * Stop every embedded cluster the fake started and remove the temp tree. A cluster whose create
   * was cut short may have no record yet: any process started with a path of this world is one of
   * its clusters too.
   */
  async cleanup(): Promise<void> {
    const pids = () => [...new Set([...this.records().map((r) => r.pid), ...processesMentioning(this.root)])].filter(alive);
    for (const pid of pids()) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
    }
    for (let i = 0; i < 100 && pids().length > 0; i++) await new Promise((res) => setTimeout(res, 100));
    for (const pid of pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Intervals that overlap in time among calls. */
export function overlapping(calls: Call[]): number {
  let max = 0;
  for (const c of calls) max = Math.max(max, calls.filter((d) => d.start < c.end && c.start < d.end).length);
  return max;
}

/** The real clock with a hand on it: sleeps take real time, and `advance` jumps `now`. */
export class JumpClock implements Clock {
  private offset = 0;
  now(): number {
    return systemClock.now() + this.offset;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms, signal);
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

/** Environment entries of a directory tree (for "nothing left behind" checks). */
export function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${name.name}` : name.name;
      if (name.isDirectory()) {
        out.push(`${r}/`);
        walk(join(d, name.name), r);
      } else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}
