// The learner's cluster as read through the API at one moment: what the policy engine needs
// (namespaces, pods with IPs, labels and ports, NetworkPolicies) plus Services and their
// endpoints, to explain a probe of a Service against the pods behind it.
import type { ClusterSnapshot, ContainerPort, NetworkPolicy, PodInfo, Protocol } from '../netpol/index.ts';
import type { KubeClient, KubeObject } from './kube.ts';
import { proberLabel } from './probers.ts';

export interface ServicePortInfo {
  name?: string;
  port: number;
  protocol: Protocol;
  /** a number, or a container port name to look up on each endpoint pod */
  targetPort: number | string;
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  clusterIP?: string;
  ports: ServicePortInfo[];
  selector?: Record<string, string>;
  /** "namespace/name" of the pods behind it (ready endpoints; the selector's pods when there is no Endpoints object) */
  endpoints: string[];
}

export interface ClusterView {
  snapshot: ClusterSnapshot;
  policies: NetworkPolicy[];
  services: ServiceInfo[];
  /** raw pods by "namespace/name" (includes pods without an IP yet) */
  pods: Map<string, KubeObject>;
}

export async function readClusterView(client: KubeClient, signal?: AbortSignal): Promise<ClusterView> {
  const opts = { signal };
  const [namespaces, pods, policies, services, endpoints] = await Promise.all([
    client.list('v1', 'Namespace', undefined, undefined, opts),
    client.list('v1', 'Pod', undefined, undefined, opts),
    client.list('networking.k8s.io/v1', 'NetworkPolicy', undefined, undefined, opts),
    client.list('v1', 'Service', undefined, undefined, opts),
    client.list('v1', 'Endpoints', undefined, undefined, opts),
  ]);
  const podMap = new Map(pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
  const snapshot: ClusterSnapshot = {
    namespaces: namespaces.map((n) => ({ name: n.metadata.name, labels: { 'kubernetes.io/metadata.name': n.metadata.name, ...(n.metadata.labels ?? {}) } })),
    pods: pods.filter(hasAddress).map(podInfo),
  };
  const byIP = new Map(snapshot.pods.map((p) => [p.ip, `${p.namespace}/${p.name}`]));
  const endpointsByKey = new Map(endpoints.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  return {
    snapshot,
    policies: policies.map(toPolicy),
    services: services.map((s) => serviceInfo(s, endpointsByKey.get(`${s.metadata.namespace}/${s.metadata.name}`), snapshot.pods, byIP)),
    pods: podMap,
  };
}

/** The view without the grader's prober pods: the cluster as the learner made it. */
export function withoutProbers(view: ClusterView): { cluster: ClusterSnapshot; policies: NetworkPolicy[] } {
  const probers = new Set([...view.pods.values()].filter((p) => p.metadata.labels?.[proberLabel] === 'true').map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
  return {
    cluster: { ...view.snapshot, pods: view.snapshot.pods.filter((p) => !probers.has(`${p.namespace}/${p.name}`)) },
    policies: view.policies,
  };
}

function hasAddress(p: KubeObject): boolean {
  const phase = p.status?.phase;
  return typeof p.status?.podIP === 'string' && p.status.podIP !== '' && phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata.deletionTimestamp;
}

function podInfo(p: KubeObject): PodInfo {
  const spec = (p.spec ?? {}) as { containers?: Array<{ ports?: Array<{ name?: string; containerPort?: number; protocol?: string }> }>; hostNetwork?: boolean; nodeName?: string };
  const ports: ContainerPort[] = [];
  for (const c of spec.containers ?? []) {
    for (const port of c.ports ?? []) {
      if (typeof port.containerPort === 'number') ports.push({ name: port.name, port: port.containerPort, protocol: protocolOf(port.protocol) });
    }
  }
  return {
    namespace: p.metadata.namespace ?? 'default',
    name: p.metadata.name,
    labels: p.metadata.labels ?? {},
    ip: String(p.status?.podIP),
    node: spec.nodeName,
    hostNetwork: spec.hostNetwork === true,
    containerPorts: ports,
  };
}

function toPolicy(o: KubeObject): NetworkPolicy {
  // only what the engine reads: server-set metadata stays behind
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace, labels: o.metadata.labels },
    spec: (o.spec ?? { podSelector: {} }) as unknown as NetworkPolicy['spec'],
  };
}

function serviceInfo(s: KubeObject, endpoints: KubeObject | undefined, pods: PodInfo[], byIP: Map<string, string>): ServiceInfo {
  const spec = (s.spec ?? {}) as { clusterIP?: string; ports?: Array<{ name?: string; port: number; protocol?: string; targetPort?: number | string }>; selector?: Record<string, string> };
  const namespace = s.metadata.namespace ?? 'default';
  let members: string[] = [];
  if (endpoints) {
    const subsets = (endpoints as { subsets?: Array<{ addresses?: Array<{ ip?: string; targetRef?: { name?: string; namespace?: string } }> }> }).subsets ?? [];
    for (const sub of subsets) {
      for (const a of sub.addresses ?? []) {
        const key = a.targetRef?.name ? `${a.targetRef.namespace ?? namespace}/${a.targetRef.name}` : a.ip ? byIP.get(a.ip) : undefined;
        if (key && !members.includes(key)) members.push(key);
      }
    }
  } else if (spec.selector && Object.keys(spec.selector).length > 0) {
    const sel = spec.selector;
    members = pods.filter((p) => p.namespace === namespace && Object.entries(sel).every(([k, v]) => p.labels[k] === v)).map((p) => `${p.namespace}/${p.name}`);
  }
  return {
    namespace,
    name: s.metadata.name,
    clusterIP: spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined,
    ports: (spec.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: protocolOf(p.protocol), targetPort: p.targetPort ?? p.port })),
    selector: spec.selector,
    endpoints: members,
  };
}

function protocolOf(p: unknown): Protocol {
  return p === 'UDP' || p === 'SCTP' ? p : 'TCP';
}
