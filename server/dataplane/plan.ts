// One consistent reading of a cluster for both data planes: running pods, services with their
// endpoints, the DNS answers and the policy engine, all built from the same moment of the store.
import { InvalidPolicyError, PolicyEngine, type NetworkPolicy } from '../netpol/index.ts';
import type { ClusterNetworkOptions, ClusterStateView } from '../apiserver/runtime.ts';
import { clusterSnapshot, networkPolicies, runningPods, serviceInfos, type RunningPod, type ServiceInfo } from './cluster-model.ts';
import { ClusterResolver } from './dns.ts';

export interface ClusterPlan {
  pods: RunningPod[];
  services: ServiceInfo[];
  resolver: ClusterResolver;
  engine: PolicyEngine;
  /** policies left out because the engine refused them (the API server should never store these) */
  rejectedPolicies: string[];
}

/** Build an engine, leaving out (and naming) any policy it refuses instead of failing them all. */
function buildEngine(snapshot: ReturnType<typeof clusterSnapshot>, policies: NetworkPolicy[]): { engine: PolicyEngine; rejected: string[] } {
  try {
    return { engine: new PolicyEngine(snapshot, policies), rejected: [] };
  } catch (err) {
    if (!(err instanceof InvalidPolicyError) && !(err instanceof Error && /given twice/.test(err.message))) throw err;
    const kept: NetworkPolicy[] = [];
    const rejected: string[] = [];
    const seen = new Set<string>();
    for (const p of policies) {
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      try {
        if (seen.has(key)) throw new Error('duplicate');
        new PolicyEngine({ namespaces: [], pods: [] }, [p]);
        kept.push(p);
        seen.add(key);
      } catch (e) {
        rejected.push(`${key}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return { engine: new PolicyEngine(snapshot, kept), rejected };
  }
}

export function planCluster(view: ClusterStateView, addresses: ReadonlyMap<string, string>, options: ClusterNetworkOptions): ClusterPlan {
  const pods = runningPods(view, addresses);
  const services = serviceInfos(view, pods);
  const resolver = new ClusterResolver({ clusterDomain: options.clusterDomain, services, pods, externalHosts: options.externalHosts });
  const { engine, rejected } = buildEngine(clusterSnapshot(view, pods, options.nodeName), networkPolicies(view));
  return { pods, services, resolver, engine, rejectedPolicies: rejected };
}

/** Resources whose changes can alter routing, DNS or policy. */
export const WATCHED_RESOURCES: ReadonlySet<string> = new Set(['pods', 'services', 'endpoints', 'networkpolicies', 'namespaces']);

/**
 * Coalesces change notifications into sequential runs of `work`: a burst of changes in one tick
 * is one run, a change during a run causes exactly one more run. `settled()` resolves once every
 * change requested so far has been through a completed run (and rejects if that run failed).
 */
export class SyncLoop {
  private requested = 0;
  private completed = 0;
  private running = false;
  private failure: { generation: number; error: Error } | undefined;
  private waiters: Array<{ generation: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private closed = false;

  constructor(private readonly work: () => Promise<void>) {}

  request(): void {
    if (this.closed) return;
    this.requested++;
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.loop());
    }
  }

  private async loop(): Promise<void> {
    while (this.completed < this.requested && !this.closed) {
      const target = this.requested;
      try {
        await this.work();
        this.failure = undefined;
      } catch (err) {
        this.failure = { generation: target, error: err instanceof Error ? err : new Error(String(err)) };
      }
      this.completed = target;
      const ready = this.waiters.filter((w) => w.generation <= this.completed);
      this.waiters = this.waiters.filter((w) => w.generation > this.completed);
      for (const w of ready) {
        if (this.failure) w.reject(this.failure.error);
        else w.resolve();
      }
    }
    this.running = false;
  }

  settled(): Promise<void> {
    // a closed loop runs nothing more: whoever waits would wait forever
    if (this.closed) return Promise.reject(new Error('cluster runtime disposed'));
    if (this.completed >= this.requested) return this.failure ? Promise.reject(this.failure.error) : Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ generation: this.requested, resolve, reject }));
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters) w.reject(new Error('cluster runtime disposed'));
    this.waiters = [];
  }
}
