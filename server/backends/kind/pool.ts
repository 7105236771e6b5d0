// Warm clusters. A kind+Calico cluster takes a minute or two to become ready, so a class keeps a
// few ready ones: a learner takes one (it is reset first, so it carries nothing from before), and
// the pool builds a replacement in the background. Every build, learner or background, goes
// through one semaphore so the host never creates more clusters at once than it can take; a
// learner waiting goes ahead of background refills.
import type { ProvisionProgress } from '../types.ts';
import type { Clock } from './clock.ts';
import { KindError } from './errors.ts';
import type { Priority } from './semaphore.ts';
import { Semaphore } from './semaphore.ts';

export interface ClusterSource<C> {
  /** Make one ready cluster (CNI up, nodes Ready). Must leave nothing behind when it throws. */
  build(signal: AbortSignal, priority: Priority, report?: (progress: ProvisionProgress) => void): Promise<C>;
  /** Remove whatever a learner made, so the cluster can be handed out again. */
  reset(cluster: C, signal?: AbortSignal): Promise<void>;
  destroy(cluster: C): Promise<void>;
  describe(cluster: C): string;
}

export interface PoolOptions {
  /** ready clusters to keep idle */
  size: number;
  /** builds at once */
  maxConcurrentBuilds: number;
  clock: Clock;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** first delay after a failed background build; doubles up to 5 min */
  retryDelayMs?: number;
}

export interface PoolStats {
  idle: number;
  building: number;
  leased: number;
  buildsStarted: number;
  buildsFailed: number;
  peakConcurrentBuilds: number;
}

export class WarmPool<C> {
  private readonly idle: C[] = [];
  private readonly leased = new Set<C>();
  private backgroundBuilds = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly semaphore: Semaphore;
  private readonly stopping = new AbortController();
  private closed = false;
  private failures = 0;
  private retryAt = 0;
  private started = 0;
  private failed = 0;

  constructor(
    private readonly source: ClusterSource<C>,
    private readonly opts: PoolOptions,
  ) {
    this.semaphore = new Semaphore(opts.maxConcurrentBuilds);
  }

  stats(): PoolStats {
    return {
      idle: this.idle.length,
      building: this.backgroundBuilds,
      leased: this.leased.size,
      buildsStarted: this.started,
      buildsFailed: this.failed,
      peakConcurrentBuilds: this.semaphore.peak,
    };
  }

  /** Resolves when every background build started so far has finished (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private async build(priority: Priority, signal: AbortSignal, report?: (progress: ProvisionProgress) => void): Promise<C> {
    const release = await this.semaphore.acquire(priority, signal);
    try {
      if (this.closed) throw new KindError('closed', 'the kind backend is shutting down');
      this.started++;
      return await this.source.build(signal, priority, report);
    } catch (err) {
      this.failed++;
      throw err;
    } finally {
      release();
    }
  }

  /** Start background builds until idle + building reaches the pool size. */
  fill(): void {
    if (this.closed) return;
    const wanted = this.opts.size - this.idle.length - this.backgroundBuilds;
    if (wanted <= 0) return;
    const now = this.opts.clock.now();
    if (now < this.retryAt) {
      this.track(this.opts.clock.sleep(this.retryAt - now, this.stopping.signal).then(() => this.fill()));
      return;
    }
    for (let i = 0; i < wanted; i++) {
      this.backgroundBuilds++;
      const p = this.build('background', this.stopping.signal).then(
        (cluster) => {
          this.backgroundBuilds--;
          this.failures = 0;
          if (this.closed) return this.destroyQuietly(cluster);
          this.idle.push(cluster);
          this.opts.log('info', `warm cluster ready: ${this.source.describe(cluster)} (${this.idle.length} idle)`);
        },
        (err: unknown) => {
          this.backgroundBuilds--;
          if (this.closed) return;
          this.failures++;
          const base = this.opts.retryDelayMs ?? 5000;
          const delay = Math.min(base * 2 ** (this.failures - 1), 5 * 60_000);
          this.retryAt = this.opts.clock.now() + delay;
          this.opts.log('warn', `warm cluster build failed (retrying in ${Math.round(delay / 1000)} s): ${err instanceof Error ? err.message : String(err)}`);
          this.fill();
        },
      );
      this.track(p);
    }
  }

  private track(p: Promise<unknown>): void {
    const guarded = p.catch(() => undefined);
    this.inflight.add(guarded);
    void guarded.finally(() => this.inflight.delete(guarded));
  }

  /** A ready, reset cluster for a learner: an idle one if any, else a new one. */
  async acquire(signal?: AbortSignal, report?: (progress: ProvisionProgress) => void): Promise<C> {
    if (this.closed) throw new KindError('closed', 'the kind backend is shutting down');
    const stop = signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
    try {
      while (this.idle.length > 0) {
        const cluster = this.idle.shift()!;
        try {
          await this.source.reset(cluster, stop);
          this.leased.add(cluster);
          return cluster;
        } catch (err) {
          if (err instanceof KindError && err.reason === 'aborted') {
            this.idle.unshift(cluster);
            throw err;
          }
          this.opts.log('warn', `warm cluster ${this.source.describe(cluster)} could not be reset, replacing it: ${err instanceof Error ? err.message : String(err)}`);
          await this.destroyQuietly(cluster);
        }
      }
      if (this.semaphore.inUse >= this.semaphore.limit) report?.({ phase: 'creating-cluster', message: 'waiting for a free slot to create the cluster', fraction: 0 });
      const cluster = await this.build('learner', stop, report);
      if (this.closed) {
        await this.destroyQuietly(cluster);
        throw new KindError('closed', 'the kind backend is shutting down');
      }
      this.leased.add(cluster);
      return cluster;
    } finally {
      this.fill();
    }
  }

  /**
   * A learner is done. With `reuse`, the cluster is reset and goes back to the pool if the pool
   * has room; otherwise it is deleted and the pool builds a fresh one.
   */
  async release(cluster: C, reuse: boolean): Promise<void> {
    if (!this.leased.delete(cluster)) return;
    // a returned cluster is ready now, so it takes the place of a refill still in flight
    if (reuse && !this.closed && this.idle.length < this.opts.size) {
      try {
        await this.source.reset(cluster, this.stopping.signal);
        if (!this.closed) {
          this.idle.push(cluster);
          return;
        }
      } catch (err) {
        this.opts.log('warn', `cluster ${this.source.describe(cluster)} could not be reset for reuse, deleting it: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    await this.destroyQuietly(cluster);
    this.fill();
  }

  private async destroyQuietly(cluster: C): Promise<void> {
    try {
      await this.source.destroy(cluster);
    } catch (err) {
      this.opts.log('error', `could not delete cluster ${this.source.describe(cluster)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Stop building, delete idle clusters and wait for builds in flight (which delete themselves). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping.abort(new KindError('closed', 'the kind backend is shutting down'));
    const idle = this.idle.splice(0);
    await Promise.all(idle.map((c) => this.destroyQuietly(c)));
    await this.settled();
  }

  /** Clusters currently held by learners (the backend disposes them on close). */
  leasedClusters(): C[] {
    return [...this.leased];
  }
}
