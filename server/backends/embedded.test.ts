// The embedded backend: provision applies the lab's setup through the API and waits for its pods,
// hands back a kubeconfig file that only this environment can use, and dispose removes it all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
