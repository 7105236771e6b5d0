// Server-side printing: the columns and cells kube-apiserver 1.32 prints for the lab's kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration } from './duration.ts';
import { toTable } from './tables.ts';
import type { KubeObject } from './runtime.ts';

const NOW = Date.parse('2025-01-01T12:00:00Z');
const created = '2025-01-01T11:55:00Z';

function cells(resource: string, o: unknown): Array<string | number> {
  return toTable(resource, [o as KubeObject], { now: NOW, includeObject: 'None' }).rows[0].cells;
}

function headers(resource: string, wide = false): string[] {
  return toTable(resource, [], { now: NOW, includeObject: 'None' })
    .columnDefinitions.filter((c) => wide || c.priority === 0)
    .map((c) => c.name.toUpperCase());
}

test('HumanDuration boundaries', () => {
  const s = 1000;
  const cases: Array<[number, string]> = [
    [-3 * s, '<invalid>'],
    [-1 * s, '0s'],
    [0, '0s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [185 * s, '3m5s'],
    [10 * 60 * s, '10m'],
    [179 * 60 * s, '179m'],
    [3 * 3600 * s, '3h'],
    [(3 * 3600 + 61) * s, '3h1m'],
    [8 * 3600 * s, '8h'],
    [47 * 3600 * s, '47h'],
    [49 * 3600 * s, '2d1h'],
    [8 * 86400 * s, '8d'],
    [730 * 86400 * s, '2y'],
    [(731 * 86400) * s, '2y1d'],
    [9 * 365 * 86400 * s, '9y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('column headers match kubectl get for each kind', () => {
  assert.deepEqual(headers('pods', true), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
  assert.deepEqual(headers('services', true), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
  assert.deepEqual(headers('networkpolicies'), ['NAME', 'POD-SELECTOR', 'AGE']);
  assert.deepEqual(headers('namespaces'), ['NAME', 'STATUS', 'AGE']);
  assert.deepEqual(headers('events'), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
  assert.deepEqual(headers('deployments'), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
  assert.deepEqual(headers('replicasets'), ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']);
  assert.deepEqual(headers('endpoints'), ['NAME', 'ENDPOINTS', 'AGE']);
  assert.deepEqual(headers('nodes'), ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
});

test('pod STATUS follows printPod: waiting/terminated reasons, ExitCode, Terminating, restarts with age', () => {
  const pod = (status: unknown, extra: Record<string, unknown> = {}) => ({
    metadata: { name: 'p', creationTimestamp: created, ...extra },
    spec: { containers: [{ name: 'c' }], nodeName: 'n' },
    status,
  });
  assert.deepEqual(cells('pods', pod({ phase: 'Pending' })), ['p', '0/1', 'Pending', '0', '5m', '<none>', 'n', '<none>', '<none>']);
  assert.equal(cells('pods', pod({ phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ContainerCreating' } } }] }))[2], 'ContainerCreating');
  const running = { phase: 'Running', podIPs: [{ ip: '10.244.0.5' }], containerStatuses: [{ ready: true, restartCount: 0, state: { running: {} } }] };
  assert.deepEqual(cells('pods', pod(running)).slice(0, 6), ['p', '1/1', 'Running', '0', '5m', '10.244.0.5']);
  assert.equal(cells('pods', pod(running, { deletionTimestamp: created }))[2], 'Terminating');
  assert.equal(cells('pods', pod({ phase: 'Succeeded', containerStatuses: [{ state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }))[2], 'Completed');
  assert.equal(cells('pods', pod({ phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode: 3 } } }] }))[2], 'ExitCode:3');
  const restarted = { phase: 'Running', containerStatuses: [{ ready: true, restartCount: 2, lastState: { terminated: { finishedAt: '2025-01-01T11:58:00Z' } }, state: { running: {} } }] };
  assert.equal(cells('pods', pod(restarted))[3], '2 (2m ago)');
  assert.equal(cells('pods', pod({ phase: 'Running', containerStatuses: [{ state: { waiting: { reason: 'CrashLoopBackOff' } } }] }))[2], 'CrashLoopBackOff');
});

test('services, network policies, endpoints, deployments, events', () => {
  const svc = { metadata: { name: 's', creationTimestamp: created }, spec: { type: 'ClusterIP', clusterIPs: ['10.96.0.20'], ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP', nodePort: 30053 }], selector: { app: 'web' } } };
  assert.deepEqual(cells('services', svc), ['s', 'ClusterIP', '10.96.0.20', '<none>', '80/TCP,53:30053/UDP', '5m', 'app=web']);
  assert.deepEqual(cells('networkpolicies', { metadata: { name: 'np', creationTimestamp: created }, spec: { podSelector: {} } }), ['np', '<none>', '5m']);
  assert.deepEqual(cells('networkpolicies', { metadata: { name: 'np', creationTimestamp: created }, spec: { podSelector: { matchLabels: { app: 'api' } } } }).slice(1, 2), ['app=api']);
  const ep = { metadata: { name: 'e', creationTimestamp: created }, subsets: [{ addresses: ['1', '2', '3', '4'].map((n) => ({ ip: `10.0.0.${n}` })), ports: [{ port: 80 }] }] };
  assert.equal(cells('endpoints', ep)[1], '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...');
  assert.equal(cells('endpoints', { metadata: { name: 'e' } })[1], '<none>');
  const d = { metadata: { name: 'web', creationTimestamp: created }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'busybox' }] } } }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } };
  assert.deepEqual(cells('deployments', d), ['web', '2/3', 3, 2, '5m', 'a,b', 'nginx,busybox', 'app=web']);
  const ev = { metadata: { name: 'web.1' }, involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{c}' }, reason: 'Started', message: 'Started container c ', type: 'Normal', firstTimestamp: created, lastTimestamp: '2025-01-01T11:59:00Z', count: 2, source: { component: 'kubelet', host: 'n' } };
  assert.deepEqual(cells('events', ev), ['60s', 'Normal', 'Started', 'pod/web', 'spec.containers{c}', 'kubelet, n', 'Started container c', '5m', 2, 'web.1']);
});

test('row objects: PartialObjectMetadata by default (kubectl needs apiVersion/kind for --show-labels and -A)', () => {
  const o = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { x: 'y' } }, status: { phase: 'Active' } } as unknown as KubeObject;
  const t = toTable('namespaces', [o], { now: NOW, includeObject: 'Metadata', resourceVersion: '7' });
  assert.deepEqual(t.rows[0].object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'a', labels: { x: 'y' } } });
  assert.equal(t.metadata.resourceVersion, '7');
  assert.equal(toTable('namespaces', [o], { now: NOW, includeObject: 'Object' }).rows[0].object, o);
  assert.equal(toTable('namespaces', [o], { now: NOW, includeObject: 'None' }).rows[0].object, undefined);
});
