// Explanations: who isolates each side, which rule admitted, and for a deny the nearest miss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterSnapshot, NetworkPolicy } from './types.ts';
import { PolicyEngine } from './engine.ts';

const cluster: ClusterSnapshot = {
  namespaces: [
    { name: 'payments', labels: {} },
    { name: 'production', labels: {} },
    { name: 'monitoring', labels: { team: 'observability' } },
  ],
  pods: [
    { namespace: 'payments', name: 'payment-api', labels: { app: 'payment-api' }, ip: '10.244.1.10', containerPorts: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }] },
    { namespace: 'production', name: 'checkout', labels: { app: 'checkout' }, ip: '10.244.2.10' },
    { namespace: 'production', name: 'checkout-api', labels: { app: 'checkout-api' }, ip: '10.244.2.11' },
    { namespace: 'monitoring', name: 'prometheus', labels: { app: 'prometheus' }, ip: '10.244.3.10' },
  ],
};

const policies: NetworkPolicy[] = [
  { metadata: { name: 'default-deny-all', namespace: 'payments' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
  {
    metadata: { name: 'allow-payment-api-ingress', namespace: 'payments' },
    spec: {
      podSelector: { matchLabels: { app: 'payment-api' } },
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'production' } }, podSelector: { matchLabels: { app: 'checkout-api' } } }], ports: [{ port: 8080 }] },
        { from: [{ namespaceSelector: { matchLabels: { team: 'checkout' } } }], ports: [{ port: 'metrics' }] },
        { from: [{ namespaceSelector: { matchLabels: { team: 'observability' } }, podSelector: { matchLabels: { app: 'prometheus' } } }], ports: [{ port: 9090 }] },
      ],
    },
  },
];

const engine = new PolicyEngine(cluster, policies);
const tcp = (from: string, to: string, port: number, protocol: 'TCP' | 'UDP' = 'TCP') => ({ from: { pod: from }, to: { pod: to }, port, protocol });

test('nearest miss: a pod label', () => {
  const d = engine.evaluate(tcp('production/checkout', 'payments/payment-api', 8080));
  assert.equal(d.verdict, 'deny');
  const side = d.explanation.ingress;
  assert.deepEqual(side.policies, ['payments/default-deny-all', 'payments/allow-payment-api-ingress']);
  assert.deepEqual(side.nearestMiss?.failed, [{ kind: 'pod-label', want: 'app=checkout-api', got: 'app=checkout', text: 'wants pod label app=checkout-api; production/checkout has app=checkout' }]);
  assert.equal(side.nearestMiss?.text, 'allow-payment-api-ingress ingress[0] from[0] ports[0] wants pod label app=checkout-api; production/checkout has app=checkout');
  assert.equal(
    d.explanation.summary,
    'blocked: payments/payment-api is isolated for ingress by default-deny-all, allow-payment-api-ingress; allow-payment-api-ingress ingress[0] from[0] ports[0] wants pod label app=checkout-api; production/checkout has app=checkout',
  );
  assert.equal(d.explanation.egress.verdict, 'allow');
  assert.equal(d.explanation.egress.isolated, false);
});

test('nearest miss: protocol on a matched port', () => {
  const d = engine.evaluate(tcp('monitoring/prometheus', 'payments/payment-api', 9090, 'UDP'));
  assert.equal(d.verdict, 'deny');
  const miss = d.explanation.ingress.nearestMiss!;
  assert.deepEqual([miss.rule, miss.peer, miss.port], [2, 0, 0]);
  assert.deepEqual(miss.failed.map((f) => f.text), ['port 9090 matched, but protocol UDP ≠ TCP']);
});

test('nearest miss: a namespace label', () => {
  const d = engine.evaluate(tcp('production/checkout', 'payments/payment-api', 9090));
  const miss = d.explanation.ingress.nearestMiss!;
  assert.equal(miss.rule, 1);
  assert.deepEqual(miss.failed, [{ kind: 'namespace-label', want: 'team=checkout', got: 'no label team', text: 'namespace production lacks label team=checkout' }]);
  assert.match(miss.text, /^allow-payment-api-ingress ingress\[1\] from\[0\] ports\[0\]: namespace production lacks label team=checkout$/);
});

test('nearest miss: ties go to the earliest rule', () => {
  // checkout-api on 9090: rule 0 fails the port, rule 1 the namespace label, rule 2 namespace + pod label.
  const d = engine.evaluate(tcp('production/checkout-api', 'payments/payment-api', 9090));
  const miss = d.explanation.ingress.nearestMiss!;
  assert.equal(miss.rule, 0);
  assert.deepEqual(miss.failed.map((f) => f.kind), ['port']);
  assert.equal(miss.failed[0].text, 'wants port 8080; connection is to port 9090');
});

test('allow: the admitting policy, rule, peer and port', () => {
  const d = engine.evaluate(tcp('production/checkout-api', 'payments/payment-api', 8080));
  assert.equal(d.verdict, 'allow');
  assert.deepEqual(d.explanation.ingress.allowedBy, { policy: 'payments/allow-payment-api-ingress', rule: 0, peer: 0, port: 0 });
  assert.equal(d.explanation.ingress.reason, 'payments/payment-api ingress allowed by allow-payment-api-ingress ingress[0] from[0] ports[0]');
  assert.equal(d.explanation.summary, 'allowed: production/checkout-api is not isolated for egress; payments/payment-api ingress allowed by allow-payment-api-ingress ingress[0] from[0] ports[0]');
});

test('deny with no rules at all: no nearest miss', () => {
  const d = engine.evaluate({ from: { pod: 'payments/payment-api' }, to: { ip: '192.0.2.1' }, port: 443, protocol: 'TCP' });
  assert.equal(d.verdict, 'deny');
  assert.equal(d.explanation.egress.nearestMiss, undefined);
  assert.equal(d.explanation.summary, 'blocked: payments/payment-api is isolated for egress by default-deny-all; no egress rule in it admits anything');
  assert.equal(d.explanation.ingress.exempt, 'external');
});

test('both sides deny: both are in the summary', () => {
  const both = new PolicyEngine(cluster, [
    ...policies,
    { metadata: { name: 'deny-egress', namespace: 'production' }, spec: { podSelector: {}, policyTypes: ['Egress'] } },
  ]);
  const d = both.evaluate(tcp('production/checkout', 'payments/payment-api', 8080));
  assert.equal(d.explanation.egress.verdict, 'deny');
  assert.equal(d.explanation.ingress.verdict, 'deny');
  assert.match(d.explanation.summary, /^blocked: production\/checkout is isolated for egress by deny-egress; no egress rule in it admits anything; and payments\/payment-api is isolated for ingress/);
});

test('named port missing on the destination', () => {
  const e = new PolicyEngine(cluster, [
    { metadata: { name: 'np', namespace: 'production' }, spec: { podSelector: { matchLabels: { app: 'checkout' } }, ingress: [{ ports: [{ port: 'metrics' }] }] } },
  ]);
  const d = e.evaluate(tcp('monitoring/prometheus', 'production/checkout', 9090));
  assert.deepEqual(d.explanation.ingress.nearestMiss?.failed.map((f) => f.text), ['production/checkout has no TCP port named metrics']);
});

test('ipBlock misses say where the address is', () => {
  const e = new PolicyEngine(cluster, [
    { metadata: { name: 'cidr', namespace: 'payments' }, spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.2.0/24'] } }] }, { from: [{ ipBlock: { cidr: 'fd00::/8' } }] }] } },
  ]);
  const excepted = e.evaluate(tcp('production/checkout', 'payments/payment-api', 80));
  assert.deepEqual(excepted.explanation.ingress.nearestMiss?.failed.map((f) => f.kind), ['ip-except']);
  assert.equal(excepted.explanation.ingress.nearestMiss?.text, 'cidr ingress[0] from[0]: production/checkout is in 10.244.0.0/16 but excepted by 10.244.2.0/24');
  const outside = e.evaluate({ from: { ip: '192.0.2.1' }, to: { pod: 'payments/payment-api' }, port: 80, protocol: 'TCP' });
  assert.equal(outside.explanation.ingress.nearestMiss?.text, 'cidr ingress[0] from[0] wants an address in 10.244.0.0/16; 192.0.2.1 is outside it');
});

test('a pod to itself', () => {
  const d = engine.evaluate(tcp('payments/payment-api', 'payments/payment-api', 8080));
  assert.equal(d.verdict, 'allow');
  assert.equal(d.explanation.samePod, true);
  assert.equal(d.explanation.summary, 'allowed: payments/payment-api to itself is always allowed');
});

test('condition counts agree with descriptions and with the matchers (random clusters)', async () => {
  const { generate, random } = await import('./testdata/generate.ts');
  const { peerMismatches } = await import('./peers.ts');
  const { portMatches, portMismatches } = await import('./ports.ts');
  for (const seed of [11, 12, 13]) {
    const g = generate(seed, { namespaces: 4, pods: 25, policies: 15, hostNetwork: 0.1, ipv6: 0.1 });
    const e = new PolicyEngine(g.cluster, g.policies);
    const rnd = random(seed);
    const ends = [...e.cluster.pods.map((pod) => ({ kind: 'pod' as const, pod })), ...['192.0.2.1', '10.1.0.9', 'fd00::3'].map((ip) => e.cluster.resolve({ ip }))];
    for (const policy of e.policies) {
      for (const dir of ['ingress', 'egress'] as const) {
        for (const rule of policy.rules[dir]) {
          for (const peer of rule.peers ?? []) {
            for (const end of ends) {
              const out: import('./types.ts').Mismatch[] = [];
              const n = peerMismatches(peer, end, out);
              assert.equal(n, out.length);
              assert.equal(n === 0, e.peerMatches(peer, end), `${policy.key} ${dir}[${rule.index}] peer ${peer.index} vs ${end.kind === 'pod' ? end.pod.key : end.ipText}`);
            }
          }
          for (const entry of rule.ports ?? []) {
            for (let i = 0; i < 20; i++) {
              const dest = e.cluster.pods[Math.floor(rnd() * e.cluster.pods.length)];
              const port = [53, 80, 8080, 9090, 8050, 9100, 443][Math.floor(rnd() * 7)];
              const protocol = (['TCP', 'UDP', 'SCTP'] as const)[Math.floor(rnd() * 3)];
              const out: import('./types.ts').Mismatch[] = [];
              const n = portMismatches(entry, port, protocol, dest.info, dest.key, out);
              assert.equal(n, out.length);
              assert.equal(n === 0, portMatches(entry, port, protocol, dest.info));
            }
          }
        }
      }
    }
  }
});
