// The embedded backend: each environment is a cluster of the in-process API host, its lab setup
// applied through the Kubernetes API exactly as a learner's `kubectl apply` would land, with a
// kubeconfig file and a kubectl cache directory of its own.
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { createApiHost, type ApiHost, type ApiHostOptions, type EmbeddedCluster } from '../apiserver/index.ts';
import { parseApiVersion, resourceByKind } from '../apiserver/resources.ts';
import type { ClusterNetworkOptions, KubeObject, PodRuntime } from '../apiserver/runtime.ts';
import { chooseRuntime } from '../dataplane/index.ts';
import type { ClusterBackend, Environment, LabEnvironmentSpec, ProvisionProgress, ProvisionRequest } from './types.ts';

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

export function createEmbeddedBackend(opts: EmbeddedBackendOptions = {}): ClusterBackend {
  let hostPromise: Promise<ApiHost> | undefined;
  let runtimePromise: Promise<PodRuntime> | undefined;
  const ownsHost = !opts.host;
  const stateDir = opts.stateDir ?? join(tmpdir(), `kubelab-clusters-${process.pid}`);
  const environments = new Map<string, Environment>();
  let closed = false;

  const host = () => (hostPromise ??= opts.host ? Promise.resolve(opts.host) : createApiHost(opts.hostOptions));
  const runtime = () => (runtimePromise ??= opts.runtime ? Promise.resolve(opts.runtime) : chooseRuntime().then(async (r) => (await r.reapLeftovers(), r)));

  async function provision(request: ProvisionRequest): Promise<Environment> {
    if (closed) throw new Error('the embedded backend is closed');
    const report = (p: ProvisionProgress) => request.onProgress?.(p);
    const lab: LabEnvironmentSpec = request.lab;
    report({ phase: 'creating-cluster', message: 'Creating your cluster', fraction: 0.1 });
    const [apiHost, podRuntime] = await Promise.all([host(), runtime()]);
    const id = `e${randomBytes(5).toString('hex')}`;
    const cluster = await apiHost.createCluster({ id, runtime: podRuntime, network: { ...DEFAULT_NETWORK, ...opts.network, externalHosts: lab.externalHosts ?? [] } });
    const dir = join(stateDir, id);
    let disposed = false;
    const dispose = async () => {
      if (disposed) return;
      disposed = true;
      environments.delete(id);
      await cluster.dispose();
      await rm(dir, { recursive: true, force: true });
    };
    try {
      request.signal?.throwIfAborted();
      await mkdir(join(dir, 'kube-cache'), { recursive: true, mode: 0o700 });
      const kubeconfig = cluster.kubeconfig(request.learner.id ? `learner-${request.learner.id}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 60) : undefined);
      const kubeconfigPath = join(dir, 'kubeconfig');
      await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
      if (lab.setup.length) {
        report({ phase: 'applying-setup', message: `Applying ${lab.setup.length} setup object${lab.setup.length === 1 ? '' : 's'}`, fraction: 0.4 });
        await applyObjects(kubeconfig, lab.setup);
      }
      request.signal?.throwIfAborted();
      report({ phase: 'waiting-ready', message: 'Waiting for pods to be ready', fraction: 0.7 });
      const namespaces = new Set(lab.setup.map((o) => (o.kind === 'Namespace' ? o.metadata.name : (o.metadata.namespace ?? 'default'))));
      await waitForSetupPods(cluster, namespaces, opts.readyTimeoutMs ?? 120_000, request.signal);
      const env: Environment = {
        id,
        backend: 'embedded',
        dataPlane: podRuntime.name,
        kubeconfig,
        kubeconfigPath,
        server: cluster.server,
        shellEnv: { KUBECONFIG: kubeconfigPath, KUBECACHEDIR: join(dir, 'kube-cache') },
        dispose,
        settle: () => cluster.settle(),
        onChange: (listener) => cluster.state.subscribe((e) => listener(e.resource)),
      };
      environments.set(id, env);
      report({ phase: 'ready', message: 'Your cluster is ready', fraction: 1 });
      return env;
    } catch (err) {
      await dispose();
      throw err;
    }
  }

  return {
    name: 'embedded',
    provision,
    async close(): Promise<void> {
      closed = true;
      await Promise.all([...environments.values()].map((e) => e.dispose()));
      if (ownsHost && hostPromise) await (await hostPromise).close();
      if (!opts.stateDir) await rm(stateDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}
