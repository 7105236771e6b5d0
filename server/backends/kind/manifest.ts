// Multi-document Kubernetes manifests (the Calico install, a lab's setup): read from a URL or a
// local file, parsed with bounds, put in an order the API server accepts (CRDs and namespaces
// before what lives in them), and searched for the images they run.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../apiserver/runtime.ts';

/** Calico's calico.yaml is about 300 KB and the operator CRD bundle about 3 MB. */
const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/** Parse every document; a problem names the source and line. Empty documents are skipped, `List`s flattened. */
export function parseManifest(text: string, source: string): KubeObject[] {
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) throw new ManifestError(`${source}: manifest is larger than ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB`);
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: KubeObject[] = [];
  for (const doc of list) {
    // the first line of content, not the `---` before it
    const line = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0).line;
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const at = lineCounter.linePos(e.pos[0]).line;
      throw new ManifestError(`${source}:${at}: ${e.message.split('\n')[0]}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw new ManifestError(`${source}:${line}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (value === null || value === undefined) continue;
    const items = isObject(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items) ? value.items : [value];
    for (const item of items) out.push(checkObject(item, `${source}:${line}`));
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkObject(v: unknown, where: string): KubeObject {
  if (!isObject(v)) throw new ManifestError(`${where}: a document must be a mapping (a Kubernetes object)`);
  if (typeof v.apiVersion !== 'string' || v.apiVersion === '') throw new ManifestError(`${where}: apiVersion is missing`);
  if (typeof v.kind !== 'string' || v.kind === '') throw new ManifestError(`${where}: kind is missing`);
  if (!isObject(v.metadata) || typeof v.metadata.name !== 'string' || v.metadata.name === '') throw new ManifestError(`${where}: metadata.name is missing (${v.kind})`);
  // JSON round trip: plain data only, nothing that can reach a prototype
  return JSON.parse(JSON.stringify(v)) as KubeObject;
}

/**
 * kubectl and Helm install kinds in this order so that nothing refers to what does not exist yet:
 * definitions and namespaces, then identities and configuration, then workloads.
 */
const INSTALL_ORDER = [
  'CustomResourceDefinition',
  'Namespace',
  'PriorityClass',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicaSet',
  'Deployment',
  'StatefulSet',
  'Job',
  'CronJob',
  'PodDisruptionBudget',
  'NetworkPolicy',
];

/** Stable sort into install order; kinds not listed (custom resources) go last, in their original order. */
export function installOrder(objects: KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject): number => {
    const i = INSTALL_ORDER.indexOf(o.kind ?? '');
    return i < 0 ? INSTALL_ORDER.length : i;
  };
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map((x) => x.o);
}

const POD_TEMPLATE_KINDS = new Set(['Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet', 'Job']);

/** Every container and init container image the objects run, each once, in first-seen order. */
export function imagesOf(objects: KubeObject[]): string[] {
  const seen = new Set<string>();
  const add = (spec: unknown): void => {
    if (!isObject(spec)) return;
    for (const key of ['initContainers', 'containers']) {
      const list = spec[key];
      if (!Array.isArray(list)) continue;
      for (const c of list) if (isObject(c) && typeof c.image === 'string' && c.image) seen.add(c.image);
    }
  };
  for (const o of objects) {
    if (o.kind === 'Pod') add(o.spec);
    else if (POD_TEMPLATE_KINDS.has(o.kind ?? '')) add(o.spec?.template?.spec);
    else if (o.kind === 'CronJob') add(o.spec?.jobTemplate?.spec?.template?.spec);
  }
  return [...seen];
}

/**
 * Read a manifest from a local path or an http(s) URL. A URL is fetched once and kept under
 * `cacheDir`, so a class does not download Calico for every cluster and survives the URL going away.
 */
export async function readManifestSource(source: string, cacheDir: string, signal?: AbortSignal): Promise<string> {
  if (!/^https?:\/\//i.test(source)) {
    try {
      return await readFile(source, 'utf8');
    } catch (err) {
      throw new ManifestError(`cannot read manifest ${source}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const cached = join(cacheDir, `${createHash('sha256').update(source).digest('hex').slice(0, 24)}.yaml`);
  try {
    return await readFile(cached, 'utf8');
  } catch {
    // not cached yet
  }
  let text: string;
  try {
    const res = await fetch(source, { signal: signal ?? AbortSignal.timeout(120_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    text = await res.text();
  } catch (err) {
    throw new ManifestError(
      `cannot download manifest ${source}: ${err instanceof Error ? err.message : String(err)} (on an offline host, set calicoManifest to a local copy of the file)`,
    );
  }
  parseManifest(text, source); // never cache something unusable
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, cached);
  return text;
}
