// The core learner commands with every kubectl the dispatcher may pick from 1.27 to 1.29 (whose
// apply validates against /openapi/v2 as protobuf and whose exec/attach speak SPDY/3.1) and with
// the newest (1.33: OpenAPI v3, WebSocket). Each version gets a fresh embedded cluster.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findKubectl, startHarness, versionedKubectl, type Harness } from './harness.ts';

const found = findKubectl();

for (const minor of [27, 28, 29, 33]) {
  const binary = 'skip' in found ? undefined : versionedKubectl(minor);
  const skip = 'skip' in found ? found.skip : binary ? false : `kubectl.1.${minor} is not installed next to the dispatcher`;
  if (skip) process.stdout.write(`# kubectl 1.${minor} checks skipped: ${skip}\n`);
  describe(`kubectl 1.${minor}`, { skip }, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(binary as string);
    });
    after(async () => {
      await h?.close();
    });

    test('version, apply (validated), get, describe, label, create, delete; unknown fields refused by the server', async () => {
      const version = await h.kubectl.ok(['version']);
      assert.match(version, new RegExp(`Client Version: (version\\.Info\\{.*GitVersion:")?v1\\.${minor}\\.\\d+`));
      assert.match(version, /Server Version: (version\.Info\{.*GitVersion:")?v1\.32\.\d+/);
      const np = h.kubectl.write('np.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n');
      assert.equal((await h.kubectl.ok(['apply', '-f', np])).trim(), 'networkpolicy.networking.k8s.io/deny created');
      assert.equal((await h.kubectl.ok(['apply', '-f', np])).trim(), 'networkpolicy.networking.k8s.io/deny unchanged');
      assert.match(await h.kubectl.ok(['get', 'netpol']), /^NAME\s+POD-SELECTOR\s+AGE\ndeny\s+<none>\s+\d+s\n$/);
      assert.match(await h.kubectl.ok(['describe', 'netpol', 'deny']), /PodSelector:\s+<none> \(Allowing the specific traffic to all pods in this namespace\)/);
      await h.kubectl.ok(['run', 'web', '--image=nginx', '--labels=app=web']);
      await h.kubectl.ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=30s']);
      assert.match(await h.kubectl.ok(['get', 'pods', '-o', 'wide', '--show-labels']), /\nweb\s+1\/1\s+Running\s+0\s+\d+s\s+\d+\.\d+\.\d+\.\d+\s+kubelab-control-plane\s+<none>\s+<none>\s+app=web\n/);
      assert.equal((await h.kubectl.ok(['label', 'pod', 'web', 'app=api', '--overwrite'])).trim(), 'pod/web labeled');
      assert.equal((await h.kubectl.ok(['create', 'namespace', `ns${minor}`])).trim(), `namespace/ns${minor} created`);
      assert.equal((await h.kubectl.ok(['create', 'deployment', 'd', '--image=nginx', '-n', `ns${minor}`])).trim(), 'deployment.apps/d created');
      const bad = h.kubectl.write('bad.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\nspec:\n  podSelector: {}\n  policyTypes: [egress]\n');
      assert.equal((await h.kubectl.run(['apply', '-f', bad])).stderr.trim(), 'The NetworkPolicy "np" is invalid: spec.policyTypes[0]: Unsupported value: "egress": supported values: "Ingress", "Egress"');
      // kubectl leaves field validation to the server (it would print a ValidationError itself otherwise)
      const unknown = h.kubectl.write('unknown.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\nspec:\n  podSelector: {}\n  ingres: []\n');
      for (const verb of ['apply', 'create']) {
        const r = await h.kubectl.run([verb, '-f', unknown]);
        assert.equal(r.stderr.trim(), 'Error from server (BadRequest): error when creating "unknown.yaml": NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: strict decoding error: unknown field "spec.ingres"');
      }
      assert.equal((await h.kubectl.ok(['delete', 'netpol', 'deny'])).trim(), 'networkpolicy.networking.k8s.io "deny" deleted');
    });

    test('exec: output, exit codes, stdin', async () => {
      const r = await h.kubectl.run(['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\ncommand terminated with exit code 3\n']);
      assert.equal((await h.kubectl.run(['exec', 'web', '--', 'true'])).code, 0);
      const piped = await h.kubectl.run(['exec', '-i', 'web', '--', 'sh', '-c', 'tr a-z A-Z; exit 4'], { input: 'hello\nworld\n' });
      assert.deepEqual([piped.code, piped.stdout], [4, 'HELLO\nWORLD\n']);
    });

    test('run --rm -i with piped stdin: the script runs, its exit code is kubectl\'s, the pod is deleted', async () => {
      const r = await h.kubectl.run(['run', `once${minor}`, '--rm', '-i', '--restart=Never', '--image=busybox', '--', 'sh'], { input: 'echo "hello from $HOSTNAME"\nexit 5\n', timeoutMs: 60_000 });
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stdout, new RegExp(`hello from once${minor}\\n`));
      assert.match(r.stdout, new RegExp(`pod "once${minor}" deleted`));
      assert.equal((await h.kubectl.run(['get', 'pod', `once${minor}`])).code, 1);
    });

    if (minor < 30) {
      test('run --rm -it in a terminal: the SPDY resize stream sizes the pty', async () => {
        const r = await h.kubectl.interactive(
          ['run', 'term', '--rm', '-it', '--restart=Never', '--image=busybox', '--', 'sh'],
          [
            // kubectl sends the terminal's size on its own stream, alongside the first keys: give it a moment to land
            { after: /If you don't see a command prompt, try pressing enter\./, type: 'sleep 2; stty size\n' },
            { after: /30 120/, type: 'exit 6\n' },
          ],
        );
        assert.match(r.output, /30 120/);
        assert.match(r.output, /pod "term" deleted/);
        assert.equal(r.code, 6);
      });
    }
  });
}
