// Per-cluster limits for every process a learner starts in pods (exec, attach, main processes):
// a pids cgroup and a memory cgroup, created under this server's own cgroup so the host's limits
// on the server still apply above them. cgroup v1 (separate pids and memory hierarchies) and v2.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClusterLimits {
  /** most processes alive at once across the cluster's pods */
  pids: number;
  /** bytes of memory across the cluster's pods */
  memoryBytes: number;
}

export const DEFAULT_LIMITS: ClusterLimits = { pids: 1024, memoryBytes: 1024 * 1024 * 1024 };

const ROOT = '/sys/fs/cgroup';

function ownPath(controller: string | undefined): string {
  try {
    for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const [, ctrls, path] = line.split(':');
      if (path === undefined) continue;
      if (controller === undefined ? ctrls === '' && line.startsWith('0::') : ctrls.split(',').includes(controller)) return path;
    }
  } catch {
    // fall through
  }
  return '/';
}

function isV2(): boolean {
  return existsSync(join(ROOT, 'cgroup.controllers'));
}

/** The cgroup directories (one per controller) a cluster's processes join. */
export class ClusterCgroups {
  readonly dirs: string[];

  private constructor(dirs: string[]) {
    this.dirs = dirs;
  }

  /** Create (or find) the cgroups named `name`; returns undefined where cgroups are not writable. */
  static create(name: string, limits: ClusterLimits): ClusterCgroups | undefined {
    try {
      if (isV2()) {
        const dir = join(ROOT, ownPath(undefined), name);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'pids.max'), String(limits.pids));
        writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
        return new ClusterCgroups([dir]);
      }
      const pids = join(ROOT, 'pids', ownPath('pids'), name);
      const memory = join(ROOT, 'memory', ownPath('memory'), name);
      mkdirSync(pids, { recursive: true });
      mkdirSync(memory, { recursive: true });
      writeFileSync(join(pids, 'pids.max'), String(limits.pids));
      writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      return new ClusterCgroups([pids, memory]);
    } catch {
      return undefined;
    }
  }

  /** Every cgroup directory that could belong to `name` (for the reaper). */
  static candidates(name: string): string[] {
    if (isV2()) return [join(ROOT, ownPath(undefined), name)];
    return [join(ROOT, 'pids', ownPath('pids'), name), join(ROOT, 'memory', ownPath('memory'), name), join(ROOT, 'pids', name), join(ROOT, 'memory', name)];
  }

  get procsFiles(): string[] {
    return this.dirs.map((d) => join(d, 'cgroup.procs'));
  }

  pidCount(): number {
    return pidsIn(this.dirs[0]).length;
  }

  /** Kill every process in the cgroups and remove them. */
  async destroy(): Promise<void> {
    await destroyCgroupDirs(this.dirs);
  }
}

function pidsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export async function destroyCgroupDirs(dirs: string[]): Promise<void> {
  for (let round = 0; round < 50; round++) {
    let alive = 0;
    for (const d of dirs) {
      for (const pid of pidsIn(d)) {
        alive++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (alive === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const d of dirs) {
    try {
      rmdirSync(d);
    } catch {
      // not there, or a process still exiting: the reaper tries again next start
    }
  }
}
