// Per-shell cgroups: a learner's shell and everything it starts share one pids limit and one
// memory limit, so a fork bomb or a memory hog stops at the learner's own budget instead of the
// machine's. The groups sit under this server's own cgroup in each hierarchy (cgroup v1: the pids
// and memory controllers separately; v2: one directory), so limits the host puts on the server
// still apply above them. Best effort: where cgroups are not writable, nothing is limited here
// (RLIMIT_NPROC from the shell's prlimit still caps processes per uid).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

export interface ShellLimits {
  /** processes alive at once */
  pids: number;
  /** bytes of memory (page cache included, as the kernel counts it) */
  memoryBytes: number;
}

export const defaultShellLimits: ShellLimits = { pids: 256, memoryBytes: 512 * 1024 * 1024 };

function isV2(): boolean {
  return existsSync(join(ROOT, 'cgroup.controllers'));
}

/** This process's path in a v1 controller's hierarchy (or the v2 one when `controller` is undefined). */
function ownPath(controller: string | undefined): string {
  try {
    for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const [, ctrls, path] = line.split(':');
      if (path === undefined) continue;
      if (controller === undefined ? line.startsWith('0::') : ctrls.split(',').includes(controller)) return path;
    }
  } catch {
    // not Linux, or no /proc
  }
  return '/';
}

/** The directories a shell cgroup called `name` has (or would have), one per hierarchy. */
export function shellCgroupDirs(name: string): string[] {
  if (isV2()) return [join(ROOT, ownPath(undefined), name)];
  return [join(ROOT, 'pids', ownPath('pids'), name), join(ROOT, 'memory', ownPath('memory'), name)];
}

/** Parents under which shell cgroups of any server may be found (for the reaper). */
export function shellCgroupParents(): string[] {
  if (isV2()) return [join(ROOT, ownPath(undefined)), ROOT];
  return [join(ROOT, 'pids', ownPath('pids')), join(ROOT, 'memory', ownPath('memory')), join(ROOT, 'pids'), join(ROOT, 'memory')];
}

export class ShellCgroup {
  private constructor(readonly dirs: string[]) {}

  /**
   * Make the cgroups with their limits; undefined where cgroups are not writable. The shell joins
   * them itself before it starts (see `joinArgv`): a process moved in after it started could
   * already have forked the sandbox's shell, which would then stay outside the limits.
   */
  static prepare(name: string, limits: ShellLimits): ShellCgroup | undefined {
    const made: string[] = [];
    try {
      if (isV2()) {
        const dir = join(ROOT, ownPath(undefined), name);
        mkdirSync(dir, { recursive: true });
        made.push(dir);
        writeFileSync(join(dir, 'pids.max'), String(limits.pids));
        writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
        tryWrite(join(dir, 'memory.swap.max'), '0');
        return new ShellCgroup(made);
      }
      const pids = join(ROOT, 'pids', ownPath('pids'), name);
      const memory = join(ROOT, 'memory', ownPath('memory'), name);
      for (const dir of [pids, memory]) {
        mkdirSync(dir, { recursive: true });
        made.push(dir);
      }
      writeFileSync(join(pids, 'pids.max'), String(limits.pids));
      writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      tryWrite(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      return new ShellCgroup(made);
    } catch {
      for (const dir of made) tryRmdir(dir);
      return undefined;
    }
  }

  /**
   * The argv that joins the groups as root, drops to `uid`/`gid` and then runs `command`: a tiny
   * shell writes its own pid into each group and execs setpriv, so everything the learner starts
   * is inside the limits from its first instruction.
   */
  joinArgv(uid: number, gid: number, command: string[]): string[] {
    const procs = this.dirs.map((d) => join(d, 'cgroup.procs'));
    const script = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"';
    return ['/bin/sh', '-c', script, 'kubelab-term', String(procs.length), ...procs, 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...command];
  }

  /** Kill whatever still runs in the groups (background jobs outlive the shell's process group). */
  killAll(): void {
    killIn(this.dirs);
  }

  /** Remove the groups; one still holding a dying process is left for the reaper. */
  remove(): void {
    for (const dir of this.dirs) tryRmdir(dir);
  }
}

function pidsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILL every process in the directories; returns how many there were. */
export function killIn(dirs: string[]): number {
  let n = 0;
  // a fork bomb keeps forking while we kill: a few rounds catch the late ones
  for (let round = 0; round < 20; round++) {
    let seen = 0;
    for (const dir of dirs) {
      for (const pid of pidsIn(dir)) {
        seen++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    n += seen;
    if (seen === 0) break;
  }
  return n;
}

/** Names of shell cgroups under `parent`. */
export function listShellCgroups(parent: string): string[] {
  try {
    return readdirSync(parent).filter((n) => n.startsWith('kubelab-term-'));
  } catch {
    return [];
  }
}

function tryWrite(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch {
    // this kernel has no such knob (e.g. no swap accounting)
  }
}

function tryRmdir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not there, or a process still exiting in it
  }
}
