// Changing a learner's cluster the way an instructor's files say: manifests applied through the
// API (create, or replace what is there, like `kubectl apply`), reverted, deleted; and solution
// commands run as kubectl with the learner's KUBECONFIG.
import { execFile } from 'node:child_process';
import { parseFieldPath } from '../labs/manifests.ts';
import type { LoadedManifest, ObjectRef, SourceRef } from '../labs/types.ts';
import { parseKubectlCommand } from '../labs/commands.ts';
import { KubeApiError, type KubeClient, type KubeObject, type ObjectKey } from './kube.ts';
import { sleep } from './probers.ts';

export interface AppliedChange {
  key: ObjectKey;
  /** the object as it was before (absent: it did not exist) */
  before?: KubeObject;
}

/** A manifest the cluster refused, pointing at the file and line it came from. */
export class ApplyError extends Error {
  constructor(
    message: string,
    readonly source?: SourceRef,
  ) {
    super(source ? `${source.file}:${source.line}:${source.column}: ${message}` : message);
    this.name = 'ApplyError';
  }
}

const serverFields = ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink'];

function keyOf(o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): ObjectKey {
  return { apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name };
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** An object as someone would write it: no status, no server-set metadata. */
export function asWritten(o: KubeObject): KubeObject {
  const c = clone(o);
  delete c.status;
  for (const f of serverFields) delete c.metadata[f];
  return c;
}

/** Create or replace each manifest, in order; returns what was there before, to revert. */
export async function applyManifests(client: KubeClient, manifests: LoadedManifest[], signal?: AbortSignal): Promise<AppliedChange[]> {
  const changes: AppliedChange[] = [];
  for (const m of manifests) {
    const obj = clone(m.object) as KubeObject;
    try {
      changes.push({ key: keyOf(m.object), before: await applyOne(client, obj, signal) });
    } catch (err) {
      throw toApplyError(err, m);
    }
  }
  return changes;
}

/** Create or replace one object; returns the previous version, if any. */
export async function applyOne(client: KubeClient, obj: KubeObject, signal?: AbortSignal): Promise<KubeObject | undefined> {
  const key = keyOf(obj as Parameters<typeof keyOf>[0]);
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await client.get(key, { signal });
    try {
      if (!existing) {
        await client.create(obj, { signal });
        return undefined;
      }
      const next = clone(obj);
      next.metadata.resourceVersion = existing.metadata.resourceVersion;
      if (obj.kind === 'Service') keepAllocated(next, existing);
      try {
        await client.replace(next, { signal });
      } catch (err) {
        // a pod's spec cannot change in place: recreate it, as a redeploy would
        if (obj.kind === 'Pod' && err instanceof KubeApiError && err.status === 422) {
          await client.remove(key, { signal });
          await waitGone(client, key, signal);
          await client.create(obj, { signal });
        } else throw err;
      }
      return existing;
    } catch (err) {
      // someone else wrote in between (409), or it appeared/vanished: read again and retry
      if (err instanceof KubeApiError && (err.status === 409 || (err.status === 404 && existing))) continue;
      throw err;
    }
  }
  throw new Error(`${key.kind} ${key.name} kept changing while it was applied`);
}

function keepAllocated(next: KubeObject, existing: KubeObject): void {
  const spec = (next.spec ??= {});
  const old = existing.spec ?? {};
  for (const f of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy']) if (spec[f] === undefined && old[f] !== undefined) spec[f] = old[f];
}

/** Put things back as they were before `changes` (newest first). */
export async function revertChanges(client: KubeClient, changes: AppliedChange[], signal?: AbortSignal): Promise<void> {
  for (const c of [...changes].reverse()) {
    if (c.before) await applyOne(client, asWritten(c.before), signal);
    else {
      await client.remove(c.key, { signal });
      await waitGone(client, c.key, signal);
    }
  }
}

export async function deleteObjects(client: KubeClient, refs: ObjectRef[], signal?: AbortSignal): Promise<void> {
  for (const r of refs) {
    const key = { apiVersion: r.apiVersion, kind: r.kind, namespace: r.namespace, name: r.name };
    if (await client.remove(key, { signal })) await waitGone(client, key, signal);
  }
}

export async function waitGone(client: KubeClient, key: ObjectKey, signal?: AbortSignal, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal?.aborted) {
    if (!(await client.get(key, { signal }))) return;
    await sleep(100);
  }
}

/** Wait until the pods and deployments among `objects` are running (bounded); other kinds need no wait. */
export async function waitForWorkloads(client: KubeClient, objects: Array<{ apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }>, timeoutMs = 120_000, signal?: AbortSignal): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const pending = objects.filter((o) => o.kind === 'Pod' || o.kind === 'Deployment' || o.kind === 'ReplicaSet');
  const notReady: string[] = [];
  for (const o of pending) {
    let ready = false;
    while (!ready && Date.now() < deadline && !signal?.aborted) {
      const cur = await client.get(keyOf(o), { signal });
      if (cur && o.kind === 'Pod') ready = cur.status?.phase === 'Running' && typeof cur.status?.podIP === 'string' && cur.status.podIP !== '';
      else if (cur) ready = rolledOut(o.kind, cur);
      if (!ready) await sleep(100);
    }
    if (!ready) notReady.push(`${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  }
  return notReady;
}

/**
 * A Deployment or ReplicaSet has finished its rollout, as `kubectl rollout status` decides: the
 * controller has seen the latest spec, every replica is updated and available, and no old replica
 * is left. Counting ready replicas alone would stop at once on an update, while the old pods,
 * with their old labels, still serve.
 */
export function rolledOut(kind: string, o: KubeObject): boolean {
  const want = typeof o.spec?.replicas === 'number' ? o.spec.replicas : 1;
  const status = o.status ?? {};
  const n = (k: string) => Number(status[k] ?? 0);
  if (typeof o.metadata.generation === 'number' && n('observedGeneration') < o.metadata.generation) return false;
  if (kind === 'ReplicaSet') return n('readyReplicas') >= want && n('replicas') === want;
  return n('updatedReplicas') >= want && n('replicas') <= n('updatedReplicas') && n('availableReplicas') >= want;
}

function toApplyError(err: unknown, m: LoadedManifest): ApplyError {
  const what = `${m.object.kind} ${m.object.metadata.namespace ? `${m.object.metadata.namespace}/` : ''}${m.object.metadata.name}`;
  if (err instanceof KubeApiError) {
    const cause = err.causes.find((c) => c.field);
    const at = cause?.field ? m.locate(parseFieldPath(cause.field.replace(/^\[\d+\]\./, ''))) : m.source;
    return new ApplyError(`the cluster refused ${what}: ${err.message}`, at);
  }
  return new ApplyError(`cannot apply ${what}: ${err instanceof Error ? err.message : String(err)}`, m.source);
}

export interface CommandResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run a solution command (kubectl only, no shell) with the environment's KUBECONFIG. */
export function runKubectl(line: string, env: Record<string, string>, options: { kubectl?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<CommandResult> {
  const argv = parseKubectlCommand(line);
  return new Promise((resolve) => {
    execFile(
      options.kubectl ?? 'kubectl',
      argv.slice(1),
      { env: { ...process.env, ...env }, timeout: options.timeoutMs ?? 60_000, maxBuffer: 1024 * 1024, signal: options.signal },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? Number((err as { code?: unknown }).code) : 1) : 0;
        resolve({ command: line, exitCode: code, stdout: String(stdout), stderr: String(stderr) || (err && code === 1 ? err.message : '') });
      },
    );
  });
}
