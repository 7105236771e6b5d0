// @kubernetes/client-node against the embedded API, as the grader and the lab setup use it:
// typed CRUD, the generic object API, patches, list-then-watch from a resourceVersion, a watch
// that resumes from an evicted version (410), and informers.
import { after, before, describe, test } from 'node:test';
import { PassThrough } from 'node:stream';
import assert from 'node:assert/strict';
import { CoreV1Api, Exec, KubeConfig, KubernetesObjectApi, NetworkingV1Api, PatchStrategy, Watch, makeInformer, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { createApiHost, type ApiHost, type EmbeddedCluster } from '../../server/apiserver/index.ts';
import { NETWORK, testRuntime, uniqueClusterId } from '../kubectl/harness.ts';

function kubeConfig(cluster: EmbeddedCluster): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(cluster.kubeconfig());
  return kc;
}

function apiStatus(err: unknown): { code?: number; message?: string; reason?: string } {
  const e = err as { code?: number; body?: unknown };
  const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
  return { code: e.code, message: (body as { message?: string })?.message, reason: (body as { reason?: string })?.reason };
}

async function rejects(p: Promise<unknown>): Promise<{ code?: number; message?: string; reason?: string }> {
  try {
    await p;
  } catch (err) {
    return apiStatus(err);
  }
  assert.fail('expected the API to refuse');
}

const pod = (name: string, labels: Record<string, string> = {}): V1Pod => ({
  metadata: { name, labels },
  spec: { containers: [{ name: 'main', image: 'nginx', ports: [{ containerPort: 80, name: 'http' }] }] },
});

describe('@kubernetes/client-node against the embedded API', () => {
  let host: ApiHost;
  let cluster: EmbeddedCluster;
  let kc: KubeConfig;
  let core: CoreV1Api;

  before(async () => {
    host = await createApiHost({ port: 0, historyCapacity: 50 });
    cluster = await host.createCluster({ id: uniqueClusterId('cn'), runtime: (await testRuntime()).runtime, network: NETWORK });
    await cluster.settle();
    kc = kubeConfig(cluster);
    core = kc.makeApiClient(CoreV1Api);
  });
  after(async () => {
    await host?.close();
  });

  test('typed CRUD on pods, with Status errors the client can read', async () => {
    const created = await core.createNamespacedPod({ namespace: 'default', body: pod('crud', { app: 'crud' }) });
    assert.equal(created.metadata?.namespace, 'default');
    assert.ok(created.metadata?.uid);
    const got = await core.readNamespacedPod({ name: 'crud', namespace: 'default' });
    assert.equal(got.spec?.containers[0].image, 'nginx');
    const dup = await rejects(core.createNamespacedPod({ namespace: 'default', body: pod('crud') }));
    assert.deepEqual(dup, { code: 409, message: 'pods "crud" already exists', reason: 'AlreadyExists' });
    const missing = await rejects(core.readNamespacedPod({ name: 'nope', namespace: 'default' }));
    assert.deepEqual(missing, { code: 404, message: 'pods "nope" not found', reason: 'NotFound' });
    await cluster.settle();
    const patched = await core.patchNamespacedPod(
      { name: 'crud', namespace: 'default', body: { metadata: { labels: { tier: 'front' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(patched.metadata?.labels, { app: 'crud', tier: 'front' });
    const jsonPatched = await core.patchNamespacedPod({ name: 'crud', namespace: 'default', body: [{ op: 'replace', path: '/metadata/labels/tier', value: 'back' }] });
    assert.equal(jsonPatched.metadata?.labels?.tier, 'back');
    const stale = { ...jsonPatched, metadata: { ...jsonPatched.metadata, resourceVersion: '1' } };
    const conflict = await rejects(core.replaceNamespacedPod({ name: 'crud', namespace: 'default', body: stale }));
    assert.equal(conflict.code, 409);
    assert.equal(conflict.reason, 'Conflict');
    const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=crud,tier in (back)' });
    assert.deepEqual(list.items.map((p) => p.metadata?.name), ['crud']);
    await core.deleteNamespacedPod({ name: 'crud', namespace: 'default' });
    await cluster.settle();
    assert.equal((await rejects(core.readNamespacedPod({ name: 'crud', namespace: 'default' }))).code, 404);
  });

  test('the generic object API maps kinds through legacy discovery, and NetworkPolicy validation answers 422', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const spec = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'default' }, spec: { podSelector: {} } };
    const created = (await objects.create(spec)) as { metadata?: { uid?: string }; spec?: { policyTypes?: string[] } };
    assert.deepEqual(created.spec?.policyTypes, ['Ingress']);
    const read = await objects.read({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'default' } });
    assert.equal(read.metadata?.uid, created.metadata?.uid);
    const patched = await objects.patch({ ...spec, metadata: { ...spec.metadata, labels: { v: '2' } } });
    assert.equal(patched.metadata?.labels?.v, '2');
    const bad = await rejects(kc.makeApiClient(NetworkingV1Api).createNamespacedNetworkPolicy({ namespace: 'default', body: { metadata: { name: 'bad' }, spec: { podSelector: {}, policyTypes: ['egress'] } } }));
    assert.equal(bad.code, 422);
    assert.equal(bad.message, 'NetworkPolicy.networking.k8s.io "bad" is invalid: spec.policyTypes[0]: Unsupported value: "egress": supported values: "Ingress", "Egress"');
  });

  test('list then watch from the list resourceVersion sees only later changes', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    const rv = list.metadata?.resourceVersion;
    assert.ok(rv);
    const seen: string[] = [];
    let ended: unknown;
    const watch = new Watch(kc);
    const gotAll = new Promise<void>((resolve) => {
      void watch
        .watch(
          '/api/v1/namespaces/default/configmaps',
          { resourceVersion: rv, allowWatchBookmarks: false },
          (type, obj) => {
            seen.push(`${type} ${obj.metadata.name}`);
            if (seen.length === 3) resolve();
          },
          (err) => (ended = err),
        )
        .then((ac) => gotAll.finally(() => ac.abort()));
    });
    await new Promise((r) => setTimeout(r, 100));
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'w1' }, data: { a: '1' } } });
    await core.patchNamespacedConfigMap({ name: 'w1', namespace: 'default', body: { data: { a: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ name: 'w1', namespace: 'default' });
    await gotAll;
    assert.deepEqual(seen, ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    void ended;
  });

  test('a watch from an evicted resourceVersion gets ERROR 410 Expired', async () => {
    const old = (await core.listNamespacedConfigMap({ namespace: 'default' })).metadata?.resourceVersion as string;
    // the host keeps 50 changes of history: push the listed version out of it
    for (let i = 0; i < 60; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `flood-${i}` } } });
    const event = await new Promise<{ type: string; obj: { code?: number; reason?: string; message?: string } }>((resolve, reject) => {
      new Watch(kc)
        .watch('/api/v1/namespaces/default/configmaps', { resourceVersion: old }, (type, obj) => resolve({ type, obj }), (err) => (err ? reject(err) : undefined))
        .catch(reject);
    });
    assert.equal(event.type, 'ERROR');
    assert.equal(event.obj.code, 410);
    assert.equal(event.obj.reason, 'Expired');
    assert.match(String(event.obj.message), new RegExp(`^too old resource version: ${old} \\(\\d+\\)$`));
  });

  test('exec: output streams and the exit code in the status', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'execme' }, spec: { containers: [{ name: 'main', image: 'nicolaka/netshoot', command: ['sleep', 'infinity'] }] } } });
    await cluster.settle();
    for (let i = 0; i < 100 && (await core.readNamespacedPod({ name: 'execme', namespace: 'default' })).status?.phase !== 'Running'; i++) await new Promise((r) => setTimeout(r, 100));
    const run = (command: string[]) =>
      new Promise<{ out: string; err: string; status: { status?: string; reason?: string; details?: { causes?: Array<{ reason?: string; message?: string }> } } }>((resolve, reject) => {
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        let out = '';
        let err = '';
        stdout.on('data', (d: Buffer) => (out += d.toString()));
        stderr.on('data', (d: Buffer) => (err += d.toString()));
        new Exec(kc)
          .exec('default', 'execme', 'main', command, stdout, stderr, null, false, (status) => setTimeout(() => resolve({ out, err, status: status as never }), 50))
          .catch(reject);
      });
    const ok = await run(['sh', '-c', 'echo hello']);
    assert.equal(ok.out, 'hello\n');
    assert.equal(ok.status.status, 'Success');
    const failed = await run(['sh', '-c', 'echo oops >&2; exit 7']);
    assert.equal(failed.err, 'oops\n');
    assert.equal(failed.status.status, 'Failure');
    assert.equal(failed.status.reason, 'NonZeroExitCode');
    assert.deepEqual(failed.status.details?.causes, [{ reason: 'ExitCode', message: '7' }]);
  });

  test('an informer lists, watches and sees a pod become Running', async () => {
    const informer = makeInformer(kc, '/api/v1/namespaces/default/pods', () => core.listNamespacedPod({ namespace: 'default' }));
    const running = new Promise<string>((resolve) => {
      informer.on('update', (p: V1Pod) => {
        if (p.metadata?.name === 'informed' && p.status?.phase === 'Running') resolve(p.status.podIP ?? '');
      });
    });
    await informer.start();
    try {
      await core.createNamespacedPod({ namespace: 'default', body: pod('informed') });
      assert.match(await running, /^10\.244\.\d+\.\d+$/);
    } finally {
      await informer.stop();
    }
  });
});
