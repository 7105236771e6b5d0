// The write path of one cluster, shared by HTTP requests and the built-in controllers: what
// kube-apiserver's generic registry and the kinds' strategies do around storage (names, uids,
// defaults, validation, optimistic concurrency, status subresources, graceful deletion,
// finalizers, namespace admission, ClusterIP allocation).
import { randomInt } from 'node:crypto';
import type { FieldError } from '../netpol/types.ts';
import { applyDefaults } from './defaults.ts';
import { rfc3339 } from './duration.ts';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  invalid,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
  type GroupResource,
} from './errors.ts';
import { generateName, newUid } from './names.ts';
import type { ResourceType } from './resources.ts';
import type { ClusterNetworkOptions, KubeObject } from './runtime.ts';
import { thaw, type ObjectStore } from './store.ts';
import { validateObject, validateUpdate } from './validation.ts';

type Json = any;

export interface WriteOptions {
  dryRun?: boolean;
  /** write only the status (the /status subresource, or a controller reporting) */
  subresource?: 'status';
}

export interface DeleteOptions {
  dryRun?: boolean;
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  /** the object as it was removed, or as it now is while it terminates */
  object: KubeObject;
  /** false while graceful deletion or finalizers keep it */
  removed: boolean;
}

export function groupResource(r: ResourceType): GroupResource {
  return { group: r.group, resource: r.plural };
}

/** Kinds whose status a create request may not set (their strategies reset it). */
const STATUS_RESET_ON_CREATE = new Set(['pods', 'deployments', 'replicasets', 'services', 'namespaces']);

const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

/** Kinds whose DELETE answers with the object rather than a Status. */
export const RETURNS_DELETED_OBJECT = new Set(['pods', 'namespaces', 'services']);

function ipv4ToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

function intToIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr4(cidr: string): { base: number; size: number } {
  const [ip, bits] = cidr.split('/');
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  return { base: (ipv4ToInt(ip) & ~(size - 1)) >>> 0, size };
}

/**
 * What one cluster may hold. Not a Kubernetes default: a safety net so one learner's cluster
 * (a Deployment scaled to 10,000, a loop creating ConfigMaps) cannot exhaust the host.
 */
export interface ClusterLimits {
  pods: number;
  objects: number;
}

export const DEFAULT_LIMITS: ClusterLimits = { pods: 100, objects: 3000 };

const QUOTA_NAME = 'kubelab-cluster-limits';

export class ObjectService {
  constructor(
    readonly store: ObjectStore,
    private readonly network: ClusterNetworkOptions,
    readonly now: () => number,
    private readonly limits: ClusterLimits = DEFAULT_LIMITS,
  ) {}

  /** Refuse a create over the cluster's limits, worded like the ResourceQuota admission plugin. */
  private checkLimits(r: ResourceType, name: string): void {
    const exceeded = (resource: string, used: number, limit: number) =>
      forbidden(groupResource(r), name, `exceeded quota: ${QUOTA_NAME}, requested: ${resource}=1, used: ${resource}=${used}, limited: ${resource}=${limit}`);
    if (r.plural === 'pods') {
      const pods = this.store.count('pods');
      if (pods >= this.limits.pods) throw exceeded('pods', pods, this.limits.pods);
    }
    const total = this.store.size;
    if (total >= this.limits.objects) throw exceeded('count/objects', total, this.limits.objects);
  }

  get(r: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const o = this.store.get(r.plural, r.namespaced ? namespace : undefined, name);
    if (!o) throw notFound(groupResource(r), name);
    return o;
  }

  find(r: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(r.plural, r.namespaced ? namespace : undefined, name);
  }

  private checkNamespace(r: ResourceType, namespace: string | undefined, name: string): void {
    if (!r.namespaced || !namespace) return;
    const ns = this.store.get('namespaces', undefined, namespace) as Json;
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') {
      throw forbidden(groupResource(r), name, `unable to create new content in namespace ${namespace} because it is being terminated`, [
        { reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' },
      ]);
    }
  }

  /** Create an object (already decoded into a writable value). */
  create(r: ResourceType, namespace: string | undefined, body: KubeObject, opts: WriteOptions = {}): KubeObject {
    const obj = body as Json;
    obj.apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    obj.kind = r.kind;
    obj.metadata ??= {};
    const meta = obj.metadata;
    if (r.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace;
    } else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = generateName(String(meta.generateName));
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'managedFields', 'selfLink']) delete meta[k];
    if (STATUS_RESET_ON_CREATE.has(r.plural)) delete obj.status;
    if (r.plural === 'pods' && obj.spec && typeof obj.spec === 'object') delete obj.status;
    applyDefaults(r.plural, obj);
    const errs: FieldError[] = validateObject(r.plural, obj);
    if (errs.length) throw invalid({ group: r.group, kind: r.kind }, meta.name ?? '', errs);
    this.checkNamespace(r, meta.namespace, meta.name);
    if (this.store.get(r.plural, meta.namespace, meta.name)) throw alreadyExists(groupResource(r), meta.name);
    this.checkLimits(r, meta.name);
    if (r.plural === 'services') {
      this.allocateClusterIPs(obj);
      this.allocateNodePorts(obj, undefined);
    }
    meta.uid = newUid();
    meta.creationTimestamp = rfc3339(this.now());
    if (r.hasGeneration) meta.generation = 1;
    if (opts.dryRun) return obj;
    return this.store.create(r.plural, obj);
  }

  /**
   * Replace an object. With `subresource: 'status'` only the status is taken from `body`; otherwise
   * the status is kept for kinds that have a status subresource.
   */
  update(r: ResourceType, namespace: string | undefined, name: string, body: KubeObject, opts: WriteOptions = {}): KubeObject {
    const current = this.get(r, namespace, name);
    const obj = body as Json;
    obj.metadata ??= {};
    const meta = obj.metadata;
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    if (r.namespaced && meta.namespace && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (meta.resourceVersion && meta.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(groupResource(r), name, OPTIMISTIC_LOCK_MESSAGE);
    }
    if (meta.uid && meta.uid !== current.metadata.uid) {
      throw conflict(groupResource(r), name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    let next: Json;
    if (opts.subresource === 'status') {
      next = thaw(current);
      next.status = obj.status;
    } else {
      next = obj;
      next.apiVersion = current.apiVersion;
      next.kind = current.kind;
      if (r.hasStatus) next.status = thaw((current as Json).status);
      const cm = current.metadata as Json;
      for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'generateName']) {
        if (cm[k] !== undefined) meta[k] = cm[k];
        else delete meta[k];
      }
      delete meta.managedFields;
      delete meta.selfLink;
      if (r.namespaced) meta.namespace = namespace;
      else delete meta.namespace;
      meta.name = name;
      applyDefaults(r.plural, next);
      if (r.plural === 'namespaces') next.spec = thaw((current as Json).spec);
      if (r.plural === 'services') {
        this.keepClusterIPs(next, current as Json);
        this.allocateNodePorts(next, current as Json);
      }
      if (r.hasGeneration && JSON.stringify(next.spec ?? null) !== JSON.stringify((current as Json).spec ?? null)) {
        meta.generation = (cm.generation ?? 0) + 1;
      }
    }
    const errs = [...validateObject(r.plural, next), ...validateUpdate(r.plural, next, current)];
    if (errs.length) throw invalid({ group: r.group, kind: r.kind }, name, errs);
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (JSON.stringify(next) === JSON.stringify(current)) return current;
    if (opts.dryRun) return next;
    const hadFinalizers = (((current.metadata as Json).finalizers ?? []) as string[]).length > 0;
    const lastFinalizerGone = hadFinalizers && (next.metadata.finalizers ?? []).length === 0;
    if (next.metadata.deletionTimestamp && lastFinalizerGone && r.plural !== 'pods' && r.plural !== 'namespaces') {
      // the last finalizer went away: the object's deletion completes now
      this.store.update(r.plural, next);
      return this.store.delete(r.plural, next.metadata.namespace, name) ?? next;
    }
    return this.store.update(r.plural, next);
  }

  /** Delete with kube-apiserver's rules: preconditions, graceful pod deletion, finalizers. */
  delete(r: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): DeleteResult {
    const current = this.get(r, namespace, name) as Json;
    // the NamespaceLifecycle admission plugin keeps these
    if (r.plural === 'namespaces' && IMMORTAL_NAMESPACES.has(name)) throw forbidden(groupResource(r), name, 'this namespace may not be deleted');
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== current.metadata.uid) {
      throw conflict(groupResource(r), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(groupResource(r), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
    }
    const finalizers: string[] = current.metadata.finalizers ?? [];
    const graceful = this.gracePeriod(r, current, opts.gracePeriodSeconds);
    const keep = finalizers.length > 0 || graceful > 0 || r.plural === 'namespaces';
    if (!keep) {
      if (opts.dryRun) return { object: current, removed: true };
      const removed = this.store.delete(r.plural, current.metadata.namespace, name) as KubeObject;
      return { object: removed, removed: true };
    }
    if (current.metadata.deletionTimestamp) {
      // already terminating: a shorter grace period may still shorten it
      if (r.plural === 'pods' && graceful < (current.metadata.deletionGracePeriodSeconds ?? Infinity) && !opts.dryRun) {
        const next = thaw(current);
        next.metadata.deletionGracePeriodSeconds = graceful;
        if (graceful === 0 && finalizers.length === 0) return { object: this.store.delete(r.plural, current.metadata.namespace, name) as KubeObject, removed: true };
        return { object: this.store.update(r.plural, next), removed: false };
      }
      return { object: current, removed: false };
    }
    const next = thaw(current);
    next.metadata.deletionTimestamp = rfc3339(this.now() + graceful * 1000);
    next.metadata.deletionGracePeriodSeconds = graceful;
    if (r.hasGeneration) next.metadata.generation = (next.metadata.generation ?? 0) + 1;
    if (r.plural === 'namespaces') next.status = { ...(next.status ?? {}), phase: 'Terminating' };
    if (opts.dryRun) return { object: next, removed: false };
    return { object: this.store.update(r.plural, next), removed: false };
  }

  /** Remove an object outright (the kubelet after a pod stopped, the namespace controller when empty). */
  remove(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.delete(resource, namespace, name);
  }

  private gracePeriod(r: ResourceType, o: Json, requested: number | undefined): number {
    if (r.plural !== 'pods') return 0;
    if (!o.spec?.nodeName) return 0;
    const phase = o.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return 0;
    const g = requested ?? o.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g);
  }

  // ---- service cluster IPs ----

  private usedClusterIPs(): Set<string> {
    const used = new Set<string>();
    for (const s of this.store.list('services')) for (const ip of ((s as Json).spec?.clusterIPs ?? []) as string[]) used.add(ip);
    return used;
  }

  private allocateClusterIPs(svc: Json): void {
    const spec = svc.spec;
    if (spec.type === 'ExternalName') {
      delete spec.clusterIP;
      delete spec.clusterIPs;
      return;
    }
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    const requested: string | undefined = spec.clusterIP || spec.clusterIPs?.[0];
    if (requested === 'None') {
      spec.clusterIP = 'None';
      spec.clusterIPs = ['None'];
      return;
    }
    const { base, size } = parseCidr4(this.network.serviceCIDR);
    const used = this.usedClusterIPs();
    if (requested) {
      const n = /^\d+\.\d+\.\d+\.\d+$/.test(requested) ? ipv4ToInt(requested) : NaN;
      const inRange = n > base && n < base + size - 1;
      if (!inRange) {
        throw invalid({ group: '', kind: 'Service' }, svc.metadata.name, [
          {
            field: 'spec.clusterIPs',
            type: 'FieldValueInvalid',
            message: `Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: provided IP is not in the valid range. The range of valid IPs is ${this.network.serviceCIDR}`,
          },
        ]);
      }
      if (used.has(requested)) {
        throw invalid({ group: '', kind: 'Service' }, svc.metadata.name, [
          { field: 'spec.clusterIPs', type: 'FieldValueInvalid', message: `Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: provided IP is already allocated` },
        ]);
      }
      spec.clusterIP = requested;
      spec.clusterIPs = [requested];
      return;
    }
    // like the allocator, prefer the range above the band kept for static addresses
    const staticBand = Math.min(Math.max(16, Math.floor(size / 16)), 256);
    const first = size - 2 > staticBand ? staticBand : 1;
    const span = size - 1 - first;
    for (let attempt = 0; attempt < span; attempt++) {
      const ip = intToIpv4(base + first + ((randomInt(span) + attempt) % span));
      if (!used.has(ip)) {
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
        return;
      }
    }
    throw new ApiError(500, 'InternalError', `Internal error occurred: failed to allocate a serviceIP: range is full`);
  }

  /** NodePort and LoadBalancer services get a node port per service port (30000-32767), kept across updates. */
  private allocateNodePorts(svc: Json, current: Json | undefined): void {
    const spec = svc.spec;
    const wants = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    if (!wants) {
      for (const p of spec.ports ?? []) delete p.nodePort;
      return;
    }
    spec.externalTrafficPolicy ??= 'Cluster';
    if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
    const used = new Set<number>();
    for (const s of this.store.list('services') as Json[]) {
      if (current && s.metadata.uid === current.metadata.uid) continue;
      for (const p of s.spec?.ports ?? []) if (p.nodePort) used.add(p.nodePort);
    }
    const previous = new Map<string, number>();
    for (const p of current?.spec?.ports ?? []) if (p.nodePort) previous.set(`${p.port}/${p.protocol}`, p.nodePort);
    const errs: FieldError[] = [];
    (spec.ports ?? []).forEach((p: Json, i: number) => {
      if (p.nodePort === undefined || p.nodePort === 0) {
        const kept = previous.get(`${p.port}/${p.protocol}`);
        if (kept !== undefined && !used.has(kept)) p.nodePort = kept;
      }
      if (p.nodePort) {
        if (p.nodePort < 30000 || p.nodePort > 32767) {
          errs.push({ field: `spec.ports[${i}].nodePort`, type: 'FieldValueInvalid', message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is 30000-32767` });
        } else if (used.has(p.nodePort)) {
          errs.push({ field: `spec.ports[${i}].nodePort`, type: 'FieldValueInvalid', message: `Invalid value: ${p.nodePort}: provided port is already allocated` });
        }
        used.add(p.nodePort);
        return;
      }
      for (let attempt = 0; attempt < 2768; attempt++) {
        const candidate = 30000 + ((randomInt(2768) + attempt) % 2768);
        if (!used.has(candidate)) {
          p.nodePort = candidate;
          used.add(candidate);
          return;
        }
      }
      errs.push({ field: `spec.ports[${i}].nodePort`, type: 'FieldValueInvalid', message: 'Invalid value: 0: range is full' });
    });
    if (errs.length) throw invalid({ group: '', kind: 'Service' }, svc.metadata.name, errs);
  }

  private keepClusterIPs(next: Json, current: Json): void {
    const spec = next.spec ?? (next.spec = {});
    if (current.spec?.clusterIP && !spec.clusterIP) spec.clusterIP = current.spec.clusterIP;
    if (current.spec?.clusterIPs && !spec.clusterIPs) spec.clusterIPs = current.spec.clusterIPs;
    if (current.spec?.ipFamilies && !spec.ipFamilies) spec.ipFamilies = current.spec.ipFamilies;
    if (current.spec?.ipFamilyPolicy && !spec.ipFamilyPolicy) spec.ipFamilyPolicy = current.spec.ipFamilyPolicy;
  }
}
