// Grading speed and stability on a live embedded cluster: one step of 12 probes, 6 of them
// blocked by a NetworkPolicy and waited for T = 1 s. Goal: a grading takes ≤ 1.2 × T (the
// probes run in parallel, so the blocked ones cost T once, not six times), and 100 gradings of the
// same cluster give 0 wrong results. Prints figures, asserts nothing.
// `node --import tsx scripts/bench/grader.ts` runs it alone (as root, for the netns data plane).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import process from 'node:process';
import type { BenchResult } from './types.ts';
import { summarize } from './types.ts';
import type { KubeObject, PodRuntime } from '../../server/apiserver/runtime.ts';
import { createEmbeddedBackend } from '../../server/backends/embedded.ts';
import { loadLab } from '../../server/labs/loader.ts';
import { createGrader } from '../../server/grader/grader.ts';

const T = 1;
const targets = 6;
const timedRuns = 20;
const stabilityRuns = 100;

/** A lab with one step: a client reaches 6 servers on 8080 (allowed) and on 9090 (denied). */
export function writeBenchLab(dir: string): void {
  const docs: string[] = ['apiVersion: v1\nkind: Namespace\nmetadata: {name: bench}'];
  for (let i = 0; i < targets; i++) {
    docs.push(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: server-${i}, namespace: bench, labels: {app: server-${i}, tier: backend}}\nspec:\n  containers:\n    - name: app\n      image: hashicorp/http-echo:1.0\n      args: ["-listen=:8080", "-text=server-${i}"]\n      ports: [{containerPort: 8080}, {containerPort: 9090}]`,
      `apiVersion: v1\nkind: Service\nmetadata: {name: server-${i}, namespace: bench}\nspec:\n  selector: {app: server-${i}}\n  ports: [{name: http, port: 8080}, {name: metrics, port: 9090}]`,
    );
  }
  docs.push(
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: only-8080, namespace: bench}\nspec:\n  podSelector: {matchLabels: {tier: backend}}\n  policyTypes: [Ingress]\n  ingress:\n    - from: [{podSelector: {matchLabels: {app: client}}}]\n      ports: [{port: 8080}]',
  );
  mkdirSync(join(dir, 'steps'));
  writeFileSync(join(dir, 'setup.yaml'), docs.join('\n---\n') + '\n');
  writeFileSync(join(dir, 'steps', 'probe.md'), '# Twelve probes\n');
  const checks: string[] = [];
  for (let i = 0; i < targets; i++) {
    for (const [port, expect] of [
      [8080, 'connected'],
      [9090, 'timeout'],
    ] as const) {
      checks.push(
        `      - {id: s${i}-${port}, type: probe, title: client to server-${i} on ${port}, from: {namespace: bench, labels: {app: client}}, to: {service: server-${i}}, port: ${port}, expect: ${expect}, timeoutSeconds: ${T}}`,
      );
    }
  }
  writeFileSync(
    join(dir, 'lab.yaml'),
    `apiVersion: kubelab.dev/v1\nkind: Lab\nid: grader-bench\ntitle: Grader benchmark\nsummary: Twelve probes, six blocked.\nestimatedMinutes: 1\nenvironment:\n  namespaces: [bench]\n  setup: [setup.yaml]\nsteps:\n  - id: probe\n    title: Twelve probes\n    text: steps/probe.md\n    beforeSolution: pass\n    checks:\n${checks.join('\n')}\n`,
  );
}

async function runtime(): Promise<PodRuntime> {
  try {
    const chooser = (await import(new URL('../../server/dataplane/index.ts', import.meta.url).href)) as { chooseRuntime?: () => Promise<PodRuntime> };
    if (typeof chooser.chooseRuntime === 'function') {
      const r = await chooser.chooseRuntime();
      if (r.name !== 'process') return r;
    }
  } catch {
    // no chooser yet: netns directly
  }
  const { createNetnsRuntime } = await import('../../server/dataplane/netns/runtime.ts');
  return createNetnsRuntime();
}

export async function benchGrader(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-grader-bench-'));
  const backend = createEmbeddedBackend({ runtime: await runtime() });
  try {
    writeBenchLab(dir);
    const lab = loadLab(dir);
    const env = await backend.provision({
      learner: { id: 'bench', name: 'bench' },
      lab: { labId: lab.id, setup: lab.environment.setup.map((m) => m.object as unknown as KubeObject), externalHosts: [], images: [] },
    });
    // where a grading's time goes, from the grader's own phase timings
    const phases: Array<Record<string, number>> = [];
    const execs: number[] = [];
    let timing = false;
    const grader = createGrader(env, {
      log: {
        debug: (fields, message) => {
          if (!timing) return;
          if (message === 'graded step') phases.push(fields.ms as Record<string, number>);
          if (message === 'probe exec' && typeof fields.ms === 'number') execs.push(fields.ms);
        },
      },
    });
    try {
      // first grading creates the prober pod; not timed
      const first = await grader.gradeStep(lab, 'probe');
      if (first.outcome !== 'passed') process.stderr.write(`grader bench: warm-up grading ${first.outcome}: ${first.summary}\n${first.checks.filter((c) => c.status !== 'pass').map((c) => `  ${c.id}: ${c.message}`).join('\n')}\n`);
      const multiples: number[] = [];
      timing = true;
      for (let i = 0; i < timedRuns; i++) {
        const t0 = performance.now();
        await grader.gradeStep(lab, 'probe');
        multiples.push((performance.now() - t0) / 1000 / T);
      }
      timing = false;
      let wrong = 0;
      let gradings = 0;
      for (let i = 0; i < stabilityRuns; i++) {
        const r = await grader.gradeStep(lab, 'probe');
        gradings++;
        wrong += r.checks.filter((c) => c.status !== 'pass').length;
      }
      const m = summarize(multiples);
      const before = phases.map((p) => (p.settle ?? 0) + (p.view ?? 0) + (p.probers ?? 0));
      return [
        { name: `12-probe step (6 blocked, T=${T}s): time / T`, value: m.median, unit: '× T', goal: '≤ 1.2', samples: multiples },
        { name: 'of which before the probes (settle, snapshot, probers)', value: summarize(before).median, unit: 'ms', samples: before, note: 'where the time beyond T goes' },
        { name: 'of which the probe exec (T of it waiting out the drops)', value: summarize(execs).median, unit: 'ms', samples: execs },
        { name: `wrong results over ${gradings} gradings of the same cluster`, value: wrong, unit: 'results', goal: '0' },
      ];
    } finally {
      await grader.close();
      await env.dispose();
    }
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchGrader().then(
    (results) => {
      for (const r of results) process.stdout.write(`${r.name}: ${Number(r.value.toPrecision(3))} ${r.unit} (goal ${r.goal})\n`);
    },
    (err: unknown) => {
      process.stderr.write(`grader bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
