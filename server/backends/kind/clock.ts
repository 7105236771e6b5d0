// Time as something a test can hold still: waits, TTLs and the pool's reaper read the clock
// through this, so tests advance it instead of sleeping.
import { abortedError } from './errors.ts';

export interface Clock {
  now(): number;
  /** resolves after `ms`, or rejects with an `aborted` KindError when `signal` fires */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortedError(signal, 'waiting'));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortedError(signal, 'waiting'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * A clock that only moves when told to (or when someone sleeps on it: sleeping advances time at
 * once, so a 60 s wait in a test takes no wall time but still sees 60 s pass).
 */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortedError(signal, 'waiting');
    this.t += ms;
    // let other tasks run, as a real sleep would
    await new Promise<void>((r) => setImmediate(r));
    if (signal?.aborted) throw abortedError(signal, 'waiting');
  }
}
