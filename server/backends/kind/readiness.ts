// "Is it ready yet?" for the parts a lab cluster needs, decided from objects read through the
// Kubernetes API, the way `kubectl rollout status` and `kubectl wait --for=condition=Ready` decide.
// The checks are pure; `waitUntil` polls one of them against a live cluster with a deadline.
import type { KubeObject } from '../../apiserver/runtime.ts';
import type { Clock } from './clock.ts';
import { KindError, abortedError } from './errors.ts';

export interface Readiness {
  ready: boolean;
  /** what is missing, in words, for the timeout message */
  detail: string;
}

const ready = (detail = 'ready'): Readiness => ({ ready: true, detail });
const notReady = (detail: string): Readiness => ({ ready: false, detail });

function condition(obj: KubeObject | undefined, type: string): { status?: string; reason?: string; message?: string } | undefined {
  const list: unknown = obj?.status?.conditions;
  if (!Array.isArray(list)) return undefined;
  return list.find((c: { type?: string }) => c?.type === type) as { status?: string; reason?: string; message?: string } | undefined;
}

function name(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

export function nodeReady(node: KubeObject): boolean {
  return condition(node, 'Ready')?.status === 'True';
}

/** Every node Ready (a node with no CNI stays NotReady: "container runtime network not ready"). */
export function nodesReady(nodes: KubeObject[]): Readiness {
  if (nodes.length === 0) return notReady('no nodes registered yet');
  const bad = nodes.filter((n) => !nodeReady(n));
  if (bad.length === 0) return ready(`${nodes.length} node(s) Ready`);
  return notReady(
    bad
      .map((n) => {
        const c = condition(n, 'Ready');
        return `node ${n.metadata.name} is NotReady${c?.message ? ` (${c.message})` : ''}`;
      })
      .join('; '),
  );
}

export function podReady(pod: KubeObject): boolean {
  return pod.status?.phase === 'Running' && condition(pod, 'Ready')?.status === 'True';
}

function podState(pod: KubeObject): string {
  const waiting = Array.isArray(pod.status?.containerStatuses)
    ? (pod.status.containerStatuses as Array<{ state?: { waiting?: { reason?: string } } }>).map((s) => s.state?.waiting?.reason).find(Boolean)
    : undefined;
  return waiting ?? pod.status?.phase ?? 'Pending';
}

/**
 * A DaemonSet's pods, judged the way rollout status does on a fresh install: a Ready pod on every
 * node. Read from pods (by the DaemonSet's label) rather than the DaemonSet's status so that the
 * same check holds wherever pods are reported.
 */
export function daemonPodsReady(what: string, pods: KubeObject[], nodes: KubeObject[]): Readiness {
  if (nodes.length === 0) return notReady('no nodes registered yet');
  if (pods.length === 0) return notReady(`no ${what} pods exist yet`);
  const missing: string[] = [];
  for (const node of nodes) {
    const mine = pods.filter((p) => p.spec?.nodeName === node.metadata.name);
    if (mine.length === 0 && nodes.length > 1) {
      missing.push(`no ${what} pod on node ${node.metadata.name}`);
      continue;
    }
    const candidates = nodes.length > 1 ? mine : pods;
    if (!candidates.some(podReady)) missing.push(candidates.map((p) => `pod ${name(p)} is ${podState(p)}`).join(', '));
  }
  return missing.length === 0 ? ready(`${pods.length} ${what} pod(s) Ready`) : notReady(missing.join('; '));
}

/** `kubectl rollout status deployment`: the latest generation observed, updated and available. */
export function deploymentAvailable(dep: KubeObject | undefined, label: string): Readiness {
  if (!dep) return notReady(`${label} does not exist`);
  const want = typeof dep.spec?.replicas === 'number' ? (dep.spec.replicas as number) : 1;
  const status = dep.status ?? {};
  const generation = dep.metadata.generation as number | undefined;
  if (generation !== undefined && typeof status.observedGeneration === 'number' && status.observedGeneration < generation) {
    return notReady(`${label}: the controller has not seen the latest change yet`);
  }
  const updated = (status.updatedReplicas as number | undefined) ?? 0;
  const available = (status.availableReplicas as number | undefined) ?? 0;
  if (updated < want) return notReady(`${label}: ${updated} of ${want} replicas updated`);
  if (available < want) return notReady(`${label}: ${available} of ${want} replicas available`);
  const c = condition(dep, 'Available');
  if (c && c.status !== 'True') return notReady(`${label}: Available=${c.status}${c.message ? ` (${c.message})` : ''}`);
  return ready(`${label}: ${available}/${want} available`);
}

/** A CustomResourceDefinition can serve its kind once Established. */
export function crdEstablished(crd: KubeObject | undefined): Readiness {
  if (!crd) return notReady('does not exist');
  return condition(crd, 'Established')?.status === 'True' ? ready() : notReady(`CRD ${crd.metadata.name} is not Established yet`);
}

/** Pods of a lab's setup: Ready, or finished successfully (a setup Job's pod). */
export function podsReady(pods: KubeObject[]): Readiness {
  const bad = pods.filter((p) => !podReady(p) && p.status?.phase !== 'Succeeded');
  if (bad.length === 0) return ready(`${pods.length} pod(s) Ready`);
  return notReady(bad.map((p) => `pod ${name(p)} is ${podState(p)}`).join(', '));
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs: number;
  clock: Clock;
  signal?: AbortSignal;
  /** called with each detail while waiting (progress for the learner) */
  onWaiting?: (detail: string) => void;
  /** the KindError reason on timeout */
  reason?: 'not-ready' | 'setup-failed' | 'cni-failed';
}

/**
 * Poll `check` until it says ready. An error from the check (the API server still starting) counts
 * as not ready. On the deadline, throws a KindError naming `what` and the last thing missing.
 */
export async function waitUntil(what: string, check: () => Promise<Readiness>, opts: WaitOptions): Promise<string> {
  const start = opts.clock.now();
  let last = 'not checked yet';
  for (;;) {
    if (opts.signal?.aborted) throw abortedError(opts.signal, `waiting for ${what}`);
    try {
      const r = await check();
      if (r.ready) return r.detail;
      last = r.detail;
    } catch (err) {
      if (err instanceof KindError && err.reason === 'aborted') throw err;
      last = err instanceof Error ? err.message : String(err);
    }
    opts.onWaiting?.(last);
    const elapsed = opts.clock.now() - start;
    if (elapsed >= opts.timeoutMs) {
      throw new KindError(opts.reason ?? 'not-ready', `${what} was not ready after ${Math.round(opts.timeoutMs / 1000)} s: ${last}`);
    }
    await opts.clock.sleep(Math.min(opts.intervalMs, Math.max(1, opts.timeoutMs - elapsed)), opts.signal);
  }
}
