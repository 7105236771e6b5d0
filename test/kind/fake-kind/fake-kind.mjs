#!/usr/bin/env node
// A fake `kind` for hosts without Docker. It takes the same arguments as kind v0.32 and answers
// the same way on stdout/stderr, but a "cluster" is an embedded kubelab cluster (`kubelab cluster
// up`) running in the background, so everything after `kind create cluster` — applying Calico's
// manifest, readiness waits, the lab's setup, kubectl — happens for real against a Kubernetes API.
//
// What it stands in for, and how:
// - create cluster: starts the embedded cluster, writes the kubeconfig to --kubeconfig (and only
//   there). With kind's default CNI (disableDefaultCNI not set) it also puts a kindnet pod in
//   kube-system, as kind's node image does. The embedded data planes all enforce NetworkPolicy,
//   so a `none` cluster here still enforces: the fake checks the kind side of `none` (the node
//   config written through docker exec), not the network's behaviour.
// - get clusters / get nodes / delete cluster / load docker-image / version: as kind.
// - the outside world: FAKE_KIND_EXTERNAL_HOSTS (a lab's externalHosts as JSON, inline or a file)
//   are hosts every cluster's embedded data plane answers (`cluster up --external-hosts`), as the
//   internet answers a real node. Reaching them from pods on real kind needs the routes, the
//   listener pods and the CoreDNS names the backend adds; the fake keeps the routes each node was
//   given (see fake-docker.mjs) so tests can check them.
//
// Faults, from the environment:
//   FAKE_DOCKER_DOWN=1              every command fails as kind does when Docker is not running
//   FAKE_KIND_CREATE_FAIL=always|N  creates fail (N: the next N creates, counted in the state dir)
//   FAKE_KIND_CREATE_FAIL_AFTER=N   every create after the first N fails
//   FAKE_KIND_CREATE_ERROR=text     the error creates fail with (default: kubeadm init failed)
//   FAKE_KIND_CREATE_DELAY_MS=ms    a slow create
//   FAKE_KIND_DATAPLANE=name        data plane for every cluster (KUBELAB_DATAPLANE of cluster up)
// A failed create leaves the half-made cluster running and a partial kubeconfig behind, as a kind
// killed mid-create leaves its node containers: whoever called it must clean up.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  DOCKER_DOWN,
  alive,
  dockerDown,
  liveClusters,
  readCluster,
  readStdin,
  recordCall,
  removeCluster,
  sleep,
  stateDir,
  stopProcessGroup,
  writeCluster,
} from './world.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const argv = process.argv.slice(2);

function flag(name) {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq ? eq.slice(name.length + 1) : undefined;
}

function fail(message, code = 1) {
  process.stderr.write(`ERROR: ${message}\n`);
  process.exit(code);
}

function dockerDownExit(what) {
  fail(
    `${what}: command "docker ps -a --filter label=io.x-k8s.kind.cluster --format '{{.Label "io.x-k8s.kind.cluster"}}'" failed with error: exit status 1\nCommand Output: ${DOCKER_DOWN}`,
  );
}

function takeInjectedFailure() {
  const creates = join(stateDir(), 'creates');
  const n = Number(existsSync(creates) ? readFileSync(creates, 'utf8') : '0') + 1;
  writeFileSync(creates, String(n));
  const after = process.env.FAKE_KIND_CREATE_FAIL_AFTER;
  if (after !== undefined && n > Number(after)) return true;
  const mode = process.env.FAKE_KIND_CREATE_FAIL;
  if (!mode) return false;
  if (mode === 'always') return true;
  const counter = join(stateDir(), 'create-failures-used');
  const used = Number(existsSync(counter) ? readFileSync(counter, 'utf8') : '0');
  if (used >= Number(mode)) return false;
  writeFileSync(counter, String(used + 1));
  return true;
}

/** Start `kubelab cluster up` detached (it outlives this command, as kind's containers do). */
async function startEmbedded(name, kubeconfig, dataplane) {
  const log = join(stateDir(), 'clusters', `${name}.log`);
  const out = openSync(log, 'a');
  const env = { ...process.env };
  if (dataplane) env.KUBELAB_DATAPLANE = dataplane;
  // FAKE_KIND_UP_ENTRY: another program taking `cluster up` arguments (default: the kubelab CLI)
  const entry = process.env.FAKE_KIND_UP_ENTRY ?? join(repo, 'server/cli/main.ts');
  const external = process.env.FAKE_KIND_EXTERNAL_HOSTS ? ['--external-hosts', process.env.FAKE_KIND_EXTERNAL_HOSTS] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', entry, 'cluster', 'up', '--kubeconfig', kubeconfig, '--id', name, ...external], {
    cwd: repo,
    env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  const deadline = Date.now() + Number(process.env.FAKE_KIND_BOOT_TIMEOUT_MS ?? 90_000);
  while (Date.now() < deadline) {
    const text = readFileSync(log, 'utf8');
    if (/\bready\b/.test(text) && existsSync(kubeconfig)) return child.pid;
    if (!alive(child.pid)) fail(`failed to create cluster: the node exited while booting:\n${text.split('\n').slice(-5).join('\n')}`);
    await sleep(100);
  }
  await stopProcessGroup(child.pid);
  fail(`failed to create cluster: could not find a log line that matches "Reached target .*Multi-User System.*|detected cgroup v1"`);
}

function kubectl(kubeconfig, args, input) {
  const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8' });
  if (r.status !== 0) fail(`failed to create cluster: failed to install CNI: ${r.stderr || r.stdout}`);
}

/** What kind's node image installs when its default CNI is on: one kindnetd pod per node. */
const KINDNET_POD = `apiVersion: v1
kind: Pod
metadata:
  name: kindnet-fake0
  namespace: kube-system
  labels: {app: kindnet, k8s-app: kindnet, tier: node}
spec:
  containers:
  - name: kindnet-cni
    image: docker.io/kindest/kindnetd:v20250512-df8de77b
`;

async function createCluster(stdin) {
  const name = flag('--name') ?? 'kind';
  const kubeconfig = flag('--kubeconfig');
  const image = flag('--image') ?? 'kindest/node:default';
  if (flag('--config') !== '-') fail('this fake only reads its config from stdin (--config -)');
  if (!kubeconfig) fail('this fake needs --kubeconfig (kubelab always passes it)');
  if (argv.includes('--wait')) fail('--wait is not expected: without a CNI it only burns time');
  if (dockerDown()) dockerDownExit('failed to create cluster: failed to list nodes');
  const existing = readCluster(name);
  if (existing && alive(existing.pid)) fail(`failed to create cluster: node(s) already exist for a cluster with the name "${name}"`);
  let config;
  try {
    config = parse(stdin) ?? {};
  } catch (err) {
    fail(`failed to create cluster: failed to parse config: ${err.message}`);
  }
  process.stderr.write(`Creating cluster "${name}" ...\n ✓ Ensuring node image (${image}) 🖼\n`);
  const delay = Number(process.env.FAKE_KIND_CREATE_DELAY_MS ?? 0);
  if (delay > 0) await sleep(delay);
  const cni = config?.nodes?.[0]?.labels?.['kubelab.dev/cni'] ?? (config?.networking?.disableDefaultCNI ? 'custom' : 'kindnet');
  const dataplane = process.env.FAKE_KIND_DATAPLANE;
  const injected = takeInjectedFailure();
  const pid = await startEmbedded(name, kubeconfig, dataplane);
  writeCluster({ name, pid, kubeconfig: resolve(kubeconfig), cni, image, config: stdin, createdAt: Date.now() });
  process.stderr.write(' ✓ Preparing nodes 📦\n ✓ Writing configuration 📜\n');
  if (injected) {
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n');
    fail(
      process.env.FAKE_KIND_CREATE_ERROR ??
        `failed to create cluster: failed to init node with kubeadm: command "docker exec --privileged ${name}-control-plane kubeadm init --skip-phases=preflight --config=/kind/kubeadm.conf --skip-token-print --v=6" failed with error: exit status 1`,
    );
  }
  process.stderr.write(' ✓ Starting control-plane 🕹️\n');
  if (!config?.networking?.disableDefaultCNI) {
    kubectl(kubeconfig, ['apply', '-f', '-'], KINDNET_POD);
    process.stderr.write(' ✓ Installing CNI 🔌\n');
  }
  process.stderr.write(` ✓ Installing StorageClass 💾\nSet kubectl context to "kind-${name}"\n`);
}

async function main() {
  const stdin = argv[0] === 'create' ? readStdin() : '';
  recordCall('kind', argv, stdin);
  const [a, b] = argv;
  if (a === 'version') {
    process.stdout.write('kind v0.32.0 go1.24.4 linux/amd64 (kubelab test fake)\n');
    return;
  }
  if (a === 'create' && b === 'cluster') return createCluster(stdin);
  if (a === 'get' && b === 'clusters') {
    if (dockerDown()) dockerDownExit('failed to list clusters');
    const live = liveClusters();
    if (live.length === 0) process.stderr.write('No kind clusters found.\n');
    for (const c of live) process.stdout.write(`${c.name}\n`);
    return;
  }
  if (a === 'get' && b === 'nodes') {
    if (dockerDown()) dockerDownExit('failed to list nodes');
    const name = flag('--name') ?? 'kind';
    const rec = readCluster(name);
    if (!rec || !alive(rec.pid)) {
      process.stderr.write(`No kind nodes found for cluster "${name}".\n`);
      return;
    }
    process.stdout.write(`${name}-control-plane\n`);
    return;
  }
  if (a === 'delete' && b === 'cluster') {
    if (dockerDown()) dockerDownExit('failed to delete cluster');
    const name = flag('--name') ?? 'kind';
    process.stderr.write(`Deleting cluster "${name}" ...\n`);
    const rec = readCluster(name);
    if (rec) {
      await stopProcessGroup(rec.pid);
      removeCluster(name);
      process.stderr.write(`Deleted nodes: ["${name}-control-plane"]\n`);
    }
    return;
  }
  if (a === 'load' && b === 'docker-image') {
    if (dockerDown()) dockerDownExit('failed to load image');
    const name = flag('--name') ?? 'kind';
    const rec = readCluster(name);
    if (!rec || !alive(rec.pid)) fail(`no nodes found for cluster "${name}"`);
    for (const image of imagesFrom(argv.slice(2))) process.stderr.write(`Image: "${image}" with ID "sha256:fake" not yet present on node "${name}-control-plane", loading...\n`);
    return;
  }
  fail(`unknown command "${argv.join(' ')}" for "kind" (this fake implements version, create/delete cluster, get clusters/nodes, load docker-image)`);
}

/** Positional arguments of `load docker-image`: everything that is not a flag or a flag's value. */
function imagesFrom(args) {
  const out = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--name' || args[i] === '--nodes') {
      i++;
      continue;
    }
    if (args[i].startsWith('--')) continue;
    out.push(args[i]);
  }
  return out;
}

main().catch((err) => fail(err?.stack ?? String(err)));
