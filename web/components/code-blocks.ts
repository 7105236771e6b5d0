// Code blocks in lesson text get "Copy", and runnable ones (marked by the lab, or shell
// fences) get "Run in terminal", which types the text into the learner's shell.
import { h } from '../dom.ts';

function runnable(pre: HTMLElement, code: HTMLElement): boolean {
  if (pre.dataset.run !== undefined || code.dataset.run !== undefined || pre.closest('[data-run]')) return true;
  return /\blanguage-(sh|bash|shell|console)\b/.test(code.className);
}

export function enhanceCodeBlocks(root: HTMLElement, run: (text: string) => void): void {
  for (const pre of root.querySelectorAll('pre')) {
    const code = (pre.querySelector('code') ?? pre) as HTMLElement;
    const text = () => (code.textContent ?? '').replace(/\n$/, '');
    const bar = h('div', { class: 'code-actions' });
    const copy = h('button', { class: 'small', onclick: () => void navigator.clipboard?.writeText(text()).then(() => (copy.textContent = 'Copied')) }, 'Copy');
    bar.append(copy);
    if (runnable(pre, code)) bar.append(h('button', { class: 'small run', onclick: () => run(text()) }, 'Run in terminal'));
    pre.classList.add('has-actions');
    pre.prepend(bar);
  }
}
