// One kind cluster's Kubernetes API as this backend uses it: read, list, create-or-replace and
// delete any kind of object through @kubernetes/client-node with that cluster's own kubeconfig.
// The same calls work against the embedded API server, which is how the tests exercise them.
import { ApiException, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeObject } from '../../apiserver/runtime.ts';

export type ApplyResult = 'created' | 'replaced';

/** The HTTP status of a failed client-node call, or undefined for a network/other error. */
export function apiStatus(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/** The API server's own message for a failed call ("namespaces \"x\" not found"). */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    let parsed: unknown = body;
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body);
      } catch {
        return `HTTP ${err.code}: ${body.slice(0, 300)}`;
      }
    }
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string') {
      return (parsed as { message: string }).message;
    }
    return `HTTP ${err.code}`;
  }
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/** The cluster does not serve this kind at all (no CRD, an API group the cluster lacks). */
export function isNotServed(err: unknown): boolean {
  if (err instanceof ApiException) return err.code === 404 && /Failed to fetch resource metadata/.test(err.message);
  return err instanceof Error && /Unrecognized API version and kind/.test(err.message);
}

function describe(o: { kind?: string; metadata: { name: string; namespace?: string } }): string {
  return `${o.kind ?? 'object'} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

export class ClusterApiError extends Error {
  override readonly name = 'ClusterApiError';
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

export class ClusterApi {
  readonly kubeconfig: KubeConfig;
  private readonly objects: KubernetesObjectApi;

  constructor(kubeconfigYaml: string) {
    this.kubeconfig = new KubeConfig();
    this.kubeconfig.loadFromString(kubeconfigYaml);
    this.objects = KubernetesObjectApi.makeApiClient(this.kubeconfig);
  }

  /** API server URL of the current context. */
  get server(): string {
    return this.kubeconfig.getCurrentCluster()?.server ?? '';
  }

  async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      const header = { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } };
      return (await this.objects.read(header)) as unknown as KubeObject;
    } catch (err) {
      if (apiStatus(err) === 404 && !isNotServed(err)) return undefined;
      throw new ClusterApiError(`reading ${kind} ${namespace ? `${namespace}/` : ''}${name}: ${apiMessage(err)}`, apiStatus(err));
    }
  }

  /** List across all namespaces when `namespace` is undefined. */
  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    try {
      const list = await this.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
      return (list.items ?? []) as unknown as KubeObject[];
    } catch (err) {
      if (isNotServed(err)) throw err;
      throw new ClusterApiError(`listing ${kind}${namespace ? ` in ${namespace}` : ''}: ${apiMessage(err)}`, apiStatus(err));
    }
  }

  /**
   * Create, or replace what is there (the server's resourceVersion carried over, and a Service's
   * allocated cluster IP kept, as it is immutable).
   */
  async apply(obj: KubeObject): Promise<ApplyResult> {
    const body = JSON.parse(JSON.stringify(obj)) as KubeObject;
    delete body.metadata.resourceVersion;
    delete body.metadata.uid;
    delete body.metadata.creationTimestamp;
    delete body.status;
    try {
      await this.objects.create(body as unknown as KubernetesObject);
      return 'created';
    } catch (err) {
      if (apiStatus(err) !== 409) throw new ClusterApiError(`creating ${describe(obj)}: ${apiMessage(err)}`, apiStatus(err));
    }
    const current = await this.get(obj.apiVersion ?? 'v1', obj.kind ?? '', obj.metadata.namespace, obj.metadata.name);
    if (!current) return this.apply(obj);
    body.metadata.resourceVersion = current.metadata.resourceVersion;
    if (obj.kind === 'Service' && current.spec?.clusterIP && body.spec) {
      body.spec.clusterIP ??= current.spec.clusterIP;
      body.spec.clusterIPs ??= current.spec.clusterIPs;
    }
    try {
      await this.objects.replace(body as unknown as KubernetesObject);
      return 'replaced';
    } catch (err) {
      throw new ClusterApiError(`replacing ${describe(obj)}: ${apiMessage(err)}`, apiStatus(err));
    }
  }

  /** Delete; already gone is fine. Returns whether there was something to delete. */
  async delete(obj: { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string } }): Promise<boolean> {
    try {
      const header = { apiVersion: obj.apiVersion ?? 'v1', kind: obj.kind ?? '', metadata: { name: obj.metadata.name, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}) } };
      await this.objects.delete(header as unknown as KubernetesObject, undefined, undefined, 0, undefined, 'Background');
      return true;
    } catch (err) {
      if (apiStatus(err) === 404 && !isNotServed(err)) return false;
      throw new ClusterApiError(`deleting ${describe(obj)}: ${apiMessage(err)}`, apiStatus(err));
    }
  }
}
