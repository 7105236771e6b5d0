import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPolicyMap } from './policy-map.ts';
import { portable, readKubeconfig } from './objects.ts';
import { csvCell } from './routes-instructor.ts';
import type { ClusterSnapshot, NetworkPolicy } from '../netpol/types.ts';

const cluster: ClusterSnapshot = {
  namespaces: [{ name: 'payments', labels: { 'kubernetes.io/metadata.name': 'payments' } }, { name: 'production', labels: {} }, { name: 'kube-system', labels: {} }],
  pods: [
    { namespace: 'payments', name: 'payment-api', labels: { app: 'payment-api' }, ip: '10.244.1.2', containerPorts: [{ port: 8080 }] },
    { namespace: 'production', name: 'checkout', labels: { app: 'checkout-api' }, ip: '10.244.2.2', containerPorts: [{ port: 8080 }] },
    { namespace: 'production', name: 'frontend', labels: { app: 'frontend' }, ip: '10.244.2.3', containerPorts: [{ port: 80 }] },
    { namespace: 'production', name: 'kubelab-probe-x', labels: { 'kubelab.dev/prober': 'true' }, ip: '10.244.2.9' },
    { namespace: 'kube-system', name: 'coredns', labels: { 'k8s-app': 'kube-dns' }, ip: '10.244.0.2' },
  ],
};
const policies: NetworkPolicy[] = [
  { metadata: { name: 'default-deny', namespace: 'payments' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
  { metadata: { name: 'allow-checkout', namespace: 'payments' }, spec: { podSelector: { matchLabels: { app: 'payment-api' } }, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'checkout-api' } } }], ports: [{ port: 8080 }] }] } },
];

test('the policy map judges every pair with the engine and hides system and prober pods', () => {
  const view = buildPolicyMap({ cluster, policies }, [{ names: ['api.stripe.com'], address: '198.51.100.0/24', ports: [{ port: 443 }] }]);
  assert.deepEqual(view.endpoints, ['payments/payment-api', 'production/checkout', 'production/frontend', 'api.stripe.com']);
  assert.deepEqual(view.namespaces.map((n) => n.name), ['payments', 'production']);
  const at = (from: string, to: string) => view.matrix[view.endpoints.indexOf(from)][view.endpoints.indexOf(to)];
  assert.equal(at('production/checkout', 'payments/payment-api'), 'allow');
  assert.equal(at('production/frontend', 'payments/payment-api'), 'deny');
  assert.equal(at('payments/payment-api', 'production/checkout'), 'deny', 'egress is denied by default-deny');
  assert.equal(at('payments/payment-api', 'api.stripe.com'), 'deny');
  assert.equal(at('production/frontend', 'api.stripe.com'), 'allow');
  assert.equal(at('production/frontend', 'production/frontend'), null);
  assert.equal(view.matrix[3].every((c) => c === null), true, 'an external host is no source');
  assert.deepEqual(view.targetPorts, [8080, 8080, 80, 443]);
  assert.equal(view.policies[0].podSelector, '(all pods)');
  assert.deepEqual(view.policies[1].types, ['Ingress']);
  assert.match(view.text, /production\/frontend/);
});

test('learner objects keep their intent and drop server state, system objects, probers and owned pods', () => {
  assert.equal(portable({ kind: 'Pod', metadata: { name: 'p', namespace: 'kube-system' } }), undefined);
  assert.equal(portable({ kind: 'Pod', metadata: { name: 'p', namespace: 'a', ownerReferences: [{ kind: 'ReplicaSet' }] } }), undefined);
  assert.equal(portable({ kind: 'Pod', metadata: { name: 'p', namespace: 'a', labels: { 'kubelab.dev/prober': 'true' } } }), undefined);
  assert.equal(portable({ kind: 'Namespace', metadata: { name: 'default' } }), undefined);
  const svc = portable({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'a', uid: 'u', resourceVersion: '9', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', note: 'x' } }, spec: { clusterIP: '10.96.0.5', ports: [{ port: 80 }] }, status: {} });
  assert.deepEqual(svc, { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'a', annotations: { note: 'x' } }, spec: { ports: [{ port: 80 }] } });
  const ns = portable({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments', labels: { 'kubernetes.io/metadata.name': 'payments', team: 'pay' } } });
  assert.deepEqual(ns?.metadata.labels, { team: 'pay' });
});

test('a kubeconfig gives the current context’s server and token, and a broken one names the field', () => {
  const kc = readKubeconfig(`apiVersion: v1
kind: Config
current-context: b
clusters:
- name: a
  cluster: { server: https://127.0.0.1:1/clusters/a }
- name: b
  cluster: { server: https://127.0.0.1:2/clusters/b/, certificate-authority-data: aGVsbG8= }
contexts:
- name: a
  context: { cluster: a, user: a }
- name: b
  context: { cluster: b, user: b }
users:
- name: a
  user: { token: ta }
- name: b
  user: { token: tb }
`);
  assert.equal(kc.server, 'https://127.0.0.1:2/clusters/b');
  assert.equal(kc.token, 'tb');
  assert.equal(kc.ca?.toString(), 'hello');
  assert.throws(() => readKubeconfig('apiVersion: v1\nclusters: []\n'), /clusters\[0\]\.cluster\.server is missing/);
});

test('CSV cells are quoted and formulas defused', () => {
  assert.equal(csvCell('Ada'), 'Ada');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('=1+1'), `"'=1+1"`);
  assert.equal(csvCell('@SUM(A1)'), `"'@SUM(A1)"`);
  assert.equal(csvCell(-3), '-3', 'numbers stay numbers');
});
