// `kubelab test labs/network-policies --backend kind` with the fake kind: the instructors' CI
// command, configured only through KUBELAB_KIND_* variables, drives the kind backend end to end
// (create, Calico stand-in, waits, lab images and setup, dispose) and the grader proves every step
// on the embedded cluster behind it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FakeWorld } from './fake-world.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const w = new FakeWorld();
after(() => w.cleanup());

test('kubelab test labs/network-policies --backend kind (fake kind) passes and leaves no cluster', { timeout: 15 * 60_000 }, async () => {
  const o = w.options();
  const env = {
    ...w.env,
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
  const report = JSON.parse(r.stdout) as { ok: boolean; labs: Array<{ rows: Array<{ ok: boolean; step: string; check: string; observed: string; detail?: string }> }> };
  const bad = report.labs.flatMap((l) => l.rows.filter((row) => !row.ok));
  assert.deepEqual(bad, [], r.stderr);
  assert.equal(r.code, 0);
  assert.equal(w.kindCalls('create cluster').length, 1);
  assert.deepEqual(w.liveClusters(), [], 'the cluster was deleted at the end');
});
