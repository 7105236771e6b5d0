// A cluster snapshot indexed for lookups: pods by "namespace/name", namespaces with their labels,
// addresses parsed once. Endpoints of a connection resolve against it.
import type { ClusterSnapshot, Endpoint, Labels, PodInfo } from './types.ts';
import { parseIP, type IPAddress } from './cidr.ts';

/** The label kube-apiserver puts on every namespace (immutable, equal to its name). */
export const namespaceNameLabel = 'kubernetes.io/metadata.name';

export interface NamespaceEntry {
  name: string;
  labels: Labels;
}

export interface PodEntry {
  /** "namespace/name" */
  key: string;
  /** position in the snapshot, used to index per-pod caches */
  index: number;
  info: PodInfo;
  namespace: NamespaceEntry;
  /** the pod's address (a hostNetwork pod has its node's) as text, '' when unknown */
  ipText: string;
  ip: IPAddress | undefined;
  hostNetwork: boolean;
}

export type ResolvedEndpoint =
  | { kind: 'pod'; pod: PodEntry }
  | { kind: 'external'; ipText: string; ip: IPAddress | undefined };

/** A snapshot indexed by pod key; every namespace carries kubernetes.io/metadata.name, as on a real API server. */
export class ClusterIndex {
  readonly pods: PodEntry[] = [];
  readonly namespaces = new Map<string, NamespaceEntry>();
  private readonly byKey = new Map<string, PodEntry>();
  /** pod addresses (not host-network ones, which are the node's) → pod */
  private readonly byIP = new Map<string, PodEntry>();

  constructor(snapshot: ClusterSnapshot) {
    for (const ns of snapshot.namespaces ?? []) {
      // A real API server always carries this label, so selectors on it work even when a snapshot omits it.
      this.namespaces.set(ns.name, { name: ns.name, labels: { [namespaceNameLabel]: ns.name, ...(ns.labels ?? {}) } });
    }
    const nodeIPs = new Map((snapshot.nodes ?? []).map((n) => [n.name, n.ip]));
    for (const info of snapshot.pods ?? []) {
      const key = `${info.namespace}/${info.name}`;
      if (this.byKey.has(key)) throw new Error(`pod ${key} appears twice in the cluster snapshot`);
      let namespace = this.namespaces.get(info.namespace);
      if (!namespace) {
        namespace = { name: info.namespace, labels: { [namespaceNameLabel]: info.namespace } };
        this.namespaces.set(info.namespace, namespace);
      }
      const hostNetwork = info.hostNetwork === true;
      const ipText = info.ip || (hostNetwork && info.node ? (nodeIPs.get(info.node) ?? '') : '');
      const entry: PodEntry = { key, index: this.pods.length, info, namespace, ipText, ip: ipText ? parseIP(ipText) : undefined, hostNetwork };
      this.pods.push(entry);
      this.byKey.set(key, entry);
      if (!hostNetwork && entry.ip) this.byIP.set(canonicalIP(ipText), entry);
    }
  }

  pod(key: string): PodEntry | undefined {
    return this.byKey.get(key);
  }

  /**
   * A connection endpoint: a pod must exist in the snapshot. An address that is a pod's own
   * address is that pod, because the network sees the pod behind it; any other address is
   * outside every pod.
   */
  resolve(e: Endpoint | string): ResolvedEndpoint {
    if (typeof e === 'string') e = endpointFromString(e);
    if ('pod' in e) {
      const pod = this.byKey.get(e.pod);
      if (!pod) throw new Error(`pod "${e.pod}" not found`);
      return { kind: 'pod', pod };
    }
    const ip = parseIP(e.ip);
    if (!ip) throw new Error(`"${e.ip}" is not an IP address`);
    const pod = this.byIP.get(canonicalIP(e.ip));
    if (pod) return { kind: 'pod', pod };
    return { kind: 'external', ipText: e.ip, ip };
  }
}

/** "namespace/name" is a pod; anything else is read as an address. */
export function endpointFromString(s: string): Endpoint {
  return s.includes('/') ? { pod: s } : { ip: s };
}

/** "namespace/name" for a pod, the address for anything else: how explanations name an endpoint. */
export function endpointName(e: ResolvedEndpoint): string {
  return e.kind === 'pod' ? e.pod.key : e.ipText;
}

/** The address ipBlock peers are matched against (a host-network pod has its node's). */
export function endpointIP(e: ResolvedEndpoint): IPAddress | undefined {
  return e.kind === 'pod' ? e.pod.ip : e.ip;
}

/** One spelling per address, so IPv6 short and long forms compare equal. */
function canonicalIP(text: string): string {
  const ip = parseIP(text);
  return ip ? `${ip.family}:${ip.value.toString(16)}` : text;
}
