import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ClusterNetworkOptions, ClusterStateView, ContainerRef, KubeObject, RuntimeHooks } from '../apiserver/runtime.ts';
import { createProcessRuntime, IpAllocator, mainCommand } from './process.ts';

const network: ClusterNetworkOptions = { podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local', nodeName: 'node-1', externalHosts: [] };
const view: ClusterStateView = { clusterId: 'c1', list: () => [], get: () => undefined, subscribe: () => () => {} };

function hooks() {
  const exited: Array<[ContainerRef, number]> = [];
  const logs: string[] = [];
  const h: RuntimeHooks = { containerExited: (ref, code) => exited.push([ref, code]), log: (_ref, line) => logs.push(line) };
  return { h, exited, logs };
}

function pod(name: string, container: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', ...container }] } };
}

async function collect(stream: Readable | null): Promise<string> {
  if (!stream) return '';
  let out = '';
  for await (const chunk of stream) out += chunk.toString();
  return out;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('pod addresses: network and gateway skipped, freed ones reused lowest first', () => {
  const ips = new IpAllocator('10.244.0.0/30');
  assert.equal(ips.allocate(), '10.244.0.2');
  assert.throws(() => ips.allocate(), /exhausted/);
  ips.release('10.244.0.2');
  assert.equal(ips.allocate(), '10.244.0.2');
  const big = new IpAllocator('10.244.7.9/16');
  assert.deepEqual([big.allocate(), big.allocate(), big.allocate()], ['10.244.0.2', '10.244.0.3', '10.244.0.4']);
  big.release('10.244.0.3');
  assert.equal(big.allocate(), '10.244.0.3');
  assert.throws(() => new IpAllocator('10.244.0.0'), /podCIDR "10.244.0.0" is not an IPv4 CIDR/);
  assert.throws(() => new IpAllocator('10.244.0.0/31'), /not a usable/);
});

const mains: Array<[string, Record<string, unknown>, string[] | undefined]> = [
  ['kubectl run -it -- sh', { image: 'busybox', args: ['sh'] }, ['sh']],
  ['explicit command with args', { image: 'busybox', command: ['sh', '-c'], args: ['sleep 1'] }, ['sh', '-c', 'sleep 1']],
  ['nginx with only ports', { image: 'nginx:1.27', ports: [{ containerPort: 80 }] }, undefined],
  ['http-echo flags', { image: 'hashicorp/http-echo', args: ['-text=hello'] }, undefined],
  ['server image with positional args', { image: 'nginx', args: ['nginx', '-g', 'daemon off;'] }, undefined],
  ['busybox without a command', { image: 'busybox' }, undefined],
];
for (const [name, c, expected] of mains) {
  test(`main process: ${name}`, () => assert.deepEqual(mainCommand({ name: 'c', ...c }), expected));
}

test('exec runs in the pod directory with HOSTNAME, reports stderr and the exit code', async () => {
  const { h } = hooks();
  const base = mkdtempSync(join(tmpdir(), 'kubelab-test-'));
  const runtime = createProcessRuntime({ baseDir: base });
  const cluster = await runtime.attach(view, network, h);
  try {
    const started = await cluster.startPod(pod('web', { image: 'nginx', ports: [{ containerPort: 80 }] }));
    assert.equal(started.podIP, '10.244.0.2');
    const second = await cluster.startPod(pod('api', { image: 'nginx' }));
    assert.equal(second.podIP, '10.244.0.3');
    const s = await cluster.exec({ namespace: 'default', pod: 'web', container: 'c' }, { command: ['sh', '-c', 'echo $HOSTNAME; pwd; echo oops >&2; exit 3'], tty: false, stdin: false, stdout: true, stderr: true });
    const [out, err, exit] = await Promise.all([collect(s.stdout), collect(s.stderr), s.exit]);
    const [host, cwd] = out.trim().split('\n');
    assert.equal(host, 'web');
    assert.ok(cwd.startsWith(base), `cwd ${cwd} is under ${base}`);
    assert.equal(err, 'oops\n');
    assert.equal(exit.exitCode, 3);
    await assert.rejects(cluster.exec({ namespace: 'default', pod: 'web', container: 'c' }, { command: ['no-such-tool'], tty: false, stdin: false, stdout: true, stderr: true }), /exec: "no-such-tool": executable file not found in \$PATH/);
    await assert.rejects(cluster.exec({ namespace: 'default', pod: 'nope', container: 'c' }, { command: ['true'], tty: false, stdin: false, stdout: true, stderr: true }), /pod default\/nope is not running/);
    // nothing runs in nginx's container here: attach waits with no output until the pod stops, as containerd's does
    const idle = await cluster.attach({ namespace: 'default', pod: 'web', container: 'c' }, { command: [], tty: false, stdin: false, stdout: true, stderr: true });
    await cluster.stopPod('default', 'web');
    assert.deepEqual(await idle.exit, { exitCode: 0 });
    const third = await cluster.startPod(pod('db', { image: 'nginx' }));
    assert.equal(third.podIP, '10.244.0.2', 'a stopped pod gives its address back');
  } finally {
    await cluster.dispose();
  }
  assert.deepEqual(readdirSync(base), [], 'dispose removes every pod directory');
  rmSync(base, { recursive: true, force: true });
});

test('exec with stdin: input reaches the process, end of input ends it', async () => {
  const { h } = hooks();
  const cluster = await createProcessRuntime().attach(view, network, h);
  try {
    await cluster.startPod(pod('p', { image: 'busybox' }));
    const s = await cluster.exec({ namespace: 'default', pod: 'p', container: 'c' }, { command: ['cat'], tty: false, stdin: true, stdout: true, stderr: true });
    s.stdin!.end('hello\n');
    assert.equal(await collect(s.stdout), 'hello\n');
    assert.equal((await s.exit).exitCode, 0);
  } finally {
    await cluster.dispose();
  }
});

test('exec with a terminal: size from the request and from resize', async () => {
  const { h } = hooks();
  const cluster = await createProcessRuntime().attach(view, network, h);
  try {
    await cluster.startPod(pod('p', { image: 'busybox' }));
    const s = await cluster.exec({ namespace: 'default', pod: 'p', container: 'c' }, { command: ['sh'], tty: true, stdin: true, stdout: true, stderr: false, size: { cols: 100, rows: 40 } });
    let out = '';
    s.stdout.on('data', (d: Buffer) => (out += d.toString()));
    s.stdin!.write('stty size\n');
    await until(() => out.includes('40 100'));
    s.resize(132, 50);
    s.stdin!.write('stty size; exit 7\n');
    await until(() => out.includes('50 132'));
    assert.equal((await s.exit).exitCode, 7);
    assert.equal(s.stderr, null);
  } finally {
    await cluster.dispose();
  }
});

test('main process: attach talks to it, its exit is reported, kill on dispose', async () => {
  const { h, exited, logs } = hooks();
  const cluster = await createProcessRuntime().attach(view, network, h);
  try {
    await cluster.startPod(pod('tmp', { image: 'busybox', command: ['sh', '-c', 'echo ready; read x; echo got $x; exit 4'], stdin: true }));
    const s = await cluster.attach({ namespace: 'default', pod: 'tmp', container: 'c' }, { command: [], tty: false, stdin: true, stdout: true, stderr: true });
    let out = '';
    s.stdout.on('data', (d: Buffer) => (out += d.toString()));
    s.stdin!.write('world\n');
    await until(() => out.includes('got world'));
    assert.equal((await s.exit).exitCode, 4);
    await until(() => exited.length === 1);
    assert.deepEqual(exited[0], [{ namespace: 'default', pod: 'tmp', container: 'c' }, 4]);
    assert.ok(logs.includes('ready') && logs.includes('got world'), `logs: ${JSON.stringify(logs)}`);

    await cluster.startPod(pod('sleeper', { image: 'busybox', command: ['sleep', '600'] }));
  } finally {
    await cluster.dispose();
  }
  assert.equal(exited.length, 1, 'a pod stopped by the server is not reported as a container exit');
});

test('as root, pod processes run under an unprivileged uid', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const { h } = hooks();
  const cluster = await createProcessRuntime({ runAsUid: 65534 }).attach(view, network, h);
  try {
    await cluster.startPod(pod('p', { image: 'busybox' }));
    const s = await cluster.exec({ namespace: 'default', pod: 'p', container: 'c' }, { command: ['id', '-u'], tty: false, stdin: false, stdout: true, stderr: true });
    assert.equal((await collect(s.stdout)).trim(), '65534');
  } finally {
    await cluster.dispose();
  }
});

test('reapLeftovers removes directories of dead server processes only', async () => {
  const base = mkdtempSync(join(tmpdir(), 'kubelab-test-'));
  const dead = join(base, 'kubelab-pods-999999999-abc');
  const mine = join(base, `kubelab-pods-${process.pid}-abc`);
  const other = join(base, 'something-else');
  for (const d of [dead, mine, other]) mkdirSync(d);
  await createProcessRuntime({ baseDir: base }).reapLeftovers();
  assert.equal(existsSync(dead), false);
  assert.equal(existsSync(mine), true);
  assert.equal(existsSync(other), true);
  rmSync(base, { recursive: true, force: true });
});
