// A bound on how many clusters are being created at once. kind creates are heavy (a node
// container booting systemd, kubeadm, then Calico pulling and starting): past two or three at a
// time on one host they slow each other down and start failing on inotify and I/O. A learner
// waiting for a cluster goes ahead of the warm pool's background refills.
import { abortedError } from './errors.ts';

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (err: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export type Priority = 'learner' | 'background';

export class Semaphore {
  private held = 0;
  private readonly learners: Waiter[] = [];
  private readonly background: Waiter[] = [];
  /** the most holders ever seen at once (for tests and metrics) */
  peak = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`semaphore limit must be a whole number ≥ 1, got ${limit}`);
  }

  get inUse(): number {
    return this.held;
  }

  get waiting(): number {
    return this.learners.length + this.background.length;
  }

  /** Wait for a slot; the returned function gives it back (calling it twice is harmless). */
  acquire(priority: Priority = 'learner', signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortedError(signal, 'waiting for a free cluster slot'));
    if (this.held < this.limit) return Promise.resolve(this.grant());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      const queue = priority === 'learner' ? this.learners : this.background;
      if (signal) {
        waiter.onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(abortedError(signal, 'waiting for a free cluster slot'));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      queue.push(waiter);
    });
  }

  private grant(): () => void {
    this.held++;
    this.peak = Math.max(this.peak, this.held);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
      this.next();
    };
  }

  private next(): void {
    while (this.held < this.limit) {
      const waiter = this.learners.shift() ?? this.background.shift();
      if (!waiter) return;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.grant());
    }
  }
}
