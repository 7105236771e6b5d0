// Picks the data plane for embedded clusters: netns where this process can make network
// namespaces and nftables tables (root, ip, nft, nsenter, bwrap and the native addon), else sim.
// KUBELAB_DATAPLANE=netns|sim|process overrides; `reason` says which and why for the banner.
import { spawnSync } from 'node:child_process';
import type { PodRuntime } from '../apiserver/runtime.ts';
import { loadNetnsAddon } from './native.ts';
import { NetnsRuntime } from './netns/runtime.ts';
import { createSimRuntime } from './sim/runtime.ts';
import { createProcessRuntime } from './process.ts';

export type DataPlaneName = 'netns' | 'sim' | 'process';

export interface ChooseOptions {
  prefer?: DataPlaneName;
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Why the netns plane cannot run here, or undefined when it can (probed for real, then undone). */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root';
  for (const cmd of ['ip', 'nft', 'nsenter', 'bwrap']) if (!hasCommand(cmd)) return `\`${cmd}\` not found (run scripts/setup-host.sh)`;
  const { addon, error } = loadNetnsAddon();
  if (!addon) return error;
  const name = `kubelab-probe${process.pid}`;
  try {
    const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
    if (add.status !== 0) return `\`ip netns add\` failed: ${(add.stderr || '').trim()}`;
    const nft = spawnSync('nsenter', [`--net=/run/netns/${name}`, '--', 'nft', '-f', '-'], { input: 'table ip kubelab_probe {\n\tchain c {\n\t\ttype filter hook forward priority 0; policy accept;\n\t}\n}\n', encoding: 'utf8' });
    if (nft.status !== 0) return `nftables unusable: ${(nft.stderr || '').trim()}`;
    try {
      addon.socketInNetns(`/run/netns/${name}`, 4, 'tcp', 0, '127.0.0.1');
    } catch (err) {
      return `cannot create sockets in a network namespace: ${err instanceof Error ? err.message : String(err)}`;
    }
    return undefined;
  } finally {
    spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

/** The data plane to use, with the reason. Does not reap leftovers: call `reapLeftovers()` at start-up. */
export async function chooseRuntime(opts: ChooseOptions = {}): Promise<PodRuntime> {
  const env = process.env.KUBELAB_DATAPLANE?.trim();
  let wanted: DataPlaneName | undefined = opts.prefer;
  let source = 'requested';
  if (env) {
    if (env !== 'netns' && env !== 'sim' && env !== 'process') throw new Error(`KUBELAB_DATAPLANE: unsupported value "${env}": supported values: "netns", "sim", "process"`);
    wanted = env;
    source = 'KUBELAB_DATAPLANE';
  }
  if (wanted === 'process') return createProcessRuntime();
  if (wanted === 'sim') return createSimRuntime(`sim (${source}): the policy engine decides every connection, network tools are shimmed`);
  const why = netnsUnavailable();
  if (!why) {
    const { addon } = loadNetnsAddon();
    return new NetnsRuntime(addon!, { reason: 'netns: running as root with ip, nft and the netns addon; pods are network namespaces, NetworkPolicy is enforced by nftables' });
  }
  if (wanted === 'netns') throw new Error(`the netns data plane was ${source} but cannot run here: ${why}`);
  return createSimRuntime(`sim: netns unavailable (${why}); the policy engine decides every connection, network tools are shimmed`);
}

export { NetnsRuntime, createNetnsRuntime } from './netns/runtime.ts';
export { SimRuntime, createSimRuntime } from './sim/runtime.ts';
