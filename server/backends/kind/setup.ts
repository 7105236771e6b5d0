// A lab's starting state on a kind cluster, and taking it away again. Setup objects go through
// the Kubernetes API like a learner's `kubectl apply` would; reset removes what learners make
// (their namespaces, every kind of NetworkPolicy, workloads in `default`) so a cluster can be
// handed to the next learner.
import type { KubeObject } from '../../apiserver/runtime.ts';
import type { ClusterApi } from './cluster-api.ts';
import { isNotServed } from './cluster-api.ts';
import type { Clock } from './clock.ts';
import { KindError } from './errors.ts';
import { installOrder } from './manifest.ts';
import { deploymentAvailable, nodesReady, podsReady, waitUntil } from './readiness.ts';

export interface SetupContext {
  api: ClusterApi;
  clock: Clock;
  pollIntervalMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  onWaiting?: (detail: string) => void;
}

function label(o: KubeObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** Apply every setup object in install order, then wait until its pods and Deployments are ready. */
export async function applySetup(setup: KubeObject[], ctx: SetupContext): Promise<void> {
  if (setup.length === 0) return;
  for (const obj of installOrder(setup)) {
    try {
      await ctx.api.apply(obj);
    } catch (err) {
      const why = isNotServed(err) ? `the cluster does not serve ${obj.apiVersion} ${obj.kind}` : err instanceof Error ? err.message : String(err);
      throw new KindError('setup-failed', `applying the lab's ${label(obj)} failed: ${why}`);
    }
  }
  const namespaces = new Set<string>();
  for (const o of setup) {
    if (o.kind === 'Namespace') namespaces.add(o.metadata.name);
    else if (o.metadata.namespace) namespaces.add(o.metadata.namespace);
  }
  const deployments = setup.filter((o) => o.kind === 'Deployment');
  await waitUntil(
    "the lab's pods",
    async () => {
      for (const d of deployments) {
        const r = deploymentAvailable(await ctx.api.get('apps/v1', 'Deployment', d.metadata.namespace ?? 'default', d.metadata.name), `deployment ${d.metadata.namespace ?? 'default'}/${d.metadata.name}`);
        if (!r.ready) return r;
      }
      const pods: KubeObject[] = [];
      for (const ns of namespaces) pods.push(...(await ctx.api.list('v1', 'Pod', ns)).filter((p) => !p.metadata.deletionTimestamp));
      return podsReady(pods);
    },
    { timeoutMs: ctx.timeoutMs, intervalMs: ctx.pollIntervalMs, clock: ctx.clock, signal: ctx.signal, reason: 'setup-failed', onWaiting: ctx.onWaiting },
  );
}

/** Namespaces that belong to the cluster (kubeadm, kind's storage, Calico), never a learner's. */
export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set([
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'local-path-storage',
  'calico-system',
  'calico-apiserver',
  'tigera-operator',
]);

/** Every policy API a learner could have used; those the cluster does not serve are skipped. */
const POLICY_KINDS: Array<[apiVersion: string, kind: string]> = [
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['crd.projectcalico.org/v1', 'NetworkPolicy'],
  ['crd.projectcalico.org/v1', 'GlobalNetworkPolicy'],
  ['projectcalico.org/v3', 'NetworkPolicy'],
  ['projectcalico.org/v3', 'GlobalNetworkPolicy'],
  ['policy.networking.k8s.io/v1alpha1', 'AdminNetworkPolicy'],
  ['policy.networking.k8s.io/v1alpha1', 'BaselineAdminNetworkPolicy'],
];

/** What a learner may leave in `default`, with the objects the cluster itself keeps there. */
const DEFAULT_NAMESPACE_KINDS: Array<[apiVersion: string, kind: string, keep: ReadonlySet<string>]> = [
  ['apps/v1', 'Deployment', new Set()],
  ['apps/v1', 'DaemonSet', new Set()],
  ['apps/v1', 'StatefulSet', new Set()],
  ['apps/v1', 'ReplicaSet', new Set()],
  ['batch/v1', 'Job', new Set()],
  ['batch/v1', 'CronJob', new Set()],
  ['v1', 'Pod', new Set()],
  ['v1', 'Service', new Set(['kubernetes'])],
  ['v1', 'ConfigMap', new Set(['kube-root-ca.crt'])],
];

async function deleteAll(api: ClusterApi, apiVersion: string, kind: string, namespace: string | undefined, keep: ReadonlySet<string> = new Set()): Promise<number> {
  let items: KubeObject[];
  try {
    items = await api.list(apiVersion, kind, namespace);
  } catch (err) {
    if (isNotServed(err)) return 0;
    throw err;
  }
  let n = 0;
  for (const o of items) {
    if (keep.has(o.metadata.name)) continue;
    if (await api.delete({ apiVersion, kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } })) n++;
  }
  return n;
}

export interface ResetReport {
  policies: number;
  namespaces: string[];
  defaultObjects: number;
}

/**
 * Take a cluster back to "fresh": every policy gone, learner namespaces deleted (and waited for,
 * since a lab's setup may create them again at once), workloads in `default` removed. Fails if the
 * cluster's nodes are not Ready, so a broken cluster is replaced rather than handed out.
 */
export async function resetCluster(ctx: SetupContext): Promise<ResetReport> {
  const { api } = ctx;
  const nodes = nodesReady(await api.list('v1', 'Node'));
  if (!nodes.ready) throw new KindError('not-ready', `cluster is not healthy: ${nodes.detail}`);
  let policies = 0;
  for (const [apiVersion, kind] of POLICY_KINDS) policies += await deleteAll(api, apiVersion, kind, undefined);
  const namespaces = (await api.list('v1', 'Namespace')).map((n) => n.metadata.name).filter((n) => !SYSTEM_NAMESPACES.has(n));
  for (const name of namespaces) await api.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  let defaultObjects = 0;
  for (const [apiVersion, kind, keep] of DEFAULT_NAMESPACE_KINDS) defaultObjects += await deleteAll(api, apiVersion, kind, 'default', keep);
  await waitUntil(
    'learner namespaces to be deleted',
    async () => {
      const left = (await api.list('v1', 'Namespace')).map((n) => n.metadata.name).filter((n) => namespaces.includes(n));
      return left.length === 0 ? { ready: true, detail: 'gone' } : { ready: false, detail: `still terminating: ${left.join(', ')}` };
    },
    { timeoutMs: ctx.timeoutMs, intervalMs: ctx.pollIntervalMs, clock: ctx.clock, signal: ctx.signal, onWaiting: ctx.onWaiting },
  );
  return { policies, namespaces, defaultObjects };
}
