// The terminals of a server, one shell per learner environment, kept across reconnects and
// ended with the environment (or when the shell exits; the next attach then starts a new one).
import { readdirSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TerminalSession, type TerminalOptions } from './session.ts';
import { killIn, listShellCgroups, shellCgroupParents } from './limits.ts';

export { TerminalSession } from './session.ts';
export type { TerminalClient, TerminalOptions } from './session.ts';
export { bridgeTerminal } from './socket.ts';
export { detectSandbox, SHELL_PROMPT } from './sandbox.ts';
export { defaultShellLimits, type ShellLimits } from './limits.ts';
export type { SandboxSupport } from './sandbox.ts';

export class Terminals {
  private readonly sessions = new Map<string, TerminalSession>();

  constructor(private readonly limits: { max: number } = { max: 500 }) {}

  get count(): number {
    return this.sessions.size;
  }

  get(key: string): TerminalSession | undefined {
    const s = this.sessions.get(key);
    return s && !s.hasExited ? s : undefined;
  }

  /** The live shell for `key`, or a new one made with `options()`. */
  open(key: string, options: () => TerminalOptions): TerminalSession {
    const existing = this.get(key);
    if (existing) return existing;
    if (this.sessions.size >= this.limits.max) throw new Error(`this server already runs ${this.limits.max} terminals`);
    const session = new TerminalSession(options());
    this.sessions.set(key, session);
    session.onExit(() => {
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    });
    return session;
  }

  close(key: string, reason?: string): void {
    const s = this.sessions.get(key);
    this.sessions.delete(key);
    s?.kill(reason);
  }

  closeAll(reason = 'server shutting down'): void {
    for (const key of [...this.sessions.keys()]) this.close(key, reason);
  }

  all(): TerminalSession[] {
    return [...this.sessions.values()];
  }
}

/** Remove private shell directories and pids cgroups an earlier, crashed server left behind. */
export function reapTerminalLeftovers(): number {
  let n = 0;
  for (const name of safeList(tmpdir())) {
    if (name.startsWith('kubelab-term-') && !ownerAlive(name)) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
      n++;
    }
  }
  for (const parent of shellCgroupParents()) {
    for (const name of listShellCgroups(parent)) {
      if (ownerAlive(name)) continue;
      const dir = join(parent, name);
      // what a dead server's shell left running (background jobs) goes with its group
      killIn([dir]);
      try {
        rmdirSync(dir);
        n++;
      } catch {
        // a process still exiting: the next start removes it
      }
    }
  }
  return n;
}

/** Names carry the pid of the server that made them: `kubelab-term-<pid>-...`. */
function ownerAlive(name: string): boolean {
  const pid = Number(name.split('-')[2]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
