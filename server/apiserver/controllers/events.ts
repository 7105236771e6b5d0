// Events as the kubelet, scheduler and controllers record them (core/v1 Event with involvedObject,
// source, first/last timestamps and a count), repeated events folded into one like client-go's
// correlator, and a bounded number kept per cluster.
import { rfc3339 } from '../duration.ts';
import { newUid } from '../names.ts';
import type { KubeObject } from '../runtime.ts';
import type { ObjectStore } from '../store.ts';
import { thaw } from '../store.ts';

export interface EventSource {
  component: string;
  host?: string;
}

export interface InvolvedObject {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export function referenceTo(o: KubeObject, fieldPath?: string): InvolvedObject {
  const ref: InvolvedObject = { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name, uid: o.metadata.uid, apiVersion: o.apiVersion, resourceVersion: o.metadata.resourceVersion };
  if (fieldPath) ref.fieldPath = fieldPath;
  if (!ref.namespace) delete ref.namespace;
  return ref;
}

export class EventRecorder {
  private readonly byKey = new Map<string, string>();
  private readonly order: Array<{ namespace: string; name: string; key: string }> = [];
  private sequence = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly now: () => number,
    private readonly maxEvents = 400,
  ) {}

  record(involved: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string, source: EventSource): void {
    const namespace = involved.namespace || 'default';
    if (!this.store.get('namespaces', undefined, namespace)) return;
    const key = [involved.uid ?? involved.name, involved.fieldPath ?? '', type, reason, message, source.component].join('\u0000');
    const at = rfc3339(this.now());
    const existingName = this.byKey.get(key);
    const existing = existingName ? this.store.get('events', namespace, existingName) : undefined;
    if (existing) {
      const next = thaw(existing) as KubeObject & { count?: number; lastTimestamp?: string };
      next.count = (next.count ?? 1) + 1;
      next.lastTimestamp = at;
      this.store.update('events', next);
      return;
    }
    // like client-go, `<name>.<unix nanoseconds in hex>`: names sort in the order events happened
    const nanos = BigInt(this.now()) * 1_000_000n + BigInt(this.sequence++ % 1_000_000);
    const name = `${involved.name}.${nanos.toString(16)}`;
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace, uid: newUid(), creationTimestamp: at },
      involvedObject: { ...involved },
      reason,
      message,
      source: { ...source },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    };
    this.store.create('events', event);
    this.byKey.set(key, name);
    this.order.push({ namespace, name, key });
    while (this.order.length > this.maxEvents) {
      const old = this.order.shift();
      if (!old) break;
      this.byKey.delete(old.key);
      this.store.delete('events', old.namespace, old.name);
    }
  }

  /** Forget events of a namespace that is gone (they were deleted with it). */
  forgetNamespace(namespace: string): void {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const e = this.order[i];
      if (e.namespace !== namespace) continue;
      this.byKey.delete(e.key);
      this.order.splice(i, 1);
    }
  }
}
