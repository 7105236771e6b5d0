// The lab's questions: answer, submit, and see the grade with its explanation. The last answer
// comes back from the server, so a reload shows where the learner was.
import { api } from '../api.ts';
import { clear, h } from '../dom.ts';
import type { AnswerValue, GradeView, QuestionView } from '../../shared/api.ts';

export function renderQuestions(pane: HTMLElement, labId: string, questions: QuestionView[]): void {
  clear(pane);
  pane.append(h('h2', {}, 'Questions'));
  if (!questions.length) pane.append(h('p', { class: 'empty' }, 'This lab has no questions.'));
  questions.forEach((q, i) => pane.append(renderQuestion(labId, q, i)));
}

/** Option labels are inline HTML rendered on the server from Markdown without raw HTML. */
function optionLabel(html: string): HTMLElement {
  const span = h('span', {});
  span.innerHTML = html;
  return span;
}

function renderQuestion(labId: string, q: QuestionView, index: number): HTMLElement {
  const prompt = h('div', { class: 'prompt' });
  prompt.innerHTML = q.prompt; // rendered on the server from Markdown with raw HTML disabled
  const grade = h('div', { class: 'grade', 'aria-live': 'polite' });
  let input: () => AnswerValue;
  let field: HTMLElement;
  const last = q.last?.answer;
  switch (q.kind) {
    case 'single':
    case 'multiple': {
      const type = q.kind === 'single' ? 'radio' : 'checkbox';
      const chosen = new Set(Array.isArray(last) ? last : last ? [last] : []);
      field = h('div', { class: 'options' }, ...(q.options ?? []).map((o) =>
        h('label', { class: 'option' }, h('input', { type, name: `q-${q.id}`, value: o.id, checked: chosen.has(o.id) }), optionLabel(o.label)),
      ));
      input = () => {
        const values = [...field.querySelectorAll<HTMLInputElement>('input:checked')].map((x) => x.value);
        return q.kind === 'single' ? (values[0] ?? '') : values;
      };
      break;
    }
    case 'text':
    case 'manifest': {
      const area = h(q.kind === 'text' ? 'input' : 'textarea', { class: q.kind, spellcheck: false, placeholder: q.kind === 'manifest' ? 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n…' : 'Your answer' }) as HTMLInputElement | HTMLTextAreaElement;
      if (typeof last === 'string') area.value = last;
      if (area instanceof HTMLTextAreaElement) area.rows = 12;
      field = area;
      input = () => area.value;
      break;
    }
  }
  const show = (g: GradeView) => {
    clear(grade);
    grade.className = `grade ${g.correct ? 'correct' : 'wrong'}`;
    grade.append(h('strong', {}, g.correct ? 'Correct' : g.score > 0 ? `Partly right (${Math.round(g.score * 100)}%)` : 'Not right'), h('p', {}, g.explanation));
  };
  if (q.last) show(q.last);
  const submit = h('button', { class: 'primary', onclick: async () => {
    const answer = input();
    if (answer.length === 0 || (typeof answer === 'string' && answer.trim() === '')) {
      clear(grade);
      grade.className = 'grade error';
      grade.append(q.kind === 'single' || q.kind === 'multiple' ? 'Pick an answer first.' : 'Write your answer first.');
      return;
    }
    submit.setAttribute('disabled', '');
    try {
      show(await api.post<GradeView>(`/labs/${encodeURIComponent(labId)}/questions/${encodeURIComponent(q.id)}`, { answer }));
    } catch (err) {
      clear(grade);
      grade.className = 'grade error';
      grade.append((err as Error).message);
    } finally {
      submit.removeAttribute('disabled');
    }
  } }, 'Submit');
  return h('section', { class: 'question', 'data-question': q.id }, h('h3', {}, `Question ${index + 1}`), prompt, field, h('div', { class: 'actions' }, submit), grade);
}
