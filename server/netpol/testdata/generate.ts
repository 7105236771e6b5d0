// Seeded random clusters and policies, for property tests and the benchmark. Every policy it
// makes is valid; the mix covers every peer and port form the engine knows.
import type { ClusterSnapshot, LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, PodInfo } from '../types.ts';

/** mulberry32: a small deterministic PRNG, so a failing seed can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenerateOptions {
  namespaces: number;
  pods: number;
  policies: number;
  /** share of pods on the host network (default 0.03) */
  hostNetwork?: number;
  /** share of pods with IPv6 addresses (default 0.05) */
  ipv6?: number;
}

const apps = ['web', 'api', 'db', 'cache', 'worker', 'checkout', 'payment-api'];
const tiers = ['frontend', 'backend', 'data'];
const teams = ['shop', 'payments', 'platform'];

export function generate(seed: number, o: GenerateOptions): { cluster: ClusterSnapshot; policies: NetworkPolicy[] } {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const chance = (p: number) => rnd() < p;
  const nsNames = Array.from({ length: o.namespaces }, (_, i) => `ns-${i}`);
  const cluster: ClusterSnapshot = {
    nodes: [{ name: 'node-1', ip: '172.18.0.2' }, { name: 'node-2', ip: '172.18.0.3' }],
    namespaces: nsNames.map((name) => ({ name, labels: { team: pick(teams), ...(chance(0.5) ? { env: pick(['prod', 'dev']) } : {}) } })),
    pods: [],
  };
  for (let i = 0; i < o.pods; i++) {
    const ns = i % o.namespaces;
    const labels: Record<string, string> = { app: pick(apps) };
    if (chance(0.6)) labels.tier = pick(tiers);
    if (chance(0.2)) labels.canary = 'true';
    const hostNetwork = chance(o.hostNetwork ?? 0.03);
    const v6 = !hostNetwork && chance(o.ipv6 ?? 0.05);
    const node = pick(['node-1', 'node-2']);
    const pod: PodInfo = {
      namespace: nsNames[ns],
      name: `pod-${i}`,
      labels,
      ip: hostNetwork ? (node === 'node-1' ? '172.18.0.2' : '172.18.0.3') : v6 ? `fd00::${ns.toString(16)}:${i.toString(16)}` : `10.${ns}.${(i >> 8) & 0xff}.${i & 0xff}`,
      node,
      containerPorts: [
        ...(chance(0.7) ? [{ name: 'http', port: pick([80, 8080]), protocol: 'TCP' as const }] : []),
        ...(chance(0.4) ? [{ name: 'metrics', port: 9090 }] : []),
        ...(chance(0.2) ? [{ name: 'dns', port: 53, protocol: 'UDP' as const }] : []),
      ],
    };
    if (hostNetwork) pod.hostNetwork = true;
    cluster.pods.push(pod);
  }

  const selector = (): LabelSelector => {
    const r = rnd();
    if (r < 0.25) return {};
    if (r < 0.65) return { matchLabels: { app: pick(apps) } };
    if (r < 0.8) return { matchExpressions: [{ key: 'tier', operator: pick(['In', 'NotIn']), values: [pick(tiers), pick(tiers)] }] };
    return { matchLabels: { app: pick(apps) }, matchExpressions: [{ key: 'canary', operator: pick(['Exists', 'DoesNotExist']) }] };
  };
  const nsSelector = (): LabelSelector => {
    const r = rnd();
    if (r < 0.3) return {};
    if (r < 0.6) return { matchLabels: { team: pick(teams) } };
    if (r < 0.8) return { matchLabels: { 'kubernetes.io/metadata.name': pick(nsNames) } };
    const operator = pick(['In', 'NotIn', 'Exists', 'DoesNotExist']);
    return { matchExpressions: [operator === 'In' || operator === 'NotIn' ? { key: 'env', operator, values: ['prod'] } : { key: 'env', operator }] };
  };
  const peer = (): NetworkPolicyPeer => {
    const r = rnd();
    if (r < 0.3) return { podSelector: selector() };
    if (r < 0.55) return { namespaceSelector: nsSelector() };
    if (r < 0.8) return { namespaceSelector: nsSelector(), podSelector: selector() };
    if (r < 0.9) {
      const n = Math.floor(rnd() * o.namespaces);
      return { ipBlock: { cidr: `10.${n}.0.0/16`, ...(chance(0.5) ? { except: [`10.${n}.0.0/24`] } : {}) } };
    }
    if (r < 0.95) return { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } };
    return { ipBlock: { cidr: 'fd00::/16', except: ['fd00::/120'] } };
  };
  const port = (): NetworkPolicyPort => {
    const r = rnd();
    const protocol = chance(0.2) ? pick(['UDP', 'SCTP']) : chance(0.5) ? 'TCP' : undefined;
    const p: NetworkPolicyPort = protocol ? { protocol } : {};
    if (r < 0.5) p.port = pick([53, 80, 443, 8080, 9090, 5432]);
    else if (r < 0.65) {
      p.port = pick([8000, 9000]);
      p.endPort = p.port + pick([0, 100, 1000]);
    } else if (r < 0.9) p.port = pick(['http', 'metrics', 'dns']);
    return p;
  };
  const list = <T>(make: () => T, max: number): T[] | undefined => {
    const r = rnd();
    if (r < 0.15) return undefined;
    if (r < 0.25) return [];
    return Array.from({ length: 1 + Math.floor(rnd() * max) }, make);
  };

  const policies: NetworkPolicy[] = [];
  for (let i = 0; i < o.policies; i++) {
    const types = pick([undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
    const spec: NetworkPolicy['spec'] = { podSelector: selector(), ...(types ? { policyTypes: types } : {}) };
    const ingress = list(() => ({ ...(chance(0.85) ? { from: list(peer, 3) } : {}), ...(chance(0.7) ? { ports: list(port, 3) } : {}) }), 3);
    const egress = list(() => ({ ...(chance(0.85) ? { to: list(peer, 3) } : {}), ...(chance(0.7) ? { ports: list(port, 3) } : {}) }), 3);
    if (ingress) spec.ingress = ingress.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
    if (egress) spec.egress = egress.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
    policies.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `policy-${i}`, namespace: nsNames[i % o.namespaces] }, spec });
  }
  return { cluster, policies };
}
