// A small JSON client for the Kubernetes API, built from a kubeconfig. The grader reads and
// writes objects as plain JSON (no typed models: resource checks match the JSON a learner
// wrote), over one keep-alive connection pool per environment.
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { kindInfo } from '../labs/kinds.ts';

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string; uid?: string; deletionTimestamp?: string; [key: string]: unknown };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ObjectKey {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** An error answer from the API server, with its Status reason and field causes. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly causes: Array<{ field?: string; message?: string; reason?: string }> = [],
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  query?: Record<string, string>;
}

export class KubeClient {
  readonly config: KubeConfig;
  private readonly base: URL;
  private ready: Promise<{ agent: http.Agent; headers: Record<string, string> }> | undefined;

  constructor(kubeconfig: string) {
    this.config = new KubeConfig();
    this.config.loadFromString(kubeconfig);
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.base = new URL(cluster.server.endsWith('/') ? cluster.server : cluster.server + '/');
  }

  private connection(): Promise<{ agent: http.Agent; headers: Record<string, string> }> {
    this.ready ??= (async () => {
      const opts: https.RequestOptions = {};
      await this.config.applyToHTTPSOptions(opts);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
      const agent =
        this.base.protocol === 'https:'
          ? new https.Agent({ keepAlive: true, maxSockets: 32, ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized ?? true, servername: opts.servername })
          : new http.Agent({ keepAlive: true, maxSockets: 32 });
      return { agent, headers };
    })();
    return this.ready;
  }

  /** API path of a collection (`name` absent) or of one object. */
  path(apiVersion: string, kind: string, namespace: string | undefined, name?: string): string {
    const info = kindInfo(apiVersion, kind);
    if (!info) throw new Error(`unknown kind ${kind} (${apiVersion})`);
    const group = apiVersion.includes('/') ? `apis/${apiVersion}` : `api/${apiVersion}`;
    const ns = info.namespaced && namespace ? `namespaces/${encodeURIComponent(namespace)}/` : '';
    return `${group}/${ns}${info.resource}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
  }

  async request<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    const { agent, headers } = await this.connection();
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = lib.request(
        url,
        {
          method,
          agent,
          headers: { ...headers, accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}) },
          signal: options.signal,
          timeout: options.timeoutMs ?? 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(json as T);
            const s = (json ?? {}) as { reason?: string; message?: string; details?: { causes?: Array<{ field?: string; message?: string; reason?: string }> } };
            reject(new KubeApiError(status, s.reason ?? `HTTP ${status}`, s.message ?? (text.slice(0, 300) || `HTTP ${status}`), s.details?.causes ?? []));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: no answer from the API server`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async get(key: ObjectKey, options?: RequestOptions): Promise<KubeObject | undefined> {
    try {
      return await this.request<KubeObject>('GET', this.path(key.apiVersion, key.kind, key.namespace, key.name), undefined, options);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string, options: RequestOptions = {}): Promise<KubeObject[]> {
    const query = { ...(options.query ?? {}), ...(labelSelector ? { labelSelector } : {}) };
    const list = await this.request<{ items?: KubeObject[] }>('GET', this.path(apiVersion, kind, namespace), undefined, { ...options, query });
    return (list?.items ?? []).map((o) => ({ apiVersion, kind, ...o }));
  }

  async create(obj: KubeObject, options?: RequestOptions): Promise<KubeObject> {
    return this.request<KubeObject>('POST', this.path(String(obj.apiVersion), String(obj.kind), obj.metadata.namespace), obj, options);
  }

  async replace(obj: KubeObject, options?: RequestOptions): Promise<KubeObject> {
    return this.request<KubeObject>('PUT', this.path(String(obj.apiVersion), String(obj.kind), obj.metadata.namespace, obj.metadata.name), obj, options);
  }

  /** Delete; true when it existed. */
  async remove(key: ObjectKey, options?: RequestOptions): Promise<boolean> {
    try {
      await this.request('DELETE', this.path(key.apiVersion, key.kind, key.namespace, key.name), { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' }, options);
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
  }

  /**
   * Open a watch on a collection (from `resourceVersion`); calls `onEvent` per event and resolves
   * when the server ends the stream. Abort with `signal`.
   */
  async watch(path: string, resourceVersion: string, onEvent: (type: string, object: KubeObject) => void, signal: AbortSignal): Promise<void> {
    const { agent, headers } = await this.connection();
    const url = new URL(path, this.base);
    url.searchParams.set('watch', 'true');
    url.searchParams.set('resourceVersion', resourceVersion);
    url.searchParams.set('allowWatchBookmarks', 'true');
    url.searchParams.set('timeoutSeconds', '300');
    const lib = url.protocol === 'https:' ? https : http;
    await new Promise<void>((resolve, reject) => {
      const req = lib.request(url, { method: 'GET', agent, headers: { ...headers, accept: 'application/json' }, signal }, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          res.resume();
          return reject(new KubeApiError(res.statusCode ?? 0, 'WatchFailed', `watch ${url.pathname}: HTTP ${res.statusCode}`));
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            try {
              const ev = JSON.parse(line) as { type: string; object: KubeObject };
              onEvent(ev.type, ev.object);
            } catch {
              // a torn or foreign line: the next list resynchronises
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', (e) => reject(e));
      });
      req.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
      req.end();
    });
  }

  close(): void {
    void this.ready?.then(({ agent }) => agent.destroy()).catch(() => {});
  }
}
