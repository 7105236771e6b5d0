// The policy engine: decides one connection the way the NetworkPolicy API defines it.
// - A pod is isolated for a direction when some policy of its namespace selects it and names that
//   direction in policyTypes; an isolated pod admits only what one rule of those policies allows
//   (all selecting policies are ORed). A pod no policy selects admits everything.
// - A connection needs the source's egress AND the destination's ingress; an address outside any
//   pod, and a host-network pod, has no policies, so only the other side counts.
// - A pod may always reach itself.
// Selectors are compiled once, policies indexed by namespace, and each pod's selecting policies
// and each selector peer's verdict on a pod are cached, so a verdict is mostly array reads.
import type {
  ClusterSnapshot,
  Connection,
  Decision,
  NetworkPolicy,
  PodPolicyView,
  Protocol,
  ReachabilityGrid,
  RuleRef,
  SideExplanation,
  Verdict,
} from './types.ts';
import { ClusterIndex, endpointName, type PodEntry, type ResolvedEndpoint } from './cluster.ts';
import { compilePolicy, type CompiledPolicy, type Direction } from './policy.ts';
import { ipBlockMatches, selectorPeerMatchesPod, type CompiledPeer } from './peers.ts';
import { portMatches } from './ports.ts';
import { allowedReason, deniedReason, nearestMiss, summarize } from './explain.ts';
import { buildPodPolicyView } from './view.ts';
import { buildMatrix, type MatrixRequest } from './matrix.ts';

/** NetworkPolicy semantics over one snapshot and policy set; build once, ask many times. */
export class PolicyEngine {
  readonly cluster: ClusterIndex;
  readonly policies: CompiledPolicy[];
  private readonly byNamespace = new Map<string, CompiledPolicy[]>();
  private readonly selecting: Record<Direction, Array<CompiledPolicy[] | undefined>> = { ingress: [], egress: [] };
  private readonly peerHits = new Map<CompiledPeer, Uint8Array>();
  private readonly podEndpoints: ResolvedEndpoint[];

  /** Throws InvalidPolicyError for a policy kube-apiserver would reject, and Error for a malformed snapshot. */
  constructor(cluster: ClusterSnapshot, policies: NetworkPolicy[]) {
    this.cluster = new ClusterIndex(cluster);
    this.policies = policies.map((p, i) => compilePolicy(p, i));
    const seen = new Set<string>();
    for (const p of this.policies) {
      if (seen.has(p.key)) throw new Error(`NetworkPolicy "${p.key}" is given twice`);
      seen.add(p.key);
      const list = this.byNamespace.get(p.namespace);
      if (list) list.push(p);
      else this.byNamespace.set(p.namespace, [p]);
    }
    this.podEndpoints = this.cluster.pods.map((pod) => ({ kind: 'pod', pod }));
  }

  /** Policies of the pod's own namespace selecting it for this direction (none for a host-network pod). */
  selectingPolicies(pod: PodEntry, direction: Direction): CompiledPolicy[] {
    const cache = this.selecting[direction];
    let list = cache[pod.index];
    if (!list) {
      const labels = pod.info.labels ?? {};
      list = pod.hostNetwork
        ? []
        : (this.byNamespace.get(pod.namespace.name) ?? []).filter((p) => p.affects[direction] && p.podSelector.matches(labels));
      cache[pod.index] = list;
    }
    return list;
  }

  /** A peer against an endpoint, cached per pod. */
  peerMatches(peer: CompiledPeer, e: ResolvedEndpoint): boolean {
    if (e.kind === 'external') return peer.kind === 'ipBlock' && ipBlockMatches(peer, e.ip);
    let hits = this.peerHits.get(peer);
    if (!hits) {
      hits = new Uint8Array(this.cluster.pods.length);
      this.peerHits.set(peer, hits);
    }
    const i = e.pod.index;
    if (hits[i] === 0) {
      const m = peer.kind === 'ipBlock' ? ipBlockMatches(peer, e.pod.ip) : selectorPeerMatchesPod(peer, e.pod);
      hits[i] = m ? 2 : 1;
    }
    return hits[i] === 2;
  }

  /** The first rule (policy, rule, peer, port order) admitting `other` on port/protocol, if any. */
  private admit(policies: CompiledPolicy[], direction: Direction, other: ResolvedEndpoint, port: number, protocol: Protocol, dest: PodEntry | undefined): RuleRef | undefined {
    for (const policy of policies) {
      rules: for (const rule of policy.rules[direction]) {
        let peerIndex = -1;
        if (rule.peers) {
          for (const p of rule.peers) if (this.peerMatches(p, other)) { peerIndex = p.index; break; }
          if (peerIndex < 0) continue rules;
        }
        let portIndex = -1;
        if (rule.ports) {
          for (const p of rule.ports) if (portMatches(p, port, protocol, dest?.info)) { portIndex = p.index; break; }
          if (portIndex < 0) continue rules;
        }
        const ref: RuleRef = { policy: policy.key, rule: rule.index };
        if (peerIndex >= 0) ref.peer = peerIndex;
        if (portIndex >= 0) ref.port = portIndex;
        return ref;
      }
    }
    return undefined;
  }

  private admits(policies: CompiledPolicy[], direction: Direction, other: ResolvedEndpoint, port: number, protocol: Protocol, dest: PodEntry | undefined): boolean {
    for (const policy of policies) {
      rules: for (const rule of policy.rules[direction]) {
        if (rule.peers) {
          let ok = false;
          for (const p of rule.peers) if (this.peerMatches(p, other)) { ok = true; break; }
          if (!ok) continue rules;
        }
        if (rule.ports) {
          for (const p of rule.ports) if (portMatches(p, port, protocol, dest?.info)) return true;
          continue rules;
        }
        return true;
      }
    }
    return false;
  }

  private resolve(e: Connection['from']): ResolvedEndpoint {
    if ('pod' in e) {
      const pod = this.cluster.pod(e.pod);
      if (!pod) throw new Error(`pod "${e.pod}" not found`);
      return this.podEndpoints[pod.index];
    }
    return this.cluster.resolve(e);
  }

  /** The verdict alone: source egress AND destination ingress, a pod to itself always allowed. */
  verdict(c: Connection): Verdict {
    const from = this.resolve(c.from);
    const to = this.resolve(c.to);
    if (from.kind === 'pod' && to.kind === 'pod' && from.pod === to.pod) return 'allow';
    const dest = to.kind === 'pod' ? to.pod : undefined;
    if (from.kind === 'pod') {
      const policies = this.selectingPolicies(from.pod, 'egress');
      if (policies.length > 0 && !this.admits(policies, 'egress', to, c.port, c.protocol, dest)) return 'deny';
    }
    if (dest) {
      const policies = this.selectingPolicies(dest, 'ingress');
      if (policies.length > 0 && !this.admits(policies, 'ingress', from, c.port, c.protocol, dest)) return 'deny';
    }
    return 'allow';
  }

  /** The verdict on one connection with its explanation (see Explanation in types.ts). */
  evaluate(c: Connection): Decision {
    const from = this.resolve(c.from);
    const to = this.resolve(c.to);
    const samePod = from.kind === 'pod' && to.kind === 'pod' && from.pod === to.pod;
    const egress = this.side('egress', from, to, c, to, samePod);
    const ingress = this.side('ingress', to, from, c, to, samePod);
    const verdict: Verdict = egress.verdict === 'allow' && ingress.verdict === 'allow' ? 'allow' : 'deny';
    return { verdict, explanation: { summary: summarize(verdict, egress, ingress, from, to), samePod, egress, ingress } };
  }

  private side(direction: Direction, self: ResolvedEndpoint, other: ResolvedEndpoint, c: Connection, to: ResolvedEndpoint, samePod: boolean): SideExplanation {
    // Keys in reading order: who, whether exempt, isolation, verdict, why.
    const side = { direction } as SideExplanation;
    if (self.kind === 'pod') {
      side.pod = self.pod.key;
      if (self.pod.ipText) side.ip = self.pod.ipText;
    } else {
      side.ip = self.ipText;
    }
    if (samePod) side.exempt = 'same-pod';
    else if (self.kind === 'external') side.exempt = 'external';
    else if (self.pod.hostNetwork) side.exempt = 'host-network';
    const policies = side.exempt || self.kind !== 'pod' ? [] : this.selectingPolicies(self.pod, direction);
    side.isolated = policies.length > 0;
    side.policies = policies.map((p) => p.key);
    side.verdict = 'allow';
    if (!side.isolated || self.kind !== 'pod') {
      side.reason = allowedReason(side, undefined);
      return side;
    }
    const dest = to.kind === 'pod' ? to.pod : undefined;
    const ref = this.admit(policies, direction, other, c.port, c.protocol, dest);
    if (ref) {
      side.allowedBy = ref;
      side.reason = allowedReason(side, policies.find((p) => p.key === ref.policy)!.name);
      return side;
    }
    side.verdict = 'deny';
    const miss = nearestMiss(policies, direction, other, c.port, c.protocol, dest?.info, endpointName(to));
    if (miss) side.nearestMiss = miss;
    side.reason = deniedReason(self.pod.key, direction, policies, miss);
    return side;
  }

  /** The pod's effective policy for one direction, peers and ingress named ports resolved (see PodPolicyView). */
  podPolicy(pod: string, direction: Direction): PodPolicyView {
    const entry = this.cluster.pod(pod);
    if (!entry) throw new Error(`pod "${pod}" not found`);
    return buildPodPolicyView(this, entry, direction);
  }

  /** Reachability between every source and destination on each port/protocol. */
  matrix(request: MatrixRequest): ReachabilityGrid {
    return buildMatrix(this, request);
  }
}

/** One connection against one cluster and policy set (builds a PolicyEngine; reuse one for many connections). */
export function evaluate(cluster: ClusterSnapshot, policies: NetworkPolicy[], connection: Connection): Decision {
  return new PolicyEngine(cluster, policies).evaluate(connection);
}

