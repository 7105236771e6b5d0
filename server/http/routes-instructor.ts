// The instructor's API: sign in with the configured token, the class view with its heatmap,
// one learner's detail (policies and last probe results), join codes, and grades as CSV.
import { Router, type Request } from 'express';
import { stringify } from 'yaml';
import type { ClassView, ClassLearnerRow, LearnerDetail } from '../../shared/api.ts';
import type { AppContext } from './app.ts';
import { sameSecret } from './app.ts';
import { HttpError } from './errors.ts';
import type { LearnerRow } from '../store/index.ts';
import type { KubeObject } from '../apiserver/runtime.ts';

export function instructorRoutes(ctx: AppContext): Router {
  const r = Router();
  const { store, coursework, environments } = ctx;

  const requireInstructor = (req: Request): void => {
    const p = ctx.principal(req);
    if (!p) throw new HttpError(401, 'sign in as the instructor first');
    if (p.role !== 'instructor') throw new HttpError(403, 'this is for the instructor');
  };

  const score = (learner: LearnerRow, labId: string) => {
    const lab = coursework.get(labId);
    const progress = store.getProgress(learner.id, labId);
    const answers = store.latestAnswers(learner.id, labId);
    const steps = lab?.steps.length ?? 0;
    const questions = lab?.questions.length ?? 0;
    const passed = progress.passedSteps.filter((s) => lab?.steps.some((x) => x.id === s)).length;
    const correct = answers.reduce((n, a) => n + a.grade.score, 0);
    const total = steps + questions;
    return { passed, steps, correct, questions, score: total ? (passed + correct) / total : 0, progress };
  };

  const rowsFor = (learners: LearnerRow[]): ClassLearnerRow[] => {
    const rows: ClassLearnerRow[] = [];
    for (const l of learners) {
      const labs = store.learnerLabs(l.id);
      const classLab = l.classCode ? store.getClass(l.classCode)?.labId : undefined;
      for (const labId of labs.length ? labs : classLab ? [classLab] : []) {
        const s = score(l, labId);
        const last = store.lastCheck(l.id, labId);
        rows.push({
          id: l.id,
          name: l.name,
          labId,
          currentStep: s.progress.currentStep ?? '',
          passedSteps: s.progress.passedSteps,
          lastCheck: last ? { stepId: last.stepId, outcome: last.outcome, at: last.at } : undefined,
          score: Math.round(s.score * 100) / 100,
          environment: environments.view(l.id, labId).status,
        });
      }
    }
    return rows;
  };

  r.post('/instructor/login', (req, res) => {
    const key = req.socket.remoteAddress ?? 'unknown';
    if (!ctx.loginLimiter.take(key)) {
      ctx.metrics.rateLimited.labels('login').inc();
      throw new HttpError(429, 'too many sign-in attempts; wait a minute', undefined, ctx.loginLimiter.retryAfter(key));
    }
    const token = (req.body as { token?: unknown }).token;
    if (typeof token !== 'string' || token.length > 200 || !sameSecret(token, ctx.opts.instructorToken)) {
      ctx.log.warn({ from: key }, 'instructor sign-in refused');
      throw new HttpError(401, 'token: not the instructor token', 'token');
    }
    ctx.setSessionCookie(res, store.createSession('instructor'));
    res.json({ role: 'instructor' });
  });

  r.get('/class', (req, res) => {
    requireInstructor(req);
    const code = typeof req.query.code === 'string' && req.query.code ? req.query.code.toUpperCase() : undefined;
    const learners = store.listLearners(code);
    const ids = new Set(learners.map((l) => l.id));
    // heatmap: for each check, how many learners' latest attempt at its step failed it
    const heat = new Map<string, ClassView['heatmap'][number]>();
    for (const { learnerId, labId, result } of store.latestResults()) {
      if (!ids.has(learnerId)) continue;
      for (const c of result.checks) {
        const key = `${labId}\u0000${result.stepId}\u0000${c.id}`;
        const h = heat.get(key) ?? { labId, stepId: result.stepId, checkId: c.id, title: c.title, failures: 0, attempts: 0 };
        h.attempts++;
        if (c.status === 'fail') h.failures++;
        heat.set(key, h);
      }
    }
    const view: ClassView = {
      code,
      learners: rowsFor(learners),
      heatmap: [...heat.values()].sort((a, b) => b.failures - a.failures || a.stepId.localeCompare(b.stepId)),
      classes: store.listClasses().map((c) => ({ code: c.code, name: c.name, labId: c.labId, allowSkip: c.allowSkip, learners: c.learners })),
    };
    res.json(view);
  });

  r.get('/class/learners/:id', async (req, res) => {
    requireInstructor(req);
    const learner = store.getLearner(req.params.id);
    if (!learner) throw new HttpError(404, 'no such learner');
    const labId = typeof req.query.lab === 'string' ? req.query.lab : (store.learnerLabs(learner.id)[0] ?? '');
    const progress = store.getProgress(learner.id, labId);
    let objects: KubeObject[] = [];
    const live = environments.find(learner.id, labId);
    if (live?.grader) {
      try {
        const picture = await live.grader.snapshot();
        objects = picture.policies.map((p) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...p }) as unknown as KubeObject);
      } catch {
        objects = [];
      }
    }
    if (!objects.length) {
      const saved = store.latestEnvironment(learner.id, labId)?.objects as KubeObject[] | undefined;
      objects = (saved ?? []).filter((o) => o.kind === 'NetworkPolicy');
    }
    const detail: LearnerDetail = {
      learner: { id: learner.id, name: learner.name },
      labId,
      progress: { currentStep: progress.currentStep ?? '', passedSteps: progress.passedSteps },
      results: store.checkResults(learner.id, labId, 20),
      answers: store.latestAnswers(learner.id, labId).map((a) => ({ questionId: a.questionId, correct: a.grade.correct, score: a.grade.score, at: a.at })),
      policies: objects.map((o) => ({ namespace: o.metadata.namespace ?? 'default', name: o.metadata.name, yaml: stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: o.metadata.name, namespace: o.metadata.namespace }, spec: o.spec }) })),
    };
    res.json(detail);
  });

  r.get('/class/grades.csv', (req, res) => {
    requireInstructor(req);
    const code = typeof req.query.code === 'string' && req.query.code ? req.query.code.toUpperCase() : undefined;
    const lines = [['learner_id', 'name', 'class', 'lab', 'steps_passed', 'steps_total', 'questions_score', 'questions_total', 'score_percent'].join(',')];
    for (const l of store.listLearners(code)) {
      for (const labId of store.learnerLabs(l.id)) {
        const s = score(l, labId);
        lines.push([l.id, l.name, l.classCode ?? '', labId, s.passed, s.steps, s.correct, s.questions, Math.round(s.score * 100)].map(csvCell).join(','));
      }
    }
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="kubelab-grades${code ? '-' + code : ''}.csv"`);
    res.send(lines.join('\r\n') + '\r\n');
  });

  r.post('/classes', (req, res) => {
    requireInstructor(req);
    const body = req.body as { name?: unknown; labId?: unknown; allowSkip?: unknown };
    if (typeof body.name !== 'string' || !body.name.trim() || body.name.length > 80) throw new HttpError(400, 'name: 1 to 80 characters', 'name');
    if (body.labId !== undefined && body.labId !== '' && (typeof body.labId !== 'string' || !coursework.get(body.labId))) throw new HttpError(400, 'labId: no such lab', 'labId');
    const cls = store.createClass(body.name.trim(), (body.labId as string) || undefined, body.allowSkip === true);
    res.status(201).json(cls);
  });

  r.post('/classes/:code', (req, res) => {
    requireInstructor(req);
    const cls = store.getClass(req.params.code);
    if (!cls) throw new HttpError(404, 'no such class');
    const allowSkip = (req.body as { allowSkip?: unknown }).allowSkip;
    if (typeof allowSkip !== 'boolean') throw new HttpError(400, 'allowSkip: true or false', 'allowSkip');
    store.setAllowSkip(cls.code, allowSkip);
    res.json({ ...cls, allowSkip });
  });

  return r;
}

/** One CSV cell, quoted, with spreadsheet formulas defused. */
export function csvCell(v: string | number): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n']/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
