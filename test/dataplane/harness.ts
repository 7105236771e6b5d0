// Runs a data plane behind a real embedded Kubernetes API: objects go in through HTTPS like
// kubectl's, pods are started by the API server's lifecycle, and probes exec in pods through the
// cluster's runtime. Shared by the conformance suite and the tool-parity test.
import https from 'node:https';
import { createApiHost, type ApiHost, type EmbeddedCluster } from '../../server/apiserver/index.ts';
export { createApiHost };
import type { ClusterNetworkOptions, ContainerRef, ExecRequest, ExecSession, ExternalHost, KubeObject, PodRuntime } from '../../server/apiserver/runtime.ts';
import { netnsUnavailable, createSimRuntime } from '../../server/dataplane/index.ts';
import { createNetnsRuntime } from '../../server/dataplane/netns/runtime.ts';
import { NAMESPACE_PATTERN, listNamespaces, ownedTags, readOwner } from '../../server/dataplane/netns/names.ts';

export interface Plane {
  name: 'netns' | 'sim';
  /** why this plane is skipped here, if it is */
  skip?: string;
  make(): PodRuntime;
}

export function planes(): Plane[] {
  const why = netnsUnavailable();
  return [
    { name: 'netns', skip: why ? `netns data plane unavailable: ${why}` : undefined, make: () => createNetnsRuntime() },
    { name: 'sim', make: () => createSimRuntime() },
  ];
}

export const NETWORK: Omit<ClusterNetworkOptions, 'externalHosts'> = {
  podCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/16',
  dnsServiceIP: '10.96.0.10',
  clusterDomain: 'cluster.local',
  nodeName: 'kubelab-control-plane',
};

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const plural: Record<string, { group: string; resource: string }> = {
  Namespace: { group: '/api/v1', resource: 'namespaces' },
  Pod: { group: '/api/v1', resource: 'pods' },
  Service: { group: '/api/v1', resource: 'services' },
  NetworkPolicy: { group: '/apis/networking.k8s.io/v1', resource: 'networkpolicies' },
};

export class ApiCluster {
  private constructor(
    readonly host: ApiHost,
    readonly cluster: EmbeddedCluster,
    private readonly ca: string,
    private readonly ownsHost: boolean,
  ) {}

  /** A fresh cluster on `host` (shared: making a host costs a certificate), or on a host of its own. */
  static async start(runtime: PodRuntime, externalHosts: ExternalHost[] = [], shared?: ApiHost): Promise<ApiCluster> {
    const host = shared ?? (await createApiHost({ onError: () => {} }));
    try {
      const cluster = await host.createCluster({ runtime, network: { ...NETWORK, externalHosts } });
      return new ApiCluster(host, cluster, host.caCertificate, !shared);
    } catch (err) {
      if (!shared) await host.close();
      throw err;
    }
  }

  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: KubeObject }> {
    const url = new URL(this.cluster.server + path);
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        { method, ca: this.ca, headers: { Authorization: `Bearer ${this.cluster.token}`, Accept: 'application/json', ...(data ? { 'Content-Type': 'application/json' } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as KubeObject) : ({ metadata: { name: '' } } as KubeObject) });
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  private path(obj: KubeObject, name?: string): string {
    const p = plural[obj.kind ?? ''];
    if (!p) throw new Error(`harness: unsupported kind ${obj.kind}`);
    const ns = p.resource === 'namespaces' ? '' : `/namespaces/${obj.metadata.namespace ?? 'default'}`;
    return `${p.group}${ns}/${p.resource}${name ? `/${name}` : ''}`;
  }

  /** Create, or replace when it exists (what `kubectl apply` amounts to here). */
  async apply(obj: KubeObject): Promise<KubeObject> {
    const created = await this.request('POST', this.path(obj), obj);
    if (created.status === 201 || created.status === 200) return created.body;
    if (created.status !== 409) throw new Error(`create ${obj.kind} ${obj.metadata.name}: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    const current = await this.request('GET', this.path(obj, obj.metadata.name));
    const next = { ...obj, metadata: { ...obj.metadata, resourceVersion: current.body.metadata.resourceVersion } };
    const replaced = await this.request('PUT', this.path(obj, obj.metadata.name), next);
    if (replaced.status !== 200) throw new Error(`replace ${obj.kind} ${obj.metadata.name}: HTTP ${replaced.status} ${JSON.stringify(replaced.body)}`);
    return replaced.body;
  }

  async remove(obj: KubeObject): Promise<void> {
    const r = await this.request('DELETE', this.path(obj, obj.metadata.name));
    if (r.status !== 200 && r.status !== 202 && r.status !== 404) throw new Error(`delete ${obj.kind} ${obj.metadata.name}: HTTP ${r.status}`);
  }

  /** Wait until every pod is Running with an address; returns "ns/name" → IP. */
  async waitRunning(pods: Array<{ namespace: string; name: string }>, timeoutMs = 30_000): Promise<Map<string, string>> {
    const deadline = Date.now() + timeoutMs;
    const ips = new Map<string, string>();
    for (const p of pods) {
      for (;;) {
        const r = await this.request('GET', `/api/v1/namespaces/${p.namespace}/pods/${p.name}`);
        const status = r.body.status as { phase?: string; podIP?: string } | undefined;
        if (status?.phase === 'Running' && status.podIP) {
          ips.set(`${p.namespace}/${p.name}`, status.podIP);
          break;
        }
        if (Date.now() > deadline) throw new Error(`pod ${p.namespace}/${p.name} not Running (phase ${status?.phase})`);
        await new Promise((r2) => setTimeout(r2, 20));
      }
    }
    return ips;
  }

  settle(): Promise<void> {
    return this.cluster.settle();
  }

  /** Run a command in a container through the cluster's runtime and collect its output. */
  async exec(ref: ContainerRef, command: string[]): Promise<ExecResult> {
    const open = (this.cluster as unknown as { openSession(mode: 'exec', ref: ContainerRef, req: ExecRequest): Promise<ExecSession> }).openSession;
    const session = await open.call(this.cluster, 'exec', ref, { command, tty: false, stdin: false, stdout: true, stderr: true });
    let stdout = '';
    let stderr = '';
    session.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    session.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exit = await session.exit;
    await new Promise((r) => setImmediate(r));
    return { stdout, stderr, exitCode: exit.exitCode };
  }

  async dispose(): Promise<void> {
    if (this.ownsHost) await this.host.close();
    else await this.cluster.dispose();
  }
}

/** Namespaces the netns plane made for clusters this process owns (to prove they are gone after dispose). */
export function ownNamespaces(): { tags: string[]; namespaces: string[] } {
  const tags = ownedTags().filter((t) => readOwner(t)?.pid === process.pid);
  const namespaces = listNamespaces().filter((n) => {
    const m = NAMESPACE_PATTERN.exec(n);
    return m !== null && tags.includes(m[1]);
  });
  return { tags, namespaces };
}

export function leftoverNamespaces(tags: string[]): string[] {
  return listNamespaces().filter((n) => {
    const m = NAMESPACE_PATTERN.exec(n);
    return m !== null && tags.includes(m[1]);
  });
}

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function pod(ns: string, name: string, labels: Record<string, string>, container: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, labels }, spec: { containers: [{ name: 'main', ...container }] } };
}

export function service(ns: string, name: string, selector: Record<string, string>, ports: Array<Record<string, unknown>>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec: { selector, ports } };
}

export function policy(ns: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: ns, name }, spec };
}
