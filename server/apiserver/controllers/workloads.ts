// The Deployment and ReplicaSet controllers: a Deployment owns one ReplicaSet per pod template
// (named by pod-template-hash) and hands replicas over from old ones as new pods become
// available; a ReplicaSet keeps its count of pods. Status fields are the ones `kubectl get
// deploy` and `kubectl rollout status` read.
import { rfc3339 } from '../duration.ts';
import { safeEncode } from '../defaults.ts';
import { mustResource } from '../resources.ts';
import type { KubeObject } from '../runtime.ts';
import { labelsMatch, selectorRequirements } from '../selectors.ts';
import { thaw } from '../store.ts';
import { referenceTo } from './events.ts';
import { controllerOf, keyOf, splitKey, type Controller, type ControllerHost } from './host.ts';
import { WorkQueue } from './queue.ts';

type Json = any;

/** FNV-1a, 32 bit: the hash family the deployment controller names templates with. */
function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(s, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** ComputeHash: pod-template-hash of a template (without that label), plus the collision count. */
export function templateHash(template: unknown, collisionCount = 0): string {
  const t = structuredClone((template ?? {}) as Json);
  if (t.metadata?.labels) delete t.metadata.labels['pod-template-hash'];
  return safeEncode(String(fnv32a(canonical(t) + (collisionCount ? String(collisionCount) : ''))));
}

function isActive(p: Json): boolean {
  return !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

function isReady(p: Json): boolean {
  return (p.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');
}

function owned(list: KubeObject[], owner: KubeObject): KubeObject[] {
  return list.filter((o) => controllerOf(o)?.uid === owner.metadata.uid);
}

function ownerRef(o: Json): Json {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** Drop zero counts the way Go's omitempty does for status integers. */
function omitZero(status: Json, keys: string[]): Json {
  for (const k of keys) if (!status[k]) delete status[k];
  return status;
}

function percent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.endsWith('%')) {
    const x = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return 0;
}

export class WorkloadControllers implements Controller {
  private readonly deployments: WorkQueue;
  private readonly replicasets: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(private readonly host: ControllerHost) {
    this.deployments = new WorkQueue(
      (k) => this.syncDeployment(k),
      (k, e) => host.onError('deployment', k, e),
    );
    this.replicasets = new WorkQueue(
      (k) => this.syncReplicaSet(k),
      (k, e) => host.onError('replicaset', k, e),
    );
    this.unsubscribe = host.store.subscribe((e) => {
      switch (e.resource) {
        case 'deployments':
          this.deployments.add(keyOf(e.object));
          break;
        case 'replicasets': {
          this.replicasets.add(keyOf(e.object));
          const owner = controllerOf(e.object);
          if (owner?.kind === 'Deployment') this.deployments.add(`${e.object.metadata.namespace}/${owner.name}`);
          break;
        }
        case 'pods': {
          const owner = controllerOf(e.object);
          if (owner?.kind === 'ReplicaSet') this.replicasets.add(`${e.object.metadata.namespace}/${owner.name}`);
          break;
        }
      }
    });
    for (const d of host.store.list('deployments')) this.deployments.add(keyOf(d));
    for (const r of host.store.list('replicasets')) this.replicasets.add(keyOf(r));
  }

  get busy(): boolean {
    return this.deployments.busy || this.replicasets.busy;
  }

  async idle(): Promise<void> {
    while (this.deployments.busy || this.replicasets.busy) {
      await this.deployments.idle();
      await this.replicasets.idle();
    }
  }

  dispose(): void {
    this.unsubscribe();
    this.deployments.dispose();
    this.replicasets.dispose();
  }

  // ---- ReplicaSet ----

  private syncReplicaSet(key: string): void {
    const [ns, name] = splitKey(key);
    const rs = this.host.store.get('replicasets', ns, name) as Json;
    if (!rs || rs.metadata.deletionTimestamp) return;
    const reqs = selectorRequirements(rs.spec.selector);
    const pods = owned(this.host.store.list('pods', ns), rs).filter((p) => labelsMatch(reqs, p.metadata.labels)) as Json[];
    const active = pods.filter(isActive);
    const want: number = rs.spec.replicas ?? 1;
    const podsResource = mustResource('pods');
    if (active.length < want) {
      for (let i = active.length; i < want; i++) {
        const template = thaw(rs.spec.template ?? {});
        const pod: Json = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            generateName: `${name}-`,
            namespace: ns,
            labels: template.metadata?.labels ?? {},
            ownerReferences: [ownerRef(rs)],
          },
          spec: template.spec,
        };
        if (template.metadata?.annotations) pod.metadata.annotations = template.metadata.annotations;
        try {
          const created = this.host.objects.create(podsResource, ns, pod);
          this.host.recorder.record(referenceTo(rs), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, { component: 'replicaset-controller' });
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.host.recorder.record(referenceTo(rs), 'Warning', 'FailedCreate', `Error creating: ${message}`, { component: 'replicaset-controller' });
          break;
        }
      }
    } else if (active.length > want) {
      // like the controller: not-ready pods go first, then the newest
      const victims = [...active]
        .sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)))
        .slice(0, active.length - want);
      for (const v of victims) {
        try {
          this.host.objects.delete(podsResource, ns, v.metadata.name);
          this.host.recorder.record(referenceTo(rs), 'Normal', 'SuccessfulDelete', `Deleted pod: ${v.metadata.name}`, { component: 'replicaset-controller' });
        } catch {
          // gone already
        }
      }
    }
    const current = this.host.store.list('pods', ns).filter((p) => controllerOf(p)?.uid === rs.metadata.uid && isActive(p));
    const ready = current.filter(isReady).length;
    const status = omitZero(
      {
        replicas: current.length,
        fullyLabeledReplicas: current.filter((p) => labelsMatch(reqs, p.metadata.labels)).length,
        readyReplicas: ready,
        availableReplicas: ready,
        observedGeneration: rs.metadata.generation,
      },
      ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'],
    );
    const latest = this.host.store.get('replicasets', ns, name) as Json;
    if (!latest) return;
    if (JSON.stringify(latest.status ?? {}) !== JSON.stringify(status)) {
      const next = thaw(latest);
      next.status = status;
      this.host.store.update('replicasets', next);
    }
  }

  // ---- Deployment ----

  private syncDeployment(key: string): void {
    const [ns, name] = splitKey(key);
    const d = this.host.store.get('deployments', ns, name) as Json;
    if (!d || d.metadata.deletionTimestamp) return;
    const rsResource = mustResource('replicasets');
    const all = owned(this.host.store.list('replicasets', ns), d) as Json[];
    const desired: number = d.spec.replicas ?? 1;
    const hash = templateHash(d.spec.template, d.status?.collisionCount ?? 0);
    let newRS = all.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    const maxRevision = Math.max(0, ...all.map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0)));
    const source = { component: 'deployment-controller' };
    if (!newRS && !d.spec.paused) {
      const template = thaw(d.spec.template);
      template.metadata ??= {};
      template.metadata.labels = { ...(template.metadata.labels ?? {}), 'pod-template-hash': hash };
      const selector = thaw(d.spec.selector ?? {});
      selector.matchLabels = { ...(selector.matchLabels ?? {}), 'pod-template-hash': hash };
      const recreate = d.spec.strategy?.type === 'Recreate';
      const oldActive = all.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
      const surge = recreate ? 0 : percent(d.spec.strategy?.rollingUpdate?.maxSurge ?? '25%', desired, true);
      const initial = recreate ? (oldActive > 0 ? 0 : desired) : oldActive === 0 ? desired : Math.max(0, Math.min(desired, desired + surge - oldActive));
      const rs: Json = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${name}-${hash}`,
          namespace: ns,
          labels: template.metadata.labels,
          annotations: {
            'deployment.kubernetes.io/desired-replicas': String(desired),
            'deployment.kubernetes.io/max-replicas': String(desired + surge),
            'deployment.kubernetes.io/revision': String(maxRevision + 1),
          },
          ownerReferences: [ownerRef(d)],
        },
        spec: { replicas: initial, selector, template },
      };
      newRS = this.host.objects.create(rsResource, ns, rs) as Json;
      this.host.recorder.record(referenceTo(d), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${newRS.metadata.name} from 0 to ${initial}`, source);
      all.push(newRS);
    }
    if (newRS && !d.spec.paused) {
      // a template that went back to an older ReplicaSet (rollout undo) makes that one the newest revision
      const revision = Number(newRS.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
      if (revision < maxRevision) {
        const next = thaw(newRS);
        next.metadata.annotations = { ...(next.metadata.annotations ?? {}), 'deployment.kubernetes.io/revision': String(maxRevision + 1) };
        newRS = this.host.objects.update(rsResource, ns, newRS.metadata.name, next) as Json;
        const i = all.findIndex((rs) => rs.metadata.uid === newRS.metadata.uid);
        if (i >= 0) all[i] = newRS;
      }
      this.rollout(d, newRS, all, desired);
    }
    this.updateDeploymentStatus(d, newRS, all, desired);
  }

  private scale(d: Json, rs: Json, to: number): void {
    const from = rs.spec.replicas ?? 0;
    if (from === to) return;
    const next = thaw(this.host.store.get('replicasets', rs.metadata.namespace, rs.metadata.name) as Json);
    next.spec.replicas = to;
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}), 'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas ?? 1) };
    this.host.objects.update(mustResource('replicasets'), rs.metadata.namespace, rs.metadata.name, next);
    this.host.recorder.record(referenceTo(d), 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`, { component: 'deployment-controller' });
  }

  private rollout(d: Json, newRS: Json, all: Json[], desired: number): void {
    const old = all.filter((rs) => rs.metadata.uid !== newRS.metadata.uid);
    const recreate = d.spec.strategy?.type === 'Recreate';
    const oldPods = old.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
    if (recreate) {
      for (const rs of old) this.scale(d, rs, 0);
      if (oldPods === 0) this.scale(d, newRS, desired);
      return;
    }
    const surge = percent(d.spec.strategy?.rollingUpdate?.maxSurge ?? '25%', desired, true);
    const unavailable = percent(d.spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
    const oldWanted = old.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
    // scale the new ReplicaSet up within the surge budget
    const newWant = Math.min(desired, Math.max(newRS.spec.replicas ?? 0, desired + Math.max(surge, 1) - oldWanted));
    this.scale(d, newRS, newWant);
    // scale old ones down as far as availability allows
    const newAvailable = newRS.status?.availableReplicas ?? 0;
    const minAvailable = desired - Math.max(unavailable, 0);
    const oldAvailable = old.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
    let canRemove = Math.max(0, newAvailable + oldAvailable - minAvailable);
    // replicas of old sets that are not available can always go
    for (const rs of [...old].sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))) {
      const have = rs.spec.replicas ?? 0;
      if (have === 0) continue;
      const unavailableHere = Math.max(0, have - (rs.status?.availableReplicas ?? 0));
      const remove = Math.min(have, unavailableHere + canRemove, Math.max(0, oldWanted + newWant - desired) + unavailableHere);
      if (remove <= 0) continue;
      canRemove = Math.max(0, canRemove - Math.max(0, remove - unavailableHere));
      this.scale(d, rs, have - remove);
    }
  }

  private updateDeploymentStatus(d: Json, newRS: Json | undefined, all: Json[], desired: number): void {
    const fresh = all.map((rs) => (this.host.store.get('replicasets', rs.metadata.namespace, rs.metadata.name) as Json) ?? rs);
    const newFresh = newRS ? fresh.find((rs) => rs.metadata.uid === newRS.metadata.uid) : undefined;
    const sum = (f: (rs: Json) => number) => fresh.reduce((n, rs) => n + f(rs), 0);
    const replicas = sum((rs) => rs.status?.replicas ?? 0);
    const ready = sum((rs) => rs.status?.readyReplicas ?? 0);
    const available = sum((rs) => rs.status?.availableReplicas ?? 0);
    const updated = newFresh?.status?.replicas ?? 0;
    const at = rfc3339(this.host.now());
    const unavailableBudget = percent(d.spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
    const minAvailable = d.spec.strategy?.type === 'Recreate' ? desired : desired - unavailableBudget;
    const prev: Json[] = d.status?.conditions ?? [];
    const cond = (type: string, status: boolean, reason: string, message: string): Json => {
      const p = prev.find((c) => c.type === type);
      const s = status ? 'True' : 'False';
      const same = p && p.status === s && p.reason === reason && p.message === message;
      return { lastTransitionTime: p && p.status === s ? p.lastTransitionTime : at, lastUpdateTime: same ? p.lastUpdateTime : at, message, reason, status: s, type };
    };
    const complete = newFresh && updated === desired && replicas === updated && available >= updated && (newFresh.status?.availableReplicas ?? 0) === desired;
    const conditions = [
      available >= minAvailable
        ? cond('Available', true, 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
        : cond('Available', false, 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
      !newFresh
        ? cond('Progressing', true, 'ReplicaSetUpdated', `Deployment "${d.metadata.name}" is progressing.`)
        : complete
          ? cond('Progressing', true, 'NewReplicaSetAvailable', `ReplicaSet "${newFresh.metadata.name}" has successfully progressed.`)
          : cond('Progressing', true, 'ReplicaSetUpdated', `ReplicaSet "${newFresh.metadata.name}" is progressing.`),
    ];
    const status = omitZero(
      {
        observedGeneration: d.metadata.generation,
        replicas,
        updatedReplicas: updated,
        readyReplicas: ready,
        availableReplicas: available,
        unavailableReplicas: Math.max(0, replicas - available, desired - available),
        conditions,
      },
      ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'],
    );
    if (d.status?.collisionCount) status.collisionCount = d.status.collisionCount;
    const latest = this.host.store.get('deployments', d.metadata.namespace, d.metadata.name) as Json;
    if (!latest) return;
    const next = thaw(latest);
    const revision = newFresh?.metadata.annotations?.['deployment.kubernetes.io/revision'];
    let changed = JSON.stringify(latest.status ?? {}) !== JSON.stringify(status);
    if (revision && latest.metadata.annotations?.['deployment.kubernetes.io/revision'] !== revision) {
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), 'deployment.kubernetes.io/revision': revision };
      changed = true;
    }
    if (!changed) return;
    next.status = status;
    this.host.store.update('deployments', next);
  }
}
