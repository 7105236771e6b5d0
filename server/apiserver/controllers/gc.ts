// The garbage collector: when an owner is deleted, its dependents (ownerReferences by uid) are
// deleted too, or orphaned when the delete asked for it.
import { RESOURCES, type ResourceType } from '../resources.ts';
import type { KubeObject } from '../runtime.ts';
import { thaw } from '../store.ts';
import type { Controller, ControllerHost } from './host.ts';
import { WorkQueue } from './queue.ts';

type OwnerRef = { uid: string };

export class GarbageCollector implements Controller {
  private readonly policies = new Map<string, 'Orphan' | 'Background' | 'Foreground'>();
  private readonly queue: WorkQueue;
  private readonly gone = new Map<string, string | undefined>();
  private readonly unsubscribe: () => void;

  constructor(private readonly host: ControllerHost) {
    this.queue = new WorkQueue(
      (uid) => this.collect(uid),
      (k, e) => host.onError('garbage-collector', k, e),
    );
    this.unsubscribe = host.store.subscribe((e) => {
      if (e.type !== 'DELETED' || e.resource === 'events') return;
      const uid = e.object.metadata.uid;
      if (!uid) return;
      this.gone.set(uid, e.object.metadata.namespace);
      this.queue.add(uid);
    });
  }

  /** The propagation policy a DELETE asked for (default Background). */
  remember(uid: string, policy: 'Orphan' | 'Background' | 'Foreground'): void {
    this.policies.set(uid, policy);
  }

  get busy(): boolean {
    return this.queue.busy;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  dispose(): void {
    this.unsubscribe();
    this.queue.dispose();
  }

  private collect(uid: string): void {
    const namespace = this.gone.get(uid);
    this.gone.delete(uid);
    const policy = this.policies.get(uid) ?? 'Background';
    this.policies.delete(uid);
    for (const r of RESOURCES) {
      if (r.plural === 'events') continue;
      const candidates = r.namespaced ? this.host.store.list(r.plural, namespace) : namespace ? [] : this.host.store.list(r.plural);
      for (const o of candidates) {
        const refs = ((o.metadata as { ownerReferences?: OwnerRef[] }).ownerReferences ?? []) as OwnerRef[];
        if (!refs.some((ref) => ref.uid === uid)) continue;
        if (policy === 'Orphan') this.orphan(r, o, uid);
        else this.deleteDependent(r, o);
      }
    }
  }

  private orphan(r: ResourceType, o: KubeObject, uid: string): void {
    const next = thaw(o) as KubeObject & { metadata: { ownerReferences?: OwnerRef[] } };
    next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== uid);
    if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
    this.host.store.update(r.plural, next);
  }

  private deleteDependent(r: ResourceType, o: KubeObject): void {
    try {
      this.host.objects.delete(r, o.metadata.namespace, o.metadata.name);
    } catch {
      // already gone
    }
  }
}
