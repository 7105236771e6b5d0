// Prober pods: long-lived nicolaka/netshoot pods that probes run from. One per (namespace,
// labels), created on first use and reused. They carry the labels a check asks for, so the
// namespace's policies apply to them exactly as to the learner's pods; and they stay out of
// the learner's way: never a Service endpoint (a readiness gate nothing sets), never adopted by
// a ReplicaSet (they have a controller owner of their own), named kubelab-probe-*.
import { createHash } from 'node:crypto';
import { KubeApiError, type KubeClient, type KubeObject } from './kube.ts';

/** Pinned (`latest` would make kind pull on every pod start), and the tag the kind backend preloads. */
export const proberImage = 'nicolaka/netshoot:v0.16';
export const proberLabel = 'kubelab.dev/prober';
export const proberContainer = 'probe';
const ownerName = 'kubelab-probers';
const readinessGate = 'kubelab.dev/never-an-endpoint';

export interface ProberPod {
  namespace: string;
  pod: string;
  container: string;
  ip: string;
  labels: Record<string, string>;
}

export class ProbeSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeSourceError';
  }
}

export function proberName(labels: Record<string, string>): string {
  const canonical = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `kubelab-probe-${createHash('sha256').update(canonical).digest('hex').slice(0, 10)}`;
}

export class Probers {
  private readonly ready = new Map<string, Promise<ProberPod>>();

  constructor(
    private readonly client: KubeClient,
    private readonly options: { image?: string; readyTimeoutMs?: number } = {},
  ) {}

  /**
   * The prober for these labels in this namespace, created and started if needed. `seen` holds
   * pods by "namespace/name" as just read (a snapshot): a prober found there is not read again.
   */
  ensure(namespace: string, labels: Record<string, string>, signal?: AbortSignal, seen?: ReadonlyMap<string, KubeObject>): Promise<ProberPod> {
    const name = proberName(labels);
    const key = `${namespace}/${name}`;
    let p = this.ready.get(key);
    if (!p) {
      p = this.start(namespace, name, labels, signal);
      this.ready.set(key, p);
      p.catch(() => this.ready.delete(key));
    }
    return p.then(async (pod) => {
      // a learner may have deleted or relabelled it since; check cheaply and start again if so
      const current = seen?.get(key) ?? (await this.client.get({ apiVersion: 'v1', kind: 'Pod', namespace, name }));
      if (current && isRunning(current) && labelsMatch(current, labels) && !current.metadata.deletionTimestamp) return { ...pod, ip: podIP(current) };
      this.ready.delete(key);
      const again = this.start(namespace, name, labels, signal);
      this.ready.set(key, again);
      again.catch(() => this.ready.delete(key));
      return again;
    });
  }

  forget(): void {
    this.ready.clear();
  }

  private async start(namespace: string, name: string, labels: Record<string, string>, signal?: AbortSignal): Promise<ProberPod> {
    const existing = await this.client.get({ apiVersion: 'v1', kind: 'Pod', namespace, name });
    if (existing && (!labelsMatch(existing, labels) || isFinished(existing) || existing.metadata.deletionTimestamp)) {
      await this.client.remove({ apiVersion: 'v1', kind: 'Pod', namespace, name });
      await this.waitGone(namespace, name, signal);
    } else if (existing) {
      return this.waitRunning(namespace, name, labels, signal);
    }
    const owner = await this.owner(namespace);
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        labels: { ...labels, [proberLabel]: 'true' },
        annotations: { 'kubelab.dev/purpose': 'made by the kubelab grader to test the network from this namespace; safe to ignore' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: ownerName, uid: owner, controller: true, blockOwnerDeletion: false }],
      },
      spec: {
        containers: [{ name: proberContainer, image: this.options.image ?? proberImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', 'infinity'] }],
        readinessGates: [{ conditionType: readinessGate }],
        terminationGracePeriodSeconds: 0,
        automountServiceAccountToken: false,
        enableServiceLinks: false,
      },
    };
    try {
      await this.client.create(pod);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) throw new ProbeSourceError(`namespace ${namespace} does not exist`);
      if (!(err instanceof KubeApiError && err.status === 409)) throw new ProbeSourceError(`cannot create a prober pod in ${namespace}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return this.waitRunning(namespace, name, labels, signal);
  }

  /** The ConfigMap that owns a namespace's probers (deleting it removes them all). */
  private async owner(namespace: string): Promise<string> {
    const key = { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: ownerName };
    let cm = await this.client.get(key);
    if (!cm) {
      try {
        cm = await this.client.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: ownerName, namespace, labels: { [proberLabel]: 'true' } },
          data: { purpose: 'owns the kubelab grader prober pods in this namespace' },
        });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 409) cm = await this.client.get(key);
        else if (err instanceof KubeApiError && err.status === 404) throw new ProbeSourceError(`namespace ${namespace} does not exist`);
        else throw err;
      }
    }
    const uid = cm?.metadata.uid;
    if (!uid) throw new ProbeSourceError(`cannot read ${namespace}/${ownerName}`);
    return uid;
  }

  private async waitRunning(namespace: string, name: string, labels: Record<string, string>, signal?: AbortSignal): Promise<ProberPod> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 120_000);
    let delay = 50;
    for (;;) {
      if (signal?.aborted) throw new ProbeSourceError('cancelled');
      const pod = await this.client.get({ apiVersion: 'v1', kind: 'Pod', namespace, name });
      if (pod && isRunning(pod)) return { namespace, pod: name, container: proberContainer, ip: podIP(pod), labels };
      if (pod && isFinished(pod)) throw new ProbeSourceError(`prober pod ${namespace}/${name} stopped (${String(pod.status?.phase)})`);
      if (Date.now() > deadline) throw new ProbeSourceError(`prober pod ${namespace}/${name} did not start in time (${String(pod?.status?.phase ?? 'missing')})`);
      await sleep(delay);
      delay = Math.min(delay * 2, 1000);
    }
  }

  private async waitGone(namespace: string, name: string, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !signal?.aborted) {
      if (!(await this.client.get({ apiVersion: 'v1', kind: 'Pod', namespace, name }))) return;
      await sleep(100);
    }
  }
}

export function isRunning(pod: KubeObject): boolean {
  return pod.status?.phase === 'Running' && podIP(pod) !== '';
}

function isFinished(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function podIP(pod: KubeObject): string {
  return typeof pod.status?.podIP === 'string' ? pod.status.podIP : '';
}

function labelsMatch(pod: KubeObject, labels: Record<string, string>): boolean {
  const have = pod.metadata.labels ?? {};
  return Object.entries(labels).every(([k, v]) => have[k] === v);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
