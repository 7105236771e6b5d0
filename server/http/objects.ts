// A learner's own objects: read from their cluster through the Kubernetes API so that a restart
// can recreate the cluster as they left it, and written back the way `kubectl apply` would
// (create, or replace what exists).
import type * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../apiserver/runtime.ts';

/** Kinds a learner makes in a lab, in the order they must be re-applied. */
const kinds: Array<{ apiVersion: string; kind: string; namespaced: boolean }> = [
  { apiVersion: 'v1', kind: 'Namespace', namespaced: false },
  { apiVersion: 'v1', kind: 'ConfigMap', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true },
  { apiVersion: 'v1', kind: 'Pod', namespaced: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespaced: true },
];

const systemNamespaces = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

// Loaded on first use: the client library is heavy, and the server must start (and serve the
// catalogue) even where it cannot load.
async function client(kubeconfig: string): Promise<k8s.KubernetesObjectApi> {
  const lib = await import('@kubernetes/client-node');
  const kc = new lib.KubeConfig();
  kc.loadFromString(kubeconfig);
  return lib.KubernetesObjectApi.makeApiClient(kc);
}

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

/** Read the learner's objects from their cluster. */
export async function readLearnerObjects(kubeconfig: string): Promise<KubeObject[]> {
  const api = await client(kubeconfig);
  const out: KubeObject[] = [];
  for (const k of kinds) {
    const list = await api.list(k.apiVersion, k.kind);
    for (const item of list.items) {
      const o = portable({ ...(item as unknown as KubeObject), apiVersion: k.apiVersion, kind: k.kind });
      if (o) out.push(o);
    }
  }
  return out;
}

/** Apply objects in order: create, or replace an existing one. Returns the problems, one per object. */
export async function applyObjects(kubeconfig: string, objects: KubeObject[]): Promise<string[]> {
  const api = await client(kubeconfig);
  const problems: string[] = [];
  for (const o of objects) {
    const spec = o as unknown as k8s.KubernetesObject;
    try {
      let existing: k8s.KubernetesObject | undefined;
      try {
        existing = await api.read({ apiVersion: o.apiVersion ?? 'v1', kind: o.kind ?? '', metadata: { name: o.metadata.name, namespace: o.metadata.namespace } });
      } catch {
        existing = undefined;
      }
      if (existing) {
        // namespaces have nothing to replace and a pod's spec is immutable
        if (o.kind === 'Namespace' || o.kind === 'Pod') continue;
        await api.replace({ ...spec, metadata: { ...spec.metadata, resourceVersion: existing.metadata?.resourceVersion } });
      } else {
        await api.create(spec);
      }
    } catch (err) {
      problems.push(`${o.kind} ${o.metadata.namespace ? o.metadata.namespace + '/' : ''}${o.metadata.name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  return problems;
}
