// The Network Policies lab, proven on the embedded cluster with both data planes: `kubelab
// validate` and `kubelab test` as CI runs them, and the fix for label drift that the lab's own
// solution does not take (widening the policy instead of restoring the label), which must pass
// the same checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadLab } from '../../server/labs/loader.ts';
import type { Lab, LoadedManifest, Manifest } from '../../server/labs/types.ts';
import { createGrader } from '../../server/grader/grader.ts';
import { testLab, renderTestTable, type TestRow } from '../../server/grader/lab-test.ts';
import { createEmbeddedBackend } from '../../server/backends/embedded.ts';
import { labEnvironment } from '../../server/cli/test.ts';
import { chooseRuntime, netnsUnavailable } from '../../server/dataplane/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const labDir = 'labs/network-policies';
const planes = ['netns', 'sim'] as const;
type Plane = (typeof planes)[number];

function skipReason(plane: Plane): string | undefined {
  return plane === 'netns' ? netnsUnavailable() : undefined;
}

function kubelab(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('kubelab validate finds no problem in the lab', async () => {
  const r = await kubelab(['validate', labDir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /1 lab checked, no problems/);
});

for (const plane of planes) {
  test(`kubelab test proves every step, wrong solution and question (${plane} data plane)`, { skip: skipReason(plane), timeout: 600_000 }, async () => {
    const r = await kubelab(['test', labDir, '--dataplane', plane, '--json']);
    let report: { ok: boolean; labs: Array<{ lab: string; rows: TestRow[] }> };
    try {
      report = JSON.parse(r.stdout) as typeof report;
    } catch {
      assert.fail(`kubelab test printed no JSON report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
    const rows = report.labs.find((l) => l.lab === 'network-policies')?.rows ?? [];
    assert.equal(r.code, 0, `kubelab test exited ${r.code}:\n${renderTestTable(rows)}\n${r.stderr}`);
    assert.ok(report.ok);
    // every step, each wrong solution and each question was exercised, not just reported clean
    const lab = loadLab(`${root}/${labDir}`);
    for (const step of lab.steps) {
      assert.ok(rows.some((x) => x.step === step.id && x.phase === 'before' && x.check === '(step)'), `${step.id} was graded before its solution`);
      if (step.solution) assert.ok(rows.some((x) => x.step === step.id && x.phase === 'solution' && x.check === '(step)' && x.observed === 'passed'), `${step.id} passed with its solution`);
      for (const w of step.wrongSolutions) {
        assert.ok(rows.some((x) => x.step === step.id && x.phase === `wrong:${w.id}` && x.check === '(diagnosis)' && x.observed === 'recognised'), `${step.id} recognised wrong solution ${w.id}`);
      }
    }
    for (const q of lab.questions) assert.ok(rows.some((x) => x.step === `question ${q.id}` && x.check === 'key' && x.ok), `question ${q.id} key graded right`);
  });

  test(`label drift fixed in the policy instead of the label passes too (${plane} data plane)`, { skip: skipReason(plane), timeout: 300_000 }, async () => {
    const lab = withPolicyFix(loadLab(`${root}/${labDir}`));
    const runtime = await chooseRuntime({ prefer: plane });
    const backend = createEmbeddedBackend({ runtime });
    try {
      const env = await backend.provision({ learner: { id: 'lab-test', name: 'lab test' }, lab: labEnvironment(lab) });
      const grader = createGrader(env);
      try {
        // earlier steps get their setup and solution; label-drift is proven in full
        const rows = await testLab(lab, grader, { step: 'label-drift' });
        const bad = rows.filter((x) => !x.ok);
        assert.deepEqual(bad, [], renderTestTable(rows));
        assert.ok(rows.some((x) => x.phase === 'solution' && x.check === '(step)' && x.observed === 'passed'));
        // the checkout pod really still carries the new label: the policy, not a relabel, let it in
        const { cluster } = await grader.snapshot();
        const checkout = cluster.pods.filter((p) => p.namespace === 'production' && p.labels['app.kubernetes.io/name'] === 'checkout-api');
        assert.ok(checkout.length > 0 && checkout.every((p) => p.labels.app === 'checkout'), JSON.stringify(checkout.map((p) => p.labels)));
      } finally {
        await grader.close();
        await env.dispose();
      }
    } finally {
      await backend.close();
    }
  });
}

/** The lab with step label-drift solved by solutions/06-payment-api-ingress-both-labels.yaml alone. */
function withPolicyFix(lab: Lab): Lab {
  const file = 'solutions/06-payment-api-ingress-both-labels.yaml';
  const source = { file: `${labDir}/${file}`, line: 1, column: 1 };
  const text = readFileSync(`${root}/${labDir}/${file}`, 'utf8');
  const manifest: LoadedManifest = { object: parse(text) as Manifest, source, locate: () => source };
  return {
    ...lab,
    steps: lab.steps.map((s) => (s.id === 'label-drift' ? { ...s, solution: { apply: [manifest], commands: [], explanation: s.solution?.explanation } } : s)),
  };
}
