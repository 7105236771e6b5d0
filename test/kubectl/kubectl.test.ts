// The real kubectl against a fresh embedded cluster: what a learner types in the lab, and what
// they must see (the same as on a kind cluster). Skips with the reason when kubectl is absent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findKubectl, startHarness, uniqueClusterId, type Harness } from './harness.ts';

const found = findKubectl();
const skip = 'skip' in found ? found.skip : false;
if (skip) process.stdout.write(`# kubectl conformance skipped: ${skip}\n`);

const NETPOL = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-web
  namespace: default
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: client
    ports:
    - port: 80
      protocol: TCP
`;

const WEB = (port: number, image = 'nginx:1.25') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: ${image}
        ports:
        - containerPort: ${port}
          name: http
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: http
`;

describe('kubectl against the embedded API', { skip }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness((found as { path: string }).path);
    if (h.note) process.stdout.write(`# ${h.note}\n`);
  });
  after(async () => {
    await h?.close();
  });

  test('version: the dispatcher picks 1.32 from the server', async () => {
    const out = await h.kubectl.ok(['version']);
    assert.match(out, /Server Version: v1\.32\.\d+/);
  });

  test('apply: created, unchanged, configured (NetworkPolicy)', async () => {
    const file = h.kubectl.write('netpol.yaml', NETPOL);
    assert.equal((await h.kubectl.ok(['apply', '-f', file])).trim(), 'networkpolicy.networking.k8s.io/allow-web created');
    assert.equal((await h.kubectl.ok(['apply', '-f', file])).trim(), 'networkpolicy.networking.k8s.io/allow-web unchanged');
    h.kubectl.write('netpol.yaml', NETPOL.replace('role: client', 'role: frontend'));
    assert.equal((await h.kubectl.ok(['apply', '-f', file])).trim(), 'networkpolicy.networking.k8s.io/allow-web configured');
    const sel = await h.kubectl.ok(['get', 'netpol', 'allow-web', '-o', 'jsonpath={.spec.ingress[0].from[0].podSelector.matchLabels.role} {.spec.policyTypes}']);
    assert.equal(sel, 'frontend ["Ingress"]');
    const table = await h.kubectl.ok(['get', 'networkpolicies']);
    assert.match(table, /^NAME\s+POD-SELECTOR\s+AGE\nallow-web\s+app=web\s+\d+s\n$/);
  });

  test('apply: a Deployment and Service, then a container port edit through a strategic merge patch', async () => {
    const file = h.kubectl.write('web.yaml', WEB(80));
    assert.equal(await h.kubectl.ok(['apply', '-f', file]), 'deployment.apps/web created\nservice/web created\n');
    assert.equal(await h.kubectl.ok(['apply', '-f', file]), 'deployment.apps/web unchanged\nservice/web unchanged\n');
    await h.kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    h.kubectl.write('web.yaml', WEB(8080));
    assert.equal(await h.kubectl.ok(['apply', '-f', file]), 'deployment.apps/web configured\nservice/web unchanged\n');
    assert.match(await h.kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=30s']), /deployment "web" successfully rolled out/);
    const ports = await h.kubectl.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].ports}']);
    assert.equal(ports, '[{"containerPort":8080,"name":"http","protocol":"TCP"}]', 'the merge kept name and protocol and replaced the port');
    assert.equal(await h.kubectl.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:1.25', 'the image survived the patch');
    assert.equal(await h.kubectl.ok(['apply', '-f', file]), 'deployment.apps/web unchanged\nservice/web unchanged\n');
    await h.cluster.settle();
    const eps = await h.kubectl.ok(['get', 'endpoints', 'web', '-o', 'jsonpath={.subsets[0].ports[0].port} {range .subsets[0].addresses[*]}{.ip} {end}']);
    assert.match(eps, /^8080 10\.244\.\d+\.\d+ 10\.244\.\d+\.\d+ $/, 'the named targetPort resolved to the new container port');
    const deploy = await h.kubectl.ok(['get', 'deploy', 'web']);
    assert.match(deploy, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+2\/2\s+2\s+2\s+\d+s\n$/);
  });

  test('get: -o wide, --show-labels, -l, -A, -o yaml, -o jsonpath', async () => {
    const wide = await h.kubectl.ok(['get', 'pods', '-o', 'wide', '-l', 'app=web']);
    const lines = wide.trimEnd().split('\n');
    assert.match(lines[0], /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
    assert.equal(lines.length, 3);
    for (const l of lines.slice(1)) assert.match(l, /^web-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running\s+0\s+\d+s\s+10\.244\.\d+\.\d+\s+kubelab-control-plane\s+<none>\s+<none>$/);
    const labels = await h.kubectl.ok(['get', 'pods', '-l', 'app=web', '--show-labels']);
    assert.match(labels.split('\n')[0], /\sLABELS$/);
    assert.match(labels.split('\n')[1], /\sapp=web,pod-template-hash=[a-z0-9]+$/);
    const none = await h.kubectl.run(['get', 'pods', '-l', 'app in (nothing)']);
    assert.equal(none.stdout, '');
    assert.equal(none.stderr.trim(), 'No resources found in default namespace.');
    const all = await h.kubectl.ok(['get', 'pods', '-A']);
    assert.match(all.split('\n')[0], /^NAMESPACE\s+NAME\s+READY/);
    assert.match(all, /\nkube-system\s+coredns-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running/);
    const svcWide = await h.kubectl.ok(['get', 'svc', 'web', '-o', 'wide']);
    assert.match(svcWide, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR\nweb\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s\s+app=web\n$/);
    const yaml = await h.kubectl.ok(['get', 'svc', 'web', '-o', 'yaml']);
    assert.match(yaml, /^apiVersion: v1\nkind: Service\nmetadata:\n/);
    assert.match(yaml, /\n  sessionAffinity: None\n/);
    assert.match(yaml, /\n    targetPort: http\n/);
    assert.equal(await h.kubectl.ok(['get', 'ns', 'default', '-o', 'jsonpath={.metadata.labels.kubernetes\\.io/metadata\\.name} {.status.phase}']), 'default Active');
    assert.match(await h.kubectl.ok(['get', 'nodes']), /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nkubelab-control-plane\s+Ready\s+control-plane\s+\d+s\s+v1\.32\.\d+\n$/);
    assert.match(await h.kubectl.ok(['get', 'ns']), /^NAME\s+STATUS\s+AGE\ndefault\s+Active\s+\d+s\nkube-node-lease\s+Active\s+\d+s\nkube-public\s+Active\s+\d+s\nkube-system\s+Active\s+\d+s\n$/);
  });

  test('describe: networkpolicy, pod, namespace, service', async () => {
    const np = await h.kubectl.ok(['describe', 'networkpolicy', 'allow-web']);
    assert.match(np, /^Name:\s+allow-web\nNamespace:\s+default\n/);
    assert.match(np, /PodSelector:\s+app=web\n/);
    assert.match(np, /To Port: 80\/TCP\n\s+From:\n\s+PodSelector: role=frontend\n/);
    assert.match(np, /Policy Types: Ingress/);
    const podName = (await h.kubectl.ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const pod = await h.kubectl.ok(['describe', 'pod', podName]);
    assert.match(pod, /\nStatus:\s+Running\n/);
    assert.match(pod, /\nControlled By:\s+ReplicaSet\/web-[a-z0-9]+\n/);
    assert.match(pod, /\n\s+Port:\s+8080\/TCP\n/);
    assert.match(pod, /\nEvents:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
    assert.match(pod, /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/web-[a-z0-9-]+ to kubelab-control-plane\n/);
    assert.match(pod, /Normal\s+Started\s+\S+\s+kubelet\s+Started container nginx\n/);
    const ns = await h.kubectl.ok(['describe', 'namespace', 'default']);
    assert.equal(ns, 'Name:         default\nLabels:       kubernetes.io/metadata.name=default\nAnnotations:  <none>\nStatus:       Active\n\nNo resource quota.\n\nNo LimitRange resource.\n');
    const svc = await h.kubectl.ok(['describe', 'service', 'web']);
    assert.match(svc, /\nSelector:\s+app=web\n/);
    assert.match(svc, /\nTargetPort:\s+http\/TCP\n/);
    assert.match(svc, /\nEndpoints:\s+10\.244\.\d+\.\d+:8080,10\.244\.\d+\.\d+:8080\n/);
  });

  test('label --overwrite, then select by the new label', async () => {
    const r = await h.kubectl.run(['label', 'deploy', 'web', 'tier=front']);
    assert.equal(r.stdout.trim(), 'deployment.apps/web labeled');
    const clash = await h.kubectl.run(['label', 'deploy', 'web', 'tier=back']);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /'tier' already has a value \(front\), and --overwrite is false/);
    assert.equal((await h.kubectl.ok(['label', 'deploy', 'web', 'tier=back', '--overwrite'])).trim(), 'deployment.apps/web labeled');
    assert.equal(await h.kubectl.ok(['get', 'deploy', '-l', 'tier=back', '-o', 'name']), 'deployment.apps/web\n');
    assert.equal((await h.kubectl.ok(['label', 'deploy', 'web', 'tier-'])).trim(), 'deployment.apps/web unlabeled');
  });

  test('create namespace / deployment / configmap (protobuf request bodies)', async () => {
    assert.equal((await h.kubectl.ok(['create', 'namespace', 'team-a'])).trim(), 'namespace/team-a created');
    assert.equal((await h.kubectl.ok(['create', 'deployment', 'api', '--image=nginx', '--port=80', '--replicas=2', '-n', 'team-a'])).trim(), 'deployment.apps/api created');
    assert.equal((await h.kubectl.ok(['create', 'configmap', 'settings', '--from-literal=mode=strict', '-n', 'team-a'])).trim(), 'configmap/settings created');
    assert.equal(await h.kubectl.ok(['get', 'cm', 'settings', '-n', 'team-a', '-o', 'jsonpath={.data.mode}']), 'strict');
    await h.kubectl.ok(['rollout', 'status', 'deploy/api', '-n', 'team-a', '--timeout=30s']);
    const dup = await h.kubectl.run(['create', 'namespace', 'team-a']);
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr.trim(), 'Error from server (AlreadyExists): namespaces "team-a" already exists');
  });

  test('wait --for=condition=Ready, logs of a missing pod, get events', async () => {
    await h.kubectl.ok(['run', 'waiter', '--image=nginx', '--labels=app=waiter']);
    assert.equal((await h.kubectl.ok(['wait', '--for=condition=Ready', 'pod/waiter', '--timeout=30s'])).trim(), 'pod/waiter condition met');
    const events = await h.kubectl.ok(['get', 'events', '--field-selector', 'involvedObject.name=waiter']);
    assert.match(events, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
    for (const reason of ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']) assert.match(events, new RegExp(`\\sNormal\\s+${reason}\\s+pod/waiter\\s`), reason);
    const missing = await h.kubectl.run(['logs', 'nope']);
    assert.equal(missing.stderr.trim(), 'error: error from server (NotFound): pods "nope" not found in namespace "default"');
  });

  test('delete: a pod goes, and a namespace cascades', async () => {
    assert.equal((await h.kubectl.ok(['delete', 'pod', 'waiter'])).trim(), 'pod "waiter" deleted');
    const gone = await h.kubectl.run(['get', 'pod', 'waiter']);
    assert.equal(gone.stderr.trim(), 'Error from server (NotFound): pods "waiter" not found');
    assert.equal((await h.kubectl.ok(['delete', 'namespace', 'team-a'])).trim(), 'namespace "team-a" deleted');
    const ns = await h.kubectl.run(['get', 'ns', 'team-a']);
    assert.equal(ns.stderr.trim(), 'Error from server (NotFound): namespaces "team-a" not found');
    assert.equal(h.cluster.state.list('pods', 'team-a').length, 0);
    assert.equal(h.cluster.state.list('deployments', 'team-a').length, 0);
  });

  test('explain networkpolicy.spec', async () => {
    const out = await h.kubectl.ok(['explain', 'networkpolicy.spec']);
    assert.match(out, /^GROUP:\s+networking\.k8s\.io\nKIND:\s+NetworkPolicy\nVERSION:\s+v1\n/);
    assert.match(out, /FIELD: spec <NetworkPolicySpec>/);
    assert.match(out, /\n  podSelector\s+<LabelSelector>( -required-)?\n/);
    assert.match(out, /\n  policyTypes\s+<\[\]string>\n/);
  });

  test('errors read like kube-apiserver: invalid policy, unknown field, missing namespace', async () => {
    const bad = h.kubectl.write('bad.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\nspec:\n  podSelector: {}\n  policyTypes: [egress]\n');
    const r = await h.kubectl.run(['apply', '-f', bad]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'The NetworkPolicy "np" is invalid: spec.policyTypes[0]: Unsupported value: "egress": supported values: "Ingress", "Egress"');
    const unknown = h.kubectl.write('unknown.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np2\nspec:\n  podSelector: {}\n  Egress: []\n');
    const u = await h.kubectl.run(['apply', '-f', unknown]);
    assert.equal(u.code, 1);
    assert.equal(u.stderr.trim(), 'Error from server (BadRequest): error when creating "unknown.yaml": NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: strict decoding error: unknown field "spec.Egress"');
    const lenient = await h.kubectl.run(['apply', '-f', unknown, '--validate=false']);
    assert.equal(lenient.stdout.trim(), 'networkpolicy.networking.k8s.io/np2 created');
    const missingNs = await h.kubectl.run(['create', 'configmap', 'x', '-n', 'nowhere']);
    assert.equal(missingNs.stderr.trim(), 'error: failed to create configmap: namespaces "nowhere" not found');
  });

  test('exec: output, stdin, and the exit code of the command', async () => {
    await h.kubectl.ok(['run', 'shell', '--image=nicolaka/netshoot', '--labels=app=shell', '--', 'sleep', 'infinity']);
    await h.kubectl.ok(['wait', '--for=condition=Ready', 'pod/shell', '--timeout=30s']);
    const r = await h.kubectl.run(['exec', 'shell', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /err\n/);
    assert.match(r.stderr, /command terminated with exit code 3/);
    assert.equal(await h.kubectl.ok(['exec', '-i', 'shell', '--', 'cat'], { input: 'piped through\n' }), 'piped through\n');
    const none = await h.kubectl.run(['exec', 'nope', '--', 'true']);
    assert.equal(none.stderr.trim(), 'Error from server (NotFound): pods "nope" not found');
  });

  test('run --rm -it --restart=Never --labels: create, wait, attach a terminal, type, exit, delete', async () => {
    const marker = `m${Date.now()}`;
    const r = await h.kubectl.interactive(
      ['run', 'client', '--rm', '-it', '--restart=Never', '--image=busybox', '--labels=app=client,role=probe', '--', 'sh'],
      [
        { after: /If you don't see a command prompt, try pressing enter\./, type: `echo ${marker}-$((6*7))\n` },
        { after: new RegExp(`${marker}-42`), type: 'exit\n' },
      ],
    );
    assert.match(r.output, new RegExp(`${marker}-42`));
    assert.match(r.output, /pod "client" deleted/);
    const gone = await h.kubectl.run(['get', 'pod', 'client']);
    assert.equal(gone.stderr.trim(), 'Error from server (NotFound): pods "client" not found');
  });

  test('credentials: a wrong token is 401, another cluster\'s token is refused', async () => {
    const wrong = await h.kubectl.run(['get', 'pods', '--token', 'not-a-token']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
    const other = await h.host.createCluster({ id: uniqueClusterId('o'), runtime: (await import('./fixture-runtime.ts')).createFixtureRuntime(), network: h.cluster.network });
    try {
      const foreign = await h.kubectl.run(['get', 'pods', '--token', other.token]);
      assert.equal(foreign.code, 1);
      assert.match(foreign.stderr, /Error from server \(Forbidden\)/);
      assert.doesNotMatch(foreign.stdout, /web-/);
    } finally {
      await other.dispose();
    }
  });
});
