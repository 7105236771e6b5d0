// The built-in controllers over one cluster: pod lifecycle from the runtime's answers, exits per
// restartPolicy, scheduling against the node's labels, Deployment → ReplicaSet → Pods, endpoints
// with named ports, garbage collection and namespace deletion.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiHost, type ApiHost, type EmbeddedCluster } from '../index.ts';
import { mustResource } from '../resources.ts';
import { toTable } from '../tables.ts';
import type { ClusterInstance } from '../cluster.ts';
import type { KubeObject } from '../runtime.ts';
import { createFixtureRuntime, type FixtureRuntime } from '../../../test/kubectl/fixture-runtime.ts';

const NETWORK = { podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16', dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local', nodeName: 'node-1', externalHosts: [] };

type Json = any;

describe('controllers', () => {
  let host: ApiHost;
  let cluster: EmbeddedCluster;
  let runtime: FixtureRuntime;
  const create = (plural: string, ns: string | undefined, o: unknown) => (cluster as ClusterInstance).objects.create(mustResource(plural), ns, o as KubeObject);
  const get = (plural: string, ns: string | undefined, name: string) => cluster.state.get(plural, ns, name) as Json;

  before(async () => {
    host = await createApiHost({ port: 0 });
    runtime = createFixtureRuntime();
    cluster = await host.createCluster({ id: 'ctl', runtime, network: NETWORK });
    await cluster.settle();
  });
  after(async () => {
    await host.close();
  });

  test('a fresh cluster: namespaces, default service accounts, DNS service and running CoreDNS', () => {
    assert.deepEqual(cluster.state.list('namespaces').map((n) => n.metadata.name), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    for (const ns of ['default', 'kube-system']) assert.ok(get('serviceaccounts', ns, 'default'), ns);
    assert.equal(get('services', 'kube-system', 'kube-dns').spec.clusterIP, '10.96.0.10');
    const dns = cluster.state.list('pods', 'kube-system');
    assert.equal(dns.length, 2);
    for (const p of dns) assert.equal((p as Json).status.phase, 'Running');
    assert.equal(get('endpoints', 'kube-system', 'kube-dns').subsets[0].addresses.length, 2);
    assert.equal(get('nodes', undefined, 'node-1').status.addresses[0].type, 'InternalIP');
  });

  test('endpoint addresses are ordered as the endpoints controller packs them: by IP as a string', async () => {
    const objects = (cluster as ClusterInstance).objects;
    const names = Array.from({ length: 12 }, (_, i) => `order-${i}`);
    for (const name of names) create('pods', 'default', { metadata: { name, labels: { app: 'order' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } });
    create('services', 'default', { metadata: { name: 'order' }, spec: { selector: { app: 'order' }, ports: [{ port: 80 }] } });
    await cluster.settle();
    const ips: string[] = get('endpoints', 'default', 'order').subsets[0].addresses.map((x: Json) => x.ip);
    assert.equal(ips.length, 12);
    assert.ok(new Set(ips.map((ip) => ip.split('.')[3].length)).size > 1, `addresses of one and two digits (run before other pods take them): ${ips.join(',')}`);
    assert.deepEqual(ips, [...ips].sort());
    for (const name of names) objects.delete(mustResource('pods'), 'default', name);
    objects.delete(mustResource('services'), 'default', 'order');
    await cluster.settle();
  });

  test('a pod runs with the runtime\'s addresses, then Succeeds or Fails when its process ends (Never)', async () => {
    create('pods', 'default', { metadata: { name: 'job' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } });
    create('pods', 'default', { metadata: { name: 'bad' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } });
    await cluster.settle();
    const running = get('pods', 'default', 'job');
    assert.equal(running.status.phase, 'Running');
    assert.match(running.status.podIP, /^10\.244\./);
    assert.equal(running.spec.nodeName, 'node-1');
    assert.deepEqual(running.status.conditions.map((c: Json) => `${c.type}=${c.status}`), ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
    runtime.exit({ namespace: 'default', pod: 'job', container: 'main' }, 0);
    runtime.exit({ namespace: 'default', pod: 'bad', container: 'main' }, 3);
    await cluster.settle();
    assert.equal(get('pods', 'default', 'job').status.phase, 'Succeeded');
    const bad = get('pods', 'default', 'bad');
    assert.equal(bad.status.phase, 'Failed');
    assert.deepEqual(bad.status.containerStatuses[0].state.terminated.exitCode, 3);
    assert.equal(runtime.running.has('default/job'), false, 'a finished pod gives its sandbox back');
    const reasons = cluster.state.list('events', 'default').filter((e) => (e as Json).involvedObject.name === 'job').map((e) => (e as Json).reason);
    assert.deepEqual(reasons, ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']);
  });

  test('nodeSelector: Pending with FailedScheduling until the node has the label', async () => {
    create('pods', 'default', { metadata: { name: 'picky' }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'nginx:1.25' }] } });
    await cluster.settle();
    const pending = get('pods', 'default', 'picky');
    assert.equal(pending.status.phase, 'Pending');
    assert.equal(pending.status.conditions[0].reason, 'Unschedulable');
    const node = structuredClone(get('nodes', undefined, 'node-1'));
    node.metadata.labels.disk = 'ssd';
    (cluster as ClusterInstance).objects.update(mustResource('nodes'), undefined, 'node-1', node);
    await cluster.settle();
    assert.equal(get('pods', 'default', 'picky').status.phase, 'Running');
  });

  test('Deployment → ReplicaSet → Pods, status for rollout, endpoints through a named port, cascade on delete', async () => {
    create('deployments', 'default', {
      metadata: { name: 'web' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ name: 'http', containerPort: 8080 }] }] } } },
    });
    create('services', 'default', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } });
    await cluster.settle();
    const d = get('deployments', 'default', 'web');
    assert.deepEqual([d.status.replicas, d.status.updatedReplicas, d.status.readyReplicas, d.status.availableReplicas, d.status.observedGeneration], [3, 3, 3, 3, 1]);
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '1');
    const rs = cluster.state.list('replicasets', 'default');
    assert.equal(rs.length, 1);
    assert.match(rs[0].metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    const pods = cluster.state.list('pods', 'default').filter((p) => p.metadata.labels?.app === 'web');
    assert.equal(pods.length, 3);
    for (const p of pods) assert.equal(p.metadata.labels?.['pod-template-hash'], rs[0].metadata.labels?.['pod-template-hash']);
    const ep = get('endpoints', 'default', 'web');
    assert.deepEqual(ep.subsets[0].ports, [{ port: 8080, protocol: 'TCP' }]);
    assert.equal(ep.subsets[0].addresses.length, 3);
    const slice = cluster.state.list('endpointslices', 'default').find((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'web') as Json;
    assert.deepEqual(slice.ports, [{ name: '', port: 8080, protocol: 'TCP' }]);
    assert.equal(slice.endpoints.length, 3);

    // a template change rolls out a second ReplicaSet and retires the first
    const edited = structuredClone(d);
    edited.spec.template.spec.containers[0].image = 'nginx:1.26';
    (cluster as ClusterInstance).objects.update(mustResource('deployments'), 'default', 'web', edited);
    await cluster.settle();
    const after = get('deployments', 'default', 'web');
    assert.equal(after.status.observedGeneration, 2);
    assert.equal(after.status.updatedReplicas, 3);
    assert.equal(after.status.replicas, 3);
    const sets = cluster.state.list('replicasets', 'default') as Json[];
    assert.deepEqual(sets.map((s) => s.spec.replicas).sort(), [0, 3]);

    (cluster as ClusterInstance).objects.delete(mustResource('deployments'), 'default', 'web');
    await cluster.settle();
    assert.equal(cluster.state.list('replicasets', 'default').length, 0);
    assert.equal(cluster.state.list('pods', 'default').filter((p) => p.metadata.labels?.app === 'web').length, 0);
    assert.equal(get('endpoints', 'default', 'web').subsets, undefined, 'the service stays, with no endpoints');
  });

  test('endpoints carry ready and not-ready pods apart; a readiness gate keeps a pod out until its condition is True', async () => {
    const objects = (cluster as ClusterInstance).objects;
    const podSpec = (gated: boolean) => ({ containers: [{ name: 'c', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }], ...(gated ? { readinessGates: [{ conditionType: 'example.com/in-rotation' }] } : {}) });
    create('pods', 'default', { metadata: { name: 'shop-a', labels: { app: 'shop' } }, spec: podSpec(false) });
    create('pods', 'default', { metadata: { name: 'shop-gated', labels: { app: 'shop' } }, spec: podSpec(true) });
    create('services', 'default', { metadata: { name: 'shop' }, spec: { selector: { app: 'shop' }, ports: [{ port: 80 }] } });
    await cluster.settle();
    const a = get('pods', 'default', 'shop-a');
    const gated = get('pods', 'default', 'shop-gated');
    assert.equal(gated.status.phase, 'Running');
    assert.deepEqual(gated.status.conditions.find((c: Json) => c.type === 'Ready').reason, 'ReadinessGatesNotReady');
    const printed = () => toTable('endpoints', [get('endpoints', 'default', 'shop')], { now: Date.now(), includeObject: 'None' }).rows[0].cells[1];
    let ep = get('endpoints', 'default', 'shop');
    assert.deepEqual(ep.subsets.length, 1);
    assert.deepEqual(ep.subsets[0].addresses.map((x: Json) => x.targetRef.name), ['shop-a']);
    assert.deepEqual(ep.subsets[0].notReadyAddresses.map((x: Json) => x.targetRef.name), ['shop-gated']);
    assert.equal(printed(), `${a.status.podIP}:80`, 'kubectl get endpoints lists ready addresses only');
    const slice = () => cluster.state.list('endpointslices', 'default').find((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'shop') as Json;
    const conditions = () => Object.fromEntries(slice().endpoints.map((e: Json) => [e.targetRef.name, e.conditions]));
    assert.deepEqual(conditions(), { 'shop-a': { ready: true, serving: true, terminating: false }, 'shop-gated': { ready: false, serving: false, terminating: false } });

    // whoever owns the gate sets its condition (the status subresource): the pod turns Ready and becomes an address
    const next = structuredClone(gated);
    next.status.conditions.push({ type: 'example.com/in-rotation', status: 'True', lastProbeTime: null, lastTransitionTime: new Date().toISOString() });
    objects.update(mustResource('pods'), 'default', 'shop-gated', next, { subresource: 'status' });
    await cluster.settle();
    ep = get('endpoints', 'default', 'shop');
    assert.deepEqual(ep.subsets[0].addresses.map((x: Json) => x.targetRef.name).sort(), ['shop-a', 'shop-gated']);
    assert.equal(ep.subsets[0].notReadyAddresses, undefined);
    assert.equal(conditions()['shop-gated'].ready, true);

    // both not ready: the subset keeps only notReadyAddresses and kubectl prints an empty cell, as 1.32 does
    for (const name of ['shop-a', 'shop-gated']) objects.delete(mustResource('pods'), 'default', name);
    create('pods', 'default', { metadata: { name: 'shop-b', labels: { app: 'shop' } }, spec: podSpec(true) });
    await cluster.settle();
    ep = get('endpoints', 'default', 'shop');
    assert.equal(ep.subsets[0].addresses, undefined);
    assert.deepEqual(ep.subsets[0].notReadyAddresses.map((x: Json) => x.targetRef.name), ['shop-b']);
    assert.equal(printed(), '');

    // publishNotReadyAddresses: every pod with an address is ready in both objects
    const svc = structuredClone(get('services', 'default', 'shop'));
    svc.spec.publishNotReadyAddresses = true;
    objects.update(mustResource('services'), 'default', 'shop', svc);
    await cluster.settle();
    assert.deepEqual(get('endpoints', 'default', 'shop').subsets[0].addresses.map((x: Json) => x.targetRef.name), ['shop-b']);
    assert.deepEqual(conditions()['shop-b'], { ready: true, serving: false, terminating: false });
    objects.delete(mustResource('services'), 'default', 'shop');
    objects.delete(mustResource('pods'), 'default', 'shop-b');
    await cluster.settle();
  });

  test('deleting a namespace empties it, then removes it', async () => {
    create('namespaces', undefined, { metadata: { name: 'team' } });
    await cluster.settle();
    create('pods', 'team', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } });
    create('configmaps', 'team', { metadata: { name: 'c' } });
    await cluster.settle();
    const r = (cluster as ClusterInstance).objects.delete(mustResource('namespaces'), undefined, 'team');
    assert.equal((r.object as Json).status.phase, 'Terminating');
    await cluster.settle();
    for (let i = 0; i < 50 && get('namespaces', undefined, 'team'); i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(get('namespaces', undefined, 'team'), undefined);
    assert.equal(cluster.state.list('pods', 'team').length, 0);
    assert.equal(runtime.running.has('team/p'), false);
  });
});
