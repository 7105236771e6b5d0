// The kubelab browser app: a catalogue, a lab (lesson + terminal), and the instructor's class
// view. Hash routes (#/, #/lab/<id>, #/instructor) so the server only ever serves index.html.
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { api } from './api.ts';
import { clear, h } from './dom.ts';
import type { Me } from '../shared/api.ts';
import { renderCatalogue } from './pages/catalogue.ts';
import { renderLab } from './pages/lab.ts';
import { renderInstructor } from './pages/instructor.ts';

export interface Page {
  dispose(): void;
}

let current: Page | undefined;

async function route(): Promise<void> {
  current?.dispose();
  current = undefined;
  const root = document.getElementById('app')!;
  clear(root);
  const hash = location.hash.replace(/^#\/?/, '');
  let me: Me;
  try {
    me = await api.get<Me>('/me');
  } catch (err) {
    root.append(h('div', { class: 'boot error' }, `The server did not answer: ${(err as Error).message}`));
    return;
  }
  const [first, second] = hash.split('/');
  const header = h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'brand', href: '#/' }, h('span', { class: 'logo' }, 'k'), 'kubelab'),
    h('nav', {},
      me.role === 'learner' && me.learner ? h('span', { class: 'who' }, me.learner.name) : null,
      me.role === 'learner' ? null : h('a', { href: '#/instructor' }, 'Instructor'),
      // a shared machine, or a typo in the name: let the next person start fresh
      me.role === 'anonymous' ? null : h('button', { class: 'link', id: 'sign-out', onclick: () => void signOut() }, 'Sign out'),
    ),
  );
  const main = h('main', { class: 'page' });
  root.append(header, main);
  if (first === 'lab' && second) current = await renderLab(main, decodeURIComponent(second), me);
  else if (first === 'instructor') current = await renderInstructor(main, me);
  else current = await renderCatalogue(main, me);
}

async function signOut(): Promise<void> {
  await api.post('/logout').catch(() => undefined);
  if (location.hash === '' || location.hash === '#/') void route();
  else location.hash = '#/';
}

window.addEventListener('hashchange', () => void route());
void route();
