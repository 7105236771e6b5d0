// The embedded backend: each environment is a cluster of the in-process API host, its lab setup
// applied through the Kubernetes API exactly as a learner's `kubectl apply` would land, with a
// kubeconfig file and a kubectl cache directory of its own.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { createApiHost, type ApiHost, type ApiHostOptions, type EmbeddedCluster } from '../apiserver/index.ts';
import { parseApiVersion, resourceByKind } from '../apiserver/resources.ts';
import type { ClusterNetworkOptions, KubeObject, PodRuntime } from '../apiserver/runtime.ts';
import { chooseRuntime } from '../dataplane/index.ts';
import type { ClusterBackend, Environment, LabEnvironmentSpec, ProvisionProgress, ProvisionRequest, WarmStats } from './types.ts';

export type { WarmStats } from './types.ts';

export interface EmbeddedBackendOptions {
  /** the data plane (default: chooseRuntime(), netns where possible, else sim) */
  runtime?: PodRuntime;
  /** share an API host (default: one made on first use, closed with the backend) */
  host?: ApiHost;
  hostOptions?: ApiHostOptions;
  /** where kubeconfigs and kubectl caches go (default: a directory under the system temp dir) */
  stateDir?: string;
  /** network settings every cluster gets (defaults match kind) */
  network?: Partial<Omit<ClusterNetworkOptions, 'externalHosts'>>;
  /** how long setup pods may take to become Ready (default 120 s) */
  readyTimeoutMs?: number;
  /**
   * Environments kept ready per lab named by `prepare` (default 0): built with the lab's setup
   * before anyone asks, handed to the next learner who starts that lab, and replaced in the
   * background.
   */
  warm?: number;
  /**
   * How long after handing out a warm environment its replacement starts (default 2 s): a build
   * takes the CPU for a second or so, and the learner's shell is starting in that moment.
   */
  refillDelayMs?: number;
  /** where the warm stock reports builds and failures */
  log?: (level: 'info' | 'warn', message: string) => void;
}

const DEFAULT_NETWORK = {
  podCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/16',
  dnsServiceIP: '10.96.0.10',
  clusterDomain: 'cluster.local',
  nodeName: 'kubelab-control-plane',
};

/** The annotation `kubectl apply` keeps, so a learner's later apply of the same file says "unchanged". */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function sortedJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedJson);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = sortedJson((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** The object with the annotation kubectl's client-side apply records (sorted JSON of the object as given, plus a newline). */
export function withLastApplied(o: KubeObject): KubeObject {
  const copy = structuredClone(o);
  const annotations = { ...(copy.metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  copy.metadata = { ...copy.metadata, annotations };
  const recorded = JSON.stringify(sortedJson(copy)) + '\n';
  return { ...copy, metadata: { ...copy.metadata, annotations: { ...annotations, [LAST_APPLIED]: recorded } } };
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 404;
}

function describeError(err: unknown): string {
  if (err && typeof err === 'object' && 'body' in err) {
    const body = (err as { body?: unknown }).body;
    try {
      const status = typeof body === 'string' ? JSON.parse(body) : body;
      if (status && typeof status === 'object' && typeof (status as { message?: unknown }).message === 'string') return (status as { message: string }).message;
    } catch {
      // not a Status
    }
  }
  return err instanceof Error ? err.message : String(err);
}

/** Create or replace each object through the API (namespaces first), as `kubectl apply` of a fresh file does. */
export async function applyObjects(kubeconfig: string, objects: readonly KubeObject[]): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const client = KubernetesObjectApi.makeApiClient(kc);
  const ordered = [...objects].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
  for (const [i, object] of ordered.entries()) {
    const where = `${object.kind ?? 'object'} "${object.metadata?.name ?? '?'}"`;
    if (!object.apiVersion || !object.kind || !object.metadata?.name) {
      throw new Error(`setup object ${i} (${where}) needs apiVersion, kind and metadata.name`);
    }
    // kubectl fills in the namespace before recording what it applied; so do we
    const namespaced = resourceByKind(parseApiVersion(object.apiVersion).group, object.kind)?.namespaced ?? Boolean(object.metadata.namespace);
    const placed = namespaced && !object.metadata.namespace ? { ...object, metadata: { ...object.metadata, namespace: 'default' } } : object;
    const spec = withLastApplied(placed) as KubernetesObject;
    try {
      let existing: KubernetesObject | undefined;
      try {
        existing = await client.read({ apiVersion: spec.apiVersion, kind: spec.kind, metadata: { name: placed.metadata.name, namespace: placed.metadata.namespace } } as KubernetesObject & { metadata: { name: string } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      if (!existing) await client.create(spec);
      else await client.replace({ ...spec, metadata: { ...spec.metadata, resourceVersion: existing.metadata?.resourceVersion } });
    } catch (err) {
      throw new Error(`applying ${where}: ${describeError(err)}`);
    }
  }
}

function podReady(p: KubeObject): boolean {
  return ((p.status?.conditions ?? []) as Array<{ type: string; status: string }>).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Wait until every pod in the namespaces the setup touched is Ready (completed pods count as done). */
async function waitForSetupPods(cluster: EmbeddedCluster, namespaces: Set<string>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const pending = () =>
    cluster.state
      .list('pods')
      .filter((p) => namespaces.has(p.metadata.namespace ?? ''))
      .filter((p) => !podReady(p) && p.status?.phase !== 'Succeeded')
      .map((p) => `${p.metadata.namespace}/${p.metadata.name} (${p.status?.phase ?? 'Pending'})`);
  await cluster.settle();
  if (pending().length === 0) return;
  await new Promise<void>((resolve, reject) => {
    let unsubscribe = () => {};
    const done = (err?: Error) => {
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => done(new Error('provisioning was cancelled'));
    const timer = setTimeout(() => done(new Error(`setup pods not ready after ${Math.round(timeoutMs / 1000)}s: ${pending().join(', ')}`)), timeoutMs);
    unsubscribe = cluster.state.subscribe((e) => {
      if (e.resource === 'pods' && pending().length === 0) done();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    if (pending().length === 0) done();
  });
}

export interface EmbeddedBackend extends ClusterBackend {
  prepare(labs: LabEnvironmentSpec[]): void;
  /** per lab: environments ready to hand out, and builds in flight */
  warmStats(): WarmStats[];
  /** resolves once every lab's stock is full (or its last build failed), for benchmarks and tests */
  warmed(): Promise<void>;
}

/** A cluster with the lab's setup in place, not yet anyone's. */
interface Built {
  id: string;
  cluster: EmbeddedCluster;
  dir: string;
  runtimeName: string;
  dispose(): Promise<void>;
}

/** One lab's warm environments; `key` changes when the lab's environment does (a reloaded lab file). */
interface Stock {
  key: string;
  lab: LabEnvironmentSpec;
  idle: Built[];
  building: number;
  failed: number;
  failures: number;
  retryAt: number;
}

function stockKey(lab: LabEnvironmentSpec): string {
  return `${lab.labId}:${createHash('sha256').update(JSON.stringify(sortedJson(lab))).digest('hex').slice(0, 16)}`;
}

export function createEmbeddedBackend(opts: EmbeddedBackendOptions = {}): EmbeddedBackend {
  let hostPromise: Promise<ApiHost> | undefined;
  let runtimePromise: Promise<PodRuntime> | undefined;
  const ownsHost = !opts.host;
  const stateDir = opts.stateDir ?? join(tmpdir(), `kubelab-clusters-${process.pid}`);
  const environments = new Map<string, Environment>();
  const warmSize = Math.max(0, Math.floor(opts.warm ?? 0));
  const stocks = new Map<string, Stock>();
  const stopping = new AbortController();
  const inflight = new Set<Promise<void>>();
  let backgroundBuilds = 0;
  let fillTimer: NodeJS.Timeout | undefined;
  let fillAt = 0;
  let closed = false;
  const log = opts.log ?? (() => {});

  const host = () => (hostPromise ??= opts.host ? Promise.resolve(opts.host) : createApiHost(opts.hostOptions));
  const runtime = () => (runtimePromise ??= opts.runtime ? Promise.resolve(opts.runtime) : chooseRuntime().then(async (r) => (await r.reapLeftovers(), r)));

  /** A new cluster with the lab's setup applied and its pods ready; leaves nothing behind when it fails. */
  async function build(lab: LabEnvironmentSpec, signal: AbortSignal | undefined, report: (p: ProvisionProgress) => void): Promise<Built> {
    report({ phase: 'creating-cluster', message: 'Creating your cluster', fraction: 0.1 });
    const [apiHost, podRuntime] = await Promise.all([host(), runtime()]);
    const id = `e${randomBytes(5).toString('hex')}`;
    const cluster = await apiHost.createCluster({ id, runtime: podRuntime, network: { ...DEFAULT_NETWORK, ...opts.network, externalHosts: lab.externalHosts ?? [] } });
    const dir = join(stateDir, id);
    let disposed = false;
    const built: Built = {
      id,
      cluster,
      dir,
      runtimeName: podRuntime.name,
      dispose: async () => {
        if (disposed) return;
        disposed = true;
        environments.delete(id);
        await cluster.dispose();
        await rm(dir, { recursive: true, force: true });
      },
    };
    try {
      signal?.throwIfAborted();
      await mkdir(join(dir, 'kube-cache'), { recursive: true, mode: 0o700 });
      if (lab.setup.length) {
        report({ phase: 'applying-setup', message: `Applying ${lab.setup.length} setup object${lab.setup.length === 1 ? '' : 's'}`, fraction: 0.4 });
        await applyObjects(cluster.kubeconfig(), lab.setup);
      }
      signal?.throwIfAborted();
      report({ phase: 'waiting-ready', message: 'Waiting for pods to be ready', fraction: 0.7 });
      const namespaces = new Set(lab.setup.map((o) => (o.kind === 'Namespace' ? o.metadata.name : (o.metadata.namespace ?? 'default'))));
      await waitForSetupPods(cluster, namespaces, opts.readyTimeoutMs ?? 120_000, signal);
      signal?.throwIfAborted();
      return built;
    } catch (err) {
      await built.dispose();
      throw err;
    }
  }

  /** Make a built cluster the learner's: a kubeconfig naming them, in a file of the environment's own. */
  async function handOut(built: Built, learnerId: string): Promise<Environment> {
    const { id, cluster, dir } = built;
    const kubeconfig = cluster.kubeconfig(learnerId ? `learner-${learnerId}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 60) : undefined);
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
    const env: Environment = {
      id,
      backend: 'embedded',
      dataPlane: built.runtimeName,
      kubeconfig,
      kubeconfigPath,
      server: cluster.server,
      shellEnv: { KUBECONFIG: kubeconfigPath, KUBECACHEDIR: join(dir, 'kube-cache') },
      dispose: built.dispose,
      settle: () => cluster.settle(),
      onChange: (listener) => cluster.state.subscribe((e) => listener(e.resource)),
    };
    environments.set(id, env);
    return env;
  }

  function track(p: Promise<void>): void {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }

  /**
   * Keep each prepared lab's stock full, one background build at a time so learners starting
   * cold are not slowed by more than one build beside theirs. A lab whose build fails waits 5 s,
   * then twice as long after each further failure (up to 5 minutes), so a broken lab file does
   * not keep the machine busy.
   */
  function fill(): void {
    if (closed || warmSize === 0 || backgroundBuilds > 0) return;
    const now = Date.now();
    let soonest = Infinity;
    for (const stock of stocks.values()) {
      if (stock.idle.length + stock.building >= warmSize) continue;
      if (now < stock.retryAt) {
        soonest = Math.min(soonest, stock.retryAt);
        continue;
      }
      backgroundBuilds++;
      stock.building++;
      track(
        build(stock.lab, stopping.signal, () => {}).then(
          async (built) => {
            backgroundBuilds--;
            stock.building--;
            stock.failures = 0;
            if (closed || stocks.get(stock.lab.labId) !== stock) {
              await built.dispose();
            } else {
              stock.idle.push(built);
              log('info', `warm environment ready for ${stock.lab.labId} (${stock.idle.length} ready)`);
            }
            fill();
          },
          (err: unknown) => {
            backgroundBuilds--;
            stock.building--;
            if (closed) return;
            stock.failed++;
            stock.failures++;
            const delay = Math.min(5000 * 2 ** (stock.failures - 1), 5 * 60_000);
            stock.retryAt = Date.now() + delay;
            log('warn', `warm environment for ${stock.lab.labId} could not be built (trying again in ${Math.round(delay / 1000)} s): ${err instanceof Error ? err.message : String(err)}`);
            fill();
          },
        ),
      );
      return;
    }
    if (soonest < Infinity) fillAfter(soonest - now);
  }

  /** fill() in `ms`, unless a call already pending comes sooner (fill looks at every stock again) */
  function fillAfter(ms: number): void {
    if (ms <= 0) return fill();
    const at = Date.now() + ms;
    if (fillTimer && fillAt <= at) return;
    clearTimeout(fillTimer);
    fillAt = at;
    fillTimer = setTimeout(() => {
      fillTimer = undefined;
      fill();
    }, ms);
    fillTimer.unref();
  }

  async function provision(request: ProvisionRequest): Promise<Environment> {
    if (closed) throw new Error('the embedded backend is closed');
    const report = (p: ProvisionProgress) => request.onProgress?.(p);
    const lab: LabEnvironmentSpec = request.lab;
    // a warm environment of this very lab (same setup), when one is ready
    const stock = stocks.get(lab.labId);
    const warm = stock && stock.key === stockKey(lab) ? stock.idle.shift() : undefined;
    if (warm) fillAfter(opts.refillDelayMs ?? 2000);
    else if (stock) fill();
    const built = warm ?? (await build(lab, request.signal, report));
    try {
      request.signal?.throwIfAborted();
      const env = await handOut(built, request.learner.id);
      report({ phase: 'ready', message: 'Your cluster is ready', fraction: 1 });
      return env;
    } catch (err) {
      await built.dispose();
      throw err;
    }
  }

  return {
    name: 'embedded',
    provision,
    prepare(labs: LabEnvironmentSpec[]): void {
      if (closed || warmSize === 0) return;
      const wanted = new Map(labs.map((lab) => [lab.labId, lab]));
      for (const [labId, stock] of stocks) {
        const lab = wanted.get(labId);
        if (lab && stockKey(lab) === stock.key) continue;
        // the lab is gone or its environment changed: what was built for it is of no use
        stocks.delete(labId);
        for (const built of stock.idle.splice(0)) track(built.dispose().catch(() => {}));
      }
      for (const [labId, lab] of wanted) {
        if (!stocks.has(labId)) stocks.set(labId, { key: stockKey(lab), lab, idle: [], building: 0, failed: 0, failures: 0, retryAt: 0 });
      }
      fill();
    },
    warmStats(): WarmStats[] {
      return [...stocks.values()].map((s) => ({ labId: s.lab.labId, idle: s.idle.length, building: s.building, failed: s.failed }));
    },
    async warmed(): Promise<void> {
      const pending = () => [...stocks.values()].some((s) => s.idle.length < warmSize && s.failures === 0);
      while (!closed && pending()) {
        if (inflight.size) await Promise.race(inflight);
        else await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close(): Promise<void> {
      closed = true;
      clearTimeout(fillTimer);
      stopping.abort(new Error('the embedded backend is closed'));
      const idle = [...stocks.values()].flatMap((s) => s.idle.splice(0));
      stocks.clear();
      await Promise.all([...idle.map((b) => b.dispose()), ...[...environments.values()].map((e) => e.dispose())]);
      while (inflight.size) await Promise.allSettled([...inflight]);
      if (ownsHost && hostPromise) await (await hostPromise).close();
      if (!opts.stateDir) await rm(stateDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}
