// The learner API over HTTP on a real embedded cluster (sim data plane) with the shipped labs:
// step text rendered with the learner's own cluster, and "cluster changed" pushed over the live
// socket when something is applied to it, with the policy map showing it right after.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import WebSocket from 'ws';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { createKubelabServer } from '../../server/http/app.ts';
import { loadCoursework } from '../../server/http/coursework.ts';
import { createEmbeddedBackend } from '../../server/backends/embedded.ts';
import { createSimRuntime } from '../../server/dataplane/index.ts';
import { Store } from '../../server/store/index.ts';
import type { LabSession, LiveEvent, Me, PolicyMapView, StepView } from '../../shared/api.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const labId = 'first-network-policy';
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('step text and live cluster changes on a provisioned embedded environment', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-http-embedded-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const { coursework } = await loadCoursework(join(root, 'labs'));
  const backend = createEmbeddedBackend({ runtime: createSimRuntime(), stateDir: join(dir, 'clusters') });
  const store = new Store(join(dir, 'kubelab.db'));
  const server = createKubelabServer({ store, coursework, backend, log: pino({ level: 'silent' }), instructorToken: 'embedded-teacher', webDir: join(dir, 'web') });
  const url = await server.listen(0, '127.0.0.1');
  cleanups.push(async () => {
    await server.close({ dispose: true });
    store.close();
  });

  let cookie = '';
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(url + path, { method, headers: { origin: url, cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    return { status: res.status, body: (await res.json()) as T };
  };
  const joined = await call<Me>('POST', '/api/join', { name: 'Ada' });
  assert.equal(joined.status, 201);
  const learnerId = joined.body.learner!.id;

  // before the cluster exists the text says so instead of leaving a gap, and the page knows to ask again
  const early = await call<StepView>('GET', `/api/labs/${labId}/steps/look-around`);
  assert.equal(early.status, 200, JSON.stringify(early.body));
  assert.equal(early.body.environmentReady, false);
  assert.match(early.body.html, /Your cluster \(<code>not started yet<\/code>\) has/);

  assert.equal((await call('POST', `/api/labs/${labId}/start`)).status, 202);
  const deadline = Date.now() + 180_000;
  for (;;) {
    const s = await call<LabSession>('GET', `/api/labs/${labId}/session`);
    if (s.body.environment.status === 'ready') {
      assert.equal(s.body.environment.reportsChanges, true, 'embedded clusters report changes');
      break;
    }
    assert.notEqual(s.body.environment.status, 'failed', s.body.environment.message);
    assert.ok(Date.now() < deadline, 'the environment became ready');
    await new Promise((r) => setTimeout(r, 250));
  }
  const env = server.context.environments.find(learnerId, labId)!.env!;
  assert.match(env.server, /^https:\/\/127\.0\.0\.1:\d+\//);

  const step = await call<StepView>('GET', `/api/labs/${labId}/steps/look-around`);
  assert.equal(step.body.environmentReady, true);
  assert.equal(step.body.title, 'Everything can reach everything');
  assert.ok(step.body.html.includes(`Your cluster (<code>${env.server}</code>)`), `the cluster's address is in the text: ${step.body.html.slice(0, 300)}`);
  assert.match(step.body.html, /Welcome, Ada\./);
  // the lab's namespaces (lab.yaml environment.namespaces), in its order
  assert.match(step.body.html, /<code>shop<\/code> and <code>outside<\/code>\./);
  assert.ok(!/<h1>/.test(step.body.html), 'the title is the page heading, not repeated in the text');

  // the live socket hears about a change made with the learner's kubeconfig, as kubectl apply would make it
  const events: LiveEvent[] = [];
  const ws = new WebSocket(url.replace('http', 'ws') + '/ws/events', { headers: { cookie, origin: url } });
  cleanups.push(() => ws.close());
  ws.on('message', (d) => events.push(JSON.parse(d.toString()) as LiveEvent));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const before = await call<PolicyMapView>('GET', `/api/labs/${labId}/map`);
  assert.equal(before.status, 200);
  assert.deepEqual(before.body.policies.filter((p) => p.name === 'deny-from-test'), []);
  assert.ok(!events.some((e) => e.type === 'cluster-changed'), 'nothing changed yet');

  const kc = new KubeConfig();
  kc.loadFromString(env.kubeconfig);
  await KubernetesObjectApi.makeApiClient(kc).create({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'deny-from-test', namespace: 'shop' },
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  } as never);
  const waitUntil = Date.now() + 30_000;
  while (!events.some((e) => e.type === 'cluster-changed')) {
    assert.ok(Date.now() < waitUntil, `a cluster-changed event arrived; got ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(events.find((e) => e.type === 'cluster-changed'), { type: 'cluster-changed', labId });
  // the map is read again at once, not served from the short cache of the read before the change
  const afterChange = await call<PolicyMapView>('GET', `/api/labs/${labId}/map`);
  assert.deepEqual(afterChange.body.policies.filter((p) => p.name === 'deny-from-test').map((p) => p.namespace), ['shop']);
});
