// NetworkPolicyPeer matching. A selector peer (podSelector and/or namespaceSelector, ANDed) matches
// pods only; podSelector alone means pods of the policy's own namespace; namespaceSelector `{}`
// means every namespace. An ipBlock matches any address, pod or not, outside its except ranges.
// Pods on the host network are never matched by selectors, only by ipBlock on their node's
// address: the Kubernetes NetworkPolicy docs treat hostNetwork pod traffic like any other traffic
// of the node ("hostNetwork pods are ignored by podSelector and namespaceSelector"), as Calico does.
import type { IPBlock, Mismatch, NetworkPolicyPeer } from './types.ts';
import { cidrContains, parseCIDR, type CIDRBlock, type IPAddress } from './cidr.ts';
import { compileSelector, describeLabel, formatRequirement, type CompiledSelector } from './selector.ts';
import { endpointIP, type PodEntry, type ResolvedEndpoint } from './cluster.ts';

export type CompiledPeer =
  | { kind: 'ipBlock'; index: number; source: IPBlock; cidr: CIDRBlock; except: CIDRBlock[] }
  | {
      kind: 'pods';
      index: number;
      /** the policy's namespace, which a podSelector-only peer is confined to */
      namespace: string;
      podSelector: CompiledSelector | undefined;
      namespaceSelector: CompiledSelector | undefined;
    };

/** A validated peer in matchable form. */
export function compilePeer(peer: NetworkPolicyPeer, index: number, policyNamespace: string): CompiledPeer {
  if (peer.ipBlock != null) {
    const cidr = parseCIDR(peer.ipBlock.cidr);
    if (!cidr) throw new Error(`ipBlock.cidr "${peer.ipBlock.cidr}" is not a CIDR`);
    const except = (peer.ipBlock.except ?? []).map((e) => {
      const b = parseCIDR(e);
      if (!b) throw new Error(`ipBlock.except "${e}" is not a CIDR`);
      return b;
    });
    return { kind: 'ipBlock', index, source: peer.ipBlock, cidr, except };
  }
  return {
    kind: 'pods',
    index,
    namespace: policyNamespace,
    podSelector: peer.podSelector != null ? compileSelector(peer.podSelector) : undefined,
    namespaceSelector: peer.namespaceSelector != null ? compileSelector(peer.namespaceSelector) : undefined,
  };
}

/** ipBlock: the address is in cidr, in the same family, and in none of the except ranges. */
export function ipBlockMatches(peer: Extract<CompiledPeer, { kind: 'ipBlock' }>, ip: IPAddress | undefined): boolean {
  if (!ip || !cidrContains(peer.cidr, ip)) return false;
  for (const e of peer.except) if (cidrContains(e, ip)) return false;
  return true;
}

/** Selector peer: namespace (policy's own, or namespaceSelector) AND podSelector; never a host-network pod. */
export function selectorPeerMatchesPod(peer: Extract<CompiledPeer, { kind: 'pods' }>, pod: PodEntry): boolean {
  if (pod.hostNetwork) return false;
  if (peer.namespaceSelector) {
    if (!peer.namespaceSelector.matches(pod.namespace.labels)) return false;
  } else if (pod.namespace.name !== peer.namespace) {
    return false;
  }
  return !peer.podSelector || peer.podSelector.matches(pod.info.labels ?? {});
}

/** Any peer against any endpoint (uncached). */
export function peerMatches(peer: CompiledPeer, e: ResolvedEndpoint): boolean {
  if (peer.kind === 'ipBlock') return ipBlockMatches(peer, endpointIP(e));
  return e.kind === 'pod' && selectorPeerMatchesPod(peer, e.pod);
}

/**
 * Counts the conditions of a peer the endpoint fails (0 when it matches), and describes them into
 * `out` when given: explanations count every candidate but describe only the nearest miss.
 */
export function peerMismatches(peer: CompiledPeer, e: ResolvedEndpoint, out?: Mismatch[]): number {
  const name = e.kind === 'pod' ? e.pod.key : e.ipText;
  if (peer.kind === 'ipBlock') {
    const ip = endpointIP(e);
    const cidr = peer.source.cidr;
    const addr = e.kind === 'pod' ? e.pod.ipText : e.ipText;
    if (!ip) {
      out?.push({ kind: 'ip-outside', want: cidr, got: '', text: `wants an address in ${cidr}; ${name} has no address` });
      return 1;
    }
    if (ip.family !== peer.cidr.family) {
      out?.push({ kind: 'ip-family', want: cidr, got: `IPv${ip.family}`, text: `wants an address in ${cidr}; ${name} is IPv${ip.family}` });
      return 1;
    }
    if (!cidrContains(peer.cidr, ip)) {
      out?.push({ kind: 'ip-outside', want: cidr, got: addr, text: `wants an address in ${cidr}; ${e.kind === 'pod' ? `${name} (${addr})` : name} is outside it` });
      return 1;
    }
    let n = 0;
    peer.except.forEach((b, i) => {
      if (!cidrContains(b, ip)) return;
      n++;
      const ex = peer.source.except?.[i] ?? '';
      out?.push({ kind: 'ip-except', want: `not ${ex}`, got: addr, text: `${name} is in ${cidr} but excepted by ${ex}` });
    });
    return n;
  }
  if (e.kind === 'external') {
    out?.push({ kind: 'not-a-pod', want: 'a pod', got: name, text: `selects pods; ${name} is not a pod (only ipBlock matches it)` });
    return 1;
  }
  const pod = e.pod;
  if (pod.hostNetwork) {
    out?.push({ kind: 'host-network', want: 'a pod network pod', got: name, text: `${name} uses the host network; only ipBlock peers match it` });
    return 1;
  }
  let n = 0;
  if (peer.namespaceSelector) {
    for (const r of peer.namespaceSelector.requirements) {
      if (r.test(pod.namespace.labels)) continue;
      n++;
      if (!out) continue;
      const want = formatRequirement(r);
      const has = describeLabel(pod.namespace.labels, r.key);
      const text = has.startsWith('no label ')
        ? `namespace ${pod.namespace.name} lacks label ${want}`
        : `namespace ${pod.namespace.name} has ${has}, wants ${want}`;
      out.push({ kind: 'namespace-label', want, got: has, text });
    }
  } else if (pod.namespace.name !== peer.namespace) {
    n++;
    out?.push({
      kind: 'namespace',
      want: peer.namespace,
      got: pod.namespace.name,
      text: `selects pods in namespace ${peer.namespace} only (no namespaceSelector); ${name} is in ${pod.namespace.name}`,
    });
  }
  if (peer.podSelector) {
    const labels = pod.info.labels ?? {};
    for (const r of peer.podSelector.requirements) {
      if (r.test(labels)) continue;
      n++;
      if (!out) continue;
      const want = formatRequirement(r);
      const has = describeLabel(labels, r.key);
      out.push({ kind: 'pod-label', want, got: has, text: `wants pod label ${want}; ${name} has ${has}` });
    }
  }
  return n;
}
