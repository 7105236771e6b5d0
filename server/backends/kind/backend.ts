// The kind + Calico ClusterBackend: each learner gets a real kind cluster running Calico, taken
// from a warm pool (or created on demand), reset, loaded with the lab's images and setup, and
// handed over as a kubeconfig for the learner's terminal — never a shell in the privileged node.
// Environments past their TTL are disposed; clusters a crashed server left behind are deleted at
// start-up.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterBackend, Environment, ProvisionRequest } from '../types.ts';
import type { KindCluster, Report } from './cluster.ts';
import { KindClusterSource } from './cluster.ts';
import type { CniPlan } from './cni.ts';
import { loadCniPlan } from './cni.ts';
import type { InotifyLimits } from './errors.ts';
import { KindError } from './errors.ts';
import { installExternalHosts } from './external-hosts-apply.ts';
import type { HostReport } from './host.ts';
import { checkHost, readInotifyLimits } from './host.ts';
import { KindCli } from './kind-cli.ts';
import type { KindBackendOptions, ResolvedKindOptions } from './options.ts';
import { resolveKindOptions } from './options.ts';
import type { PoolStats } from './pool.ts';
import { WarmPool } from './pool.ts';
import { applySetup } from './setup.ts';
import { StateDir, randomId, writeFileAtomic } from './state.ts';

export interface KindEnvironment extends Environment {
  backend: 'kind';
  /** the kind cluster behind this environment (`kind get clusters` shows it) */
  clusterName: string;
  /** when it was handed out, by the backend's clock */
  createdAt: number;
}

interface Lease {
  env: KindEnvironment;
  cluster: KindCluster;
  disposing?: Promise<void>;
}

export interface KindBackendStats extends PoolStats {
  environments: number;
}

export class KindBackend implements ClusterBackend {
  readonly name = 'kind' as const;
  readonly options: ResolvedKindOptions;
  readonly cli: KindCli;
  readonly state: StateDir;
  private readonly source: KindClusterSource;
  private readonly pool: WarmPool<KindCluster>;
  private readonly leases = new Map<string, Lease>();
  /** clusters this process made and has not deleted: never reaped as leftovers */
  private readonly live = new Set<string>();
  private plan: Promise<CniPlan> | undefined;
  private inotify: InotifyLimits | undefined;
  private startup: Promise<void> | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private closed = false;
  /** fires on close: provisions in flight stop and give their cluster back */
  private readonly stopping = new AbortController();
  private readonly inflight = new Set<Promise<unknown>>();
  /** what the start-up checks found (undefined until started, or with preflight off) */
  host: HostReport | undefined;

  constructor(options: KindBackendOptions = {}) {
    this.options = resolveKindOptions(options);
    const o = this.options;
    this.cli = new KindCli({ kindBinary: o.kindBinary, dockerBinary: o.dockerBinary, env: o.commandEnv });
    this.state = new StateDir(o.stateDir);
    this.source = new KindClusterSource({
      opts: o,
      cli: this.cli,
      state: this.state,
      plan: () => this.cniPlan(),
      inotify: () => this.inotify,
    });
    const source = this.source;
    const live = this.live;
    this.pool = new WarmPool<KindCluster>(
      {
        describe: (c) => source.describe(c),
        reset: (c, signal) => source.reset(c, signal),
        build: async (signal, priority, report) => {
          const c = await source.build(signal, priority, report);
          live.add(c.name);
          return c;
        },
        destroy: async (c) => {
          await source.destroy(c);
          live.delete(c.name);
        },
      },
      { size: o.poolSize, maxConcurrentBuilds: o.maxConcurrentCreates, clock: o.clock, log: o.log },
    );
  }

  private cniPlan(): Promise<CniPlan> {
    this.plan ??= loadCniPlan(this.options, this.state.cacheDir).catch((err: unknown) => {
      this.plan = undefined;
      throw err;
    });
    return this.plan;
  }

  /**
   * Check the host, read the CNI manifest, delete leftovers, start the reaper and fill the pool.
   * Safe to call more than once; after a failure (Docker was down) the next call tries again.
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new KindError('closed', 'the kind backend is closed'));
    this.startup ??= this.doStart().catch((err: unknown) => {
      this.startup = undefined;
      throw err;
    });
    return this.startup;
  }

  private async doStart(): Promise<void> {
    const o = this.options;
    await this.state.open();
    if (o.preflight) {
      this.host = await checkHost(this.cli);
      this.inotify = this.host.inotify;
      for (const w of this.host.warnings) o.log('warn', w);
      o.log('info', `${this.host.kindVersion}; CNI ${o.cni}; pool ${o.poolSize}; at most ${o.maxConcurrentCreates} creates at once`);
    } else {
      this.inotify = await readInotifyLimits();
    }
    await this.cniPlan();
    if (o.reapLeftovers) await this.reapLeftovers();
    if (o.ttlMs > 0 && !this.reaper) {
      this.reaper = setInterval(() => void this.reapExpired(), o.reapIntervalMs);
      this.reaper.unref();
    }
    this.pool.fill();
  }

  /**
   * Delete every kind cluster with our name prefix that this process is not using, and the state
   * directories of clusters and environments no longer live. Returns the clusters deleted.
   */
  async reapLeftovers(): Promise<string[]> {
    const prefix = this.options.namePrefix;
    const existing = (await this.cli.getClusters()).filter((n) => n.startsWith(prefix));
    const deleted: string[] = [];
    for (const name of existing) {
      if (this.live.has(name)) continue;
      this.options.log('info', `deleting leftover cluster ${name}`);
      await this.source.delete(name);
      deleted.push(name);
    }
    for (const record of await this.state.recordedClusters()) {
      if (!this.live.has(record.name) && !existing.includes(record.name)) await this.state.forgetCluster(record.name);
    }
    const leased = new Set(this.leases.keys());
    for (const id of await this.state.leftoverEnvironments()) if (!leased.has(id)) await this.state.removeEnvironment(id);
    return deleted;
  }

  provision(request: ProvisionRequest): Promise<KindEnvironment> {
    const p = this.provisionOnce(request);
    const tracked = p.catch(() => undefined);
    this.inflight.add(tracked);
    void tracked.finally(() => this.inflight.delete(tracked));
    return p;
  }

  private async provisionOnce(request: ProvisionRequest): Promise<KindEnvironment> {
    const report: Report = (p) => {
      try {
        request.onProgress?.(p);
      } catch {
        // a progress listener's failure is not the provision's
      }
    };
    await this.start();
    if (this.closed) throw new KindError('closed', 'the kind backend is closed');
    const o = this.options;
    const signal = request.signal ? AbortSignal.any([request.signal, this.stopping.signal]) : this.stopping.signal;
    const cluster = await this.pool.acquire(signal, report);
    const id = `env-${randomId(10)}`;
    const dir = this.state.environmentDir(id);
    try {
      const images = request.lab.images.filter((i) => !cluster.loaded.has(i));
      if (images.length > 0) {
        report({ phase: 'loading-images', message: `loading ${images.length} image(s) for the lab`, fraction: 0.8 });
        await this.source.loadImages(cluster, images, signal);
      }
      if (request.lab.externalHosts.length > 0) {
        report({ phase: 'applying-setup', message: "adding the lab's external hosts", fraction: 0.82 });
        const onWaiting = (detail: string) => report({ phase: 'applying-setup', message: `waiting for the lab's external hosts: ${detail}`, fraction: 0.83 });
        await installExternalHosts(request.lab.externalHosts, this.source.externalContext(cluster, signal, onWaiting), (installed) => (cluster.external = installed));
      }
      if (request.lab.setup.length > 0) {
        report({ phase: 'applying-setup', message: "applying the lab's starting state", fraction: 0.85 });
        await applySetup(request.lab.setup, {
          api: cluster.api,
          clock: o.clock,
          pollIntervalMs: o.pollIntervalMs,
          timeoutMs: o.timeouts.setupMs,
          signal,
          onWaiting: (detail) => report({ phase: 'applying-setup', message: `waiting for the lab's pods: ${detail}`, fraction: 0.9 }),
        });
      }
      await mkdir(join(dir, 'kube-cache'), { recursive: true, mode: 0o700 });
      const kubeconfigPath = join(dir, 'kubeconfig');
      await writeFileAtomic(kubeconfigPath, cluster.kubeconfig, 0o600);
      const env: KindEnvironment = {
        id,
        backend: 'kind',
        dataPlane: o.cni,
        kubeconfig: cluster.kubeconfig,
        kubeconfigPath,
        server: cluster.server,
        shellEnv: { KUBECONFIG: kubeconfigPath, KUBECACHEDIR: join(dir, 'kube-cache') },
        clusterName: cluster.name,
        createdAt: o.clock.now(),
        dispose: () => this.dispose(id),
      };
      if (signal.aborted) throw new KindError(this.closed ? 'closed' : 'aborted', 'the environment was cancelled before it was ready');
      this.leases.set(id, { env, cluster });
      report({ phase: 'ready', message: 'ready', fraction: 1 });
      return env;
    } catch (err) {
      await this.state.removeEnvironment(id).catch(() => undefined);
      await this.pool.release(cluster, false);
      throw err;
    }
  }

  private dispose(id: string): Promise<void> {
    const lease = this.leases.get(id);
    if (!lease) return Promise.resolve();
    lease.disposing ??= (async () => {
      try {
        await this.state.removeEnvironment(id);
        await this.pool.release(lease.cluster, this.options.reuseClusters);
      } finally {
        this.leases.delete(id);
      }
    })();
    return lease.disposing;
  }

  /** Dispose environments older than the TTL; returns their ids. */
  async reapExpired(): Promise<string[]> {
    const { ttlMs, clock } = this.options;
    if (ttlMs <= 0) return [];
    const now = clock.now();
    const expired = [...this.leases.values()].filter((l) => !l.disposing && now - l.env.createdAt >= ttlMs).map((l) => l.env.id);
    await Promise.all(
      expired.map(async (id) => {
        this.options.log('info', `environment ${id} reached its time limit; disposing it`);
        await this.dispose(id).catch((err: unknown) => this.options.log('error', `disposing expired ${id}: ${err instanceof Error ? err.message : String(err)}`));
        this.options.onExpired(id);
      }),
    );
    return expired;
  }

  environments(): KindEnvironment[] {
    return [...this.leases.values()].map((l) => l.env);
  }

  stats(): KindBackendStats {
    return { ...this.pool.stats(), environments: this.leases.size };
  }

  /** Wait for background pool builds started so far (tests, and operators warming a pool). */
  poolSettled(): Promise<void> {
    return this.pool.settled();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reaper) clearInterval(this.reaper);
    this.stopping.abort(new KindError('closed', 'the kind backend is shutting down'));
    await this.startup?.catch(() => undefined);
    await this.pool.close();
    // provisions in flight give their clusters back to the (closed) pool, which deletes them
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    await Promise.all([...this.leases.keys()].map((id) => this.dispose(id).catch(() => undefined)));
    await this.state.unlock().catch(() => undefined);
  }
}

/**
 * The kind backend. Start-up (host checks, leftover reaping, pool fill) begins on the first
 * provision; call `start()` to do it at server start and see problems early.
 */
export function createKindBackend(options: KindBackendOptions = {}): KindBackend {
  return new KindBackend(options);
}
