// Proving a lab against a live cluster, the way `kubelab test` does in CI: for each step, its
// checks fail before the solution (or pass, for an observation step), each wrong solution fails
// exactly the checks it names, and the solution passes them all; then every question's key is
// graded right and its wrong answers wrong. Every surprise is a row with ok = false.
import type { StepResult } from '../../shared/lab.ts';
import type { Lab, Step } from '../labs/types.ts';
import type { Grader } from './grader.ts';
import { stepChecks } from './grader.ts';
import { answerKey, gradeAnswer } from './quiz.ts';

export interface TestRow {
  step: string;
  /** before | wrong:<id> | solution | question */
  phase: string;
  check: string;
  expected: string;
  observed: string;
  ok: boolean;
  /** why, for a row that is not ok */
  detail?: string;
}

export interface LabTestOptions {
  /** test only this step (earlier steps get their setup and solution applied, unchecked) */
  step?: string;
  signal?: AbortSignal;
  /** called as rows are produced, for live output */
  onRow?: (row: TestRow) => void;
}

export async function testLab(lab: Lab, grader: Grader, options: LabTestOptions = {}): Promise<TestRow[]> {
  const rows: TestRow[] = [];
  const add = (row: TestRow) => {
    rows.push(row);
    options.onRow?.(row);
  };
  const only = options.step;
  if (only && !lab.steps.some((s) => s.id === only)) {
    add({ step: only, phase: '-', check: '-', expected: 'a step of this lab', observed: 'no such step', ok: false });
    return rows;
  }
  for (const step of lab.steps) {
    if (options.signal?.aborted) break;
    if (only && step.id !== only) {
      const index = lab.steps.findIndex((s) => s.id === only);
      if (lab.steps.indexOf(step) > index) break;
      // an earlier step: bring the cluster to where the learner would be
      await grader.applyStepSetup(lab, step.id, options);
      if (step.solution) await grader.applySolution(lab, step.id, options);
      continue;
    }
    await testStep(lab, step, grader, add, options.signal);
  }
  if (!only) {
    for (const q of lab.questions) {
      for (const k of answerKey(q)) {
        const g = gradeAnswer(q, k.answer);
        add({
          step: `question ${q.id}`,
          phase: 'question',
          check: k.correct ? 'key' : q.type === 'manifest' ? k.field : `wrong ${JSON.stringify(typeof k.answer === 'string' && k.answer.length > 30 ? k.answer.slice(0, 27) + '...' : k.answer)}`,
          expected: k.correct ? 'right' : 'wrong',
          observed: g.correct ? 'right' : 'wrong',
          ok: g.correct === k.correct,
          detail: g.correct === k.correct ? undefined : g.details.join('; ') || undefined,
        });
      }
    }
  }
  return rows;
}

async function testStep(lab: Lab, step: Step, grader: Grader, add: (r: TestRow) => void, signal?: AbortSignal): Promise<void> {
  try {
    await grader.applyStepSetup(lab, step.id, { signal });
  } catch (err) {
    add({ step: step.id, phase: 'setup', check: '-', expected: 'applied', observed: 'failed', ok: false, detail: errorText(err) });
    return;
  }
  const items = stepChecks(lab, step);

  // before the solution
  const before = await grader.gradeStep(lab, step.id, { signal });
  for (const { id, check } of items) {
    const c = before.checks.find((x) => x.id === id)!;
    const want = check.beforeSolution;
    add({
      step: step.id,
      phase: 'before',
      check: id,
      expected: want ?? 'any',
      observed: observed(c.status, c.probe?.observed),
      ok: c.status !== 'error' && (want === undefined || (want === 'pass') === (c.status === 'pass')),
      detail: c.status === 'error' || (want !== undefined && (want === 'pass') !== (c.status === 'pass')) ? c.message : undefined,
    });
  }
  add({
    step: step.id,
    phase: 'before',
    check: '(step)',
    expected: step.beforeSolution === 'pass' ? 'passed' : 'not passed',
    observed: before.outcome,
    ok: stepOk(before, step.beforeSolution === 'pass' ? 'passed' : 'failed'),
    detail: stepOk(before, step.beforeSolution === 'pass' ? 'passed' : 'failed') ? undefined : before.summary,
  });

  // each wrong solution fails exactly what it names
  for (const wrong of step.wrongSolutions) {
    if (signal?.aborted) return;
    let revert: (() => Promise<void>) | undefined;
    try {
      revert = await grader.applyWrongSolution(lab, step.id, wrong.id, { signal });
      const r = await grader.gradeStep(lab, step.id, { signal });
      const named = new Set(wrong.fails);
      for (const { id } of items) {
        const c = r.checks.find((x) => x.id === id)!;
        const shouldFail = named.has(id);
        const ok = c.status !== 'error' && (c.status === 'fail') === shouldFail;
        add({ step: step.id, phase: `wrong:${wrong.id}`, check: id, expected: shouldFail ? 'fail' : 'pass', observed: observed(c.status, c.probe?.observed), ok, detail: ok ? undefined : c.message });
      }
      const diagnosed = r.diagnosis === wrong.why;
      add({
        step: step.id,
        phase: `wrong:${wrong.id}`,
        check: '(diagnosis)',
        expected: 'recognised',
        observed: diagnosed ? 'recognised' : r.outcome === 'failed' ? 'not recognised' : r.outcome,
        ok: diagnosed,
        detail: diagnosed ? undefined : r.summary,
      });
    } catch (err) {
      add({ step: step.id, phase: `wrong:${wrong.id}`, check: '-', expected: 'applied', observed: 'failed', ok: false, detail: errorText(err) });
    } finally {
      if (revert) {
        try {
          await revert();
        } catch (err) {
          add({ step: step.id, phase: `wrong:${wrong.id}`, check: '(revert)', expected: 'reverted', observed: 'failed', ok: false, detail: errorText(err) });
        }
      }
    }
  }

  // the solution passes everything
  if (!step.solution) return;
  try {
    await grader.applySolution(lab, step.id, { signal });
  } catch (err) {
    add({ step: step.id, phase: 'solution', check: '-', expected: 'applied', observed: 'failed', ok: false, detail: errorText(err) });
    return;
  }
  const after = await grader.gradeStep(lab, step.id, { signal });
  for (const { id } of items) {
    const c = after.checks.find((x) => x.id === id)!;
    add({ step: step.id, phase: 'solution', check: id, expected: 'pass', observed: observed(c.status, c.probe?.observed), ok: c.status === 'pass', detail: c.status === 'pass' ? undefined : c.message });
  }
  add({ step: step.id, phase: 'solution', check: '(step)', expected: 'passed', observed: after.outcome, ok: after.outcome === 'passed', detail: after.outcome === 'passed' ? undefined : after.summary });
}

/** `before` must not pass (at least one check failed, none errored) or must pass. */
function stepOk(r: StepResult, want: 'passed' | 'failed'): boolean {
  if (want === 'passed') return r.outcome === 'passed';
  return r.outcome === 'failed';
}

function observed(status: string, probe?: string): string {
  return probe && probe !== 'error' ? `${status} (${probe})` : status;
}

/** The rows as an aligned text table. */
export function renderTestTable(rows: TestRow[]): string {
  const head = ['step', 'phase', 'check', 'expected', 'observed', 'ok'];
  const cells = rows.map((r) => [r.step, r.phase, r.check, r.expected, r.observed, r.ok ? 'ok' : 'FAIL']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  const bad = rows.filter((r) => !r.ok && r.detail);
  if (bad.length > 0) {
    out.push('', 'surprises:');
    for (const r of bad) out.push(`  ${r.step} ${r.phase} ${r.check}: ${r.detail}`);
  }
  return out.join('\n');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
