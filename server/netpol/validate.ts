// NetworkPolicy validation as kube-apiserver 1.32 runs it on create
// (kubernetes pkg/apis/networking/validation/validation.go), error for error and in the same order.
import type { FieldError, IPBlock, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from './types.ts';
import { child, forbidden, goQuote, index, invalid, notSupported, required } from './fielderror.ts';
import { isValidPortName, isValidPortNum } from './names.ts';
import { nameIsDNSSubdomain, validateLabelSelector, validateObjectMeta } from './meta.ts';
import { isStrictSubset, parseCIDR } from './cidr.ts';

/** NetworkPolicyPort.protocol values kube-apiserver accepts. */
export const supportedProtocols = ['TCP', 'UDP', 'SCTP'] as const;
/** spec.policyTypes values (case-sensitive). */
export const supportedPolicyTypes = ['Ingress', 'Egress'] as const;

const invalidCIDR = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

/** ValidateNetworkPolicyPort: protocol TCP/UDP/SCTP; numeric port 1–65535 with endPort ≥ port; named port an IANA service name without endPort. */
export function validateNetworkPolicyPort(port: NetworkPolicyPort, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol != null && !(supportedProtocols as readonly string[]).includes(port.protocol)) {
    errs.push(notSupported(child(path, 'protocol'), port.protocol, [...supportedProtocols]));
  }
  const endPort = port.endPort ?? undefined;
  if (port.port != null) {
    if (typeof port.port === 'number') {
      for (const m of isValidPortNum(port.port)) errs.push(invalid(child(path, 'port'), port.port, m));
      if (endPort !== undefined) {
        if (endPort < port.port) errs.push(invalid(child(path, 'endPort'), endPort, 'must be greater than or equal to `port`'));
        for (const m of isValidPortNum(endPort)) errs.push(invalid(child(path, 'endPort'), endPort, m));
      }
    } else {
      if (endPort !== undefined) errs.push(invalid(child(path, 'endPort'), endPort, 'may not be specified when `port` is non-numeric'));
      for (const m of isValidPortName(port.port)) errs.push(invalid(child(path, 'port'), port.port, m));
    }
  } else if (endPort !== undefined) {
    errs.push(invalid(child(path, 'endPort'), endPort, 'may not be specified when `port` is not specified'));
  }
  return errs;
}

/** ValidateNetworkPolicyPeer: at least one of podSelector/namespaceSelector/ipBlock; ipBlock stands alone. */
export function validateNetworkPolicyPeer(peer: NetworkPolicyPeer, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  if (peer.podSelector != null) {
    count++;
    errs.push(...validateLabelSelector(peer.podSelector, child(path, 'podSelector')));
  }
  if (peer.namespaceSelector != null) {
    count++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, child(path, 'namespaceSelector')));
  }
  if (peer.ipBlock != null) {
    count++;
    errs.push(...validateIPBlock(peer.ipBlock, child(path, 'ipBlock')));
  }
  if (count === 0) errs.push(required(path, 'must specify a peer'));
  else if (count > 1 && peer.ipBlock != null) errs.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

/** ValidateIPBlock: cidr required and parsable (host bits allowed); each except parsable and a strict subset of cidr. */
export function validateIPBlock(block: IPBlock, path: string): FieldError[] {
  if (!block.cidr) return [required(child(path, 'cidr'))];
  const cidr = parseCIDR(block.cidr);
  if (!cidr) return [invalid(child(path, 'cidr'), block.cidr, invalidCIDR)];
  const errs: FieldError[] = [];
  (block.except ?? []).forEach((text, i) => {
    const p = index(child(path, 'except'), i);
    const except = parseCIDR(text);
    if (!except) errs.push(invalid(p, text, invalidCIDR));
    else if (!isStrictSubset(cidr, except)) errs.push(invalid(p, text, 'must be a strict subset of `cidr`'));
  });
  return errs;
}

/** Go's %#v of a []networking.PolicyType, which is how the "more than two" error prints its value. */
function goPolicyTypes(types: string[]): { go: string } {
  return { go: `[]networking.PolicyType{${types.map(goQuote).join(', ')}}` };
}

/** ValidateNetworkPolicy: ObjectMeta (name a DNS-1123 subdomain, namespace required), selectors, ports, peers, policyTypes. */
export function validateNetworkPolicy(p: NetworkPolicy): FieldError[] {
  const errs = validateObjectMeta(p.metadata ?? {}, true, nameIsDNSSubdomain, 'metadata');
  const spec = p.spec ?? { podSelector: {} };
  errs.push(...validateLabelSelector(spec.podSelector, 'spec.podSelector'));
  (spec.ingress ?? []).forEach((rule, i) => {
    const path = `spec.ingress[${i}]`;
    (rule.ports ?? []).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, `${path}.ports[${j}]`)));
    (rule.from ?? []).forEach((peer, j) => errs.push(...validateNetworkPolicyPeer(peer, `${path}.from[${j}]`)));
  });
  (spec.egress ?? []).forEach((rule, i) => {
    const path = `spec.egress[${i}]`;
    (rule.ports ?? []).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, `${path}.ports[${j}]`)));
    (rule.to ?? []).forEach((peer, j) => errs.push(...validateNetworkPolicyPeer(peer, `${path}.to[${j}]`)));
  });
  const types = spec.policyTypes ?? [];
  if (types.length > supportedPolicyTypes.length) {
    // Upstream returns at once here: the entries themselves are not checked.
    errs.push(invalid('spec.policyTypes', goPolicyTypes(types), 'may not specify more than two policyTypes'));
    return errs;
  }
  types.forEach((t, i) => {
    if (!(supportedPolicyTypes as readonly string[]).includes(t)) errs.push(notSupported(`spec.policyTypes[${i}]`, t, [...supportedPolicyTypes]));
  });
  return errs;
}
