// PodPolicyView: one pod's effective policy for one direction, resolved against the snapshot, in
// the shape the data plane compiles into packet filters (see PodPolicyView in types.ts).
import type { PodPolicyView, ResolvedPeer, ResolvedPort, ResolvedRule } from './types.ts';
import type { PodEntry } from './cluster.ts';
import type { CompiledPolicy, Direction } from './policy.ts';
import type { CompiledPeer } from './peers.ts';
import type { CompiledPort } from './ports.ts';
import { resolveNamedPort } from './ports.ts';
import { formatCIDR } from './cidr.ts';

/** What view building needs of the engine. */
export interface ViewSource {
  readonly cluster: { readonly pods: PodEntry[] };
  selectingPolicies(pod: PodEntry, direction: Direction): CompiledPolicy[];
  peerMatches(peer: CompiledPeer, e: { kind: 'pod'; pod: PodEntry }): boolean;
}

function resolvePeer(source: ViewSource, peer: CompiledPeer): ResolvedPeer {
  if (peer.kind === 'ipBlock') return { kind: 'ipBlock', peer: peer.index, cidr: formatCIDR(peer.cidr), except: peer.except.map(formatCIDR) };
  const pods: Array<{ pod: string; ip: string }> = [];
  // Pods without an address yet cannot be filtered on; the view is rebuilt once they have one.
  for (const pod of source.cluster.pods) if (pod.ipText && source.peerMatches(peer, { kind: 'pod', pod })) pods.push({ pod: pod.key, ip: pod.ipText });
  return { kind: 'pods', peer: peer.index, pods };
}

function resolvePort(p: CompiledPort, self: PodEntry, direction: Direction): ResolvedPort | undefined {
  if (p.name !== undefined) {
    // Ingress: this pod is the destination, so its own containerPorts give the number.
    if (direction === 'ingress') {
      const port = resolveNamedPort(self.info, p.name, p.protocol);
      return port === undefined ? undefined : { protocol: p.protocol, port };
    }
    return { protocol: p.protocol, name: p.name };
  }
  if (p.port === undefined) return { protocol: p.protocol };
  return p.endPort !== undefined ? { protocol: p.protocol, port: p.port, endPort: p.endPort } : { protocol: p.protocol, port: p.port };
}

/**
 * Rules of every policy isolating the pod, in input order. `peers`/`ports` are 'any' when the rule
 * lists none; an ingress named port absent on the pod is dropped, so a rule whose ports all drop
 * has `ports: []` and admits nothing.
 */
export function buildPodPolicyView(source: ViewSource, pod: PodEntry, direction: Direction): PodPolicyView {
  const policies = source.selectingPolicies(pod, direction);
  const rules: ResolvedRule[] = [];
  for (const policy of policies) {
    for (const rule of policy.rules[direction]) {
      rules.push({
        policy: policy.key,
        index: rule.index,
        peers: rule.peers ? rule.peers.map((p) => resolvePeer(source, p)) : 'any',
        ports: rule.ports ? rule.ports.flatMap((p) => resolvePort(p, pod, direction) ?? []) : 'any',
      });
    }
  }
  return { pod: pod.key, direction, isolated: policies.length > 0, policies: policies.map((p) => p.key), rules };
}
