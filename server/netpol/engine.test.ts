// Evaluation rules, one table: a fixed cluster, then named cases — policies, a connection and the
// verdict the NetworkPolicy API defines for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterSnapshot, Connection, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, Protocol } from './types.ts';
import { PolicyEngine, evaluate } from './engine.ts';
import { InvalidPolicyError } from './policy.ts';

const cluster: ClusterSnapshot = {
  nodes: [{ name: 'node-1', ip: '172.18.0.2' }],
  namespaces: [
    { name: 'payments', labels: { team: 'payments' } },
    { name: 'production', labels: { team: 'shop', env: 'prod' } },
    { name: 'monitoring', labels: {} },
    { name: 'v6', labels: {} },
  ],
  pods: [
    { namespace: 'payments', name: 'api', labels: { app: 'payment-api', tier: 'backend' }, ip: '10.244.1.10', containerPorts: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] },
    { namespace: 'payments', name: 'db', labels: { app: 'postgres', tier: 'data' }, ip: '10.244.1.11', containerPorts: [{ name: 'pg', port: 5432 }] },
    { namespace: 'production', name: 'checkout', labels: { app: 'checkout-api' }, ip: '10.244.2.10' },
    { namespace: 'production', name: 'frontend', labels: { app: 'frontend' }, ip: '10.244.2.11' },
    { namespace: 'monitoring', name: 'prom', labels: { app: 'prometheus' }, ip: '10.244.3.10' },
    { namespace: 'payments', name: 'agent', labels: { app: 'payment-api' }, ip: '', node: 'node-1', hostNetwork: true },
    { namespace: 'v6', name: 'web', labels: { app: 'web' }, ip: 'fd00::10', containerPorts: [{ name: 'http', port: 80 }] },
    { namespace: 'v6', name: 'client', labels: { app: 'client' }, ip: 'fd00::20' },
  ],
};

const ext = (ip: string) => ({ ip });
const pod = (p: string) => ({ pod: p });
function conn(from: string | { ip: string }, to: string | { ip: string }, port: number, protocol: Protocol = 'TCP'): Connection {
  return { from: typeof from === 'string' ? pod(from) : from, to: typeof to === 'string' ? pod(to) : to, port, protocol };
}
function ingress(ns: string, sel: NetworkPolicy['spec']['podSelector'], rules: NetworkPolicyIngressRule[] | undefined, name = 'ing'): NetworkPolicy {
  return { metadata: { name, namespace: ns }, spec: { podSelector: sel, policyTypes: ['Ingress'], ...(rules ? { ingress: rules } : {}) } };
}
function egress(ns: string, sel: NetworkPolicy['spec']['podSelector'], rules: NetworkPolicyEgressRule[] | undefined, name = 'eg'): NetworkPolicy {
  return { metadata: { name, namespace: ns }, spec: { podSelector: sel, policyTypes: ['Egress'], ...(rules ? { egress: rules } : {}) } };
}
const api = { matchLabels: { app: 'payment-api' } };

const cases: Array<[string, NetworkPolicy[], Connection, 'allow' | 'deny']> = [
  // isolation
  ['no policies: everything allowed', [], conn('production/frontend', 'payments/api', 8080), 'allow'],
  ['ingress: [] denies all ingress', [ingress('payments', {}, [])], conn('production/checkout', 'payments/api', 8080), 'deny'],
  ['isolated with ingress missing denies all', [ingress('payments', {}, undefined)], conn('production/checkout', 'payments/api', 8080), 'deny'],
  ['policy without policyTypes and no rules isolates ingress', [{ metadata: { name: 'd', namespace: 'payments' }, spec: { podSelector: {} } }], conn('production/checkout', 'payments/api', 8080), 'deny'],
  ['policy without policyTypes does not isolate egress', [{ metadata: { name: 'd', namespace: 'payments' }, spec: { podSelector: {} } }], conn('payments/api', 'production/checkout', 80), 'allow'],
  ['egress rules defaulted into policyTypes isolate egress', [{ metadata: { name: 'd', namespace: 'payments' }, spec: { podSelector: {}, egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] } }], conn('payments/api', 'production/checkout', 80), 'deny'],
  ['policyTypes Ingress ignores egress rules', [{ metadata: { name: 'd', namespace: 'payments' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}], egress: [] } }], conn('payments/api', 'production/checkout', 80), 'allow'],
  ['ingress isolation leaves egress open', [ingress('payments', {}, [])], conn('payments/api', 'production/checkout', 80), 'allow'],
  ['egress isolation blocks the source', [egress('payments', {}, [])], conn('payments/api', 'production/checkout', 80), 'deny'],
  ['a policy only selects pods of its namespace', [ingress('production', {}, [])], conn('production/checkout', 'payments/api', 8080), 'allow'],
  ['pod not matching podSelector is not isolated', [ingress('payments', api, [])], conn('production/checkout', 'payments/db', 5432), 'allow'],
  ['policies are ORed', [ingress('payments', api, [], 'deny'), ingress('payments', api, [{ from: [{ namespaceSelector: {} }] }], 'allow')], conn('production/checkout', 'payments/api', 8080), 'allow'],
  ['egress allowed, ingress denied: denied', [egress('production', {}, [{}]), ingress('payments', {}, [])], conn('production/checkout', 'payments/api', 8080), 'deny'],
  ['ingress allowed, egress denied: denied', [egress('production', {}, []), ingress('payments', {}, [{}])], conn('production/checkout', 'payments/api', 8080), 'deny'],
  ['both sides allow', [egress('production', {}, [{ to: [{ namespaceSelector: { matchLabels: { team: 'payments' } } }] }]), ingress('payments', {}, [{ from: [{ namespaceSelector: { matchLabels: { team: 'shop' } } }] }])], conn('production/checkout', 'payments/api', 8080), 'allow'],
  ['a pod to itself is always allowed', [ingress('payments', {}, []), egress('payments', {}, [])], conn('payments/api', 'payments/api', 8080), 'allow'],
  // peers
  ['empty rule {} allows everything', [ingress('payments', {}, [{}])], conn({ ip: '198.51.100.7' }, 'payments/api', 8080), 'allow'],
  ['from: [] allows every source, external too', [ingress('payments', {}, [{ from: [], ports: [{ port: 8080 }] }])], conn({ ip: '198.51.100.7' }, 'payments/api', 8080), 'allow'],
  ['podSelector alone means the policy namespace', [ingress('payments', {}, [{ from: [{ podSelector: { matchLabels: { app: 'checkout-api' } } }] }])], conn('production/checkout', 'payments/api', 8080), 'deny'],
  ['podSelector {} alone: same namespace allowed', [ingress('payments', {}, [{ from: [{ podSelector: {} }] }])], conn('payments/db', 'payments/api', 8080), 'allow'],
  ['podSelector {} alone: other namespace denied', [ingress('payments', {}, [{ from: [{ podSelector: {} }] }])], conn('production/frontend', 'payments/api', 8080), 'deny'],
  ['namespaceSelector {} allows pods of every namespace', [ingress('payments', {}, [{ from: [{ namespaceSelector: {} }] }])], conn('monitoring/prom', 'payments/api', 8080), 'allow'],
  ['namespaceSelector {} never matches an external address', [ingress('payments', {}, [{ from: [{ namespaceSelector: {} }] }])], conn({ ip: '10.244.9.9' }, 'payments/api', 8080), 'deny'],
  ['namespaceSelector AND podSelector: both match', [ingress('payments', {}, [{ from: [{ namespaceSelector: { matchLabels: { team: 'shop' } }, podSelector: { matchLabels: { app: 'checkout-api' } } }] }])], conn('production/checkout', 'payments/api', 8080), 'allow'],
  ['namespaceSelector AND podSelector: pod fails', [ingress('payments', {}, [{ from: [{ namespaceSelector: { matchLabels: { team: 'shop' } }, podSelector: { matchLabels: { app: 'checkout-api' } } }] }])], conn('production/frontend', 'payments/api', 8080), 'deny'],
  ['namespaceSelector OR podSelector as two peers', [ingress('payments', {}, [{ from: [{ namespaceSelector: { matchLabels: { team: 'nobody' } } }, { podSelector: { matchLabels: { app: 'postgres' } } }] }])], conn('payments/db', 'payments/api', 8080), 'allow'],
  ['namespace matched by the automatic name label', [ingress('payments', {}, [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] }])], conn('monitoring/prom', 'payments/api', 9090), 'allow'],
  ['matchExpressions In', [ingress('payments', {}, [{ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['frontend', 'prometheus'] }] } }] }])], conn('monitoring/prom', 'payments/api', 80), 'allow'],
  ['matchExpressions NotIn matches pods lacking the key', [ingress('payments', {}, [{ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['data'] }] } }] }])], conn('production/checkout', 'payments/api', 80), 'allow'],
  ['matchExpressions NotIn excludes the value', [ingress('payments', {}, [{ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['data'] }] } }] }])], conn('payments/db', 'payments/api', 80), 'deny'],
  ['matchExpressions Exists', [ingress('payments', {}, [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Exists' }] } }] }])], conn('production/frontend', 'payments/api', 80), 'allow'],
  ['matchExpressions DoesNotExist', [ingress('payments', {}, [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] } }] }])], conn('production/frontend', 'payments/api', 80), 'deny'],
  // ipBlock
  ['ipBlock admits an external address', [ingress('payments', {}, [{ from: [{ ipBlock: { cidr: '198.51.100.0/24' } }] }])], conn({ ip: '198.51.100.7' }, 'payments/api', 443), 'allow'],
  ['ipBlock except removes an address', [ingress('payments', {}, [{ from: [{ ipBlock: { cidr: '198.51.100.0/24', except: ['198.51.100.0/28'] } }] }])], conn({ ip: '198.51.100.7' }, 'payments/api', 443), 'deny'],
  ['ipBlock matches pod IPs too', [ingress('payments', {}, [{ from: [{ ipBlock: { cidr: '10.244.2.0/24' } }] }])], conn('production/checkout', 'payments/api', 8080), 'allow'],
  ['ipBlock with host bits set', [egress('payments', {}, [{ to: [{ ipBlock: { cidr: '198.51.100.99/24' } }] }])], conn('payments/api', { ip: '198.51.100.1' }, 443), 'allow'],
  ['egress to an external address outside ipBlock', [egress('payments', {}, [{ to: [{ ipBlock: { cidr: '198.51.100.0/24', except: ['198.51.100.10/32'] } }], ports: [{ port: 443 }] }])], conn('payments/api', ext('198.51.100.10'), 443), 'deny'],
  ['IPv4 block never matches an IPv6 address', [ingress('v6', {}, [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }])], conn('v6/client', 'v6/web', 80), 'deny'],
  ['IPv6 block matches an IPv6 pod', [ingress('v6', {}, [{ from: [{ ipBlock: { cidr: 'fd00::/64' } }] }])], conn('v6/client', 'v6/web', 80), 'allow'],
  ['IPv6 except', [ingress('v6', {}, [{ from: [{ ipBlock: { cidr: 'fd00::/64', except: ['fd00::20/127'] } }] }])], conn('v6/client', 'v6/web', 80), 'deny'],
  ['IPv6 block never matches IPv4', [ingress('payments', {}, [{ from: [{ ipBlock: { cidr: '::/0' } }] }])], conn({ ip: '198.51.100.7' }, 'payments/api', 80), 'deny'],
  ['IPv4-mapped external address is IPv4', [ingress('payments', {}, [{ from: [{ ipBlock: { cidr: '198.51.100.0/24' } }] }])], conn({ ip: '::ffff:198.51.100.7' }, 'payments/api', 80), 'allow'],
  // ports
  ['ports: [] allows every port', [ingress('payments', {}, [{ ports: [] }])], conn('production/frontend', 'payments/api', 12345, 'UDP'), 'allow'],
  ['numeric port matches', [ingress('payments', {}, [{ ports: [{ port: 8080 }] }])], conn('production/frontend', 'payments/api', 8080), 'allow'],
  ['protocol defaults to TCP', [ingress('payments', {}, [{ ports: [{ port: 8080 }] }])], conn('production/frontend', 'payments/api', 8080, 'UDP'), 'deny'],
  ['port entry without port: every port of the protocol', [ingress('payments', {}, [{ ports: [{ protocol: 'UDP' }] }])], conn('production/frontend', 'payments/api', 5353, 'UDP'), 'allow'],
  ['port entry without port: other protocol denied', [ingress('payments', {}, [{ ports: [{ protocol: 'UDP' }] }])], conn('production/frontend', 'payments/api', 5353, 'TCP'), 'deny'],
  ['SCTP', [ingress('payments', {}, [{ ports: [{ protocol: 'SCTP', port: 80 }] }])], conn('production/frontend', 'payments/api', 80, 'SCTP'), 'allow'],
  ['endPort range: low end', [ingress('payments', {}, [{ ports: [{ port: 8000, endPort: 8080 }] }])], conn('production/frontend', 'payments/api', 8000), 'allow'],
  ['endPort range: high end', [ingress('payments', {}, [{ ports: [{ port: 8000, endPort: 8080 }] }])], conn('production/frontend', 'payments/api', 8080), 'allow'],
  ['endPort range: above', [ingress('payments', {}, [{ ports: [{ port: 8000, endPort: 8080 }] }])], conn('production/frontend', 'payments/api', 8081), 'deny'],
  ['named port resolves on the destination', [ingress('payments', {}, [{ ports: [{ port: 'metrics' }] }])], conn('monitoring/prom', 'payments/api', 9090), 'allow'],
  ['named port: another number denied', [ingress('payments', {}, [{ ports: [{ port: 'metrics' }] }])], conn('monitoring/prom', 'payments/api', 8080), 'deny'],
  ['named port: containerPort protocol defaults to TCP', [ingress('payments', {}, [{ ports: [{ port: 'http' }] }])], conn('monitoring/prom', 'payments/api', 8080), 'allow'],
  ['named port: protocol mismatch on the container port', [ingress('payments', {}, [{ ports: [{ port: 'dns', protocol: 'TCP' }] }])], conn('monitoring/prom', 'payments/api', 53, 'TCP'), 'deny'],
  ['named port: protocol must match', [ingress('payments', {}, [{ ports: [{ port: 'dns', protocol: 'UDP' }] }])], conn('monitoring/prom', 'payments/api', 53, 'UDP'), 'allow'],
  ['named port absent on the pod', [ingress('payments', {}, [{ ports: [{ port: 'pg' }] }])], conn('monitoring/prom', 'payments/api', 5432), 'deny'],
  ['egress named port resolves on the destination pod', [egress('production', {}, [{ ports: [{ port: 'pg' }] }])], conn('production/checkout', 'payments/db', 5432), 'allow'],
  ['egress named port to another pod lacking it', [egress('production', {}, [{ ports: [{ port: 'pg' }] }])], conn('production/checkout', 'payments/api', 5432), 'deny'],
  ['egress named port never matches an external address', [egress('production', {}, [{ ports: [{ port: 'http' }] }])], conn('production/checkout', ext('198.51.100.7'), 8080), 'deny'],
  ['peer and port must both match in one rule', [ingress('payments', {}, [{ from: [{ namespaceSelector: {} }], ports: [{ port: 80 }] }, { from: [{ ipBlock: { cidr: '198.51.100.0/24' } }] }])], conn('monitoring/prom', 'payments/api', 8080), 'deny'],
  // host network
  ['a hostNetwork source has no egress policy, the destination still decides', [ingress('payments', {}, []), egress('payments', {}, [])], conn('payments/agent', 'payments/db', 5432), 'deny'],
  ['a hostNetwork destination is never isolated', [ingress('payments', {}, [])], conn('production/checkout', 'payments/agent', 10250), 'allow'],
  ['a hostNetwork source is not matched by podSelector', [ingress('payments', { matchLabels: { app: 'postgres' } }, [{ from: [{ podSelector: { matchLabels: { app: 'payment-api' } } }] }])], conn('payments/agent', 'payments/db', 5432), 'deny'],
  ['a hostNetwork source is not matched by namespaceSelector {}', [ingress('payments', { matchLabels: { app: 'postgres' } }, [{ from: [{ namespaceSelector: {} }] }])], conn('payments/agent', 'payments/db', 5432), 'deny'],
  ['a hostNetwork source is matched by ipBlock on its node address', [ingress('payments', { matchLabels: { app: 'postgres' } }, [{ from: [{ ipBlock: { cidr: '172.18.0.0/16' } }] }])], conn('payments/agent', 'payments/db', 5432), 'allow'],
];

for (const [name, policies, c, want] of cases) {
  test(name, () => {
    const engine = new PolicyEngine(cluster, policies);
    const d = engine.evaluate(c);
    assert.equal(d.verdict, want, d.explanation.summary);
    assert.equal(engine.verdict(c), want);
    assert.deepEqual(JSON.parse(JSON.stringify(d)), d, 'decisions are plain JSON');
  });
}

test('the hostNetwork egress case is denied by the destination only', () => {
  const d = evaluate(cluster, [ingress('payments', {}, []), egress('payments', {}, [])], conn('payments/agent', 'payments/db', 5432));
  assert.equal(d.explanation.egress.exempt, 'host-network');
  assert.equal(d.explanation.egress.verdict, 'allow');
  assert.equal(d.explanation.ingress.verdict, 'deny');
});

test('an invalid policy is refused with its name and field', () => {
  const bad = ingress('payments', {}, [{ ports: [{ protocol: 'ICMP' }] }], 'icmp');
  assert.throws(() => new PolicyEngine(cluster, [bad]), (err: unknown) => {
    assert.ok(err instanceof InvalidPolicyError);
    assert.equal(err.message, 'NetworkPolicy "payments/icmp" is invalid: spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"');
    return true;
  });
});

test('unknown pods are reported by name', () => {
  const engine = new PolicyEngine(cluster, []);
  assert.throws(() => engine.evaluate(conn('payments/nope', 'payments/api', 80)), /pod "payments\/nope" not found/);
});

test("an address that is a pod's own address is that pod", () => {
  const cluster = {
    namespaces: [{ name: 'x', labels: {} }],
    pods: [
      { namespace: 'x', name: 'a', labels: { app: 'a' }, ip: '10.0.0.1' },
      { namespace: 'x', name: 'b', labels: { app: 'b' }, ip: '10.0.0.2' },
    ],
  };
  const policies = [{ metadata: { name: 'only-b', namespace: 'x' }, spec: { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] } }];
  const engine = new PolicyEngine(cluster, policies);
  assert.equal(engine.evaluate({ from: { ip: '10.0.0.2' }, to: { pod: 'x/a' }, port: 80, protocol: 'TCP' }).verdict, 'allow');
  assert.equal(engine.evaluate({ from: { ip: '10.0.0.9' }, to: { pod: 'x/a' }, port: 80, protocol: 'TCP' }).verdict, 'deny');
});
