// `kubelab test labs/network-policies --backend kind` with the fake kind: the instructors' CI
// command, configured only through KUBELAB_KIND_* variables, drives the kind backend end to end
// (create, Calico stand-in, waits, lab images and setup, the lab's external hosts, dispose) and
// the grader proves every step on the embedded cluster behind it — every check, the payment
// gateway, api.stripe.com and the attacker's collector included. The fake's outside world serves
// the lab's external hosts (FAKE_KIND_EXTERNAL_HOSTS); the backend's part (routes on the node,
// listener pods, CoreDNS names) is checked here through the node's recorded routes and in
// kind-backend.test.ts object by object.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FakeWorld } from './fake-world.ts';
import { externalCheckIds, labExternalHosts } from './lab-external.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const w = new FakeWorld();
after(() => w.cleanup());

interface Row {
  ok: boolean;
  step: string;
  phase: string;
  check: string;
  observed: string;
  detail?: string;
}

test('kubelab test labs/network-policies --backend kind (fake kind): every check passes, the external hosts included', { timeout: 15 * 60_000 }, async () => {
  const o = w.options();
  const hosts = labExternalHosts();
  assert.ok(hosts.length >= 3, 'the lab declares its external hosts');
  const env = {
    ...w.env,
    FAKE_KIND_EXTERNAL_HOSTS: w.writeFile('external-hosts.json', JSON.stringify(hosts)),
    KUBELAB_KIND: o.kindBinary!,
    KUBELAB_DOCKER: o.dockerBinary!,
    KUBELAB_KIND_STATE_DIR: o.stateDir!,
    KUBELAB_KIND_CALICO_MANIFEST: o.calicoManifest!,
  };
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', 'test', 'labs/network-policies', '--backend', 'kind', '--json'], { cwd: repo, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
  let report: { ok: boolean; labs: Array<{ rows: Row[] }> };
  try {
    report = JSON.parse(r.stdout);
  } catch {
    assert.fail(`kubelab test printed no report (exit ${r.code}):\n${r.stderr}`);
  }
  const rows = report.labs.flatMap((l) => l.rows);
  assert.ok(rows.length > 100, `the whole lab ran (${rows.length} rows)`);
  assert.deepEqual(rows.filter((row) => !row.ok), [], 'every check behaves as the lab says');
  assert.equal(report.ok, true);
  assert.equal(r.code, 0, r.stderr);
  // the external checks ran (and so passed): every probe to an external address or name
  const external = externalCheckIds();
  assert.ok(external.length >= 5, `the lab probes its external hosts (${external.join(', ')})`);
  const ran = new Set(rows.map((row) => row.check));
  assert.deepEqual(external.filter((id) => !ran.has(id)), [], 'every external check ran');
  // the backend made every block local on the node (and deleting the cluster took the routes away)
  const [create] = w.kindCalls('create cluster');
  const node = `${create!.argv[create!.argv.indexOf('--name') + 1]}-control-plane`;
  const routes = w
    .calls()
    .filter((c) => c.tool === 'docker' && c.argv[0] === 'exec' && c.argv[1] === node && c.argv.includes('route'))
    .map((c) => c.argv.slice(2).join(' '));
  assert.deepEqual(
    routes,
    hosts.map((h) => `ip route replace local ${h.address.includes('/') ? h.address : `${h.address}/32`} dev lo table local`),
  );
  assert.equal(w.kindCalls('create cluster').length, 1);
  assert.deepEqual(w.liveClusters(), [], 'the cluster was deleted at the end');
});
