// A lab: the lesson on the left, the learner's terminal on the right (resizable), with the
// environment's clock, the policy map and the questions one click away.
import { api, RequestError } from '../api.ts';
import { clear, h } from '../dom.ts';
import { LiveSocket } from '../live.ts';
import type { EnvironmentView, LabSession, Me, StepView } from '../../shared/api.ts';
import type { Page } from '../main.ts';
import { TerminalView, type TerminalStatus } from '../terminal/terminal-view.ts';
import { renderResult } from '../components/results.ts';
import { Countdown } from '../components/countdown.ts';
import { makeSplit } from '../components/split.ts';
import { PolicyMapPanel } from '../components/policy-map.ts';
import { renderQuestions } from '../components/questions.ts';
import { enhanceCodeBlocks } from '../components/code-blocks.ts';

/** Hints are inline HTML rendered on the server from Markdown without raw HTML. */
function hintItem(html: string): HTMLElement {
  const li = h('li', {});
  li.innerHTML = html;
  return li;
}

export async function renderLab(main: HTMLElement, labId: string, me: Me): Promise<Page> {
  if (me.role !== 'learner') {
    location.hash = '#/';
    return { dispose() {} };
  }
  let session: LabSession;
  try {
    session = await api.get<LabSession>(`/labs/${encodeURIComponent(labId)}/session`);
  } catch (err) {
    main.append(h('div', { class: 'boot error' }, (err as Error).message));
    return { dispose() {} };
  }
  const live = new LiveSocket();
  let terminal: TerminalView | undefined;
  let currentStep = session.currentStep;
  /** the step on screen was rendered before the cluster ran (its text lacks the cluster's address) */
  let stepWithoutCluster = false;
  const disposers: Array<() => void> = [];

  // header
  const status = h('span', { class: 'env-status', id: 'env-status' });
  const countdown = new Countdown(() => void extend());
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const header = h('div', { class: 'lab-header' }, h('h1', {}, session.lab.title), tabs, h('div', { class: 'env' }, status, countdown.el));

  // panes
  const lessonPane = h('section', { class: 'pane lesson', id: 'lesson' });
  const mapPane = h('section', { class: 'pane map hidden', id: 'policy-map' });
  const questionsPane = h('section', { class: 'pane questions hidden', id: 'questions' });
  const left = h('div', { class: 'left' }, lessonPane, mapPane, questionsPane);
  const termHost = h('div', { class: 'terminal-host', id: 'terminal' });
  const termStatus = h('div', { class: 'terminal-status' });
  const overlay = h('div', { class: 'env-overlay', id: 'provisioning' });
  const right = h('div', { class: 'right' }, termStatus, termHost, overlay);
  const split = makeSplit(left, right);
  main.classList.add('lab-page');
  main.append(header, split.el);

  const map = new PolicyMapPanel(mapPane, labId);
  disposers.push(() => map.dispose());

  const showTab = (name: 'lesson' | 'map' | 'questions') => {
    lessonPane.classList.toggle('hidden', name !== 'lesson');
    mapPane.classList.toggle('hidden', name !== 'map');
    questionsPane.classList.toggle('hidden', name !== 'questions');
    for (const b of tabs.querySelectorAll('button')) b.classList.toggle('active', b.dataset.tab === name);
    map.setVisible(name === 'map');
  };
  for (const [id, label] of [['lesson', 'Lesson'], ['map', 'Policy map'], ['questions', `Questions (${session.questions.length})`]] as const) {
    tabs.append(h('button', { 'data-tab': id, role: 'tab', onclick: () => showTab(id) }, label));
  }
  showTab('lesson');

  // environment
  const progressLog = h('ol', { class: 'progress-log' });
  const progressBar = h('div', { class: 'bar' }, h('span', {}));
  const setEnvironment = (env: EnvironmentView) => {
    session.environment = env;
    status.textContent = { none: 'No environment', provisioning: 'Starting…', ready: `Ready${env.dataPlane ? ` · ${env.dataPlane}` : ''}`, failed: 'Failed', expired: 'Expired' }[env.status];
    status.className = `env-status ${env.status}`;
    countdown.set(env.status === 'ready' ? env.expiresAt : undefined, env.canExtend ?? false);
    clear(overlay);
    overlay.classList.toggle('hidden', env.status === 'ready');
    map.setPushed(env.status === 'ready' && env.reportsChanges === true);
    if (env.status === 'ready') {
      if (!terminal) terminal = new TerminalView(termHost, labId, terminalStatus);
      map.refresh();
      if (stepWithoutCluster && currentStep) void showStep(currentStep, { keepScroll: true });
      return;
    }
    terminal?.dispose();
    terminal = undefined;
    clear(termHost);
    switch (env.status) {
      case 'none':
      case 'expired':
        overlay.append(
          h('h2', {}, env.status === 'expired' ? 'Your environment expired' : 'Your cluster is not running'),
          h('p', {}, env.status === 'expired' ? 'Start it again: the objects you made are restored and your progress is kept.' : 'Start your own cluster for this lab. It takes a moment.'),
          h('button', { class: 'primary', id: 'start-env', onclick: () => void startEnvironment() }, env.status === 'expired' ? 'Start again' : 'Start my cluster'),
        );
        return;
      case 'failed':
        overlay.append(h('h2', {}, 'Your cluster could not start'), h('p', { class: 'form-error' }, env.message ?? ''), h('button', { class: 'primary', onclick: () => void startEnvironment() }, 'Try again'));
        return;
      case 'provisioning':
        overlay.append(h('h2', {}, 'Starting your cluster'), progressBar, progressLog);
        if (env.message && !progressLog.lastChild) progressLog.append(h('li', {}, env.message));
        return;
    }
  };
  const terminalStatus = (s: TerminalStatus, detail?: string) => {
    termStatus.className = `terminal-status ${s}`;
    clear(termStatus);
    const text = { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Connection lost — reconnecting…', replaced: detail ?? '', ended: detail ?? '' }[s];
    termStatus.append(h('span', {}, text));
    if (s === 'replaced' || s === 'ended') termStatus.append(h('button', { onclick: () => terminal?.reconnectNow() }, 'Use it here'));
  };
  // Events can be missed while the live socket (re)connects: re-read the environment then, and
  // keep re-reading while it provisions.
  const refreshEnvironment = async () => {
    try {
      const s = await api.get<LabSession>(`/labs/${encodeURIComponent(labId)}/session`);
      const before = session.environment;
      if (s.environment.status !== before.status || s.environment.expiresAt !== before.expiresAt || s.environment.reportsChanges !== before.reportsChanges) setEnvironment(s.environment);
    } catch {
      // the next tick or event will tell
    }
  };
  const poll = setInterval(() => {
    if (session.environment.status === 'provisioning') void refreshEnvironment();
  }, 2000);
  disposers.push(() => clearInterval(poll));
  disposers.push(live.onOpen(() => void refreshEnvironment()));
  const startEnvironment = async () => {
    clear(progressLog);
    try {
      setEnvironment(await api.post<EnvironmentView>(`/labs/${encodeURIComponent(labId)}/start`));
    } catch (err) {
      clear(overlay);
      overlay.append(h('h2', {}, 'Could not start'), h('p', { class: 'form-error' }, (err as Error).message), h('button', { class: 'primary', onclick: () => void startEnvironment() }, 'Try again'));
    }
  };
  const extend = async () => {
    try {
      setEnvironment(await api.post<EnvironmentView>(`/labs/${encodeURIComponent(labId)}/extend`));
    } catch (err) {
      countdown.note((err as Error).message, 'error');
    }
  };
  disposers.push(
    live.on((e) => {
      switch (e.type) {
        case 'environment':
          if (e.environment.labId === labId) setEnvironment(e.environment);
          return;
        case 'progress':
          progressLog.append(h('li', {}, e.progress.message));
          if (e.progress.fraction !== undefined) (progressBar.firstChild as HTMLElement).style.width = `${Math.round(e.progress.fraction * 100)}%`;
          return;
        case 'step-result':
          map.refresh();
          return;
        case 'cluster-changed':
          if (e.labId === labId) map.refresh();
          return;
        case 'class-changed':
          return;
      }
    }),
  );

  // lesson
  const loadSession = async () => {
    session = await api.get<LabSession>(`/labs/${encodeURIComponent(labId)}/session`);
  };
  let shown = 0;
  const showStep = async (stepId: string, opts: { keepScroll?: boolean; again?: boolean } = {}) => {
    const mine = ++shown;
    currentStep = stepId;
    const scroll = left.scrollTop;
    let step: StepView;
    try {
      step = await api.get<StepView>(`/labs/${encodeURIComponent(labId)}/steps/${encodeURIComponent(stepId)}`);
    } catch (err) {
      if (mine !== shown) return;
      clear(lessonPane);
      lessonPane.append(h('p', { class: 'form-error' }, (err as Error).message));
      return;
    }
    // a later call (another step, or the cluster becoming ready) owns the pane now
    if (mine !== shown) return;
    stepWithoutCluster = !step.environmentReady;
    if (stepWithoutCluster && session.environment.status === 'ready' && !opts.again) return void showStep(stepId, { ...opts, again: true });
    clear(lessonPane);
    const nav = h('ol', { class: 'steps-nav', 'aria-label': 'Steps' });
    session.steps.forEach((s, i) =>
      nav.append(
        h('li', { class: `${s.state}${s.id === stepId ? ' current' : ''}` },
          h('button', { disabled: s.state === 'locked', title: s.state === 'locked' ? 'Pass the previous step first' : s.title, onclick: () => void openStep(s.id) },
            h('span', { class: 'num' }, s.state === 'passed' ? '✓' : String(i + 1)), h('span', { class: 'label' }, s.title)),
        ),
      ),
    );
    lessonPane.append(nav);
    const body = h('article', { class: 'step-text' });
    body.innerHTML = step.html; // rendered on the server from Markdown with raw HTML disabled
    enhanceCodeBlocks(body, (text) => terminal?.run(text));
    const results = h('div', { class: 'results', id: 'results', 'aria-live': 'polite' });
    if (step.lastResult) results.append(renderResult(step.lastResult));
    const hints = h('ol', { class: 'hints' }, ...step.hints.map(hintItem));
    const hintButton = h('button', { id: 'hint', disabled: step.hints.length >= step.hintsTotal, onclick: () => void nextHint() }, step.hintsTotal ? `Hint (${step.hints.length}/${step.hintsTotal})` : 'No hints');
    const checkButton = h('button', { class: 'primary', id: 'check', onclick: () => void check() }, 'Check');
    const actions = h('div', { class: 'actions' },
      checkButton,
      hintButton,
      h('button', { id: 'reset-step', title: 'Undo what this step asks for and set it up again', onclick: () => void act('reset', 'Resetting…') }, 'Reset step'),
      step.hasSolution ? h('button', { id: 'solve', title: 'Apply the solution for this step', onclick: () => void act('solve', 'Applying the solution…') }, 'Fast-forward') : null,
    );
    const note = h('p', { class: 'note' });
    lessonPane.append(h('h2', { class: 'step-title' }, step.title), body, hints, actions, note, results);
    left.scrollTop = opts.keepScroll ? scroll : 0;
    // the step bar is one row that scrolls sideways: bring the current step into it
    const here = nav.querySelector<HTMLElement>('li.current');
    if (here) nav.scrollLeft = Math.max(0, here.offsetLeft - nav.offsetLeft - 40);

    async function nextHint() {
      const r = await api.post<{ hints: string[]; hintsTotal: number }>(`/labs/${encodeURIComponent(labId)}/steps/${encodeURIComponent(stepId)}/hint`);
      clear(hints);
      for (const t of r.hints) hints.append(hintItem(t));
      hintButton.textContent = `Hint (${r.hints.length}/${r.hintsTotal})`;
      (hintButton as HTMLButtonElement).disabled = r.hints.length >= r.hintsTotal;
    }
    async function act(what: 'reset' | 'solve', doing: string) {
      note.textContent = doing;
      try {
        await api.post(`/labs/${encodeURIComponent(labId)}/steps/${encodeURIComponent(stepId)}/${what}`);
        note.textContent = what === 'solve' ? 'Solution applied. Press Check to confirm.' : 'Step reset.';
        map.refresh();
      } catch (err) {
        note.textContent = (err as Error).message;
      }
    }
    async function check() {
      (checkButton as HTMLButtonElement).disabled = true;
      checkButton.textContent = 'Checking…';
      clear(results);
      results.append(h('div', { class: 'result checking' }, 'Running probes in your cluster…'));
      try {
        const result = await api.post<import('../../shared/api.ts').StepResultView>(`/labs/${encodeURIComponent(labId)}/steps/${encodeURIComponent(stepId)}/check`);
        clear(results);
        results.append(renderResult(result));
        if (result.outcome === 'passed') {
          await loadSession();
          const i = session.steps.findIndex((s) => s.id === stepId);
          const next = session.steps[i + 1];
          if (next) results.append(h('button', { class: 'primary next', onclick: () => void openStep(next.id) }, `Next: ${next.title} →`));
          else results.append(h('p', { class: 'done' }, 'You finished every step. Answer the questions to complete the lab.'));
          for (const li of nav.querySelectorAll('li')) li.classList.remove('current');
        }
      } catch (err) {
        clear(results);
        results.append(h('div', { class: 'result error' }, err instanceof RequestError && err.status === 429 ? err.message : `Could not check: ${(err as Error).message}`));
      } finally {
        (checkButton as HTMLButtonElement).disabled = false;
        checkButton.textContent = 'Check';
      }
    }
  };
  const openStep = async (stepId: string) => {
    await api.post(`/labs/${encodeURIComponent(labId)}/steps/${encodeURIComponent(stepId)}/open`).catch(() => undefined);
    await loadSession();
    await showStep(stepId);
  };

  const questionsPanel = () => renderQuestions(questionsPane, labId, session.questions);
  questionsPanel();
  setEnvironment(session.environment);
  if (session.environment.status === 'none') void startEnvironment();
  if (currentStep) await showStep(currentStep);

  return {
    dispose() {
      for (const d of disposers) d();
      countdown.dispose();
      live.close();
      terminal?.dispose();
      split.dispose();
    },
  };
}
