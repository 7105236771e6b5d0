// The endpoints and endpointslice controllers: for every Service with a selector, the pods it
// selects (ready ones as addresses, others as notReadyAddresses; in slices, conditions ready,
// serving and terminating), with named targetPorts resolved on each pod, kept as an Endpoints
// object and EndpointSlices owned by the Service. The data plane forwards only to ready ones.
import { rfc3339 } from '../duration.ts';
import { generateName, newUid } from '../names.ts';
import type { KubeObject } from '../runtime.ts';
import { mapSelectorMatches } from '../selectors.ts';
import { thaw } from '../store.ts';
import { keyOf, splitKey, type Controller, type ControllerHost } from './host.ts';
import { WorkQueue } from './queue.ts';

type Json = any;

const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
const SERVICE_NAME = 'kubernetes.io/service-name';

function isReady(p: Json): boolean {
  return (p.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');
}

/** podutil.FindPort: a numeric targetPort as is, a named one looked up in the pod's container ports. */
export function resolveTargetPort(podObject: KubeObject, port: { port?: number; targetPort?: number | string; protocol?: string }): number | undefined {
  const pod = podObject as Json;
  const servicePort = port as Json;
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  const protocol = servicePort.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  if (/^\d+$/.test(String(target))) return Number(target);
  return undefined;
}

interface Member {
  pod: Json;
  /** the pod's Ready condition */
  serving: boolean;
  terminating: boolean;
  /** what kube-proxy forwards to: serving and not terminating, or any member with publishNotReadyAddresses */
  ready: boolean;
  ports: Array<{ name?: string; port: number; protocol: string }>;
}

/** RepackSubsets orders addresses by their IP as a string, byte by byte (10.244.0.10 before 10.244.0.9). */
function byIP(a: Member, b: Member): number {
  const x = String(a.pod.status.podIP);
  const y = String(b.pod.status.podIP);
  return x < y ? -1 : x > y ? 1 : String(a.pod.metadata.uid) < String(b.pod.metadata.uid) ? -1 : 1;
}

export class EndpointsController implements Controller {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(private readonly host: ControllerHost) {
    this.queue = new WorkQueue(
      (k) => this.sync(k),
      (k, e) => host.onError('endpoints', k, e),
    );
    this.unsubscribe = host.store.subscribe((e) => {
      if (e.resource === 'services') this.queue.add(keyOf(e.object));
      else if (e.resource === 'pods') {
        // a pod change matters to every service in its namespace that selects it now or did before
        for (const svc of host.store.list('services', e.object.metadata.namespace) as Json[]) {
          const sel = svc.spec?.selector;
          if (mapSelectorMatches(sel, e.object.metadata.labels) || (e.previous && mapSelectorMatches(sel, e.previous.metadata.labels))) this.queue.add(keyOf(svc));
        }
      }
    });
    for (const s of host.store.list('services')) this.queue.add(keyOf(s));
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

  private sync(key: string): void {
    const [ns, name] = splitKey(key);
    const svc = this.host.store.get('services', ns, name) as Json;
    if (!svc) {
      this.host.store.delete('endpoints', ns, name);
      return;
    }
    const selector = svc.spec?.selector;
    if (!selector || Object.keys(selector).length === 0 || svc.spec?.type === 'ExternalName') return;
    const members: Member[] = [];
    for (const pod of this.host.store.list('pods', ns) as Json[]) {
      if (!mapSelectorMatches(selector, pod.metadata.labels)) continue;
      // ShouldPodBeInEndpoints: an address, not finished; pods being deleted stay in slices (terminating)
      if (!pod.status?.podIP) continue;
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const ports: Member['ports'] = [];
      for (const sp of svc.spec.ports ?? []) {
        const port = resolveTargetPort(pod, sp);
        if (port === undefined) continue;
        const p: Member['ports'][number] = { port, protocol: sp.protocol ?? 'TCP' };
        if (sp.name) p.name = sp.name;
        ports.push(p);
      }
      const serving = isReady(pod);
      const terminating = pod.metadata.deletionTimestamp != null;
      const publish = Boolean(svc.spec.publishNotReadyAddresses);
      members.push({ pod, serving, terminating, ready: publish || (serving && !terminating), ports });
    }
    members.sort(byIP);
    this.syncEndpoints(svc, members);
    this.syncSlices(svc, members);
  }

  private syncEndpoints(svc: Json, members: Member[]): void {
    const ns = svc.metadata.namespace;
    const name = svc.metadata.name;
    // one subset per distinct set of resolved ports, as the controller repacks them
    const groups = new Map<string, { ports: Member['ports']; addresses: Json[]; notReadyAddresses: Json[] }>();
    for (const m of members) {
      // the endpoints controller leaves terminating pods out unless the service publishes not-ready ones
      if (m.terminating && !svc.spec.publishNotReadyAddresses) continue;
      if (m.ports.length === 0 && (svc.spec.ports ?? []).length > 0) continue;
      const sig = JSON.stringify(m.ports);
      let g = groups.get(sig);
      if (!g) {
        g = { ports: m.ports, addresses: [], notReadyAddresses: [] };
        groups.set(sig, g);
      }
      const addr = { ip: m.pod.status.podIP, nodeName: m.pod.spec.nodeName, targetRef: { kind: 'Pod', name: m.pod.metadata.name, namespace: ns, uid: m.pod.metadata.uid } };
      (m.ready ? g.addresses : g.notReadyAddresses).push(addr);
    }
    const subsets = [...groups.values()].map((g) => {
      const s: Json = {};
      if (g.addresses.length) s.addresses = g.addresses;
      if (g.notReadyAddresses.length) s.notReadyAddresses = g.notReadyAddresses;
      if (g.ports.length) s.ports = g.ports;
      return s;
    });
    const labels = { ...(svc.metadata.labels ?? {}) };
    const existing = this.host.store.get('endpoints', ns, name) as Json;
    if (existing) {
      if (JSON.stringify(existing.subsets ?? []) === JSON.stringify(subsets) && JSON.stringify(existing.metadata.labels ?? {}) === JSON.stringify(labels)) return;
      const next = thaw(existing);
      next.metadata.labels = labels;
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), 'endpoints.kubernetes.io/last-change-trigger-time': rfc3339(this.host.now()) };
      if (subsets.length) next.subsets = subsets;
      else delete next.subsets;
      this.host.store.update('endpoints', next);
      return;
    }
    const ep: Json = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name,
        namespace: ns,
        labels,
        annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': rfc3339(this.host.now()) },
        uid: newUid(),
        creationTimestamp: rfc3339(this.host.now()),
      },
    };
    if (subsets.length) ep.subsets = subsets;
    this.host.store.create('endpoints', ep);
  }

  private syncSlices(svc: Json, members: Member[]): void {
    const ns = svc.metadata.namespace;
    const name = svc.metadata.name;
    const existing = (this.host.store.list('endpointslices', ns) as Json[]).filter(
      (s) => s.metadata.labels?.[SERVICE_NAME] === name && s.metadata.labels?.[MANAGED_BY] === SLICE_CONTROLLER,
    );
    const groups = new Map<string, { ports: Member['ports']; endpoints: Json[] }>();
    for (const m of members) {
      const sig = JSON.stringify(m.ports);
      let g = groups.get(sig);
      if (!g) {
        // slices always carry the port name, "" when unnamed (kubectl describe dereferences it)
        g = { ports: m.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol })), endpoints: [] };
        groups.set(sig, g);
      }
      g.endpoints.push({
        addresses: [m.pod.status.podIP],
        conditions: { ready: m.ready, serving: m.serving, terminating: m.terminating },
        nodeName: m.pod.spec.nodeName,
        targetRef: { kind: 'Pod', name: m.pod.metadata.name, namespace: ns, uid: m.pod.metadata.uid },
      });
    }
    // a service selecting nothing still has one (empty) slice
    if (groups.size === 0) groups.set('[]', { ports: [], endpoints: [] });
    const labels = { ...(svc.metadata.labels ?? {}), [SERVICE_NAME]: name, [MANAGED_BY]: SLICE_CONTROLLER };
    const wanted = [...groups.values()];
    const unused = [...existing];
    for (const g of wanted) {
      const body = { endpoints: g.endpoints.length ? g.endpoints : null, ports: g.ports.length ? g.ports : null };
      const match = unused.findIndex((s) => JSON.stringify(s.ports ?? null) === JSON.stringify(body.ports));
      const slice = match >= 0 ? unused.splice(match, 1)[0] : unused.shift();
      if (slice) {
        if (JSON.stringify(slice.endpoints ?? null) === JSON.stringify(body.endpoints) && JSON.stringify(slice.ports ?? null) === JSON.stringify(body.ports) && JSON.stringify(slice.metadata.labels) === JSON.stringify(labels)) continue;
        const next = thaw(slice);
        next.endpoints = body.endpoints;
        next.ports = body.ports;
        next.metadata.labels = labels;
        next.metadata.generation = (next.metadata.generation ?? 1) + 1;
        this.host.store.update('endpointslices', next);
        continue;
      }
      const created: KubeObject = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: generateName(`${name}-`),
          generateName: `${name}-`,
          namespace: ns,
          labels,
          annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': rfc3339(this.host.now()) },
          ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }],
          uid: newUid(),
          generation: 1,
          creationTimestamp: rfc3339(this.host.now()),
        },
        addressType: 'IPv4',
        endpoints: body.endpoints,
        ports: body.ports,
      };
      this.host.store.create('endpointslices', created);
    }
    for (const s of unused) this.host.store.delete('endpointslices', ns, s.metadata.name);
  }
}
