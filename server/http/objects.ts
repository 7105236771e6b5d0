// A learner's own objects: read from their cluster through the Kubernetes API so that a restart
// can recreate the cluster as they left it, and written back the way `kubectl apply` would
// (create, or replace what exists).
import https from 'node:https';
import http from 'node:http';
import { parse } from 'yaml';
import type { KubeObject } from '../apiserver/runtime.ts';

/** Kinds a learner makes in a lab, in the order they must be re-applied. */
const kinds: Array<{ apiVersion: string; kind: string; plural: string; namespaced: boolean }> = [
  { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true },
];

/** The resources (plural names) whose objects are saved for a restart. */
export const savedResources: ReadonlySet<string> = new Set(kinds.map((k) => k.plural));

const systemNamespaces = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

/** What to keep of an object: its intent, not its server-set state. */
export function portable(obj: KubeObject): KubeObject | undefined {
  const m = obj.metadata;
  if (!m?.name) return undefined;
  if (m.namespace && systemNamespaces.has(m.namespace)) return undefined;
  if (obj.kind === 'Namespace' && (systemNamespaces.has(m.name) || m.name === 'default')) return undefined;
  if (Array.isArray(m.ownerReferences) && m.ownerReferences.length > 0) return undefined;
  if (m.labels?.['kubelab.dev/prober'] === 'true') return undefined;
  if (obj.kind === 'Service' && m.name === 'kubernetes' && m.namespace === 'default') return undefined;
  if (obj.kind === 'ConfigMap' && m.name === 'kube-root-ca.crt') return undefined;
  const metadata: KubeObject['metadata'] = { name: m.name };
  if (m.namespace) metadata.namespace = m.namespace;
  if (m.labels) metadata.labels = { ...m.labels };
  if (m.annotations) {
    const a = Object.fromEntries(Object.entries(m.annotations).filter(([k]) => !k.startsWith('kubectl.kubernetes.io/') && !k.startsWith('deployment.kubernetes.io/')));
    if (Object.keys(a).length) metadata.annotations = a;
  }
  if (obj.kind === 'Namespace' && metadata.labels) delete metadata.labels['kubernetes.io/metadata.name'];
  const out: KubeObject = { apiVersion: obj.apiVersion, kind: obj.kind, metadata };
  if (obj.spec !== undefined) out.spec = structuredClone(obj.spec);
  if (obj.data !== undefined) out.data = structuredClone(obj.data);
  if (obj.kind === 'Service' && out.spec) {
    // addresses are the new cluster's to assign
    delete out.spec.clusterIP;
    delete out.spec.clusterIPs;
  }
  if (obj.kind === 'Pod' && out.spec) delete out.spec.nodeName;
  return out;
}

interface Kubeconfig {
  server: string;
  ca?: Buffer;
  insecure: boolean;
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

/** The current context's server and credentials from a kubeconfig. */
export function readKubeconfig(text: string): Kubeconfig {
  const kc = parse(text, { maxAliasCount: 10 }) as {
    'current-context'?: string;
    contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
    clusters?: Array<{ name: string; cluster: { server: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean } }>;
    users?: Array<{ name: string; user: { token?: string; 'client-certificate-data'?: string; 'client-key-data'?: string } }>;
  };
  const ctx = kc.contexts?.find((c) => c.name === kc['current-context']) ?? kc.contexts?.[0];
  const cluster = kc.clusters?.find((c) => c.name === ctx?.context.cluster) ?? kc.clusters?.[0];
  if (!cluster?.cluster.server) throw new Error('kubeconfig: clusters[0].cluster.server is missing');
  const user = kc.users?.find((u) => u.name === ctx?.context.user) ?? kc.users?.[0];
  const b64 = (v: string | undefined) => (v ? Buffer.from(v, 'base64') : undefined);
  return {
    server: cluster.cluster.server.replace(/\/$/, ''),
    ca: b64(cluster.cluster['certificate-authority-data']),
    insecure: cluster.cluster['insecure-skip-tls-verify'] === true,
    token: user?.user.token,
    cert: b64(user?.user['client-certificate-data']),
    key: b64(user?.user['client-key-data']),
  };
}

class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** One request to the cluster's API with the learner's own credentials. */
function request(kc: Kubeconfig, method: string, path: string, body?: unknown): Promise<unknown> {
  const url = new URL(kc.server + path);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method,
        ca: kc.ca,
        cert: kc.cert,
        key: kc.key,
        rejectUnauthorized: !kc.insecure,
        timeout: 15_000,
        headers: {
          accept: 'application/json',
          ...(kc.token ? { authorization: `Bearer ${kc.token}` } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          if ((res.statusCode ?? 500) >= 400) reject(new ApiError(res.statusCode ?? 500, (json as { message?: string } | undefined)?.message ?? text.slice(0, 200)));
          else resolve(json);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function collectionPath(k: (typeof kinds)[number], namespace?: string): string {
  const base = k.apiVersion === 'v1' ? '/api/v1' : `/apis/${k.apiVersion}`;
  return namespace && k.namespaced ? `${base}/namespaces/${encodeURIComponent(namespace)}/${k.plural}` : `${base}/${k.plural}`;
}

/** Read the learner's objects from their cluster. */
export async function readLearnerObjects(kubeconfig: string): Promise<KubeObject[]> {
  const kc = readKubeconfig(kubeconfig);
  const out: KubeObject[] = [];
  for (const k of kinds) {
    const list = (await request(kc, 'GET', collectionPath(k))) as { items?: KubeObject[] };
    for (const item of list.items ?? []) {
      const o = portable({ ...item, apiVersion: k.apiVersion, kind: k.kind });
      if (o) out.push(o);
    }
  }
  return out;
}

/** Apply objects in order: create, or replace an existing one. Returns the problems, one per object. */
export async function applyObjects(kubeconfig: string, objects: KubeObject[]): Promise<string[]> {
  const kc = readKubeconfig(kubeconfig);
  const problems: string[] = [];
  for (const o of objects) {
    const k = kinds.find((x) => x.kind === o.kind && x.apiVersion === o.apiVersion);
    const name = `${o.kind} ${o.metadata.namespace ? o.metadata.namespace + '/' : ''}${o.metadata.name}`;
    if (!k) {
      problems.push(`${name}: not a kind kubelab restores`);
      continue;
    }
    const collection = collectionPath(k, o.metadata.namespace);
    try {
      await request(kc, 'POST', collection, o);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) {
        problems.push(`${name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
        continue;
      }
      // exists already (the lab's setup made it): bring it to what the learner had, except
      // pods (a pod's spec is immutable); of a namespace only its labels and annotations are
      // the learner's (namespaceSelectors match those labels)
      if (o.kind === 'Pod') continue;
      try {
        const path = `${collection}/${encodeURIComponent(o.metadata.name)}`;
        const current = (await request(kc, 'GET', path)) as KubeObject;
        const next =
          o.kind === 'Namespace'
            ? { ...current, metadata: { ...current.metadata, labels: { ...o.metadata.labels, ...pick(current.metadata.labels, 'kubernetes.io/metadata.name') }, annotations: { ...pick(current.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration'), ...o.metadata.annotations } } }
            : { ...o, metadata: { ...o.metadata, resourceVersion: current.metadata.resourceVersion } };
        await request(kc, 'PUT', path, next);
      } catch (e) {
        problems.push(`${name}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    }
  }
  return problems;
}

function pick(map: Record<string, string> | undefined, key: string): Record<string, string> {
  return map && key in map ? { [key]: map[key] } : {};
}
