// One cluster's objects: a map per resource, a resourceVersion counter, and a bounded history of
// changes so watches can resume from a resourceVersion (410 Expired once it has been evicted).
// Stored objects are frozen: every change stores a new object, so history entries stay immutable
// snapshots and readers can share them without copying.
import type { KubeObject, WatchEventType } from './runtime.ts';

export interface StoredEvent {
  /** resourceVersion of this change */
  rv: number;
  type: WatchEventType;
  /** plural resource name */
  resource: string;
  object: KubeObject;
  /** the object before the change (MODIFIED and DELETED) */
  previous?: KubeObject;
}

export type HistoryResult = { events: StoredEvent[] } | { expired: true; oldest: number };

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** A writable deep copy of a stored (frozen) object. */
export function thaw<T>(value: T): T {
  return structuredClone(value);
}

export class ObjectStore {
  private rv = 0;
  private readonly data = new Map<string, Map<string, KubeObject>>();
  private readonly history: Array<StoredEvent | undefined>;
  private historyStart = 0;
  private historyLength = 0;
  /** the resourceVersion of the newest change evicted from history (0: nothing evicted yet) */
  private evictedUpTo = 0;
  private readonly listeners = new Set<(e: StoredEvent) => void>();

  constructor(private readonly historyCapacity = 1000) {
    this.history = new Array(historyCapacity);
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.data.get(resource)?.get(objectKey(namespace, name));
  }

  /** Objects of a resource (in one namespace, or all), ordered by namespace then name like etcd keys. */
  list(resource: string, namespace?: string): KubeObject[] {
    const m = this.data.get(resource);
    if (!m) return [];
    const out: KubeObject[] = [];
    for (const o of m.values()) if (namespace === undefined || o.metadata.namespace === namespace) out.push(o);
    out.sort(compareObjects);
    return out;
  }

  count(resource: string): number {
    return this.data.get(resource)?.size ?? 0;
  }

  /** Objects of every resource. */
  get size(): number {
    let n = 0;
    for (const m of this.data.values()) n += m.size;
    return n;
  }

  /** Store a new object; stamps resourceVersion. The caller has checked it does not exist. */
  create(resource: string, object: KubeObject): KubeObject {
    return this.commit('ADDED', resource, object, undefined);
  }

  /** Replace an existing object; stamps resourceVersion. */
  update(resource: string, object: KubeObject): KubeObject {
    const previous = this.get(resource, object.metadata.namespace, object.metadata.name);
    if (!previous) throw new Error(`update of missing ${resource} ${objectKey(object.metadata.namespace, object.metadata.name)}`);
    return this.commit('MODIFIED', resource, object, previous);
  }

  /** Remove an object; the DELETED event carries it with a fresh resourceVersion, as etcd's delete revision. */
  delete(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const previous = this.get(resource, namespace, name);
    if (!previous) return undefined;
    const object = { ...previous, metadata: { ...previous.metadata } } as KubeObject;
    return this.commit('DELETED', resource, object, previous);
  }

  private commit(type: WatchEventType, resource: string, object: KubeObject, previous: KubeObject | undefined): KubeObject {
    const rv = ++this.rv;
    object.metadata.resourceVersion = String(rv);
    deepFreeze(object);
    let m = this.data.get(resource);
    if (!m) {
      m = new Map();
      this.data.set(resource, m);
    }
    const key = objectKey(object.metadata.namespace, object.metadata.name);
    if (type === 'DELETED') m.delete(key);
    else m.set(key, object);
    const event: StoredEvent = { rv, type, resource, object, previous };
    this.record(event);
    for (const l of [...this.listeners]) l(event);
    return object;
  }

  private record(event: StoredEvent): void {
    const cap = this.historyCapacity;
    if (this.historyLength === cap) {
      const evicted = this.history[this.historyStart];
      if (evicted) this.evictedUpTo = evicted.rv;
      this.history[this.historyStart] = event;
      this.historyStart = (this.historyStart + 1) % cap;
    } else {
      this.history[(this.historyStart + this.historyLength) % cap] = event;
      this.historyLength++;
    }
  }

  /** Changes after resourceVersion `since`, oldest first; expired once the first of them was evicted. */
  eventsSince(since: number): HistoryResult {
    if (since < this.evictedUpTo) return { expired: true, oldest: this.evictedUpTo };
    const events: StoredEvent[] = [];
    for (let i = 0; i < this.historyLength; i++) {
      const e = this.history[(this.historyStart + i) % this.historyCapacity] as StoredEvent;
      if (e.rv > since) events.push(e);
    }
    return { events };
  }

  subscribe(listener: (e: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

export function compareObjects(a: KubeObject, b: KubeObject): number {
  const an = a.metadata.namespace ?? '';
  const bn = b.metadata.namespace ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}
