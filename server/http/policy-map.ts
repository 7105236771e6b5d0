// The policy map: the learner's cluster as it is now and who can reach whom, computed by the
// engine on a live snapshot (read through the grader) — never by the browser.
import type { ExternalHost } from '../apiserver/runtime.ts';
import type { Endpoint, NetworkPolicy } from '../netpol/types.ts';
import type { PolicyMapView } from '../../shared/api.ts';
import type { ClusterPicture } from './ports.ts';
import { PolicyEngine } from '../netpol/index.ts';

const hiddenNamespaces = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

function selectorText(sel: NetworkPolicy['spec']['podSelector'] | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) parts.push(`${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`);
  return parts.length ? parts.join(', ') : '(all pods)';
}

/** Build the map: every learner-visible pod and declared external host, each pair judged on the target's first port. */
export function buildPolicyMap(picture: ClusterPicture, externals: ExternalHost[]): PolicyMapView {
  const engine = new PolicyEngine(picture.cluster, picture.policies);
  const pods = picture.cluster.pods
    .filter((p) => !hiddenNamespaces.has(p.namespace) && p.labels['kubelab.dev/prober'] !== 'true' && p.ip)
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const namespaces = picture.cluster.namespaces
    .filter((n) => !hiddenNamespaces.has(n.name))
    .map((n) => ({ name: n.name, labels: n.labels, pods: pods.filter((p) => p.namespace === n.name).map((p) => ({ name: p.name, labels: p.labels, ip: p.ip })) }))
    .filter((n) => n.pods.length > 0 || n.name !== 'default');
  const ext = externals.map((e) => ({
    name: e.names[0] ?? e.address,
    // a CIDR stands for every address in it; its first usable address represents it
    address: e.address.includes('/') ? firstAddress(e.address) : e.address,
    port: e.ports[0]?.port ?? 443,
  }));
  const endpoints: Array<{ key: string; ep: Endpoint; port: number; pod: boolean }> = [
    ...pods.map((p) => ({ key: `${p.namespace}/${p.name}`, ep: { pod: `${p.namespace}/${p.name}` } as Endpoint, port: p.containerPorts?.[0]?.port ?? 80, pod: true })),
    ...ext.map((e) => ({ key: e.name, ep: { ip: e.address } as Endpoint, port: e.port, pod: false })),
  ];
  const matrix = endpoints.map((from) =>
    endpoints.map((to) => {
      if (from.key === to.key || !from.pod) return null;
      return engine.verdict({ from: from.ep, to: to.ep, port: to.port, protocol: 'TCP' });
    }),
  );
  const policies = picture.policies.map((p) => ({
    namespace: p.metadata.namespace ?? 'default',
    name: p.metadata.name ?? '',
    podSelector: selectorText(p.spec.podSelector),
    types: p.spec.policyTypes ?? ['Ingress', ...(p.spec.egress?.length ? ['Egress'] : [])],
  }));
  return {
    namespaces,
    externals: ext.map((e) => ({ name: e.name, address: e.address })),
    endpoints: endpoints.map((e) => e.key),
    targetPorts: endpoints.map((e) => e.port),
    matrix,
    policies,
    text: renderText(endpoints.map((e) => e.key), matrix),
    at: Date.now(),
  };
}

function firstAddress(cidr: string): string {
  const [ip] = cidr.split('/');
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4) return ip;
  parts[3] = Math.min(254, parts[3] + 1);
  return parts.join('.');
}

function renderText(keys: string[], matrix: Array<Array<'allow' | 'deny' | null>>): string {
  const width = Math.max(4, ...keys.map((k) => k.length));
  const idx = keys.map((_, i) => String(i + 1).padStart(3));
  const lines = [`${'from \\ to'.padEnd(width)}   ${idx.join('')}`];
  keys.forEach((k, i) => {
    lines.push(`${k.padEnd(width)} ${String(i + 1).padStart(2)}${matrix[i].map((c) => (c === null ? '  -' : c === 'allow' ? '  .' : '  X')).join('')}`);
  });
  lines.push('', '. allowed   X blocked   - itself / not a source');
  return lines.join('\n');
}
