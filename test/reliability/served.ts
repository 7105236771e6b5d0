// A `kubelab serve` child process and what it owns on this machine: its descendant processes,
// its network namespaces, its file descriptors and memory, for tests that crash it or load it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { listNamespaces, ownedTags, readOwner, PREFIX } from '../../server/dataplane/netns/names.ts';
import { repoRoot } from './server.ts';

export interface Served {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** `kubelab serve --port 0 --state STATE` as a child; resolves once it prints its URL. */
export function serve(state: string, env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', 'serve', '--port', '0', '--state', state], {
    cwd: repoRoot,
    env: { ...process.env, KUBELAB_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubelab serve printed no URL:\n${out}`)), 60_000);
    child.stdout!.on('data', () => {
      const m = /kubelab is serving at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output: () => out });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`kubelab serve exited (${code ?? signal}):\n${out}`));
    });
  });
}

/** Every live descendant of `root` as pid → start time (so a reused pid is not mistaken for one). */
export function descendants(root: number): Map<number, string> {
  const parent = new Map<number, number>();
  const start = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), Number(fields[1]));
      start.set(Number(entry), fields[19]);
    } catch {
      // gone
    }
  }
  const out = new Map<number, string>();
  for (const pid of parent.keys()) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root && pid !== root) {
        out.set(pid, start.get(pid)!);
        break;
      }
    }
  }
  return out;
}

/** Still running: the same process (start time) and not a zombie waiting for init to reap it. */
export function alive(pid: number, startTime: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] === startTime && fields[0] !== 'Z' && fields[0] !== 'X';
  } catch {
    return false;
  }
}

export function namespacesOf(pid: number): string[] {
  const tags = new Set(ownedTags().filter((t) => readOwner(t)?.pid === pid));
  return listNamespaces().filter((ns) => ns.startsWith(PREFIX) && tags.has(ns.slice(PREFIX.length, PREFIX.length + 4)));
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
