// The embedded backend: provision applies the lab's setup through the API and waits for its pods,
// hands back a kubeconfig file that only this environment can use, and dispose removes it all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { request as httpsRequest } from 'node:https';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createApiHost } from '../apiserver/index.ts';
import type { KubeObject } from '../apiserver/runtime.ts';
import { createFixtureRuntime } from '../../test/kubectl/fixture-runtime.ts';
import { createEmbeddedBackend } from './embedded.ts';
import type { ProvisionProgress } from './types.ts';

const SETUP: KubeObject[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'payment-api', namespace: 'payments', labels: { app: 'payment-api' } }, spec: { replicas: 2, selector: { matchLabels: { app: 'payment-api' } }, template: { metadata: { labels: { app: 'payment-api' } }, spec: { containers: [{ name: 'api', image: 'hashicorp/http-echo', ports: [{ containerPort: 8080 }] }] } } } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments', labels: { team: 'payments' } } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'payment-api-svc', namespace: 'payments' }, spec: { selector: { app: 'payment-api' }, ports: [{ port: 80, targetPort: 8080 }] } },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny-all', namespace: 'payments' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'strict' } },
];

test('provision applies the setup, waits for pods, and dispose removes the environment', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kubelab-embedded-test-'));
  const host = await createApiHost({ port: 0 });
  const backend = createEmbeddedBackend({ runtime: createFixtureRuntime(), host, stateDir });
  try {
    const progress: ProvisionProgress[] = [];
    const env = await backend.provision({
      learner: { id: 'alice', name: 'Alice' },
      lab: { labId: 'network-policies', setup: SETUP, externalHosts: [], images: [] },
      onProgress: (p) => progress.push(p),
    });
    assert.deepEqual(progress.map((p) => p.phase), ['creating-cluster', 'applying-setup', 'waiting-ready', 'ready']);
    assert.equal(env.backend, 'embedded');
    assert.equal(env.dataPlane, 'process');
    assert.equal(statSync(env.kubeconfigPath).mode & 0o777, 0o600);
    assert.equal(env.shellEnv.KUBECONFIG, env.kubeconfigPath);
    assert.ok(env.shellEnv.KUBECACHEDIR.startsWith(join(stateDir, env.id)));
    assert.match(env.server, new RegExp(`^${host.url}/clusters/${env.id}$`));
    const cluster = host.cluster(env.id);
    assert.ok(cluster);
    assert.equal(typeof env.settle, 'function');
    await env.settle?.();
    const pods = cluster.state.list('pods', 'payments');
    assert.equal(pods.length, 2);
    for (const p of pods) assert.equal(p.status?.phase, 'Running');
    assert.equal(cluster.state.get('namespaces', undefined, 'payments')?.metadata.labels?.team, 'payments');
    assert.equal(cluster.state.get('configmaps', 'default', 'settings')?.metadata.namespace, 'default');
    const np = cluster.state.get('networkpolicies', 'payments', 'default-deny-all');
    assert.match(String(np?.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']), /^\{"apiVersion":"networking\.k8s\.io\/v1","kind":"NetworkPolicy","metadata":\{"annotations":\{\},"name":"default-deny-all","namespace":"payments"\}/);

    const kubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
    if (kubectl) {
      // a learner applying the very same file sees nothing to change
      const file = join(stateDir, 'setup.yaml');
      writeFileSync(file, SETUP.map((o) => stringify(o)).join('---\n'));
      // asynchronously: the API server answers from this very process
      const r = await promisify(execFile)(kubectl, ['apply', '-f', file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: stateDir, ...env.shellEnv } });
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, ['deployment.apps/payment-api unchanged', 'namespace/payments unchanged', 'service/payment-api-svc unchanged', 'networkpolicy.networking.k8s.io/default-deny-all unchanged', 'configmap/settings unchanged', ''].join('\n'));
    }

    await env.dispose();
    assert.equal(host.cluster(env.id), undefined);
    assert.equal(existsSync(join(stateDir, env.id)), false);
  } finally {
    await backend.close();
    await host.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a setup object the API refuses fails provisioning with its message, and nothing is left behind', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kubelab-embedded-test-'));
  const host = await createApiHost({ port: 0 });
  const backend = createEmbeddedBackend({ runtime: createFixtureRuntime(), host, stateDir });
  try {
    const bad: KubeObject = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np', namespace: 'default' }, spec: { podSelector: {}, policyTypes: ['egress'] } };
    await assert.rejects(
      backend.provision({ learner: { id: 'bob', name: 'Bob' }, lab: { labId: 'x', setup: [bad], externalHosts: [], images: [] } }),
      /applying NetworkPolicy "np": NetworkPolicy\.networking\.k8s\.io "np" is invalid: spec\.policyTypes\[0\]: Unsupported value: "egress"/,
    );
    assert.equal(host.clusters.size, 0);
  } finally {
    await backend.close();
    await host.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a warm stock hands out environments built ahead, each its own, and refills in the background', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kubelab-embedded-test-'));
  const host = await createApiHost({ port: 0 });
  const logged: string[] = [];
  const backend = createEmbeddedBackend({ runtime: createFixtureRuntime(), host, stateDir, warm: 2, refillDelayMs: 300, log: (_, m) => logged.push(m) });
  const lab = { labId: 'network-policies', setup: SETUP, externalHosts: [], images: [] };
  try {
    // nothing is built before the backend is told which labs learners may start
    assert.deepEqual(backend.warmStats(), []);
    assert.equal(host.clusters.size, 0);
    backend.prepare?.([lab]);
    await backend.warmed();
    assert.deepEqual(backend.warmStats(), [{ labId: 'network-policies', idle: 2, building: 0, failed: 0 }]);
    assert.equal(host.clusters.size, 2);

    const progress: ProvisionProgress[] = [];
    const alice = await backend.provision({ learner: { id: 'alice', name: 'Alice' }, lab, onProgress: (p) => progress.push(p) });
    assert.deepEqual(progress.map((p) => p.phase), ['ready'], 'a warm environment needs no building');
    // its replacement is started a moment later, not while the learner's shell is starting
    assert.deepEqual(backend.warmStats(), [{ labId: 'network-policies', idle: 1, building: 0, failed: 0 }]);
    const bob = await backend.provision({ learner: { id: 'bob', name: 'Bob' }, lab });
    assert.notEqual(alice.id, bob.id);
    assert.match(alice.kubeconfig, /name: learner-alice/);
    assert.match(bob.kubeconfig, /name: learner-bob/);
    assert.equal(statSync(alice.kubeconfigPath).mode & 0o777, 0o600);
    assert.ok(alice.shellEnv.KUBECACHEDIR.startsWith(join(stateDir, alice.id)));

    // the lab's setup is in place, and each learner's credentials open their own cluster only
    const cluster = host.cluster(alice.id);
    assert.equal(cluster?.state.list('pods', 'payments').length, 2);
    const token = (kubeconfig: string) => /token: (\S+)/.exec(kubeconfig)?.[1];
    const get = (server: string, kubeconfig: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        // the question is whose token opens which cluster, not the certificate
        const req = httpsRequest(`${server}/api/v1/namespaces`, { headers: { authorization: `Bearer ${token(kubeconfig)}` }, rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal(await get(alice.server, alice.kubeconfig), 200);
    assert.equal(await get(bob.server, alice.kubeconfig), 403);

    await backend.warmed();
    assert.deepEqual(backend.warmStats(), [{ labId: 'network-policies', idle: 2, building: 0, failed: 0 }]);
    assert.equal(host.clusters.size, 4);
    assert.equal(logged.filter((m) => m.startsWith('warm environment ready for network-policies')).length, 4);

    // a learner's environment goes when they are done; the stock is not touched
    await alice.dispose();
    assert.equal(host.cluster(alice.id), undefined);
    assert.equal(host.clusters.size, 3);
  } finally {
    await backend.close();
    // closing removes the warm environments too
    assert.equal(host.clusters.size, 0);
    await host.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a changed lab replaces its warm stock; a lab whose setup fails is retried later, not in a loop', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kubelab-embedded-test-'));
  const host = await createApiHost({ port: 0 });
  const logged: string[] = [];
  const backend = createEmbeddedBackend({ runtime: createFixtureRuntime(), host, stateDir, warm: 1, log: (level, m) => logged.push(`${level}: ${m}`) });
  const lab = { labId: 'policies', setup: SETUP, externalHosts: [], images: [] };
  const bad: KubeObject = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np', namespace: 'default' }, spec: { podSelector: {}, policyTypes: ['egress'] } };
  const broken = { labId: 'broken', setup: [bad], externalHosts: [], images: [] };
  try {
    backend.prepare?.([lab, broken]);
    await backend.warmed();
    assert.deepEqual(backend.warmStats(), [
      { labId: 'policies', idle: 1, building: 0, failed: 0 },
      { labId: 'broken', idle: 0, building: 0, failed: 1 },
    ]);
    assert.ok(logged.some((m) => /^warn: warm environment for broken could not be built \(trying again in 5 s\): applying NetworkPolicy "np": .*Unsupported value: "egress"/.test(m)), logged.join('\n'));
    assert.equal(host.clusters.size, 1, 'the failed build left nothing behind');
    const [oldWarm] = [...host.clusters.keys()];

    // the lab file changed: the environment built from the old setup is of no use any more
    const changed = { ...lab, setup: SETUP.filter((o) => o.kind !== 'ConfigMap') };
    backend.prepare?.([changed]);
    assert.equal(backend.warmStats().find((s) => s.labId === 'broken'), undefined);
    await backend.warmed();
    assert.equal(host.cluster(oldWarm), undefined);
    assert.deepEqual(backend.warmStats(), [{ labId: 'policies', idle: 1, building: 0, failed: 0 }]);
    const [newWarm] = [...host.clusters.keys()];
    assert.equal(host.cluster(newWarm)?.state.get('configmaps', 'default', 'settings'), undefined);

    // a learner asking with the old setup gets an environment built for it, not the new one
    const progress: string[] = [];
    const env = await backend.provision({ learner: { id: 'carol', name: 'Carol' }, lab, onProgress: (p) => progress.push(p.phase) });
    assert.deepEqual(progress, ['creating-cluster', 'applying-setup', 'waiting-ready', 'ready']);
    assert.notEqual(env.id, newWarm);
    assert.deepEqual(host.cluster(env.id)?.state.get('configmaps', 'default', 'settings')?.data, { mode: 'strict' });
  } finally {
    await backend.close();
    assert.equal(host.clusters.size, 0);
    await host.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('closing while a warm environment is being built leaves nothing behind', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kubelab-embedded-test-'));
  const host = await createApiHost({ port: 0 });
  const backend = createEmbeddedBackend({ runtime: createFixtureRuntime(), host, stateDir, warm: 3 });
  try {
    backend.prepare?.([{ labId: 'network-policies', setup: SETUP, externalHosts: [], images: [] }]);
    assert.equal(backend.warmStats()[0].building, 1, 'one background build at a time');
    await backend.close();
    assert.equal(host.clusters.size, 0);
    assert.deepEqual(readdirSync(stateDir), []);
    await assert.rejects(backend.provision({ learner: { id: 'dave', name: 'Dave' }, lab: { labId: 'x', setup: [], externalHosts: [], images: [] } }), /the embedded backend is closed/);
  } finally {
    await backend.close();
    await host.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
