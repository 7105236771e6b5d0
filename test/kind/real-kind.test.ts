// The Network Policies lab on real kind + Calico clusters, through the same command instructors
// use in CI. Needs a Docker daemon and the kind binary; where either is missing the tests report
// themselves skipped with the reason. Slow (a cluster per run, a few minutes each). Every check
// must pass, those probing the lab's external hosts (payment gateway range, api.stripe.com, the
// attacker's collector) included: on real kind they are local routes, listener pods and CoreDNS
// names the backend adds, and Calico enforces the learner's policies on the way to them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { externalCheckIds } from './lab-external.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const kind = process.env.KUBELAB_KIND || 'kind';
const docker = process.env.KUBELAB_DOCKER || 'docker';

/** Why a real kind cluster cannot be made here, or undefined when it can. */
function unavailable(): string | undefined {
  const d = spawnSync(docker, ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 30_000 });
  if (d.error) return `docker is not installed (${d.error.message})`;
  if (d.status !== 0) return `Docker is not running here: docker info says "${(d.stderr || d.stdout).trim().split('\n').pop()}"`;
  const k = spawnSync(kind, ['version'], { encoding: 'utf8', timeout: 30_000 });
  if (k.error) return `kind is not installed (${kind}: ${k.error.message})`;
  return undefined;
}

function kubelabTest(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', 'test', 'labs/network-policies', '--backend', 'kind', '--json'], {
      cwd: repo,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const reason = unavailable();

test('kubelab test labs/network-policies --backend kind passes on kind + Calico, external hosts included', { skip: reason, timeout: 30 * 60_000 }, async () => {
  const state = mkdtempSync(join(tmpdir(), 'kubelab-real-kind-'));
  try {
    const r = await kubelabTest({ KUBELAB_KIND_STATE_DIR: state });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const report = JSON.parse(r.stdout) as { ok: boolean; labs: Array<{ rows: Array<{ ok: boolean; check: string }> }> };
    assert.equal(report.ok, true);
    const rows = report.labs.flatMap((l) => l.rows);
    const external = externalCheckIds();
    assert.ok(external.length >= 5, `the lab probes its external hosts (${external.join(', ')})`);
    assert.deepEqual(external.filter((id) => !rows.some((row) => row.check === id && row.ok)), [], 'every external check ran and passed');
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

test('with no enforcing plugin (cni none) the grader says the network is not enforcing NetworkPolicy', { skip: reason, timeout: 30 * 60_000 }, async () => {
  const state = mkdtempSync(join(tmpdir(), 'kubelab-real-kind-'));
  try {
    const r = await kubelabTest({ KUBELAB_KIND_STATE_DIR: state, KUBELAB_KIND_CNI: 'none' });
    assert.notEqual(r.code, 0, 'a lab cannot pass where policies are ignored');
    const report = JSON.parse(r.stdout) as { labs: Array<{ rows: Array<{ observed: string }> }> };
    const observed = report.labs.flatMap((l) => l.rows.map((row) => row.observed));
    assert.ok(observed.includes('not-enforcing'), `expected a step reported as not-enforcing; observed: ${[...new Set(observed)].join(', ')}`);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
