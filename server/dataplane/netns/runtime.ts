// The netns PodRuntime: every attached cluster gets its own node namespace, pods, nftables table
// and DNS; see cluster.ts for the layout and docs/dataplane.md for how a packet travels.
import type { ClusterNetworkOptions, ClusterRuntime, ClusterStateView, PodRuntime, RuntimeHooks } from '../../apiserver/runtime.ts';
import { loadNetnsAddon, type NetnsAddon } from '../native.ts';
import { NetnsCluster } from './cluster.ts';
import { reapLeftovers } from './reap.ts';
import { DEFAULT_LIMITS, type ClusterLimits } from './cgroups.ts';

export interface NetnsRuntimeOptions {
  reason?: string;
  limits?: Partial<ClusterLimits>;
}

export class NetnsRuntime implements PodRuntime {
  readonly name = 'netns' as const;
  readonly reason: string;
  private readonly limits: ClusterLimits;

  constructor(private readonly addon: NetnsAddon, opts: NetnsRuntimeOptions = {}) {
    this.reason = opts.reason ?? 'netns: pods are network namespaces, NetworkPolicy is enforced by nftables';
    this.limits = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
  }

  async attach(cluster: ClusterStateView, options: ClusterNetworkOptions, hooks: RuntimeHooks): Promise<ClusterRuntime & NetnsCluster> {
    return NetnsCluster.create(cluster, options, hooks, { addon: this.addon, limits: this.limits });
  }

  async reapLeftovers(): Promise<void> {
    await reapLeftovers();
  }
}

export function createNetnsRuntime(opts: NetnsRuntimeOptions = {}): NetnsRuntime {
  const { addon, error } = loadNetnsAddon();
  if (!addon) throw new Error(error ?? 'native addon unavailable');
  return new NetnsRuntime(addon, opts);
}
