// The sim PodRuntime: no privileges needed. See cluster.ts.
import { mkdtempSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { ClusterNetworkOptions, ClusterRuntime, ClusterStateView, PodRuntime, RuntimeHooks } from '../../apiserver/runtime.ts';
import { SimCluster, type SimSandbox } from './cluster.ts';
import { processStartTime } from '../netns/names.ts';

const DIR_PREFIX = 'kubelab-sim-';

function baseDir(): string {
  const d = join(process.env.KUBELAB_SIM_DIR ?? tmpdir());
  mkdirSync(d, { recursive: true });
  return d;
}

/** Whether bubblewrap can build a sandbox here (as root, or through a user namespace). */
export function detectSimSandbox(): SimSandbox {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const base = ['--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--unshare-net', '--die-with-parent'];
  const args = root ? base : ['--unshare-user', ...base];
  const r = spawnSync('bwrap', [...args, '/bin/true'], { timeout: 5000, stdio: 'ignore' });
  return r.status === 0 ? { kind: 'bwrap', unprivileged: !root } : { kind: 'none' };
}

export class SimRuntime implements PodRuntime {
  readonly name = 'sim' as const;
  readonly reason: string;
  readonly sandbox: SimSandbox;

  constructor(reason: string, sandbox: SimSandbox = detectSimSandbox()) {
    this.sandbox = sandbox;
    this.reason = `${reason}; ${sandbox.kind === 'bwrap' ? 'commands run in bubblewrap without network access' : 'bubblewrap unavailable: commands run unsandboxed as the server user'}`;
  }

  async attach(cluster: ClusterStateView, options: ClusterNetworkOptions, hooks: RuntimeHooks): Promise<ClusterRuntime & SimCluster> {
    const dir = mkdtempSync(join(baseDir(), `${DIR_PREFIX}${process.pid}-`));
    return SimCluster.create(cluster, options, hooks, dir, this.sandbox);
  }

  /** Directories of sim clusters whose server process is gone (their sandboxes died with it). */
  async reapLeftovers(): Promise<void> {
    const base = baseDir();
    for (const name of readdirSync(base)) {
      const m = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name);
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || processStartTime(pid) !== undefined) continue;
      rmSync(join(base, name), { recursive: true, force: true });
    }
  }
}

export function createSimRuntime(reason = 'sim: the policy engine decides every connection, network tools are shimmed'): SimRuntime {
  return new SimRuntime(reason);
}
