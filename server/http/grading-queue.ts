// Gradings in turn. A class pressing "check" together would otherwise start every grading at
// once: each one's probes then wait for CPU so long that their tools time out, and every
// learner gets "could not check". Run a few at a time (about one per core) and let the rest wait
// in order; a grading that cannot start within `maxWaitMs` is answered 503 with Retry-After,
// said plainly, instead of hanging.
import { HttpError } from './errors.ts';

export interface GradingQueueOptions {
  /** gradings running at once */
  concurrency: number;
  /** longest a check waits for its turn */
  maxWaitMs: number;
}

export class GradingQueue {
  private running = 0;
  private readonly waiting: Array<{ start: () => void; timer: NodeJS.Timeout }> = [];

  constructor(readonly options: GradingQueueOptions) {}

  /** Gradings running and waiting, for metrics and health. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Run `grade` when a slot is free (at once if one is). */
  async run<T>(grade: () => Promise<T>): Promise<T> {
    if (this.running >= this.options.concurrency) await this.turn();
    else this.running++;
    try {
      return await grade();
    } finally {
      this.release();
    }
  }

  private turn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry = {
        start: () => {
          clearTimeout(entry.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          const seconds = Math.ceil(this.options.maxWaitMs / 1000);
          reject(new HttpError(503, `The server is grading many checks right now and yours could not start within ${seconds} s. Nothing is wrong with your work; check again in a moment.`, undefined, 10));
        }, this.options.maxWaitMs),
      };
      this.waiting.push(entry);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // the slot passes straight to the next grading: `running` stays the same
    if (next) next.start();
    else this.running--;
  }
}
