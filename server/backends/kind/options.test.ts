import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KindOptionsError, resolveKindOptions } from './options.ts';
import { CALICO_MANIFEST_URL, NETSHOOT_IMAGE, NODE_IMAGE } from './pins.ts';

test('defaults: Calico, pinned images, no pool, two creates at once', () => {
  const o = resolveKindOptions({ stateDir: '/tmp/x', commandEnv: {} });
  assert.equal(o.cni, 'calico');
  assert.equal(o.podSubnet, '192.168.0.0/16');
  assert.equal(o.nodeImage, NODE_IMAGE);
  assert.match(o.nodeImage, /@sha256:[0-9a-f]{64}$/);
  assert.equal(o.calicoManifest, CALICO_MANIFEST_URL);
  assert.equal(o.netshootImage, NETSHOOT_IMAGE);
  assert.equal(o.poolSize, 0);
  assert.equal(o.maxConcurrentCreates, 2);
  assert.equal(o.kindBinary, 'kind');
  assert.equal(o.reuseClusters, false);
});

test('kindnet and none default to kind\'s pod range', () => {
  assert.equal(resolveKindOptions({ cni: 'kindnet', commandEnv: {} }).podSubnet, '10.244.0.0/16');
  assert.equal(resolveKindOptions({ cni: 'none', commandEnv: {} }).podSubnet, '10.244.0.0/16');
});

test('binaries come from the environment when not given', () => {
  const o = resolveKindOptions({ commandEnv: { KUBELAB_KIND: '/opt/kind', KUBELAB_DOCKER: '/opt/docker' } });
  assert.equal(o.kindBinary, '/opt/kind');
  assert.equal(o.dockerBinary, '/opt/docker');
});

test('every bad field is reported at once, by name', () => {
  let caught: unknown;
  try {
    resolveKindOptions({
      cni: 'flannel' as never,
      poolSize: -1,
      maxConcurrentCreates: 0,
      namePrefix: 'Kube Lab',
      netshootImage: 'nicolaka/netshoot',
      podSubnet: '10.0.0.0/30',
      timeouts: { createMs: 0, bogusMs: 5 } as never,
    });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof KindOptionsError);
  const fields = caught.problems.map((p) => p.split(':')[0]);
  assert.deepEqual(fields.sort(), ['cni', 'maxConcurrentCreates', 'namePrefix', 'netshootImage', 'podSubnet', 'poolSize', 'timeouts.bogusMs', 'timeouts.createMs'].sort());
  assert.match(caught.message, /netshootImage: "nicolaka\/netshoot" needs a fixed tag/);
});

test('commands that pass no options are configured from KUBELAB_KIND_* variables; code wins', () => {
  const env = { KUBELAB_KIND_CNI: 'kindnet', KUBELAB_KIND_POOL_SIZE: '3', KUBELAB_KIND_STATE_DIR: '/srv/kubelab/kind', KUBELAB_KIND_CALICO_MANIFEST: '/mirror/calico.yaml' };
  const o = resolveKindOptions({ commandEnv: env });
  assert.equal(o.cni, 'kindnet');
  assert.equal(o.poolSize, 3);
  assert.equal(o.stateDir, '/srv/kubelab/kind');
  assert.equal(o.calicoManifest, '/mirror/calico.yaml');
  assert.equal(resolveKindOptions({ commandEnv: env, poolSize: 1, cni: 'calico' }).poolSize, 1);
  assert.throws(() => resolveKindOptions({ commandEnv: { KUBELAB_KIND_POOL_SIZE: 'two', KUBELAB_KIND_CNI: 'cilium' } }), (err: unknown) => {
    assert.ok(err instanceof KindOptionsError);
    assert.deepEqual(err.problems, ['KUBELAB_KIND_POOL_SIZE: must be a whole number, got "two"', 'cni (KUBELAB_KIND_CNI): must be one of calico, kindnet, none, got "cilium"']);
    return true;
  });
});
