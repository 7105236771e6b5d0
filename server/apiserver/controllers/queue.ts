// A coalescing work queue: a key queued many times before it runs is reconciled once, after the
// change that queued it has been committed (controllers never write from inside a store callback).
export class WorkQueue {
  private readonly pending = new Set<string>();
  private scheduled = false;
  private running = false;
  private idleWaiters: Array<() => void> = [];
  private disposed = false;

  constructor(
    private readonly reconcile: (key: string) => Promise<void> | void,
    private readonly onError: (key: string, err: unknown) => void,
  ) {}

  add(key: string): void {
    if (this.disposed) return;
    this.pending.add(key);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.size > 0 && !this.disposed) {
        const key = this.pending.values().next().value as string;
        this.pending.delete(key);
        try {
          await this.reconcile(key);
        } catch (err) {
          this.onError(key, err);
        }
      }
    } finally {
      this.running = false;
    }
    if (this.pending.size > 0 && !this.disposed) this.schedule();
    else this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  get busy(): boolean {
    return this.pending.size > 0 || this.running || this.scheduled;
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  dispose(): void {
    this.disposed = true;
    this.pending.clear();
    this.notifyIdle();
  }
}
