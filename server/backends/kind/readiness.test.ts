import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apiserver/runtime.ts';
import { ManualClock } from './clock.ts';
import { KindError } from './errors.ts';
import { crdEstablished, daemonPodsReady, deploymentAvailable, nodesReady, podsReady, waitUntil } from './readiness.ts';

const node = (name: string, ready: boolean, message?: string): KubeObject => ({
  metadata: { name },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', ...(message ? { message } : {}) }] },
});
const pod = (name: string, nodeName: string, ready: boolean, waiting?: string): KubeObject => ({
  metadata: { name, namespace: 'kube-system' },
  spec: { nodeName },
  status: {
    phase: ready ? 'Running' : 'Pending',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    ...(waiting ? { containerStatuses: [{ state: { waiting: { reason: waiting } } }] } : {}),
  },
});

test('nodes: all Ready, or the NotReady ones with the kubelet message', () => {
  assert.equal(nodesReady([node('a', true)]).ready, true);
  const r = nodesReady([node('a', true), node('b', false, 'container runtime network not ready: cni plugin not initialized')]);
  assert.deepEqual(r, { ready: false, detail: 'node b is NotReady (container runtime network not ready: cni plugin not initialized)' });
  assert.equal(nodesReady([]).ready, false);
});

test('DaemonSet pods: one Ready pod per node', () => {
  const nodes = [node('cp', true), node('w1', true)];
  assert.equal(daemonPodsReady('calico-node', [pod('calico-node-a', 'cp', true), pod('calico-node-b', 'w1', true)], nodes).ready, true);
  assert.deepEqual(daemonPodsReady('calico-node', [pod('calico-node-a', 'cp', true)], nodes), { ready: false, detail: 'no calico-node pod on node w1' });
  assert.deepEqual(daemonPodsReady('calico-node', [pod('calico-node-a', 'cp', true), pod('calico-node-b', 'w1', false, 'ImagePullBackOff')], nodes), {
    ready: false,
    detail: 'pod kube-system/calico-node-b is ImagePullBackOff',
  });
  assert.deepEqual(daemonPodsReady('calico-node', [], nodes), { ready: false, detail: 'no calico-node pods exist yet' });
});

test('Deployments: available as rollout status judges it', () => {
  const dep = (spec: object, status: object, generation = 1): KubeObject => ({ metadata: { name: 'coredns', generation }, spec, status });
  assert.equal(deploymentAvailable(dep({ replicas: 2 }, { observedGeneration: 1, updatedReplicas: 2, availableReplicas: 2, conditions: [{ type: 'Available', status: 'True' }] }), 'coredns').ready, true);
  assert.deepEqual(deploymentAvailable(dep({ replicas: 2 }, { observedGeneration: 1, updatedReplicas: 2, availableReplicas: 1 }), 'coredns'), { ready: false, detail: 'coredns: 1 of 2 replicas available' });
  assert.deepEqual(deploymentAvailable(dep({ replicas: 1 }, { observedGeneration: 1 }, 2), 'coredns'), { ready: false, detail: 'coredns: the controller has not seen the latest change yet' });
  assert.deepEqual(deploymentAvailable(undefined, 'calico-kube-controllers'), { ready: false, detail: 'calico-kube-controllers does not exist' });
});

test('CRDs: Established; setup pods: Ready or Succeeded', () => {
  assert.equal(crdEstablished({ metadata: { name: 'x' }, status: { conditions: [{ type: 'Established', status: 'True' }] } }).ready, true);
  assert.equal(crdEstablished({ metadata: { name: 'x' } }).ready, false);
  const done: KubeObject = { metadata: { name: 'job-x', namespace: 'lab' }, status: { phase: 'Succeeded' } };
  assert.equal(podsReady([done, pod('web', 'cp', true)]).ready, true);
  assert.deepEqual(podsReady([pod('web', 'cp', false, 'ContainerCreating')]), { ready: false, detail: 'pod kube-system/web is ContainerCreating' });
});

test('waitUntil polls until ready, counting check errors as not ready', async () => {
  const clock = new ManualClock();
  let calls = 0;
  const seen: string[] = [];
  const detail = await waitUntil(
    'calico-node',
    async () => {
      calls++;
      if (calls === 1) throw new Error('connect ECONNREFUSED 127.0.0.1:43211');
      return calls < 4 ? { ready: false, detail: `attempt ${calls}` } : { ready: true, detail: 'ok' };
    },
    { timeoutMs: 60_000, intervalMs: 1000, clock, onWaiting: (d) => seen.push(d) },
  );
  assert.equal(detail, 'ok');
  assert.equal(calls, 4);
  assert.deepEqual(seen, ['connect ECONNREFUSED 127.0.0.1:43211', 'attempt 2', 'attempt 3']);
  assert.equal(clock.now(), 3000);
});

test('waitUntil gives up at the deadline naming what and why', async () => {
  const clock = new ManualClock();
  await assert.rejects(
    waitUntil('calico-kube-controllers (Deployment kube-system/calico-kube-controllers)', async () => ({ ready: false, detail: 'calico-kube-controllers: 0 of 1 replicas available' }), {
      timeoutMs: 120_000,
      intervalMs: 1000,
      clock,
    }),
    (err: unknown) => {
      assert.ok(err instanceof KindError);
      assert.equal(err.reason, 'not-ready');
      assert.equal(err.message, 'calico-kube-controllers (Deployment kube-system/calico-kube-controllers) was not ready after 120 s: calico-kube-controllers: 0 of 1 replicas available');
      return true;
    },
  );
  assert.equal(clock.now(), 120_000);
});

test('waitUntil stops when the learner gives up', async () => {
  const ac = new AbortController();
  let calls = 0;
  const p = waitUntil(
    'coredns',
    async () => {
      if (++calls === 2) ac.abort(new Error('learner closed the tab'));
      return { ready: false, detail: 'no' };
    },
    { timeoutMs: 60_000, intervalMs: 1000, clock: new ManualClock(), signal: ac.signal },
  );
  await assert.rejects(p, (err: unknown) => err instanceof KindError && err.reason === 'aborted');
});
