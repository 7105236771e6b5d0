// The environment's clock: minutes left, a warning in the last ten, and an extend button.
import { h, relativeTime } from '../dom.ts';

export class Countdown {
  readonly el = h('span', { class: 'countdown' });
  private readonly text = h('span', { class: 'time', id: 'time-left' });
  private readonly button: HTMLButtonElement;
  private readonly msg = h('span', { class: 'countdown-note', role: 'status' });
  private expiresAt: number | undefined;
  private timer: ReturnType<typeof setInterval>;

  constructor(onExtend: () => void) {
    this.button = h('button', { class: 'small', id: 'extend', onclick: onExtend }, 'Extend') as HTMLButtonElement;
    this.el.append(this.text, this.button, this.msg);
    this.timer = setInterval(() => this.tick(), 1000);
    this.set(undefined, false);
  }

  set(expiresAt: number | undefined, canExtend: boolean): void {
    this.expiresAt = expiresAt;
    this.button.hidden = !canExtend;
    this.msg.textContent = '';
    this.msg.className = 'countdown-note';
    this.tick();
  }

  note(text: string, kind: 'info' | 'error' = 'info'): void {
    this.msg.textContent = text;
    this.msg.className = `countdown-note ${kind}`;
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    if (this.expiresAt === undefined) {
      this.el.hidden = true;
      return;
    }
    this.el.hidden = false;
    const left = this.expiresAt - Date.now();
    this.text.textContent = left > 0 ? `${relativeTime(left)} left` : 'expiring…';
    this.el.classList.toggle('warning', left < 10 * 60_000);
    if (left < 10 * 60_000) this.button.hidden = false;
  }
}
