// The learner's API: join, the catalogue, a lab session, steps, checks, hints, solutions,
// questions, the policy map, and the environment's clock.
import { Router, type Request } from 'express';
import type { AnswerValue, LabSession, Me, StepResultView, StepState, StepSummary, StepView, QuestionView, PolicyMapView } from '../../shared/api.ts';
import type { AppContext, Principal } from './app.ts';
import { SESSION_COOKIE } from './app.ts';
import { HttpError } from './errors.ts';
import type { LabOutline } from './ports.ts';
import type { LearnerRow, ProgressRow } from '../store/index.ts';
import { buildPolicyMap } from './policy-map.ts';

const namePattern = /^[\p{L}\p{N} ._'-]{1,60}$/u;

function clientKey(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function learnerRoutes(ctx: AppContext): Router {
  const r = Router();
  const { store, coursework, environments } = ctx;
  const mapCache = new Map<string, { at: number; version: number; view: PolicyMapView }>();

  const learnerOf = (req: Request): LearnerRow => {
    const p: Principal | undefined = ctx.principal(req);
    if (!p) throw new HttpError(401, 'sign in first');
    if (p.role !== 'learner' || !p.learner) throw new HttpError(403, 'this is for learners');
    return p.learner;
  };
  const labOf = (id: string): LabOutline => {
    const lab = coursework.get(id);
    if (!lab) throw new HttpError(404, `no lab "${id}"`);
    return lab;
  };
  const allowSkip = (learner: LearnerRow): boolean => (learner.classCode ? (store.getClass(learner.classCode)?.allowSkip ?? false) : false);

  const stepStates = (lab: LabOutline, progress: ProgressRow, skip: boolean): StepSummary[] =>
    lab.steps.map((s, i) => {
      const passed = progress.passedSteps.includes(s.id);
      const open = skip || i === 0 || progress.passedSteps.includes(lab.steps[i - 1].id);
      const state: StepState = passed ? 'passed' : open ? 'open' : 'locked';
      return { id: s.id, title: s.title, state };
    });

  const stepOf = (lab: LabOutline, stepId: string, learner: LearnerRow) => {
    const index = lab.steps.findIndex((s) => s.id === stepId);
    if (index < 0) throw new HttpError(404, `lab ${lab.summary.id} has no step "${stepId}"`);
    const progress = store.getProgress(learner.id, lab.summary.id);
    const state = stepStates(lab, progress, allowSkip(learner))[index].state;
    return { step: lab.steps[index], index, progress, state };
  };

  const questionsFor = (learner: LearnerRow, lab: LabOutline): QuestionView[] => {
    const answers = new Map(store.latestAnswers(learner.id, lab.summary.id).map((a) => [a.questionId, a]));
    return lab.questions.map((q) => {
      const a = answers.get(q.id);
      return { ...q, ...(a ? { last: { ...a.grade, answer: a.answer as AnswerValue } } : {}) };
    });
  };

  // What the learner does in a lab counts as being at work there (extending needs it). Reads do
  // not: an open page polls on its own. Extending itself does not either.
  r.use('/labs/:lab', (req, _res, next) => {
    const p = ctx.principal(req);
    if (req.method === 'POST' && !/^\/extend\/?$/.test(req.path) && p?.learner) environments.touch(p.learner.id, String(req.params.lab));
    next();
  });

  r.get('/labs', (_req, res) => {
    res.json(coursework.list().map((l) => l.summary));
  });

  r.get('/me', (req, res) => {
    const p = ctx.principal(req);
    const me: Me = !p
      ? { role: 'anonymous' }
      : p.role === 'instructor'
        ? { role: 'instructor' }
        : { role: 'learner', learner: { id: p.learner!.id, name: p.learner!.name, classCode: p.learner!.classCode } };
    res.json(me);
  });

  r.post('/join', (req, res) => {
    const key = clientKey(req);
    if (!ctx.joinLimiter.take(key)) {
      ctx.metrics.rateLimited.labels('join').inc();
      throw new HttpError(429, 'too many joins from your address; wait a minute', undefined, ctx.joinLimiter.retryAfter(key));
    }
    const body = (req.body ?? {}) as { name?: unknown; code?: unknown };
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    if (!namePattern.test(name)) throw new HttpError(400, 'name: 1 to 60 letters, digits, spaces, dots, dashes or apostrophes', 'name');
    let classCode: string | undefined;
    if (body.code !== undefined && body.code !== '') {
      if (typeof body.code !== 'string' || !/^[A-Za-z0-9]{4,12}$/.test(body.code)) throw new HttpError(400, 'code: a class code is 6 letters and digits', 'code');
      const cls = store.getClass(body.code);
      if (!cls) throw new HttpError(404, `code: no class with code ${body.code.toUpperCase()}`, 'code');
      classCode = cls.code;
    }
    const learner = store.createLearner(name, classCode);
    const token = store.createSession('learner', learner.id);
    ctx.setSessionCookie(res, token);
    ctx.metrics.joins.inc();
    ctx.live.classChanged();
    ctx.log.info({ learner: learner.id, class: classCode }, 'learner joined');
    const me: Me = { role: 'learner', learner: { id: learner.id, name: learner.name, classCode } };
    res.status(201).json(me);
  });

  r.post('/logout', (req, res) => {
    const p = ctx.principal(req);
    if (p) store.deleteSession(p.token);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.json({ ok: true });
  });

  r.get('/labs/:lab/session', (req, res) => {
    const learner = learnerOf(req);
    const lab = labOf(req.params.lab);
    const progress = store.getProgress(learner.id, lab.summary.id);
    const skip = allowSkip(learner);
    const steps = stepStates(lab, progress, skip);
    const current = progress.currentStep && steps.some((s) => s.id === progress.currentStep && s.state !== 'locked') ? progress.currentStep : (steps.find((s) => s.state === 'open') ?? steps[0])?.id;
    const session: LabSession = {
      lab: lab.summary,
      steps,
      currentStep: current ?? '',
      allowSkip: skip,
      environment: environments.view(learner.id, lab.summary.id),
      questions: questionsFor(learner, lab),
    };
    res.json(session);
  });

  r.post('/labs/:lab/start', (req, res) => {
    const learner = learnerOf(req);
    const lab = labOf(req.params.lab);
    const view = environments.ensure(learner, lab.summary.id);
    const progress = store.getProgress(learner.id, lab.summary.id);
    if (!progress.currentStep && lab.steps[0]) store.saveProgress({ ...progress, currentStep: lab.steps[0].id });
    res.status(202).json(view);
  });

  r.post('/labs/:lab/extend', (req, res) => {
    const learner = learnerOf(req);
    res.json(environments.extend(learner.id, labOf(req.params.lab).summary.id));
  });

  r.get('/labs/:lab/steps/:step', async (req, res) => {
    const learner = learnerOf(req);
    const lab = labOf(req.params.lab);
    const { step, progress, state } = stepOf(lab, req.params.step, learner);
    if (state === 'locked') throw new HttpError(403, 'pass the previous step first');
    // Until the cluster is up the text says so; the page asks again once it is ready.
    const env = environments.find(learner.id, lab.summary.id)?.env;
    const html = await coursework.renderStep(lab.summary.id, step.id, { learner: learner.name, server: env?.server ?? 'not started yet' });
    const shown = Math.min(progress.hintsShown[step.id] ?? 0, step.hints.length);
    const view: StepView = {
      id: step.id,
      title: step.title,
      html,
      hintsTotal: step.hints.length,
      hints: step.hints.slice(0, shown),
      hasSolution: step.hasSolution,
      state,
      environmentReady: env !== undefined,
      lastResult: store.lastCheck(learner.id, lab.summary.id, step.id),
    };
    res.json(view);
  });

  r.post('/labs/:lab/steps/:step/open', (req, res) => {
    const learner = learnerOf(req);
    const lab = labOf(req.params.lab);
    const { step, progress, state } = stepOf(lab, req.params.step, learner);
    if (state === 'locked') throw new HttpError(403, 'pass the previous step first');
    store.saveProgress({ ...progress, currentStep: step.id });
    res.json({ ok: true });
  });

  r.post('/labs/:lab/steps/:step/hint', (req, res) => {
    const learner = learnerOf(req);
    const lab = labOf(req.params.lab);
    const { step, progress, state } = stepOf(lab, req.params.step, learner);
    if (state === 'locked') throw new HttpError(403, 'pass the previous step first');
    const shown = Math.min((progress.hintsShown[step.id] ?? 0) + 1, step.hints.length);
    store.saveProgress({ ...progress, hintsShown: { ...progress.hintsShown, [step.id]: shown } });
    res.json({ hints: step.hints.slice(0, shown), hintsTotal: step.hints.length });
  });

  r.post('/labs/:lab/steps/:step/check', async (req, res) => {
    const learner = learnerOf(req);
    const lab = labOf(req.params.lab);
    const { step, index, state } = stepOf(lab, req.params.step, learner);
    if (state === 'locked') throw new HttpError(403, 'pass the previous step first');
    if (!ctx.checkLimiter.take(learner.id)) {
      ctx.metrics.rateLimited.labels('check').inc();
      throw new HttpError(429, 'checking too often; wait a few seconds', undefined, ctx.checkLimiter.retryAfter(learner.id));
    }
    const { grader } = await environments.ready(learner.id, lab.summary.id);
    const result: StepResultView = await ctx.gradings.run(() => grader.gradeStep(step.id));
    ctx.metrics.checks.labels(result.outcome).inc();
    store.recordCheck(learner.id, lab.summary.id, result);
    if (result.outcome === 'passed') {
      const progress = store.getProgress(learner.id, lab.summary.id);
      const passed = progress.passedSteps.includes(step.id) ? progress.passedSteps : [...progress.passedSteps, step.id];
      const next = lab.steps[index + 1]?.id;
      store.saveProgress({ ...progress, passedSteps: passed, currentStep: progress.currentStep === step.id && next ? next : progress.currentStep });
    }
    ctx.live.toLearner(learner.id, { type: 'step-result', result });
    void environments.saveFor(learner.id, lab.summary.id);
    mapCache.clear();
    res.json(result);
  });

  r.post('/labs/:lab/steps/:step/solve', async (req, res) => {
    const learner = learnerOf(req);
    const lab = labOf(req.params.lab);
    const { step, state } = stepOf(lab, req.params.step, learner);
    if (state === 'locked') throw new HttpError(403, 'pass the previous step first');
    if (!step.hasSolution) throw new HttpError(404, 'this step has no solution to apply');
    const { grader } = await environments.ready(learner.id, lab.summary.id);
    await grader.applySolution(step.id);
    ctx.log.info({ learner: learner.id, lab: lab.summary.id, step: step.id }, 'solution applied');
    mapCache.clear();
    res.json({ ok: true });
  });

  r.post('/labs/:lab/steps/:step/reset', async (req, res) => {
    const learner = learnerOf(req);
    const lab = labOf(req.params.lab);
    const { step, state } = stepOf(lab, req.params.step, learner);
    if (state === 'locked') throw new HttpError(403, 'pass the previous step first');
    const { grader } = await environments.ready(learner.id, lab.summary.id);
    await grader.resetStep(step.id);
    await grader.applyStepSetup(step.id);
    mapCache.clear();
    res.json({ ok: true });
  });

  r.post('/labs/:lab/questions/:q', async (req, res) => {
    const learner = learnerOf(req);
    const lab = labOf(req.params.lab);
    const q = lab.questions.find((x) => x.id === req.params.q);
    if (!q) throw new HttpError(404, `lab ${lab.summary.id} has no question "${req.params.q}"`);
    const answer = (req.body as { answer?: unknown }).answer;
    const valid =
      q.kind === 'multiple'
        ? Array.isArray(answer) && answer.length <= 50 && answer.every((a) => typeof a === 'string' && a.length <= 200)
        : typeof answer === 'string' && answer.length <= 20_000;
    if (!valid) throw new HttpError(400, q.kind === 'multiple' ? 'answer: a list of option ids' : 'answer: text up to 20000 characters', 'answer');
    // an empty answer would be graded (and its explanation shown) without the learner trying
    if (typeof answer === 'string' && answer.trim() === '') throw new HttpError(400, q.kind === 'single' ? 'answer: pick one of the options first' : 'answer: write your answer first', 'answer');
    if (!ctx.checkLimiter.take(learner.id)) throw new HttpError(429, 'answering too often; wait a few seconds', undefined, ctx.checkLimiter.retryAfter(learner.id));
    const grade = await coursework.gradeAnswer(lab.summary.id, q.id, answer as AnswerValue);
    store.recordAnswer(learner.id, lab.summary.id, q.id, answer, grade);
    ctx.live.classChanged();
    res.json(grade);
  });

  r.get('/labs/:lab/map', async (req, res) => {
    const learner = learnerOf(req);
    const lab = labOf(req.params.lab);
    const { grader, row } = await environments.ready(learner.id, lab.summary.id);
    const cached = mapCache.get(row.id);
    // a short debounce: several tabs polling share one snapshot, unless the cluster changed since
    const version = environments.version(learner.id, lab.summary.id);
    if (cached && cached.version === version && Date.now() - cached.at < 1500) return void res.json(cached.view);
    const view = buildPolicyMap(await grader.snapshot(), lab.environment.externalHosts);
    mapCache.set(row.id, { at: Date.now(), version, view });
    res.json(view);
  });

  return r;
}
