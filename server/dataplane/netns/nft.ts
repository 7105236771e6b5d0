// Compiles what the cluster's objects say into ONE nftables table for the node namespace:
// kube-proxy's job (ClusterIP → endpoint DNAT, REJECT for a service port without endpoints) and
// Calico's (per-pod ingress and egress policy chains in the forward hook, so policy sees pod
// addresses after DNAT). The script deletes and recreates the table in one `nft -f` transaction,
// so a change is applied atomically; established connections keep their conntrack entries.
import type { ContainerPort, PodPolicyView, Protocol, ResolvedPeer, ResolvedPort, ResolvedRule } from '../../netpol/index.ts';
import type { ServicePortRoute } from '../cluster-model.ts';
import type { ExternalHost } from '../../apiserver/runtime.ts';
import { blockContains, formatBlock, ipToInt, tryParseBlock, type IPv4Block } from '../ipv4.ts';

export const TABLE = 'kubelab';

export interface CompiledPod {
  key: string;
  ip: string;
  containerPorts: ContainerPort[];
}

export interface PodPolicies {
  ingress: PodPolicyView;
  egress: PodPolicyView;
}

export interface RulesetInput {
  pods: CompiledPod[];
  /** by pod key; a pod without an entry is not isolated in either direction */
  policies: ReadonlyMap<string, PodPolicies>;
  routes: ServicePortRoute[];
  /** address hairpinned service traffic is source-NATed to (the node side of every pod link) */
  gateway: string;
}

const proto: Record<Protocol, string> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

function setOf(items: string[]): string {
  return items.length === 1 ? items[0] : `{ ${items.join(', ')} }`;
}

function uniqueSorted(items: Iterable<string>): string[] {
  return [...new Set(items)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function sortIPs(ips: Iterable<string>): string[] {
  return [...new Set(ips)].sort((a, b) => ipToInt(a) - ipToInt(b));
}

interface BlockPeer {
  block: IPv4Block;
  except: IPv4Block[];
}

/** A peer as an address match: undefined when it can match nothing (no pods, or an IPv6 block). */
type PeerMatch = { kind: 'any' } | { kind: 'ips'; ips: string[] } | { kind: 'block'; peer: BlockPeer };

function peerMatches(peers: 'any' | ResolvedPeer[]): PeerMatch[] {
  if (peers === 'any') return [{ kind: 'any' }];
  const out: PeerMatch[] = [];
  for (const p of peers) {
    if (p.kind === 'pods') {
      const ips = sortIPs(p.pods.map((x) => x.ip).filter((ip) => ip && tryParseBlock(ip)));
      if (ips.length) out.push({ kind: 'ips', ips });
    } else {
      const block = tryParseBlock(p.cidr);
      if (!block) continue; // an IPv6 block never matches an IPv4 address
      const except = p.except.map(tryParseBlock).filter((b): b is IPv4Block => b !== undefined);
      out.push({ kind: 'block', peer: { block, except } });
    }
  }
  return out;
}

function peerExpr(m: PeerMatch, field: 'saddr' | 'daddr'): string {
  switch (m.kind) {
    case 'any':
      return '';
    case 'ips':
      return `ip ${field} ${setOf(m.ips)} `;
    case 'block': {
      const ex = m.peer.except.map(formatBlock);
      return `ip ${field} ${formatBlock(m.peer.block)} ` + (ex.length ? `ip ${field} != ${setOf(uniqueSorted(ex))} ` : '');
    }
  }
}

function peerContains(m: PeerMatch, ip: string): boolean {
  switch (m.kind) {
    case 'any':
      return true;
    case 'ips':
      return m.ips.includes(ip);
    case 'block':
      return blockContains(m.peer.block, ip) && !m.peer.except.some((e) => blockContains(e, ip));
  }
}

function numericPortExpr(p: Extract<ResolvedPort, { port?: number }>): string {
  const k = proto[p.protocol];
  if (p.port === undefined) return `meta l4proto ${k} `;
  if (p.endPort !== undefined && p.endPort !== p.port) return `${k} dport ${p.port}-${p.endPort} `;
  return `${k} dport ${p.port} `;
}

function resolveNamed(pod: CompiledPod, name: string, protocol: Protocol): number | undefined {
  return pod.containerPorts.find((cp) => cp.name === name && (cp.protocol ?? 'TCP') === protocol)?.port;
}

/** nft lines for one rule: each (peer, port) alternative becomes one line ending in `verdict`. */
function ruleLines(rule: ResolvedRule, direction: 'ingress' | 'egress', self: CompiledPod, pods: CompiledPod[], verdict: string): string[] {
  const field = direction === 'ingress' ? 'saddr' : 'daddr';
  const peers = peerMatches(rule.peers);
  const lines: string[] = [];
  const numeric: string[] = [];
  const named: Array<{ protocol: Protocol; name: string }> = [];
  if (rule.ports === 'any') numeric.push('');
  else {
    for (const p of rule.ports) {
      if ('name' in p) named.push(p);
      else numeric.push(numericPortExpr(p));
    }
  }
  for (const peer of peers) {
    const pe = peerExpr(peer, field);
    for (const port of uniqueSorted(numeric)) lines.push(`${pe}${port}${verdict}`.replace(/ +/g, ' '));
    if (named.length === 0) continue;
    if (direction === 'ingress') {
      // Ingress named ports resolve on this pod (the engine normally hands them over resolved).
      const ports = named.map((n) => ({ n, port: resolveNamed(self, n.name, n.protocol) })).filter((x) => x.port !== undefined);
      for (const { n, port } of ports) lines.push(`${pe}${proto[n.protocol]} dport ${port} ${verdict}`.replace(/ +/g, ' '));
    } else {
      // Egress named ports resolve per destination pod: address . protocol . port elements.
      const elements: string[] = [];
      for (const dest of pods) {
        if (!peerContains(peer, dest.ip)) continue;
        for (const n of named) {
          const port = resolveNamed(dest, n.name, n.protocol);
          if (port !== undefined) elements.push(`${dest.ip} . ${proto[n.protocol]} . ${port}`);
        }
      }
      if (elements.length) lines.push(`ip daddr . meta l4proto . th dport { ${uniqueSorted(elements).join(', ')} } ${verdict}`);
    }
  }
  return lines;
}

function policyChain(name: string, view: PodPolicyView, self: CompiledPod, pods: CompiledPod[]): string[] {
  const ingress = view.direction === 'ingress';
  const verdict = ingress ? 'accept' : 'return';
  const lines = [`\tchain ${name} {`];
  lines.push(`\t\t# ${view.direction} of ${self.key}: ${view.policies.join(', ')}`);
  // A pod always reaches itself, also through its own service (hairpin).
  lines.push(`\t\tip ${ingress ? 'saddr' : 'daddr'} ${self.ip} ${verdict}`);
  for (const rule of view.rules) {
    for (const l of ruleLines(rule, view.direction, self, pods, verdict)) lines.push(`\t\t${l}`);
  }
  lines.push('\t\tdrop', '\t}');
  return lines;
}

function serviceChain(name: string, route: ServicePortRoute): string[] {
  const k = proto[route.protocol];
  const eps = [...route.endpoints].sort((a, b) => ipToInt(a.ip) - ipToInt(b.ip) || a.port - b.port);
  const target =
    eps.length === 1
      ? `${eps[0].ip}:${eps[0].port}`
      : `numgen random mod ${eps.length} map { ${eps.map((e, i) => `${i} : ${e.ip} . ${e.port}`).join(', ')} }`;
  return [`\tchain ${name} {`, `\t\t# ${route.service}:${route.port}/${route.protocol}`, `\t\tmeta l4proto ${k} dnat ip to ${target}`, '\t}'];
}

/** The whole node-namespace ruleset as an `nft -f` script. */
export function compileRuleset(input: RulesetInput): string {
  const pods = [...input.pods].sort((a, b) => (a.key < b.key ? -1 : 1));
  const chains: string[] = [];
  const egressMap: string[] = [];
  const ingressMap: string[] = [];
  pods.forEach((pod, i) => {
    const pol = input.policies.get(pod.key);
    if (!pol) return;
    if (pol.egress.isolated) {
      chains.push(...policyChain(`egress-${i}`, pol.egress, pod, pods));
      egressMap.push(`${pod.ip} : jump egress-${i}`);
    }
    if (pol.ingress.isolated) {
      chains.push(...policyChain(`ingress-${i}`, pol.ingress, pod, pods));
      ingressMap.push(`${pod.ip} : jump ingress-${i}`);
    }
  });

  const serviceMap: string[] = [];
  const noEndpoints: string[] = [];
  const routes = [...input.routes]
    .filter((r) => r.clusterIP && tryParseBlock(r.clusterIP))
    .sort((a, b) => ipToInt(a.clusterIP) - ipToInt(b.clusterIP) || a.port - b.port || (a.protocol < b.protocol ? -1 : 1));
  const seen = new Set<string>();
  routes.forEach((r, i) => {
    const key = `${r.clusterIP} . ${proto[r.protocol]} . ${r.port}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (r.endpoints.length === 0) {
      noEndpoints.push(key);
      return;
    }
    chains.push(...serviceChain(`service-${i}`, r));
    serviceMap.push(`${key} : goto service-${i}`);
  });

  const elements = (items: string[]) => (items.length ? [`\t\telements = { ${items.join(',\n\t\t\t     ')} }`] : []);
  const selfPairs = sortIPs(pods.map((p) => p.ip)).map((ip) => `${ip} . ${ip}`);
  const out: string[] = [
    `table ip ${TABLE}`,
    `delete table ip ${TABLE}`,
    `table ip ${TABLE} {`,
    '\tmap services {',
    '\t\ttype ipv4_addr . inet_proto . inet_service : verdict',
    ...elements(serviceMap),
    '\t}',
    '\tset no-endpoints {',
    '\t\ttype ipv4_addr . inet_proto . inet_service',
    ...elements(noEndpoints),
    '\t}',
    '\tset hairpin {',
    '\t\ttype ipv4_addr . ipv4_addr',
    ...elements(selfPairs),
    '\t}',
    '\tmap egress-policy {',
    '\t\ttype ipv4_addr : verdict',
    ...elements(egressMap),
    '\t}',
    '\tmap ingress-policy {',
    '\t\ttype ipv4_addr : verdict',
    ...elements(ingressMap),
    '\t}',
    '\tchain services-check {',
    '\t\ttype filter hook prerouting priority dstnat - 10; policy accept;',
    '\t\t# a service port without endpoints is rejected, as kube-proxy does (connection refused)',
    '\t\tct state new ip daddr . meta l4proto . th dport @no-endpoints reject',
    '\t}',
    '\tchain services-dnat {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tip daddr . meta l4proto . th dport vmap @services',
    '\t}',
    '\tchain hairpin-snat {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    `\t\tct status dnat ip saddr . ip daddr @hairpin snat ip to ${input.gateway}`,
    '\t}',
    '\tchain pod-policy {',
    '\t\ttype filter hook forward priority filter; policy accept;',
    '\t\tct state established,related accept',
    '\t\tct state invalid drop',
    '\t\tip saddr vmap @egress-policy',
    '\t\tip daddr vmap @ingress-policy',
    '\t}',
    ...chains,
    '}',
    '',
  ];
  return out.join('\n');
}

function defaultKind(port: number): 'http' | 'https' | 'tcp' {
  if (port === 443 || port === 8443) return 'https';
  if (port === 80 || port === 8080) return 'http';
  return 'tcp';
}

export interface ExternalPort {
  block: IPv4Block;
  port: number;
  protocol: Protocol;
  kind: 'http' | 'https' | 'tcp';
  host: ExternalHost;
}

/** Every (address block, port) the lab's external hosts answer. */
export function externalPorts(hosts: ExternalHost[]): ExternalPort[] {
  const out: ExternalPort[] = [];
  hosts.forEach((h, i) => {
    const block = tryParseBlock(h.address);
    if (!block) throw new Error(`externalHosts[${i}].address: "${h.address}" is not an IPv4 address or CIDR`);
    h.ports.forEach((p, j) => {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new Error(`externalHosts[${i}].ports[${j}].port: must be between 1 and 65535`);
      const protocol = (p.protocol ?? 'TCP') as Protocol;
      out.push({ block, port: p.port, protocol, kind: p.kind ?? defaultKind(p.port), host: h });
    });
  });
  return out;
}

/** The external-hosts namespace: declared (address, port) pairs answer, other ports refuse. */
export function compileExternalRuleset(ports: ExternalPort[]): string {
  const accept = ports.map((p) => `\t\tip daddr ${formatBlock(p.block)} ${proto[p.protocol]} dport ${p.port} accept`);
  return [
    `table ip ${TABLE}`,
    `delete table ip ${TABLE}`,
    `table ip ${TABLE} {`,
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy accept;',
    '\t\tct state established,related accept',
    ...uniqueSorted(accept),
    '\t\tmeta l4proto tcp reject with tcp reset',
    '\t\tmeta l4proto udp reject',
    '\t}',
    '}',
    '',
  ].join('\n');
}
