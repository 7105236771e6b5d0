// API-server defaulting of networking.k8s.io/v1 NetworkPolicy (kubernetes pkg/apis/networking/v1/defaults.go).
import type { NetworkPolicy, NetworkPolicyPort } from './types.ts';

function defaultPorts(ports: NetworkPolicyPort[] | undefined): NetworkPolicyPort[] | undefined {
  return ports?.map((p) => (p.protocol == null ? { ...p, protocol: 'TCP' } : p));
}

/** SetDefaults_NetworkPolicy: a missing port protocol is TCP; empty policyTypes become ["Ingress"] plus "Egress" iff spec.egress is non-empty. Returns a deep copy. */
export function defaultNetworkPolicy(p: NetworkPolicy): NetworkPolicy {
  const out = structuredClone(p);
  const spec = out.spec;
  if (!spec) return out;
  for (const rule of spec.ingress ?? []) if (rule.ports) rule.ports = defaultPorts(rule.ports);
  for (const rule of spec.egress ?? []) if (rule.ports) rule.ports = defaultPorts(rule.ports);
  if (!spec.policyTypes || spec.policyTypes.length === 0) {
    spec.policyTypes = spec.egress && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
  return out;
}
