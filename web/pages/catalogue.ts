// The catalogue: every lab on this server, and the name / class code a learner joins with.
import { api, RequestError } from '../api.ts';
import { h } from '../dom.ts';
import type { LabSummary, Me } from '../../shared/api.ts';
import type { Page } from '../main.ts';

export async function renderCatalogue(main: HTMLElement, me: Me): Promise<Page> {
  const labs = await api.get<LabSummary[]>('/labs').catch(() => [] as LabSummary[]);
  const joined = me.role === 'learner';
  const error = h('p', { class: 'form-error', role: 'alert' });
  const name = h('input', { id: 'join-name', name: 'name', maxlength: 60, placeholder: 'Your name', autocomplete: 'name', required: true }) as HTMLInputElement;
  const code = h('input', { id: 'join-code', name: 'code', maxlength: 12, placeholder: 'Class code (optional)', autocomplete: 'off' }) as HTMLInputElement;

  const start = async (labId: string) => {
    error.textContent = '';
    if (!joined) {
      try {
        await api.post('/join', { name: name.value, code: code.value.trim() || undefined });
      } catch (err) {
        error.textContent = err instanceof RequestError ? err.message : String(err);
        (err instanceof RequestError && err.field === 'code' ? code : name).focus();
        return;
      }
    }
    location.hash = `#/lab/${encodeURIComponent(labId)}`;
  };

  main.append(
    h('section', { class: 'hero' },
      h('h1', {}, 'Hands-on Kubernetes labs'),
      h('p', { class: 'lead' }, 'Your own cluster, a real terminal, and an autograder that proves with network probes that your work does what it should.'),
      joined
        ? h('p', { class: 'joined' }, 'Signed in. Pick a lab to continue where you left off.')
        : h('form', { class: 'join', onsubmit: (e: Event) => e.preventDefault() }, h('label', { for: 'join-name' }, 'Name'), name, h('label', { for: 'join-code' }, 'Class code'), code),
      error,
    ),
    h('section', { class: 'catalogue' },
      labs.length === 0 ? h('p', { class: 'empty' }, 'No labs on this server yet. Instructors: put labs in the labs/ folder.') : null,
      ...labs.map((lab) =>
        h('article', { class: 'lab-card', 'data-lab': lab.id },
          h('h2', {}, lab.title),
          h('p', {}, lab.summary),
          h('p', { class: 'meta' }, `${lab.steps} steps · ${lab.questions} questions · about ${lab.minutes} min`),
          h('button', { class: 'primary', onclick: () => void start(lab.id) }, joined ? 'Open lab' : 'Start lab'),
        ),
      ),
    ),
  );
  return { dispose() {} };
}
