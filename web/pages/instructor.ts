// The instructor's class view: sign in with the token, then every learner's step and last
// check, a heatmap of the checks that fail most, drill-down, join codes and a CSV of grades.
import { api } from '../api.ts';
import { clear, h } from '../dom.ts';
import { LiveSocket } from '../live.ts';
import { renderResult } from '../components/results.ts';
import type { ClassView, LabSummary, LearnerDetail, Me } from '../../shared/api.ts';
import type { Page } from '../main.ts';

export async function renderInstructor(main: HTMLElement, me: Me): Promise<Page> {
  if (me.role !== 'instructor') {
    const token = h('input', { id: 'instructor-token', type: 'password', placeholder: 'Instructor token', autocomplete: 'current-password' }) as HTMLInputElement;
    const error = h('p', { class: 'form-error', role: 'alert' });
    const form = h('form', { class: 'signin', onsubmit: async (e: Event) => {
      e.preventDefault();
      try {
        await api.post('/instructor/login', { token: token.value });
        location.reload();
      } catch (err) {
        error.textContent = (err as Error).message;
      }
    } }, h('h1', {}, 'Instructor sign-in'), h('p', {}, 'The token is printed by the server at start (or set with KUBELAB_INSTRUCTOR_TOKEN).'), token, h('button', { class: 'primary', type: 'submit' }, 'Sign in'), error);
    main.append(form);
    return { dispose() {} };
  }
  const labs = await api.get<LabSummary[]>('/labs');
  let code = new URLSearchParams(location.hash.split('?')[1] ?? '').get('code') ?? '';
  const live = new LiveSocket();
  const body = h('div', { class: 'class-view', id: 'class-view' });
  const detail = h('aside', { class: 'detail hidden', id: 'learner-detail' });
  main.append(h('div', { class: 'instructor' }, body, detail));
  let pending: ReturnType<typeof setTimeout> | undefined;
  const off = live.on((e) => {
    if (e.type !== 'class-changed') return;
    if (pending) clearTimeout(pending);
    pending = setTimeout(() => void load(), 300);
  });

  const offOpen = live.onOpen(() => void load());

  async function load(): Promise<void> {
    const view = await api.get<ClassView>(`/class${code ? `?code=${encodeURIComponent(code)}` : ''}`);
    clear(body);
    const classSelect = h('select', { id: 'class-filter', onchange: (e: Event) => { code = (e.target as HTMLSelectElement).value; void load(); } },
      h('option', { value: '' }, 'All learners'),
      ...view.classes.map((c) => h('option', { value: c.code, selected: c.code === code }, `${c.name} (${c.code}) · ${c.learners}`)),
    );
    const newName = h('input', { placeholder: 'Class name', id: 'class-name' }) as HTMLInputElement;
    const newLab = h('select', {}, h('option', { value: '' }, 'any lab'), ...labs.map((l) => h('option', { value: l.id }, l.title))) as HTMLSelectElement;
    const newSkip = h('input', { type: 'checkbox' }) as HTMLInputElement;
    const createClass = h('form', { class: 'inline', onsubmit: async (e: Event) => {
      e.preventDefault();
      const c = await api.post<{ code: string }>('/classes', { name: newName.value, labId: newLab.value || undefined, allowSkip: newSkip.checked });
      code = c.code;
      await load();
    } }, newName, newLab, h('label', {}, newSkip, ' learners may skip steps'), h('button', { type: 'submit' }, 'Create class code'));
    const cls = view.classes.find((c) => c.code === code);
    body.append(
      h('div', { class: 'class-head' },
        h('h1', {}, 'Class'),
        classSelect,
        cls ? h('span', { class: 'join-code' }, 'Join code ', h('b', {}, cls.code)) : null,
        cls ? h('label', {}, h('input', { type: 'checkbox', checked: cls.allowSkip, onchange: async (e: Event) => { await api.post(`/classes/${cls.code}`, { allowSkip: (e.target as HTMLInputElement).checked }); } }), ' allow skipping steps') : null,
        h('a', { class: 'button', href: `/api/class/grades.csv${code ? `?code=${encodeURIComponent(code)}` : ''}`, download: '' }, 'Export grades (CSV)'),
      ),
      createClass,
      h('h2', {}, `Learners (${view.learners.length})`),
      view.learners.length
        ? h('table', { class: 'learners', id: 'learners' },
            h('tr', {}, ...['Learner', 'Lab', 'Step', 'Passed', 'Last check', 'Score', 'Cluster'].map((t) => h('th', {}, t))),
            ...view.learners.map((l) => h('tr', { 'data-learner': l.id, class: 'clickable', onclick: () => void showLearner(l.id, l.labId) },
              h('td', {}, l.name), h('td', {}, l.labId), h('td', {}, l.currentStep), h('td', {}, String(l.passedSteps.length)),
              h('td', { class: l.lastCheck?.outcome ?? '' }, l.lastCheck ? `${l.lastCheck.stepId}: ${l.lastCheck.outcome}` : '—'),
              h('td', {}, `${Math.round(l.score * 100)}%`), h('td', {}, l.environment),
            )))
        : h('p', { class: 'empty' }, 'No learners yet. Share a class code, or let learners join by name.'),
      h('h2', {}, 'Checks that fail most'),
      view.heatmap.length
        ? h('table', { class: 'heatmap', id: 'heatmap' },
            h('tr', {}, ...['Lab', 'Step', 'Check', 'Failing', ''].map((t) => h('th', {}, t))),
            ...view.heatmap.map((c) => {
              const ratio = c.attempts ? c.failures / c.attempts : 0;
              return h('tr', {}, h('td', {}, c.labId), h('td', {}, c.stepId), h('td', {}, c.title), h('td', {}, `${c.failures} of ${c.attempts}`),
                h('td', { class: 'heat' }, h('span', { style: `width:${Math.round(ratio * 100)}%;opacity:${0.35 + ratio * 0.65}` })));
            }))
        : h('p', { class: 'empty' }, 'No checks run yet.'),
    );
  }

  async function showLearner(id: string, labId: string): Promise<void> {
    const d = await api.get<LearnerDetail>(`/class/learners/${encodeURIComponent(id)}?lab=${encodeURIComponent(labId)}`);
    clear(detail);
    detail.classList.remove('hidden');
    detail.append(
      h('button', { class: 'close small', onclick: () => detail.classList.add('hidden') }, 'Close'),
      h('h2', {}, d.learner.name),
      h('p', {}, `${d.labId} · on step ${d.progress.currentStep || '—'} · passed ${d.progress.passedSteps.join(', ') || 'none'}`),
      h('h3', {}, 'Policies'),
      d.policies.length ? h('div', {}, ...d.policies.map((p) => h('details', {}, h('summary', {}, `${p.namespace}/${p.name}`), h('pre', {}, p.yaml)))) : h('p', { class: 'empty' }, 'No NetworkPolicies.'),
      h('h3', {}, 'Latest checks'),
      d.results.length ? h('div', {}, ...d.results.slice(0, 5).map((r) => h('div', {}, h('p', { class: 'meta' }, `${r.stepId} · ${new Date(r.at).toLocaleTimeString()}`), renderResult(r)))) : h('p', { class: 'empty' }, 'No checks yet.'),
      h('h3', {}, 'Answers'),
      d.answers.length ? h('ul', {}, ...d.answers.map((a) => h('li', {}, `${a.questionId}: ${a.correct ? 'correct' : 'wrong'} (${Math.round(a.score * 100)}%)`))) : h('p', { class: 'empty' }, 'No answers yet.'),
    );
  }

  await load();
  return {
    dispose() {
      off();
      offOpen();
      live.close();
    },
  };
}
