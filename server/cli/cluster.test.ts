// `kubelab cluster up`: serves one cluster in the foreground, says "ready", and on SIGINT removes
// what it made and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseExternalHosts, parseUpArgs } from './cluster.ts';

const run = promisify(execFile);

test('arguments: --kubeconfig is required, --port must be a port', () => {
  assert.throws(() => parseUpArgs([]), /--kubeconfig FILE is required/);
  assert.throws(() => parseUpArgs(['--kubeconfig', 'k', '--port', 'x']), /--port must be a number from 0 to 65535, not "x"/);
  assert.throws(() => parseUpArgs(['--kubeconfig']), /--kubeconfig needs a value/);
  assert.deepEqual(parseUpArgs(['--kubeconfig=k', '--port', '6443', '--id', 'lab']), { kubeconfig: join(process.cwd(), 'k'), port: 6443, id: 'lab', externalHosts: [] });
});

test('--external-hosts: inline JSON or a file, in the lab file\'s shape; errors name the field', () => {
  const hosts = [{ names: ['api.stripe.com'], address: '192.0.2.44', ports: [{ port: 443, kind: 'https' }] }];
  const want = [{ names: ['api.stripe.com'], address: '192.0.2.44', ports: [{ port: 443, protocol: 'TCP', kind: 'https' }] }];
  assert.deepEqual(parseUpArgs(['--kubeconfig', 'k', `--external-hosts=${JSON.stringify(hosts)}`]).externalHosts, want);
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-cluster-hosts-'));
  try {
    const file = join(dir, 'hosts.json');
    writeFileSync(file, JSON.stringify({ externalHosts: [{ address: '198.51.100.0/24', ports: [{ port: 53, protocol: 'UDP' }] }] }));
    assert.deepEqual(parseExternalHosts(file), [{ names: [], address: '198.51.100.0/24', ports: [{ port: 53, protocol: 'UDP', kind: 'tcp' }] }]);
    assert.throws(() => parseExternalHosts(join(dir, 'missing.json')), /--external-hosts: cannot read .*missing\.json: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => parseExternalHosts('[{"address":"nope","ports":[]}]'), /externalHosts\[0\]\.address must be an IPv4 address or CIDR/);
  assert.throws(() => parseExternalHosts('[{"address":"192.0.2.1","ports":[{"port":70000}]}]'), /externalHosts\[0\]\.ports\[0\]\.port must be a port number/);
  assert.throws(() => parseExternalHosts('[{"address":"192.0.2.1","ports":[{"port":80,"kind":"gopher"}]}]'), /externalHosts\[0\]\.ports\[0\]\.kind must be http, https or tcp/);
  assert.throws(() => parseExternalHosts('{"hosts":[]}'), /must be a JSON array of hosts/);
});

test('cluster up serves until SIGINT, then cleans up and exits 0', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-cluster-up-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const id = `up-${process.pid.toString(36)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', 'cluster', 'up', '--kubeconfig', kubeconfig, '--id', id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (new RegExp(`ready at https://127\\.0\\.0\\.1:\\d+/clusters/${id} \\(data plane: `).test(out)) resolve();
      });
      child.on('close', () => reject(new Error(`exited before ready: ${out}${err}`)));
    });
    assert.ok(existsSync(kubeconfig));
    const kubectl = await run('sh', ['-c', 'command -v kubectl']).then((r) => r.stdout.trim()).catch(() => '');
    if (kubectl) {
      const r = await run(kubectl, ['get', 'ns', '-o', 'name'], { env: { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: kubeconfig } });
      assert.equal(r.stdout, 'namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\n');
    }
    child.kill('SIGINT');
    assert.equal(await exited, 0, err);
    assert.match(out, new RegExp(`SIGINT: stopping cluster "${id}"`));
    assert.equal(existsSync(kubeconfig), false, 'the kubeconfig is removed');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run -s kubelab -- cluster up: SIGTERM to npm reaches the cluster, which cleans up', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-cluster-up-npm-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const id = `npm-${process.pid.toString(36)}`;
  const npm = spawn('npm', ['run', '-s', 'kubelab', '--', 'cluster', 'up', '--kubeconfig', kubeconfig, '--id', id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => npm.on('close', resolve));
  const clusterPids = () =>
    run('pgrep', ['-f', `cluster up --kubeconfig ${kubeconfig}`])
      .then((r) => r.stdout.split('\n').filter(Boolean).map(Number).filter((p) => p !== npm.pid))
      .catch(() => [] as number[]);
  try {
    await new Promise<void>((resolve, reject) => {
      npm.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/ready at https:/.test(out)) resolve();
      });
      npm.on('close', () => reject(new Error(`exited before ready: ${out}`)));
    });
    assert.ok(existsSync(kubeconfig));
    npm.kill('SIGTERM');
    // a cluster process left behind would hold npm's pipes open: wait for npm a bounded time
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    // the cluster process itself got the signal: it says so, removes what it made, and is gone
    for (let i = 0; i < 100 && (await clusterPids()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await clusterPids(), [], 'no cluster process outlives npm');
    assert.match(out, new RegExp(`SIGTERM: stopping cluster "${id}"`));
    assert.equal(existsSync(kubeconfig), false, 'the kubeconfig is removed');
  } finally {
    for (const pid of await clusterPids()) process.kill(pid, 'SIGKILL');
    if (npm.exitCode === null) npm.kill('SIGKILL');
    npm.stdout.destroy();
    npm.stderr.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
