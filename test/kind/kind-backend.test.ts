// The kind backend end to end against the fake kind/docker (test/kind/fake-kind), whose clusters
// are real embedded Kubernetes API servers: creation, the Calico install and its readiness waits,
// lab setup, kubeconfigs that work with client-node and kubectl, the pool's hand-out and reset,
// TTL disposal, failed creates, leftovers, and the bound on concurrent creates.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { KubeObject } from '../../server/apiserver/runtime.ts';
import type { LabEnvironmentSpec, ProvisionProgress } from '../../server/backends/types.ts';
import { ClusterApi } from '../../server/backends/kind/cluster-api.ts';
import { KindError, createKindBackend } from '../../server/backends/kind/index.ts';
import type { KindBackend } from '../../server/backends/kind/index.ts';
import { FakeWorld, JumpClock, listTree, overlapping } from './fake-world.ts';

const run = promisify(execFile);
const learner = { id: 'l1', name: 'Ada' };

const labSetup: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
    },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'lab-start', namespace: 'shop' },
    spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] },
  },
];
const lab: LabEnvironmentSpec = { labId: 'np-basics', setup: labSetup, externalHosts: [], images: ['nginx:1.27'] };

const worlds: FakeWorld[] = [];
const backends: KindBackend[] = [];
function world(env: Record<string, string> = {}): FakeWorld {
  const w = new FakeWorld(env);
  worlds.push(w);
  return w;
}
function backend(w: FakeWorld, extra: Parameters<FakeWorld['options']>[0] = {}): KindBackend {
  const b = createKindBackend(w.options(extra));
  backends.push(b);
  return b;
}
after(async () => {
  for (const b of backends) await b.close().catch(() => undefined);
  for (const w of worlds) await w.cleanup();
});

function networkPolicies(api: ClusterApi): Promise<string[]> {
  return api.list('networking.k8s.io/v1', 'NetworkPolicy').then((l) => l.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort());
}

// each test has its own fake world (kind, docker, state directory), so they can run side by side
describe('kind backend against the fake kind', { concurrency: 3 }, () => {
  test('provision: kind create with our config, images loaded, Calico applied and waited for, setup ready, kubeconfig works', async () => {
    const w = world();
    const b = backend(w);
    const progress: ProvisionProgress[] = [];
    const env = await b.provision({ learner, lab, onProgress: (p) => progress.push(p) });

    // the cluster kind was asked for
    const [create] = w.kindCalls('create cluster');
    assert.ok(create, 'kind create cluster was called');
    assert.equal(create.argv[create.argv.indexOf('--name') + 1], env.clusterName);
    assert.match(env.clusterName, /^kubelab-[a-z0-9]{10}$/);
    assert.ok(!create.argv.includes('--wait'));
    assert.equal(create.argv[create.argv.indexOf('--config') + 1], '-');
    const config = parse(create.stdin ?? '');
    assert.equal(config.networking.disableDefaultCNI, true);
    assert.equal(config.networking.podSubnet, '192.168.0.0/16');
    assert.equal(config.nodes[0].labels['kubelab.dev/owner'], b.state.owner);
    assert.match(create.argv[create.argv.indexOf('--image') + 1]!, /^kindest\/node:v1\.33\.\d+@sha256:[0-9a-f]{64}$/);

    // images preloaded: netshoot and Calico's first, the lab's at hand-out
    const loads = w.kindCalls('load docker-image').map((c) => c.argv.slice(4));
    assert.deepEqual(loads, [['nicolaka/netshoot:v0.16', 'docker.io/calico/node:v3.32.1', 'docker.io/calico/kube-controllers:v3.32.1'], ['nginx:1.27']]);

    // progress in the documented order
    const phases = progress.map((p) => p.phase).filter((p, i, all) => all[i - 1] !== p);
    assert.deepEqual(phases.slice(0, 4), ['creating-cluster', 'loading-images', 'installing-cni', 'waiting-ready']);
    assert.deepEqual(phases.slice(-3), ['loading-images', 'applying-setup', 'ready']);
    assert.equal(progress.find((p) => p.phase === 'creating-cluster')?.message, 'creating node');
    assert.equal(progress.find((p) => p.phase === 'installing-cni')?.message, 'installing Calico');

    // the environment
    assert.equal(env.backend, 'kind');
    assert.equal(env.dataPlane, 'calico');
    assert.equal(env.shellEnv.KUBECONFIG, env.kubeconfigPath);
    assert.equal(statSync(env.kubeconfigPath).mode & 0o777, 0o600);
    assert.match(env.server, /^https:\/\/127\.0\.0\.1:\d+/);

    // client-node with the learner's kubeconfig sees Calico and the lab
    const api = new ClusterApi(env.kubeconfig);
    assert.ok(await api.get('v1', 'ConfigMap', 'kube-system', 'calico-config'));
    assert.deepEqual((await api.list('v1', 'Pod', 'kube-system', 'k8s-app=calico-node')).map((p) => p.metadata.name), ['calico-node-fixture']);
    assert.deepEqual(await networkPolicies(api), ['shop/lab-start']);
    const webPods = await api.list('v1', 'Pod', 'shop', 'app=web');
    assert.equal(webPods.length, 1);
    assert.equal(webPods[0]!.status?.phase, 'Running');

    // and so does the real kubectl, through the learner's shell environment
    const { stdout } = await run('kubectl', ['get', 'ns'], { env: { ...process.env, ...env.shellEnv } });
    assert.match(stdout, /^NAME\s+STATUS\s+AGE/m);
    assert.match(stdout, /^kube-system\s+Active/m);
    assert.match(stdout, /^shop\s+Active/m);

    // dispose deletes the cluster and the learner's files
    assert.deepEqual(w.liveClusters(), [env.clusterName]);
    await env.dispose();
    await env.dispose(); // twice is harmless
    assert.deepEqual(w.liveClusters(), []);
    assert.deepEqual(listTree(b.state.environmentsDir), []);
    assert.deepEqual(listTree(b.state.clustersDir), []);
  });

  test('Calico waits: a manifest without calico-kube-controllers fails naming it, and leaves nothing', async () => {
    const w = world();
    const broken = w.writeFile(
      'calico-no-controllers.yaml',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: calico-node-x\n  namespace: kube-system\n  labels: {k8s-app: calico-node}\nspec:\n  containers:\n  - {name: calico-node, image: docker.io/calico/node:v3.32.1}\n',
    );
    const b = backend(w, { calicoManifest: broken, timeouts: { readyMs: 3000 } });
    const waiting: string[] = [];
    await assert.rejects(
      b.provision({ learner, lab, onProgress: (p) => p.phase === 'waiting-ready' && waiting.push(p.message) }),
      (err: unknown) => {
        assert.ok(err instanceof KindError);
        assert.equal(err.reason, 'not-ready');
        assert.equal(err.message, 'calico-kube-controllers (Deployment kube-system/calico-kube-controllers) was not ready after 3 s: calico-kube-controllers does not exist');
        return true;
      },
    );
    assert.ok(waiting.some((m) => m.startsWith('waiting for calico-kube-controllers: calico-kube-controllers does not exist')), waiting.join('\n'));
    assert.deepEqual(w.liveClusters(), []);
    assert.deepEqual(listTree(b.state.clustersDir), []);
    assert.deepEqual(listTree(b.state.environmentsDir), []);
  });

  test('a failed create deletes the half-made cluster and its kubeconfig and frees the slot', async () => {
    const w = world({ FAKE_KIND_CREATE_FAIL: '1' });
    const b = backend(w, { maxConcurrentCreates: 1 });
    await assert.rejects(b.provision({ learner, lab }), (err: unknown) => {
      assert.ok(err instanceof KindError);
      assert.equal(err.reason, 'create-failed');
      assert.match(err.message, /^kind could not create the cluster: ERROR: failed to create cluster: failed to init node with kubeadm/);
      return true;
    });
    const [create] = w.kindCalls('create cluster');
    const name = create!.argv[create!.argv.indexOf('--name') + 1];
    assert.ok(w.kindCalls('delete cluster').some((c) => c.argv.includes(name!)), 'the half-made cluster was deleted');
    assert.deepEqual(w.liveClusters(), []);
    assert.deepEqual(listTree(b.state.clustersDir), [], 'no record, no partial kubeconfig');
    // the only create slot was given back: the next provision (the fake now succeeds) goes through
    const env = await b.provision({ learner, lab: { ...lab, setup: [], images: [] } });
    assert.deepEqual(w.liveClusters(), [env.clusterName]);
    await env.dispose();
  });

  test('kind\'s inotify failure text becomes an inotify error with the sysctl fix', async () => {
    const w = world({
      FAKE_KIND_CREATE_FAIL: 'always',
      FAKE_KIND_CREATE_ERROR: 'failed to create cluster: failed to init node with kubeadm: Command Output: Failed to create control group inotify object: Too many open files',
    });
    const b = backend(w);
    await assert.rejects(b.provision({ learner, lab }), (err: unknown) => {
      assert.ok(err instanceof KindError);
      assert.equal(err.reason, 'inotify-limit');
      assert.match(err.message, /Fix: sysctl -w fs\.inotify\.max_user_watches=524288 fs\.inotify\.max_user_instances=512/);
      return true;
    });
    assert.deepEqual(w.liveClusters(), []);
  });

  test('a learner who leaves mid-provision gets no cluster, and none is left running', async () => {
    const w = world();
    const b = backend(w);
    const ac = new AbortController();
    await assert.rejects(
      b.provision({ learner, lab, signal: ac.signal, onProgress: (p) => p.phase === 'installing-cni' && ac.abort(new Error('tab closed')) }),
      (err: unknown) => err instanceof KindError && err.reason === 'aborted' && /tab closed/.test(err.message),
    );
    assert.deepEqual(w.liveClusters(), []);
    assert.deepEqual(listTree(b.state.clustersDir), []);
    assert.deepEqual(listTree(b.state.environmentsDir), []);
  });

  test('closing the backend during a provision deletes the cluster being made', async () => {
    const w = world();
    const b = backend(w);
    let closing: Promise<void> | undefined;
    const p = b.provision({ learner, lab, onProgress: (pr) => pr.phase === 'applying-setup' && (closing ??= b.close()) });
    await assert.rejects(p, (err: unknown) => err instanceof KindError && (err.reason === 'closed' || err.reason === 'aborted'));
    await closing;
    assert.deepEqual(w.liveClusters(), []);
    assert.deepEqual(b.environments(), []);
  });

  test('Docker not running and kind missing are reported at start-up', async () => {
    const down = backend(world({ FAKE_DOCKER_DOWN: '1' }));
    await assert.rejects(down.start(), (err: unknown) => err instanceof KindError && err.reason === 'docker-unavailable' && /^Docker is not running: Cannot connect to the Docker daemon/.test(err.message));
    await assert.rejects(down.provision({ learner, lab }), /^KindError: Docker is not running/);
    const w = world();
    const missing = backend(w, { kindBinary: '/nonexistent/kind' });
    await assert.rejects(missing.start(), (err: unknown) => err instanceof KindError && err.reason === 'kind-missing' && /^kind is not installed/.test(err.message));
  });

  test('leftovers with our prefix are deleted at start-up; other clusters are left alone', async () => {
    const w = world();
    const config = 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking: {disableDefaultCNI: true}\n';
    for (const name of ['kubelab-leftover01', 'someone-else']) {
      const r = w.kind(['create', 'cluster', '--name', name, '--config', '-', '--kubeconfig', w.writeFile(`${name}.kubeconfig`, '')], config);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.deepEqual(w.liveClusters(), ['kubelab-leftover01', 'someone-else']);
    const b = backend(w);
    await b.start();
    assert.deepEqual(w.liveClusters(), ['someone-else']);
    assert.ok(w.logs.some((l) => l === 'info: deleting leftover cluster kubelab-leftover01'));
    w.kind(['delete', 'cluster', '--name', 'someone-else']);
  });

  test('warm pool: a learner gets a ready cluster; on return it is reset (policies and namespaces gone) and handed out again', async () => {
    // the first create (the warm cluster) works; refills fail, so the returned cluster is the only
    // one the pool can hand out next
    const w = world({ FAKE_KIND_CREATE_FAIL_AFTER: '1' });
    const b = backend(w, { poolSize: 1, reuseClusters: true });
    await b.start();
    await b.poolSettled();
    assert.equal(b.stats().idle, 1);
    const [warm] = w.liveClusters();

    const progress: string[] = [];
    const first = await b.provision({ learner, lab, onProgress: (p) => progress.push(p.phase) });
    assert.equal(first.clusterName, warm, 'the warm cluster was handed out');
    assert.ok(!progress.includes('creating-cluster'), "no create on the learner's time");

    // the learner works: a namespace of their own, policies everywhere, a pod in default
    const api = new ClusterApi(first.kubeconfig);
    await api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch' } });
    for (const ns of ['scratch', 'shop', 'default']) {
      await api.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-all', namespace: ns }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } });
    }
    await api.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tmp', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nicolaka/netshoot:v0.16' }] } });
    assert.deepEqual(await networkPolicies(api), ['default/deny-all', 'scratch/deny-all', 'shop/deny-all', 'shop/lab-start']);
    await first.dispose();
    // (a failing refill's half-made cluster may exist for a moment too, until the backend deletes it)
    assert.ok(w.liveClusters().includes(warm!), 'returned to the pool, not deleted');
    assert.deepEqual(await networkPolicies(api), [], 'every NetworkPolicy removed on return');
    assert.equal(await api.get('v1', 'Namespace', undefined, 'scratch'), undefined);
    assert.equal(await api.get('v1', 'Namespace', undefined, 'shop'), undefined);
    assert.equal(await api.get('v1', 'Pod', 'default', 'tmp'), undefined);

    const second = await b.provision({ learner: { id: 'l2', name: 'Grace' }, lab });
    assert.equal(second.clusterName, warm, 'the same cluster handed out again');
    assert.notEqual(second.id, first.id);
    const api2 = new ClusterApi(second.kubeconfig);
    assert.deepEqual(await networkPolicies(api2), ['shop/lab-start'], "only the lab's starting state");
    assert.ok(await api2.get('apps/v1', 'Deployment', 'shop', 'web'), 'setup re-applied');
    for (let i = 0; i < 100 && b.stats().buildsFailed === 0; i++) await new Promise((r) => setTimeout(r, 200));
    assert.ok(b.stats().buildsFailed >= 1, 'the refill kept failing meanwhile');
    assert.ok(w.logs.some((l) => l.startsWith('warn: warm cluster build failed (retrying in 5 s)')), w.logs.join('\n'));
    await second.dispose();
    await b.close();
    assert.deepEqual(w.liveClusters(), [], 'close deletes idle and leased clusters, and failed refills left none');
  });

  test('TTL: an environment past its time limit is disposed by the reaper', async () => {
    const w = world();
    const clock = new JumpClock();
    const expired: string[] = [];
    const b = backend(w, { clock, ttlMs: 60_000, onExpired: (id) => expired.push(id) });
    const env = await b.provision({ learner, lab: { ...lab, setup: [], images: [] } });
    assert.deepEqual(await b.reapExpired(), []);
    clock.advance(59_000);
    assert.deepEqual(await b.reapExpired(), []);
    clock.advance(2_000);
    assert.deepEqual(await b.reapExpired(), [env.id]);
    assert.deepEqual(expired, [env.id]);
    assert.deepEqual(w.liveClusters(), []);
    assert.deepEqual(b.environments(), []);
  });

  test('creates never overlap beyond maxConcurrentCreates (and do overlap when allowed)', async () => {
    const slow = { FAKE_KIND_CREATE_DELAY_MS: '1500' };
    const empty = { ...lab, setup: [], images: [] };
    const w1 = world(slow);
    const one = backend(w1, { maxConcurrentCreates: 1 });
    const envs1 = await Promise.all([one.provision({ learner, lab: empty }), one.provision({ learner, lab: empty })]);
    assert.equal(overlapping(w1.kindCalls('create cluster')), 1);
    for (const e of envs1) await e.dispose();

    const w2 = world(slow);
    const two = backend(w2, { maxConcurrentCreates: 2 });
    const envs2 = await Promise.all([two.provision({ learner, lab: empty }), two.provision({ learner, lab: empty })]);
    assert.equal(overlapping(w2.kindCalls('create cluster')), 2);
    for (const e of envs2) await e.dispose();
  });

  test('kindnet: kind keeps its own CNI and the backend waits for the kindnet pods', async () => {
    const w = world();
    const b = backend(w, { cni: 'kindnet' });
    const env = await b.provision({ learner, lab: { ...lab, setup: [], images: [] } });
    const config = parse(w.kindCalls('create cluster')[0]!.stdin ?? '');
    assert.equal(config.networking.disableDefaultCNI, undefined);
    assert.equal(config.networking.podSubnet, '10.244.0.0/16');
    assert.equal(env.dataPlane, 'kindnet');
    const api = new ClusterApi(env.kubeconfig);
    assert.deepEqual((await api.list('v1', 'Pod', 'kube-system', 'k8s-app=kindnet')).map((p) => p.metadata.name), ['kindnet-fake0']);
    assert.equal(await api.get('v1', 'ConfigMap', 'kube-system', 'calico-config'), undefined, 'no Calico');
    await env.dispose();
  });

  test("external hosts: local routes on the node, listener pods and CoreDNS names at hand-out; all taken off at reset", async () => {
    // one warm cluster; refills fail, so the returned cluster is the one handed out next
    const w = world({ FAKE_KIND_CREATE_FAIL_AFTER: '1' });
    const b = backend(w, { poolSize: 1, reuseClusters: true });
    await b.start();
    await b.poolSettled();
    const externalHosts = [
      { names: [], address: '198.51.100.0/24', ports: [{ port: 443, kind: 'https' as const }, { port: 80, kind: 'http' as const }] },
      { names: ['api.stripe.com'], address: '192.0.2.44', ports: [{ port: 443, kind: 'https' as const }] },
      { names: ['collector.attacker.example'], address: '203.0.113.66', ports: [{ port: 443, kind: 'https' as const }] },
    ];
    const progress: string[] = [];
    const env = await b.provision({ learner, lab: { ...lab, externalHosts }, onProgress: (p) => progress.push(p.message) });
    assert.ok(progress.includes("adding the lab's external hosts"), progress.join('\n'));
    const node = `${env.clusterName}-control-plane`;

    // one fixed ip command per block and node, through docker exec
    const routeExecs = () => w.calls().filter((c) => c.tool === 'docker' && c.argv[0] === 'exec' && c.argv.includes('route')).map((c) => c.argv.slice(1).join(' '));
    assert.deepEqual(routeExecs(), [
      `${node} ip route replace local 198.51.100.0/24 dev lo table local`,
      `${node} ip route replace local 192.0.2.44/32 dev lo table local`,
      `${node} ip route replace local 203.0.113.66/32 dev lo table local`,
    ]);
    assert.deepEqual(w.nodeRoutes(node), ['198.51.100.0/24', '192.0.2.44/32', '203.0.113.66/32']);

    // a host-network listener pod per node, a socat container per port, Running and Ready
    const api = new ClusterApi(env.kubeconfig);
    const pods = await api.list('v1', 'Pod', 'kube-system', 'kubelab.dev/external-hosts=listener');
    assert.equal(pods.length, 1);
    const [pod] = pods;
    assert.equal(pod!.spec.hostNetwork, true);
    assert.equal(pod!.spec.nodeName, 'kubelab-control-plane');
    assert.equal(pod!.status?.phase, 'Running');
    assert.deepEqual(
      pod!.spec.containers.map((c: { name: string; image: string; command: string[] }) => `${c.name} ${c.image} ${c.command.slice(0, 2).join(' ')}`),
      [
        'https-443 nicolaka/netshoot:v0.16 socat OPENSSL-LISTEN:443,pf=ip4,fork,reuseaddr,cert=/etc/kubelab-external-hosts/tls.pem,verify=0',
        'http-80 nicolaka/netshoot:v0.16 socat TCP4-LISTEN:80,fork,reuseaddr',
      ],
    );
    const secret = await api.get('v1', 'Secret', 'kube-system', 'kubelab-external-hosts');
    assert.match(Buffer.from((secret!.data as Record<string, string>)['tls.pem']!, 'base64').toString(), /-----BEGIN CERTIFICATE-----[\s\S]*-----BEGIN PRIVATE KEY-----/);

    // the names in CoreDNS's hosts block, rolled out
    const corefile = async () => ((await api.get('v1', 'ConfigMap', 'kube-system', 'coredns'))!.data as Record<string, string>).Corefile!;
    assert.match(await corefile(), /\.:53 \{\n {4}# kubelab external hosts: begin.*\n {4}hosts \{\n {8}192\.0\.2\.44 api\.stripe\.com\n {8}203\.0\.113\.66 collector\.attacker\.example\n {8}fallthrough\n {4}\}\n {4}# kubelab external hosts: end\n/);
    const coredns = async () => (await api.get('apps/v1', 'Deployment', 'kube-system', 'coredns'))!;
    assert.match((await coredns()).spec.template.metadata.annotations['kubelab.dev/external-hosts'], /^[0-9a-f]{12}$/);
    assert.equal((await coredns()).status.updatedReplicas, (await coredns()).spec.replicas);

    // returned: every part taken off again, and the cluster goes back to the pool
    await env.dispose();
    assert.ok(w.liveClusters().includes(env.clusterName), `reset and kept, not deleted:\n${w.logs.join('\n')}`);
    assert.deepEqual(routeExecs().slice(3), [
      `${node} ip route del local 198.51.100.0/24 dev lo table local`,
      `${node} ip route del local 192.0.2.44/32 dev lo table local`,
      `${node} ip route del local 203.0.113.66/32 dev lo table local`,
    ]);
    assert.deepEqual(w.nodeRoutes(node), []);
    assert.deepEqual(await api.list('v1', 'Pod', 'kube-system', 'kubelab.dev/external-hosts=listener'), []);
    assert.equal(await api.get('v1', 'Secret', 'kube-system', 'kubelab-external-hosts'), undefined);
    assert.doesNotMatch(await corefile(), /kubelab|hosts \{/);
    assert.equal((await coredns()).spec.template.metadata.annotations?.['kubelab.dev/external-hosts'], undefined);

    // the next learner's lab has none: nothing is added
    const next = await b.provision({ learner, lab: { ...lab, setup: [], images: [] } });
    assert.equal(next.clusterName, env.clusterName);
    assert.equal(routeExecs().length, 6);
    await next.dispose();
    await b.close();
  });

  test('external hosts a kind node cannot serve are refused naming the field, and the cluster is not handed out', async () => {
    const w = world();
    const b = backend(w);
    const externalHosts = [
      { names: ['a.example'], address: '192.0.2.1', ports: [{ port: 443, kind: 'https' as const }] },
      { names: ['b.example'], address: '192.0.2.2', ports: [{ port: 443, kind: 'tcp' as const }] },
    ];
    await assert.rejects(b.provision({ learner, lab: { ...lab, setup: [], images: [], externalHosts } }), (err: unknown) => {
      assert.ok(err instanceof KindError);
      assert.equal(err.reason, 'setup-failed');
      assert.match(err.message, /externalHosts\[1\]\.ports\[0\]: port 443 is tcp here but https for externalHosts\[0\]/);
      return true;
    });
    await assert.rejects(
      b.provision({ learner, lab: { ...lab, setup: [], images: [], externalHosts: [{ names: [], address: '192.0.2.9', ports: [{ port: 10250 }] }] } }),
      /externalHosts\[0\]\.ports\[0\]\.port: 10250 is held by the kubelet on every kind node/,
    );
    assert.deepEqual(w.liveClusters(), []);
    assert.deepEqual(b.environments(), []);
  });

  test('none: a plain pod network is written onto the node through docker exec', async () => {
    const w = world();
    const b = backend(w, { cni: 'none' });
    const env = await b.provision({ learner, lab: { ...lab, setup: [], images: [] } });
    assert.equal(env.dataPlane, 'none');
    const execs = w.calls().filter((c) => c.tool === 'docker' && c.argv[0] === 'exec');
    assert.equal(execs.length, 1);
    assert.deepEqual(execs[0]!.argv.slice(0, 3), ['exec', '-i', `${env.clusterName}-control-plane`]);
    const conf = JSON.parse(execs[0]!.stdin ?? '{}');
    assert.equal(conf.plugins[0].type, 'ptp');
    assert.match(conf.plugins[0].ipam.ranges[0][0].subnet, /^10\.244\.\d+\.0\/\d+$/);
    await env.dispose();
  });
});
