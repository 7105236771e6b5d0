// Two panes with a draggable divider; the split is remembered per browser.
import { h } from '../dom.ts';

export function makeSplit(left: HTMLElement, right: HTMLElement): { el: HTMLElement; dispose(): void } {
  const saved = Number(localStorage.getItem('kubelab.split') ?? '46');
  const divider = h('div', { class: 'divider', role: 'separator', 'aria-orientation': 'vertical', tabindex: 0, title: 'Drag to resize' });
  const el = h('div', { class: 'split' }, left, divider, right);
  const apply = (pct: number) => {
    const p = Math.min(75, Math.max(25, pct));
    el.style.gridTemplateColumns = `${p}% 6px 1fr`;
    localStorage.setItem('kubelab.split', String(p));
  };
  apply(Number.isFinite(saved) ? saved : 46);
  let dragging = false;
  const move = (e: PointerEvent) => {
    if (!dragging) return;
    const rect = el.getBoundingClientRect();
    apply(((e.clientX - rect.left) / rect.width) * 100);
  };
  const up = () => {
    dragging = false;
    el.classList.remove('dragging');
  };
  divider.addEventListener('pointerdown', (e) => {
    dragging = true;
    el.classList.add('dragging');
    divider.setPointerCapture(e.pointerId);
  });
  divider.addEventListener('pointermove', move);
  divider.addEventListener('pointerup', up);
  divider.addEventListener('keydown', (e) => {
    const cur = parseFloat(el.style.gridTemplateColumns) || 46;
    if (e.key === 'ArrowLeft') apply(cur - 2);
    if (e.key === 'ArrowRight') apply(cur + 2);
  });
  return { el, dispose() {} };
}
