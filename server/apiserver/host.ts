// One HTTPS server for many embedded clusters. Each cluster lives under its own path prefix
// (/clusters/<id>, which client-go keeps for every request) and opens only with its own bearer
// token: no token or an unknown one is 401, another cluster's token is 403.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServingCertificate, type ServingCertificate } from './certificate.ts';
import { ClusterInstance, type EmbeddedCluster } from './cluster.ts';
import { forbidden, unauthorized, type ApiError } from './errors.ts';
import { DEFAULT_LIMITS, type ClusterLimits } from './objects.ts';
import { parseRequestInfo } from './request.ts';
import { findResource } from './resources.ts';
import { rejectUpgrade, sendError } from './respond.ts';
import type { ClusterNetworkOptions, PodRuntime } from './runtime.ts';

export interface ApiHostOptions {
  /** listen address (default 127.0.0.1: the API is for this machine's terminals and grader) */
  host?: string;
  /** 0 (default) picks a free port */
  port?: number;
  /** reuse a certificate instead of making one */
  certificate?: ServingCertificate;
  /** watch history kept per cluster (changes) */
  historyCapacity?: number;
  /** what one cluster may hold (default: 100 pods, 3000 objects) */
  limits?: Partial<ClusterLimits>;
  /** where internal errors go (default: stderr) */
  onError?: (clusterId: string, where: string, err: unknown) => void;
}

export interface CreateClusterOptions {
  /** [a-z0-9-], at most 40 characters; random when omitted */
  id?: string;
  runtime: PodRuntime;
  network: ClusterNetworkOptions;
}

export interface ApiHost {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** PEM of the self-signed certificate clients must trust */
  readonly caCertificate: string;
  createCluster(options: CreateClusterOptions): Promise<EmbeddedCluster>;
  cluster(id: string): EmbeddedCluster | undefined;
  readonly clusters: ReadonlyMap<string, EmbeddedCluster>;
  /** dispose every cluster and stop listening */
  close(): Promise<void>;
}

const CLUSTER_ID = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

function defaultOnError(clusterId: string, where: string, err: unknown): void {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`kubelab apiserver [${clusterId}] ${where}: ${text}\n`);
}

/** The RBAC authorizer's wording for a request this user may not make. */
function forbiddenFor(method: string, path: string, query: URLSearchParams, user: string): ApiError {
  const info = parseRequestInfo(method, path, query);
  if (info.kind === 'nonresource') return forbidden({ group: '', resource: '' }, '', `User "${user}" cannot ${info.verb} path "${path}"`);
  const r = findResource(info.group, info.version, info.resource);
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const where = info.namespace && r?.namespaced !== false ? `in the namespace "${info.namespace}"` : 'at the cluster scope';
  return forbidden({ group: info.group, resource: info.resource }, info.name ?? '', `User "${user}" cannot ${info.verb} resource "${resource}" in API group "${info.group}" ${where}`);
}

export async function createApiHost(opts: ApiHostOptions = {}): Promise<ApiHost> {
  const certificate = opts.certificate ?? (await createServingCertificate());
  const clusters = new Map<string, ClusterInstance>();
  const byToken = new Map<string, ClusterInstance>();
  /** ids being created (the runtime is attaching) */
  const reserved = new Set<string>();
  const onError = opts.onError ?? defaultOnError;
  let url = '';

  interface Routed {
    cluster: ClusterInstance;
    path: string;
    query: URLSearchParams;
  }

  /** Authenticate and find the cluster a request is for; throws the Status to answer with. */
  function route(req: IncomingMessage): Routed {
    const parsed = new URL(req.url ?? '/', 'https://localhost');
    const m = /^\/clusters\/([^/]+)(\/.*)?$/.exec(parsed.pathname);
    const token = bearerToken(req);
    const owner = token ? byToken.get(tokenHash(token)) : undefined;
    if (!owner || !token || !timingSafeEqual(Buffer.from(tokenHash(owner.token)), Buffer.from(tokenHash(token)))) throw unauthorized();
    const path = m ? (m[2] ?? '/') : parsed.pathname;
    if (!m || m[1] !== owner.id) {
      throw forbiddenFor(req.method ?? 'GET', path, parsed.searchParams, `system:serviceaccount:kubelab:${owner.id}`);
    }
    return { cluster: owner, path, query: parsed.searchParams };
  }

  const server: Server = createServer({ cert: certificate.cert, key: certificate.key, ALPNProtocols: ['http/1.1'] }, (req: IncomingMessage, res: ServerResponse) => {
    let routed: Routed;
    try {
      routed = route(req);
    } catch (err) {
      req.resume();
      sendError(res, err);
      return;
    }
    const address = `${(req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '')}:${(req.socket.localPort ?? 0).toString()}`;
    void routed.cluster.handle(req, res, routed.path, routed.query, address);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let routed: Routed;
    try {
      routed = route(req);
    } catch (err) {
      rejectUpgrade(socket, (err as ApiError).toStatus());
      return;
    }
    void routed.cluster.handleUpgrade(req, socket, head, routed.path, routed.query);
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.headersTimeout = 60_000;
  server.requestTimeout = 0; // watches and log follows are long-lived
  server.keepAliveTimeout = 65_000;
  server.maxHeadersCount = 200;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const api: ApiHost = {
    url,
    port,
    caCertificate: certificate.cert,
    clusters,
    cluster: (id) => clusters.get(id),
    async createCluster(o: CreateClusterOptions): Promise<EmbeddedCluster> {
      const id = o.id ?? `c${randomBytes(6).toString('hex')}`;
      if (!CLUSTER_ID.test(id)) throw new Error(`cluster id "${id}" must be 1-40 lower-case letters, digits or '-', starting and ending with a letter or digit`);
      if (clusters.has(id) || reserved.has(id)) throw new Error(`cluster id "${id}" is already in use`);
      const token = randomBytes(32).toString('base64url');
      reserved.add(id);
      let cluster: ClusterInstance;
      try {
        cluster = await ClusterInstance.create({
          id,
          token,
          server: `${url}/clusters/${id}`,
          caCertificate: certificate.cert,
          network: o.network,
          runtime: o.runtime,
          historyCapacity: opts.historyCapacity,
          limits: { ...DEFAULT_LIMITS, ...opts.limits },
          onError,
          onDispose: () => {
            if (clusters.get(id) === cluster) clusters.delete(id);
            byToken.delete(tokenHash(token));
          },
        });
      } finally {
        reserved.delete(id);
      }
      clusters.set(id, cluster);
      byToken.set(tokenHash(token), cluster);
      return cluster;
    },
    async close(): Promise<void> {
      await Promise.all([...clusters.values()].map((c) => c.dispose()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return api;
}
