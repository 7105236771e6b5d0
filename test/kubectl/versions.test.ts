// The core learner commands with the oldest and newest kubectl the dispatcher ships (1.27, 1.33).
// kubectl 1.27 and 1.28 validate `apply` on the client with OpenAPI v2, which this API does not
// serve: they need --validate=false (1.29+ leave validation to the server). kubectl before 1.30
// streams exec over SPDY, which is refused with a message saying so.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findKubectl, startHarness, versionedKubectl, type Harness } from './harness.ts';

const found = findKubectl();

for (const minor of [27, 33]) {
  const binary = 'skip' in found ? undefined : versionedKubectl(minor);
  const skip = 'skip' in found ? found.skip : binary ? false : `kubectl.1.${minor} is not installed next to the dispatcher`;
  if (skip) process.stdout.write(`# kubectl 1.${minor} checks skipped: ${skip}\n`);
  describe(`kubectl 1.${minor}`, { skip }, () => {
    let h: Harness;
    const validate = minor < 29 ? ['--validate=false'] : [];
    before(async () => {
      h = await startHarness(binary as string);
    });
    after(async () => {
      await h?.close();
    });

    test('version, apply, get, describe, label, create, delete', async () => {
      const version = await h.kubectl.ok(['version']);
      assert.match(version, new RegExp(`Client Version: (version\\.Info\\{.*GitVersion:")?v1\\.${minor}\\.\\d+`));
      assert.match(version, /Server Version: (version\.Info\{.*GitVersion:")?v1\.32\.\d+/);
      const np = h.kubectl.write('np.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n');
      assert.equal((await h.kubectl.ok(['apply', ...validate, '-f', np])).trim(), 'networkpolicy.networking.k8s.io/deny created');
      assert.equal((await h.kubectl.ok(['apply', ...validate, '-f', np])).trim(), 'networkpolicy.networking.k8s.io/deny unchanged');
      assert.match(await h.kubectl.ok(['get', 'netpol']), /^NAME\s+POD-SELECTOR\s+AGE\ndeny\s+<none>\s+\d+s\n$/);
      assert.match(await h.kubectl.ok(['describe', 'netpol', 'deny']), /PodSelector:\s+<none> \(Allowing the specific traffic to all pods in this namespace\)/);
      await h.kubectl.ok(['run', 'web', '--image=nginx', '--labels=app=web']);
      await h.kubectl.ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=30s']);
      assert.match(await h.kubectl.ok(['get', 'pods', '-o', 'wide', '--show-labels']), /\nweb\s+1\/1\s+Running\s+0\s+\d+s\s+\d+\.\d+\.\d+\.\d+\s+kubelab-control-plane\s+<none>\s+<none>\s+app=web\n/);
      assert.equal((await h.kubectl.ok(['label', 'pod', 'web', 'app=api', '--overwrite'])).trim(), 'pod/web labeled');
      assert.equal((await h.kubectl.ok(['create', 'namespace', `ns${minor}`])).trim(), `namespace/ns${minor} created`);
      assert.equal((await h.kubectl.ok(['create', 'deployment', 'd', '--image=nginx', '-n', `ns${minor}`])).trim(), 'deployment.apps/d created');
      const bad = h.kubectl.write('bad.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\nspec:\n  podSelector: {}\n  policyTypes: [egress]\n');
      assert.equal((await h.kubectl.run(['apply', ...validate, '-f', bad])).stderr.trim(), 'The NetworkPolicy "np" is invalid: spec.policyTypes[0]: Unsupported value: "egress": supported values: "Ingress", "Egress"');
      assert.equal((await h.kubectl.ok(['delete', 'netpol', 'deny'])).trim(), 'networkpolicy.networking.k8s.io "deny" deleted');
    });

    test('exec', async () => {
      const r = await h.kubectl.run(['exec', 'web', '--', 'sh', '-c', 'exit 3']);
      if (minor >= 30) {
        assert.equal(r.code, 3);
      } else {
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /needs a WebSocket connection \(v5\.channel\.k8s\.io\); this cluster does not serve SPDY/);
      }
    });
  });
}
