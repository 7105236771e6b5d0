// Knowing when the learner's cluster has stopped changing: watches on the kinds that decide
// where traffic may go, and the time of the last change. Grading waits for a quiet period, so a
// check pressed right after `kubectl apply` sees the policy in force rather than racing it.
import { KubeApiError, type KubeClient, type KubeObject } from './kube.ts';
import { proberLabel, sleep } from './probers.ts';

const watched: Array<{ apiVersion: string; kind: string }> = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'v1', kind: 'Pod' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'Endpoints' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
];

export class ClusterChanges {
  /** epoch ms of the last change seen (0: none since watching began) */
  lastChange = 0;
  private readonly abort = new AbortController();
  private started: Promise<void> | undefined;

  constructor(private readonly client: KubeClient) {}

  /** Start watching (idempotent); resolves once every watch is established. */
  start(): Promise<void> {
    this.started ??= Promise.all(watched.map((w) => this.follow(w.apiVersion, w.kind))).then(() => {
      // what changed just before the watches began went unseen: count their start as a change
      this.lastChange = Math.max(this.lastChange, Date.now());
    });
    return this.started;
  }

  /** Resolve when nothing has changed for `quietMs`, or after `maxMs` at most. */
  async waitQuiet(quietMs: number, maxMs: number, signal?: AbortSignal): Promise<void> {
    await this.start();
    const deadline = Date.now() + maxMs;
    for (;;) {
      if (signal?.aborted) return;
      const since = Date.now() - this.lastChange;
      if (since >= quietMs || Date.now() >= deadline) return;
      await sleep(Math.min(quietMs - since, deadline - Date.now()));
    }
  }

  close(): void {
    this.abort.abort();
  }

  /** List once for a resourceVersion, then watch; on any break, list again and carry on. */
  private async follow(apiVersion: string, kind: string): Promise<void> {
    const path = this.client.path(apiVersion, kind, undefined);
    let established: () => void = () => {};
    const firstWatch = new Promise<void>((r) => (established = r));
    const loop = async () => {
      let failures = 0;
      while (!this.abort.signal.aborted) {
        try {
          const list = await this.client.request<{ metadata?: { resourceVersion?: string } }>('GET', path, undefined, { signal: this.abort.signal });
          const rv = list?.metadata?.resourceVersion ?? '0';
          established();
          failures = 0;
          await this.client.watch(path, rv, (type, obj) => this.seen(type, obj), this.abort.signal);
        } catch (err) {
          established();
          if (this.abort.signal.aborted) return;
          failures++;
          // 410 Gone: our resourceVersion is too old; list again at once
          if (!(err instanceof KubeApiError && err.status === 410)) await sleep(Math.min(200 * 2 ** failures, 5000));
        }
      }
    };
    void loop();
    return firstWatch;
  }

  private seen(type: string, obj: KubeObject): void {
    if (type === 'BOOKMARK' || type === 'ERROR') return;
    // our own prober pods coming and going are not the learner's changes
    if (obj?.metadata?.labels?.[proberLabel] === 'true') return;
    this.lastChange = Date.now();
  }
}
