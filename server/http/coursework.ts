// Fills the server's Coursework port from the labs part (server/labs: loadLabs, renderStep) and
// the grader (server/grader: createGrader, gradeAnswer), translating their results into the
// views the browser shows.
import type { KubeObject } from '../apiserver/runtime.ts';
import type { AnswerValue, CheckResultView, StepResultView } from '../../shared/api.ts';
import type { Coursework, LabOutline, StepContext, StepGrader } from './ports.ts';
import { HttpError } from './errors.ts';
import { loadLabs } from '../labs/loader.ts';
import { renderInlineMarkdown, renderMarkdown, renderStep } from '../labs/render.ts';
import type { Lab } from '../labs/types.ts';
import { createGrader, gradeAnswer } from '../grader/index.ts';
import type { GraderLog } from '../grader/grader.ts';
import type { StepResult } from '../../shared/lab.ts';

/** Translate the grader's step result into what the browser shows. */
export function toStepResultView(r: StepResult): StepResultView {
  const checks: CheckResultView[] = r.checks.map((c) => ({
    id: c.id,
    title: c.title,
    kind: c.kind,
    status: c.status,
    probe: c.probe
      ? { source: c.probe.source, target: c.probe.target.replace(/:\d+$/, ''), port: c.probe.port ?? Number(/:(\d+)$/.exec(c.probe.target)?.[1] ?? 0), protocol: c.probe.protocol, expected: c.probe.expected, observed: c.probe.observed }
      : undefined,
    // the grader's message often ends with the engine's summary already
    explanation: c.message && c.probe?.explanation?.summary && c.message.includes(c.probe.explanation.summary) ? c.message : [c.message, c.probe?.explanation?.summary].filter((x, i, a) => x && a.indexOf(x) === i).join(' — '),
  }));
  return { stepId: r.stepId, outcome: r.outcome, summary: r.diagnosis ? `${r.summary} ${r.diagnosis}` : r.summary, checks, at: r.at };
}

export interface CourseworkStatus {
  coursework: Coursework;
  /** what is missing, for the start-up banner */
  warnings: string[];
}

/** Load the labs under `root` through server/labs and grade through server/grader. */
export async function loadCoursework(root: string, options: { log?: GraderLog } = {}): Promise<CourseworkStatus> {
  const warnings: string[] = [];
  let labs = new Map<string, Lab>();
  let problems: string[] = [];
  const inline = (s: string) => renderInlineMarkdown(s);
  const block = (s: string) => renderMarkdown(s);

  const reload = async () => {
    const r = loadLabs(root);
    labs = new Map(r.labs.map((l) => [l.id, l]));
    problems = r.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.path ? p.path + ': ' : ''}${p.message}`);
  };
  await reload();

  const outline = (lab: Lab): LabOutline => ({
    summary: { id: lab.id, title: lab.title, summary: lab.summary, minutes: lab.estimatedMinutes, steps: lab.steps.length, questions: lab.questions.length },
    steps: lab.steps.map((s) => ({ id: s.id, title: s.title, hints: s.hints.map(inline), hasSolution: s.solution !== undefined })),
    questions: lab.questions.map((q) => ({
      id: q.id,
      kind: q.type,
      prompt: block(q.prompt),
      options: q.type === 'single' || q.type === 'multiple' ? q.options.map((o) => ({ id: o.id, label: inline(o.text) })) : undefined,
    })),
    environment: { labId: lab.id, setup: lab.environment.setup.map((m) => m.object as KubeObject), externalHosts: lab.environment.externalHosts, images: lab.environment.images },
  });
  const labOf = (id: string): Lab => {
    const lab = labs.get(id);
    if (!lab) throw new HttpError(404, `no lab "${id}"`);
    return lab;
  };

  const coursework: Coursework = {
    list: () => [...labs.values()].map(outline),
    get: (id) => {
      const lab = labs.get(id);
      return lab ? outline(lab) : undefined;
    },
    async renderStep(labId, stepId, context: StepContext) {
      return renderStep(labOf(labId), stepId, { learner: { name: context.learner }, cluster: { server: context.server } }).html;
    },
    async gradeAnswer(labId, questionId, answer: AnswerValue) {
      const q = labOf(labId).questions.find((x) => x.id === questionId);
      if (!q) throw new HttpError(404, `no question "${questionId}"`);
      const g = gradeAnswer(q, answer);
      const details = g.details.length ? ` ${g.details.join(' ')}` : '';
      return { correct: g.correct, score: g.score, explanation: g.explanation + details };
    },
    grader(labId, env): StepGrader {
      const g = createGrader(env, { log: options.log });
      return {
        gradeStep: async (stepId, opts) => toStepResultView(await g.gradeStep(labOf(labId), stepId, opts)),
        applySolution: async (stepId) => void (await g.applySolution(labOf(labId), stepId)),
        applyStepSetup: async (stepId) => void (await g.applyStepSetup(labOf(labId), stepId)),
        resetStep: async (stepId) => void (await g.resetStep(labOf(labId), stepId)),
        snapshot: () => g.snapshot(),
        close: () => g.close(),
      };
    },
    problems: () => problems,
    reload,
  };
  return { coursework, warnings };
}
