// Explanations for people: which rule admitted a connection, or, for a denied one, the nearest
// miss — the rule/peer/port candidate failing the fewest conditions — and one summary sentence.
import type { Mismatch, NearestMiss, PodInfo, Protocol, RuleRef, SideExplanation } from './types.ts';
import { peerField, type CompiledPolicy, type Direction } from './policy.ts';
import { peerMismatches, type CompiledPeer } from './peers.ts';
import { portMismatches, type CompiledPort } from './ports.ts';
import { endpointName, type ResolvedEndpoint } from './cluster.ts';

/** `allow-dns egress[0] to[1] ports[0]`: a rule reference as people read it (peer/port only when the rule lists them). */
export function describeRef(policyName: string, direction: Direction, ref: Pick<RuleRef, 'rule' | 'peer' | 'port'>): string {
  let s = `${policyName} ${direction}[${ref.rule}]`;
  if (ref.peer !== undefined) s += ` ${peerField(direction)}[${ref.peer}]`;
  if (ref.port !== undefined) s += ` ports[${ref.port}]`;
  return s;
}

/** The item failing the fewest conditions (the first of equals); index undefined when the rule lists none. */
function fewest<T extends { index: number }>(items: T[] | null, count: (item: T) => number): { item: T | undefined; failed: number } {
  if (!items) return { item: undefined, failed: 0 };
  let best: T | undefined;
  let bestFailed = Infinity;
  for (const item of items) {
    const failed = count(item);
    if (failed < bestFailed) {
      best = item;
      bestFailed = failed;
      if (failed === 0) break;
    }
  }
  return { item: best, failed: bestFailed };
}

/**
 * Nearest miss: over every rule of the isolating policies, the peer and the port entry failing the
 * fewest conditions (peer and port fail independently, so their sum is minimal per rule); ties go
 * to the earliest policy, rule, peer and port. Undefined when the policies have no rule here.
 * Candidates are only counted; the winner alone is described.
 */
export function nearestMiss(
  policies: CompiledPolicy[],
  direction: Direction,
  other: ResolvedEndpoint,
  port: number,
  protocol: Protocol,
  dest: PodInfo | undefined,
  destName: string,
): NearestMiss | undefined {
  let best: { policy: CompiledPolicy; rule: number; peer: CompiledPeer | undefined; port: CompiledPort | undefined; failed: number } | undefined;
  for (const policy of policies) {
    for (const rule of policy.rules[direction]) {
      const peer = fewest(rule.peers, (p) => peerMismatches(p, other));
      const entry = fewest(rule.ports, (p) => portMismatches(p, port, protocol, dest, destName));
      const failed = peer.failed + entry.failed;
      if (failed === 0) continue; // admits: not a miss
      if (best && failed >= best.failed) continue;
      best = { policy, rule: rule.index, peer: peer.item, port: entry.item, failed };
    }
  }
  if (!best) return undefined;
  const failed: Mismatch[] = [];
  if (best.peer) peerMismatches(best.peer, other, failed);
  if (best.port) portMismatches(best.port, port, protocol, dest, destName, failed);
  const miss = { policy: best.policy.key, rule: best.rule } as NearestMiss;
  if (best.peer) miss.peer = best.peer.index;
  if (best.port) miss.port = best.port.index;
  const texts = failed.map((f) => f.text).join('; ');
  const joiner = /^(wants|selects) /.test(texts) ? ' ' : ': ';
  miss.text = describeRef(best.policy.name, direction, miss) + joiner + texts;
  miss.failed = failed;
  return miss;
}

/** The side sentence of a denied direction. */
export function deniedReason(pod: string, direction: Direction, policies: CompiledPolicy[], miss: NearestMiss | undefined): string {
  const names = policies.map((p) => p.name).join(', ');
  const why = miss ? miss.text : `no ${direction} rule in ${policies.length === 1 ? 'it' : 'them'} admits anything`;
  return `${pod} is isolated for ${direction} by ${names}; ${why}`;
}

/** The side sentence of an allowed direction. */
export function allowedReason(side: Omit<SideExplanation, 'reason'>, policyName: string | undefined): string {
  const who = side.pod ?? side.ip ?? 'endpoint';
  switch (side.exempt) {
    case 'external':
      return `${who} is not a pod: no policy applies to it`;
    case 'host-network':
      return `${who} uses the host network: no policy selects it`;
    case 'same-pod':
      return `${who} may always reach itself`;
    case undefined:
      break;
    default: {
      const never: never = side.exempt;
      return String(never);
    }
  }
  if (!side.isolated) return `${who} is not isolated for ${side.direction}`;
  return `${who} ${side.direction} allowed by ${describeRef(policyName ?? side.allowedBy!.policy, side.direction, side.allowedBy!)}`;
}

/** One sentence for the whole decision: the denying sides, or what let it through. */
export function summarize(verdict: 'allow' | 'deny', egress: SideExplanation, ingress: SideExplanation, from: ResolvedEndpoint, to: ResolvedEndpoint): string {
  if (egress.exempt === 'same-pod') return `allowed: ${endpointName(from)} to itself is always allowed`;
  const sides = [egress, ingress];
  if (verdict === 'deny') return 'blocked: ' + sides.filter((s) => s.verdict === 'deny').map((s) => s.reason).join('; and ');
  const relevant = sides.filter((s) => s.exempt !== 'external');
  if (relevant.length === 0) return `allowed: neither ${endpointName(from)} nor ${endpointName(to)} is a pod`;
  return 'allowed: ' + relevant.map((s) => s.reason).join('; ');
}

