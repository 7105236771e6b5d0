// What both data planes read from the API objects: running pods with their addresses, services
// resolved to endpoints the way kube-proxy would program them, and the snapshot the policy engine
// reasons about. Pure functions over plain objects.
import type { ClusterSnapshot, ContainerPort, Labels, NetworkPolicy, Protocol } from '../netpol/index.ts';
import type { ClusterStateView, KubeObject } from '../apiserver/runtime.ts';

/** A pod this runtime started (it has an address); the data plane routes only to these. */
export interface RunningPod {
  /** "namespace/name" */
  key: string;
  namespace: string;
  name: string;
  uid: string;
  labels: Labels;
  ip: string;
  containerPorts: ContainerPort[];
  /** deletionTimestamp set: still has its address, no longer an endpoint */
  terminating: boolean;
  /** the pod's Ready condition is True (containers running, readiness gates met) */
  ready: boolean;
}

export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

const protocols: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export function toProtocol(value: unknown, field: string): Protocol {
  const p = value == null || value === '' ? 'TCP' : String(value);
  if ((protocols as readonly string[]).includes(p)) return p as Protocol;
  throw new Error(`${field}: unsupported protocol "${p}"`);
}

/** containerPorts of every container of a pod spec, with protocols defaulted. */
export function containerPortsOf(pod: KubeObject): ContainerPort[] {
  const out: ContainerPort[] = [];
  const containers: unknown[] = Array.isArray(pod.spec?.containers) ? pod.spec.containers : [];
  containers.forEach((c, i) => {
    const ports: unknown[] = Array.isArray((c as { ports?: unknown[] }).ports) ? (c as { ports: unknown[] }).ports : [];
    ports.forEach((p, j) => {
      const port = p as { name?: unknown; containerPort?: unknown; protocol?: unknown };
      const n = Number(port.containerPort);
      if (!Number.isInteger(n) || n < 1 || n > 65535) return;
      const entry: ContainerPort = { port: n, protocol: toProtocol(port.protocol, `spec.containers[${i}].ports[${j}].protocol`) };
      if (typeof port.name === 'string' && port.name) entry.name = port.name;
      out.push(entry);
    });
  });
  return out;
}

export function runningPod(pod: KubeObject, ip: string): RunningPod {
  const namespace = pod.metadata.namespace ?? 'default';
  return {
    key: podKey(namespace, pod.metadata.name),
    namespace,
    name: pod.metadata.name,
    uid: pod.metadata.uid ?? '',
    labels: { ...(pod.metadata.labels ?? {}) },
    ip,
    containerPorts: containerPortsOf(pod),
    terminating: pod.metadata.deletionTimestamp != null,
    ready: podReady(pod),
  };
}

/** podutil.IsPodReady: the Ready condition is True. */
export function podReady(pod: KubeObject): boolean {
  const conditions: unknown[] = Array.isArray(pod.status?.conditions) ? pod.status.conditions : [];
  return conditions.some((c) => (c as { type?: unknown }).type === 'Ready' && (c as { status?: unknown }).status === 'True');
}

/**
 * The pods of `view` this runtime has addresses for, with labels as they are now in the store
 * (labels change without a restart, and policies must follow them).
 */
export function runningPods(view: ClusterStateView, addresses: ReadonlyMap<string, string>): RunningPod[] {
  const out: RunningPod[] = [];
  for (const pod of view.list('pods')) {
    const key = podKey(pod.metadata.namespace ?? 'default', pod.metadata.name);
    const ip = addresses.get(key);
    if (ip) out.push(runningPod(pod, ip));
  }
  return out;
}

/** The engine's view of the cluster: namespaces with labels and the pods that have addresses. */
export function clusterSnapshot(view: ClusterStateView, pods: RunningPod[], nodeName: string): ClusterSnapshot {
  return {
    namespaces: view.list('namespaces').map((ns) => ({ name: ns.metadata.name, labels: { ...(ns.metadata.labels ?? {}) } })),
    pods: pods.map((p) => ({ namespace: p.namespace, name: p.name, labels: p.labels, ip: p.ip, node: nodeName, containerPorts: p.containerPorts })),
  };
}

/** NetworkPolicies as stored (the API server has validated and defaulted them). */
export function networkPolicies(view: ClusterStateView): NetworkPolicy[] {
  return view.list('networkpolicies').map((o) => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { ...o.metadata, namespace: o.metadata.namespace ?? 'default' },
    spec: o.spec,
  })) as NetworkPolicy[];
}

export interface ServiceEndpoint {
  pod: string;
  ip: string;
  port: number;
}

/** One ClusterIP port as kube-proxy programs it. */
export interface ServicePortRoute {
  /** "namespace/name" */
  service: string;
  clusterIP: string;
  protocol: Protocol;
  port: number;
  portName?: string;
  endpoints: ServiceEndpoint[];
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  /** undefined for a headless service */
  clusterIP?: string;
  ports: ServicePortRoute[];
  /** ready pod addresses (what a headless service's name resolves to) */
  podIPs: string[];
}

function labelsMatch(selector: Record<string, string>, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/**
 * Whether kube-proxy forwards to this selected pod: its EndpointSlice entry is `ready`, which is
 * the pod's Ready condition on a pod not being deleted, or any pod with an address when the service
 * sets publishNotReadyAddresses. A not-ready pod (a readiness gate nothing set, like the grader's
 * probers) is listed under notReadyAddresses and receives no service traffic.
 */
function forwardsTo(pod: RunningPod, publishNotReady: boolean): boolean {
  return publishNotReady || (pod.ready && !pod.terminating);
}

/**
 * Services with their endpoints. With a selector, endpoints are the ready pods of the service's
 * namespace whose labels match (see forwardsTo), on the targetPort (a name resolves per pod
 * against its containerPorts of the same protocol; a pod without it is not an endpoint of that
 * port, as the endpoints controller does). Without a selector, the ready `addresses` of the
 * Endpoints object are used (never its notReadyAddresses).
 */
export function serviceInfos(view: ClusterStateView, pods: RunningPod[]): ServiceInfo[] {
  const out: ServiceInfo[] = [];
  for (const svc of view.list('services')) {
    const namespace = svc.metadata.namespace ?? 'default';
    const spec = (svc.spec ?? {}) as {
      clusterIP?: string;
      type?: string;
      selector?: Record<string, string>;
      publishNotReadyAddresses?: boolean;
      ports?: Array<{ name?: string; port?: number; targetPort?: number | string; protocol?: string }>;
    };
    if (spec.type === 'ExternalName') continue;
    const headless = !spec.clusterIP || spec.clusterIP === 'None';
    const key = podKey(namespace, svc.metadata.name);
    const selector = spec.selector && Object.keys(spec.selector).length > 0 ? spec.selector : undefined;
    const publishNotReady = spec.publishNotReadyAddresses === true;
    const members = selector ? pods.filter((p) => p.namespace === namespace && labelsMatch(selector, p.labels) && forwardsTo(p, publishNotReady)) : [];
    const ports: ServicePortRoute[] = [];
    (spec.ports ?? []).forEach((sp, i) => {
      const port = Number(sp.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) return;
      let protocol: Protocol;
      try {
        protocol = toProtocol(sp.protocol, `services ${key}: spec.ports[${i}].protocol`);
      } catch {
        return;
      }
      const target = sp.targetPort ?? port;
      const endpoints: ServiceEndpoint[] = [];
      if (selector) {
        for (const p of members) {
          const n = typeof target === 'number' || /^\d+$/.test(String(target))
            ? Number(target)
            : p.containerPorts.find((cp) => cp.name === target && (cp.protocol ?? 'TCP') === protocol)?.port;
          if (n !== undefined) endpoints.push({ pod: p.key, ip: p.ip, port: n });
        }
      } else {
        endpoints.push(...endpointsFromObject(view.get('endpoints', namespace, svc.metadata.name), sp.name, protocol));
      }
      const route: ServicePortRoute = { service: key, clusterIP: headless ? '' : String(spec.clusterIP), protocol, port, endpoints };
      if (sp.name) route.portName = sp.name;
      ports.push(route);
    });
    const podIPs = selector ? members.map((p) => p.ip) : [...new Set(ports.flatMap((p) => p.endpoints.map((e) => e.ip)))];
    out.push({ namespace, name: svc.metadata.name, clusterIP: headless ? undefined : String(spec.clusterIP), ports, podIPs });
  }
  return out;
}

function endpointsFromObject(obj: KubeObject | undefined, portName: string | undefined, protocol: Protocol): ServiceEndpoint[] {
  if (!obj) return [];
  const subsets = (obj as unknown as { subsets?: Array<{ addresses?: Array<{ ip?: string; targetRef?: { namespace?: string; name?: string } }>; ports?: Array<{ name?: string; port?: number; protocol?: string }> }> }).subsets ?? [];
  const out: ServiceEndpoint[] = [];
  for (const s of subsets) {
    const port = (s.ports ?? []).find((p) => (p.name ?? '') === (portName ?? '') && (p.protocol ?? 'TCP') === protocol);
    if (!port?.port) continue;
    for (const a of s.addresses ?? []) {
      if (!a.ip) continue;
      const pod = a.targetRef?.name ? podKey(a.targetRef.namespace ?? obj.metadata.namespace ?? 'default', a.targetRef.name) : a.ip;
      out.push({ pod, ip: a.ip, port: port.port });
    }
  }
  return out;
}

/** Every ClusterIP port of every non-headless service. */
export function clusterIPRoutes(services: ServiceInfo[]): ServicePortRoute[] {
  return services.filter((s) => s.clusterIP).flatMap((s) => s.ports);
}
