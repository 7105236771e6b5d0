// `kubelab serve --backend kind` with the fake kind on PATH: the backend starts with the server
// (host checks, leftovers reaped) under the server's state directory, the catalogue is served, a
// learner's lab gets a kind cluster, and SIGTERM deletes every cluster the server made.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabSession, Me } from '../../shared/api.ts';
import { CALICO_FIXTURE, FakeWorld } from './fake-world.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const w = new FakeWorld();
after(() => w.cleanup());

test('kubelab serve --backend kind: catalogue, a learner provisions a kind cluster, SIGTERM deletes it', { timeout: 10 * 60_000 }, async () => {
  // a cluster an earlier, crashed server left behind
  const leftover = w.kind(['create', 'cluster', '--name', 'kubelab-crashed001', '--config', '-', '--kubeconfig', w.writeFile('crashed.kubeconfig', '')], 'networking: {disableDefaultCNI: true}\n');
  assert.equal(leftover.code, 0, leftover.stderr);

  const state = join(w.root, 'serve');
  const env = { ...w.env, KUBELAB_KIND_CALICO_MANIFEST: CALICO_FIXTURE, KUBELAB_KIND_STATE_DIR: '', KUBELAB_INSTRUCTOR_TOKEN: 'kind-teacher-token' };
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', 'serve', '--backend', 'kind', '--port', '0', '--state', state], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed:\n${out}`)), 120_000);
      child.stdout.on('data', () => {
        const m = /kubelab is serving at (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${out}`)));
    });
    assert.match(out, /^kind: clusters are kind \+ Calico in Docker \(kind v0\.32\.0 .*; pool 0; state .*\/serve\/kind\)$/m);
    assert.deepEqual(w.liveClusters(), [], "the crashed server's cluster was deleted at start-up");
    assert.ok(existsSync(join(state, 'kind')), "the backend's state lives under the server's");

    const labs = (await (await fetch(`${url}/api/labs`)).json()) as Array<{ id: string }>;
    assert.ok(labs.some((l) => l.id === 'first-network-policy'), 'the catalogue is served');

    let cookie = '';
    const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const res = await fetch(url + path, { method, headers: { origin: url, cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const set = res.headers.get('set-cookie');
      if (set) cookie = set.split(';')[0]!;
      return { status: res.status, body: (await res.json()) as T };
    };
    assert.equal((await call<Me>('POST', '/api/join', { name: 'Ada' })).status, 201);
    assert.equal((await call('POST', '/api/labs/first-network-policy/start')).status, 202);
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      const s = await call<LabSession>('GET', '/api/labs/first-network-policy/session');
      if (s.body.environment.status === 'ready') break;
      assert.notEqual(s.body.environment.status, 'failed', `${s.body.environment.message}\n${out}`);
      assert.ok(Date.now() < deadline, `the environment became ready:\n${out}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const clusters = w.liveClusters();
    assert.equal(clusters.length, 1, 'one kind cluster for the learner');
    assert.match(clusters[0]!, /^kubelab-[a-z0-9]{10}$/);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    assert.deepEqual(w.liveClusters(), [], 'SIGTERM deleted the cluster');
    assert.ok(w.kindCalls('delete cluster').some((c) => c.argv.includes(clusters[0]!)));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
