// One embedded cluster: its store, write path, controllers, container logs and runtime, and the
// request handling below its path prefix (discovery, OpenAPI, resources, exec/attach).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setMaxListeners } from 'node:events';
import type { Duplex } from 'node:stream';
import type { ClusterContext } from './context.ts';
import { EndpointsController } from './controllers/endpoints.ts';
import { EventRecorder } from './controllers/events.ts';
import { GarbageCollector } from './controllers/gc.ts';
import type { Controller, ControllerHost } from './controllers/host.ts';
import { NamespaceController } from './controllers/namespaces.ts';
import { PodLifecycle } from './controllers/pods.ts';
import { recordNodeAddress, seedCluster } from './controllers/seed.ts';
import { WorkloadControllers } from './controllers/workloads.ts';
import { coreDiscovery, discoveryFormat, groupDocument, groupsDiscovery, resourceListDocument, versionDocument, type PreparedDocument } from './discovery.ts';
import { ApiError, pathNotFound } from './errors.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { ContainerLogs } from './logs.ts';
import { ObjectService, type ClusterLimits } from './objects.ts';
import { openapiDocument, openapiIndex } from './openapi-serving.ts';
import { serveOpenAPIV2 } from './openapi-v2.ts';
import { parseRequestInfo } from './request.ts';
import { resourceByPlural } from './resources.ts';
import { rejectUpgrade, sendError, sendJson } from './respond.ts';
import { serveResource } from './rest.ts';
import type { ClusterNetworkOptions, ClusterRuntime, ClusterStateView, ContainerRef, ExecRequest, ExecSession, PodRuntime } from './runtime.ts';
import { ObjectStore } from './store.ts';

export interface EmbeddedCluster {
  readonly id: string;
  /** the bearer token that opens this cluster (and no other) */
  readonly token: string;
  /** https://127.0.0.1:PORT/clusters/<id> */
  readonly server: string;
  readonly network: ClusterNetworkOptions;
  /** the data plane behind this cluster: netns | sim | process */
  readonly runtimeName: string;
  readonly state: ClusterStateView;
  /** a kubeconfig for this cluster (user names the credential entry) */
  kubeconfig(user?: string): string;
  /** resolves once controllers are idle and the runtime enforces everything committed so far */
  settle(): Promise<void>;
  dispose(): Promise<void>;
}

export interface ClusterInit {
  id: string;
  token: string;
  server: string;
  caCertificate: string;
  network: ClusterNetworkOptions;
  runtime: PodRuntime;
  historyCapacity?: number;
  limits?: ClusterLimits;
  now?: () => number;
  onError?: (clusterId: string, where: string, err: unknown) => void;
  onDispose?: () => void;
}

function sendDocument(req: IncomingMessage, res: ServerResponse, doc: PreparedDocument, extra: Record<string, string> = {}): void {
  if (req.headers['if-none-match'] === doc.etag) {
    res.writeHead(304, { ETag: doc.etag, ...extra });
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': doc.contentType, ETag: doc.etag, 'Cache-Control': 'no-cache, private', ...extra });
  res.end(req.method === 'HEAD' ? undefined : doc.body);
}

export class ClusterInstance implements EmbeddedCluster, ClusterContext {
  readonly id: string;
  readonly token: string;
  readonly server: string;
  readonly network: ClusterNetworkOptions;
  readonly store: ObjectStore;
  readonly objects: ObjectService;
  readonly logs = new ContainerLogs();
  readonly state: ClusterStateView;
  readonly now: () => number;
  private readonly abort = new AbortController();
  private readonly caCertificate: string;
  private readonly controllers: Controller[] = [];
  private readonly pods: PodLifecycle;
  private readonly gc: GarbageCollector;
  private readonly podRuntime: PodRuntime;
  private clusterRuntime: ClusterRuntime | undefined;
  private readonly onError: NonNullable<ClusterInit['onError']>;
  private readonly onDispose?: () => void;
  private disposed = false;
  private hostIPKnown = false;

  private constructor(init: ClusterInit) {
    this.id = init.id;
    this.token = init.token;
    this.server = init.server;
    this.network = init.network;
    this.caCertificate = init.caCertificate;
    this.podRuntime = init.runtime;
    this.now = init.now ?? Date.now;
    this.onError = init.onError ?? (() => {});
    this.onDispose = init.onDispose;
    setMaxListeners(0, this.abort.signal);
    this.store = new ObjectStore(init.historyCapacity ?? 1000);
    this.objects = new ObjectService(this.store, this.network, this.now, init.limits);
    const store = this.store;
    this.state = {
      clusterId: this.id,
      list: (resource, namespace) => store.list(resource, resourceByPlural(resource)?.namespaced === false ? undefined : namespace),
      get: (resource, namespace, name) => store.get(resource, resourceByPlural(resource)?.namespaced === false ? undefined : namespace, name),
      subscribe: (listener) => store.subscribe((e) => listener({ type: e.type, resource: e.resource, object: e.object })),
    };
    const recorder = new EventRecorder(this.store, this.now);
    const host: ControllerHost = {
      store: this.store,
      objects: this.objects,
      recorder,
      logs: this.logs,
      network: this.network,
      now: this.now,
      runtime: () => this.clusterRuntime,
      onError: (controller, key, err) => this.onError(this.id, `${controller} ${key}`, err),
      onHostIP: (ip) => {
        if (this.hostIPKnown) return;
        this.hostIPKnown = true;
        recordNodeAddress(this.objects, this.network, ip);
      },
    };
    seedCluster(this.objects, this.network);
    this.pods = new PodLifecycle(host);
    this.gc = new GarbageCollector(host);
    this.controllers.push(new NamespaceController(host, this.caCertificate), this.pods, new WorkloadControllers(host), new EndpointsController(host), this.gc);
  }

  static async create(init: ClusterInit): Promise<ClusterInstance> {
    const cluster = new ClusterInstance(init);
    try {
      cluster.clusterRuntime = await init.runtime.attach(cluster.state, init.network, {
        containerExited: (ref, exitCode) => cluster.pods.containerExited(ref, exitCode),
        log: (ref, line) => cluster.logs.append(ref.namespace, ref.pod, ref.container, line, cluster.now()),
      });
    } catch (err) {
      await cluster.dispose();
      throw err;
    }
    cluster.pods.runtimeReady();
    return cluster;
  }

  get runtimeName(): string {
    return this.podRuntime.name;
  }

  get closed(): AbortSignal {
    return this.abort.signal;
  }

  kubeconfig(user?: string): string {
    return renderKubeconfig({ server: this.server, caCertificate: this.caCertificate, token: this.token, user });
  }

  rememberPropagation(uid: string, policy: 'Orphan' | 'Background' | 'Foreground'): void {
    this.gc.remember(uid, policy);
  }

  async openSession(mode: 'exec' | 'attach', ref: ContainerRef, req: ExecRequest): Promise<ExecSession> {
    const runtime = this.clusterRuntime;
    if (!runtime) throw new ApiError(503, 'ServiceUnavailable', 'the cluster runtime is not ready yet');
    return mode === 'exec' ? runtime.exec(ref, req) : runtime.attach(ref, req);
  }

  async settle(): Promise<void> {
    // controllers feed each other (deployment → replicaset → pods → endpoints): wait until all are quiet at once
    for (let round = 0; round < 100; round++) {
      await Promise.all(this.controllers.map((c) => c.idle()));
      await new Promise((r) => setImmediate(r));
      if (!this.controllers.some((c) => c.busy)) break;
    }
    await this.clusterRuntime?.settle();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.abort.abort();
    for (const c of this.controllers) c.dispose();
    const runtime = this.clusterRuntime;
    this.clusterRuntime = undefined;
    this.onDispose?.();
    if (runtime) await runtime.dispose();
  }

  /** Serve a request whose path has had the cluster prefix removed. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, address: string): Promise<void> {
    try {
      if (this.disposed) throw new ApiError(503, 'ServiceUnavailable', 'the cluster is shutting down');
      if (path === '/version' || path === '/version/') return sendDocument(req, res, versionDocument());
      if (path === '/api' || path === '/api/') return sendDocument(req, res, coreDiscovery(discoveryFormat(req.headers.accept), address));
      if (path === '/apis' || path === '/apis/') return sendDocument(req, res, groupsDiscovery(discoveryFormat(req.headers.accept)));
      if (path === '/healthz' || path === '/livez' || path === '/readyz') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      }
      if (path.startsWith('/openapi/')) return this.serveOpenAPI(req, res, path, query);
      const info = parseRequestInfo(req.method ?? 'GET', path, query);
      if (info.kind === 'nonresource') {
        const parts = path.split('/').filter(Boolean);
        if (parts[0] === 'api' && parts.length === 2) {
          const doc = resourceListDocument(`api/${parts[1]}`);
          if (doc) return sendDocument(req, res, doc);
        } else if (parts[0] === 'apis' && parts.length === 2) {
          const doc = groupDocument(parts[1]);
          if (doc) return sendDocument(req, res, doc);
        } else if (parts[0] === 'apis' && parts.length === 3) {
          const doc = resourceListDocument(`apis/${parts[1]}/${parts[2]}`);
          if (doc) return sendDocument(req, res, doc);
        }
        if (parts[0] === 'api' || parts[0] === 'apis') throw pathNotFound();
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('404 page not found\n');
        return;
      }
      await serveResource(this, req, res, info, query);
    } catch (err) {
      if (!(err instanceof ApiError)) this.onError(this.id, `${req.method} ${path}`, err);
      sendError(res, err);
    }
  }

  private serveOpenAPI(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
    if (path === '/openapi/v2' || path === '/openapi/v2/') return serveOpenAPIV2(req, res);
    if (path === '/openapi/v3' || path === '/openapi/v3/') return sendDocument(req, res, openapiIndex(`/clusters/${this.id}`));
    if (path.startsWith('/openapi/v3/')) {
      const doc = openapiDocument(path.slice('/openapi/v3/'.length));
      if (doc) {
        const immutable = query.get('hash') === doc.hash;
        return sendDocument(req, res, doc, immutable ? { 'Cache-Control': 'public, immutable', Expires: new Date(Date.now() + 365 * 864e5).toUTCString() } : {});
      }
    }
    sendJson(res, 404, pathNotFound().toStatus());
  }

  /** Serve an upgrade request (exec/attach) below the cluster prefix. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, query: URLSearchParams): Promise<void> {
    try {
      const info = parseRequestInfo(req.method === 'POST' ? 'POST' : 'GET', path, query);
      if (info.kind !== 'resource' || info.resource !== 'pods' || !info.namespace || !info.name || (info.subresource !== 'exec' && info.subresource !== 'attach') || info.group !== '') {
        throw new ApiError(400, 'BadRequest', `the server does not support an upgrade of ${path}`);
      }
      // loaded on first use: most clusters never exec
      const { serveExecUpgrade } = await import('./exec.ts');
      await serveExecUpgrade(this, req, socket, head, info.subresource, info.namespace, info.name, query);
    } catch (err) {
      if (!(err instanceof ApiError)) this.onError(this.id, `upgrade ${path}`, err);
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
      if (!socket.destroyed) rejectUpgrade(socket, e.toStatus());
    }
  }
}
