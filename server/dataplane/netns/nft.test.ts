import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PolicyEngine, type ClusterSnapshot, type NetworkPolicy } from '../../netpol/index.ts';
import { compileRuleset, compileExternalRuleset, externalPorts, type PodPolicies } from './nft.ts';
import type { ServicePortRoute } from '../cluster-model.ts';

const cluster: ClusterSnapshot = {
  namespaces: [{ name: 'payments', labels: {} }, { name: 'production', labels: { tier: 'prod' } }],
  pods: [
    { namespace: 'payments', name: 'api', labels: { app: 'payment-api' }, ip: '10.244.0.3', containerPorts: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
    { namespace: 'payments', name: 'db', labels: { app: 'postgres' }, ip: '10.244.0.4', containerPorts: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
    { namespace: 'production', name: 'checkout', labels: { app: 'checkout-api' }, ip: '10.244.0.5', containerPorts: [] },
  ],
};

const policies: NetworkPolicy[] = [
  {
    metadata: { namespace: 'payments', name: 'api-ingress' },
    spec: {
      podSelector: { matchLabels: { app: 'payment-api' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { tier: 'prod' } }, podSelector: { matchLabels: { app: 'checkout-api' } } }], ports: [{ port: 'http' }, { port: 9000, endPort: 9100 }] }],
      egress: [
        { to: [{ podSelector: { matchLabels: { app: 'postgres' } } }], ports: [{ port: 'pg' }] },
        { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] },
        { to: [{ ipBlock: { cidr: '198.51.100.0/24', except: ['198.51.100.10/32', '198.51.100.11/32'] } }], ports: [{ port: 443 }] },
        { to: [{ ipBlock: { cidr: '2001:db8::/64' } }] },
      ],
    },
  },
];

function compile(routes: ServicePortRoute[] = []): string {
  const engine = new PolicyEngine(cluster, policies);
  const map = new Map<string, PodPolicies>();
  for (const p of cluster.pods) {
    const key = `${p.namespace}/${p.name}`;
    map.set(key, { ingress: engine.podPolicy(key, 'ingress'), egress: engine.podPolicy(key, 'egress') });
  }
  return compileRuleset({
    pods: cluster.pods.map((p) => ({ key: `${p.namespace}/${p.name}`, ip: p.ip, containerPorts: p.containerPorts ?? [] })),
    policies: map,
    routes,
    gateway: '169.254.1.1',
  });
}

function chain(script: string, name: string): string[] {
  const start = script.indexOf(`\tchain ${name} {`);
  assert.ok(start >= 0, `chain ${name} missing`);
  const body = script.slice(start, script.indexOf('\n\t}', start));
  return body.split('\n').slice(1).map((l) => l.trim()).filter((l) => !l.startsWith('#'));
}

test('ingress: AND peer resolved to pod addresses, named port resolved on the pod, endPort range, drop last', () => {
  assert.deepEqual(chain(compile(), 'ingress-0'), [
    'ip saddr 10.244.0.3 accept',
    'ip saddr 10.244.0.5 tcp dport 8080 accept',
    'ip saddr 10.244.0.5 tcp dport 9000-9100 accept',
    'drop',
  ]);
});

test('egress: named port per destination, protocol-only rule, ipBlock with except, IPv6 block ignored', () => {
  assert.deepEqual(chain(compile(), 'egress-0'), [
    'ip daddr 10.244.0.3 return',
    'ip daddr . meta l4proto . th dport { 10.244.0.4 . tcp . 5432 } return',
    'tcp dport 53 return',
    'udp dport 53 return',
    'ip daddr 198.51.100.0/24 ip daddr != { 198.51.100.10/32, 198.51.100.11/32 } tcp dport 443 return',
    'drop',
  ]);
});

test('unisolated pods get no chains; services DNAT with random choice, no endpoints rejected', () => {
  const script = compile([
    { service: 'payments/api', clusterIP: '10.96.0.20', protocol: 'TCP', port: 80, endpoints: [{ pod: 'payments/api', ip: '10.244.0.3', port: 8080 }, { pod: 'x/y', ip: '10.244.0.9', port: 8080 }] },
    { service: 'payments/db', clusterIP: '10.96.0.21', protocol: 'TCP', port: 5432, endpoints: [] },
  ]);
  assert.ok(!script.includes('ingress-1') && !script.includes('egress-1'));
  assert.match(script, /10\.96\.0\.20 \. tcp \. 80 : goto service-0/);
  assert.match(script, /dnat ip to numgen random mod 2 map \{ 0 : 10\.244\.0\.3 \. 8080, 1 : 10\.244\.0\.9 \. 8080 \}/);
  assert.match(script, /set no-endpoints \{\n\t\ttype ipv4_addr \. inet_proto \. inet_service\n\t\telements = \{ 10\.96\.0\.21 \. tcp \. 5432 \}/);
});

test('external ruleset accepts declared ports and refuses the rest', () => {
  const ports = externalPorts([{ names: ['api.stripe.com'], address: '198.51.100.0/24', ports: [{ port: 443 }, { port: 80 }] }]);
  assert.deepEqual(ports.map((p) => p.kind), ['https', 'http']);
  const s = compileExternalRuleset(ports);
  assert.match(s, /ip daddr 198\.51\.100\.0\/24 tcp dport 443 accept/);
  assert.match(s, /meta l4proto tcp reject with tcp reset/);
  assert.throws(() => externalPorts([{ names: [], address: 'nope', ports: [] }]), /externalHosts\[0\]\.address/);
});

test('the scripts are valid nftables (checked by nft in a throwaway namespace)', (t) => {
  const probe = spawnSync('unshare', ['-n', 'nft', '-c', '-f', '-'], { input: 'table ip t {}\n' });
  if (probe.status !== 0) return t.skip('needs root with unshare and nft');
  for (const script of [compile([{ service: 'a/b', clusterIP: '10.96.0.20', protocol: 'UDP', port: 53, endpoints: [{ pod: 'a/c', ip: '10.244.0.3', port: 53 }] }]), compileExternalRuleset(externalPorts([{ names: [], address: '203.0.113.7', ports: [{ port: 80 }] }]))]) {
    const r = spawnSync('unshare', ['-n', 'nft', '-c', '-f', '-'], { input: script });
    assert.equal(r.status, 0, r.stderr.toString());
  }
});
