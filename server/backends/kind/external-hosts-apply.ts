// Putting a lab's external hosts on a kind cluster at hand-out, and taking them off at reset (see
// external-hosts.ts for the shape). Everything goes through the Kubernetes API except the routes,
// which only the node can hold: those are `docker exec` of one fixed `ip route` command per block
// and node container, never a shell a learner could reach.
import type { ExternalHost, KubeObject } from '../../apiserver/runtime.ts';
import { selfSignedCertificate } from '../../dataplane/tls.ts';
import type { ClusterApi } from './cluster-api.ts';
import type { Clock } from './clock.ts';
import { KindError } from './errors.ts';
import type { ExternalHostsPlan } from './external-hosts.ts';
import { EXTERNAL_LABEL, LISTENER_NAME, LISTENER_NAMESPACE, LISTENER_SELECTOR, listenerPod, listenerSecret, namesDigest, planExternalHosts, routeCommand, withHostsBlock, withoutHostsBlock } from './external-hosts.ts';
import type { KindCli } from './kind-cli.ts';
import type { WaitOptions } from './readiness.ts';
import { daemonPodsReady, deploymentAvailable, waitUntil } from './readiness.ts';

export interface ExternalHostsContext {
  api: ClusterApi;
  cli: Pick<KindCli, 'getNodes' | 'nodeExec'>;
  clusterName: string;
  /** the listener image: preloaded into every node, with a fixed tag */
  image: string;
  clock: Clock;
  pollIntervalMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  onWaiting?: (detail: string) => void;
}

/** What was put on a cluster, so a reset can take exactly that off again. */
export interface InstalledExternalHosts {
  blocks: string[];
}

const ROUTE_TIMEOUT_MS = 60_000;

function waitOptions(ctx: ExternalHostsContext): WaitOptions {
  return { timeoutMs: ctx.timeoutMs, intervalMs: ctx.pollIntervalMs, clock: ctx.clock, signal: ctx.signal, reason: 'setup-failed', onWaiting: ctx.onWaiting };
}

function failed(what: string, err: unknown): KindError {
  if (err instanceof KindError && (err.reason === 'docker-unavailable' || err.reason === 'aborted' || err.reason === 'setup-failed')) return err;
  return new KindError('setup-failed', `${what} failed: ${err instanceof Error ? err.message : String(err)}`, err instanceof KindError ? err.detail : undefined);
}

async function nodeContainers(ctx: ExternalHostsContext): Promise<string[]> {
  const containers = await ctx.cli.getNodes(ctx.clusterName);
  if (containers.length === 0) throw new KindError('setup-failed', `kind reports no node containers for ${ctx.clusterName}`);
  return containers;
}

/** Routes, listeners and names for the lab's hosts; undefined when the lab declares none. */
export async function installExternalHosts(hosts: ExternalHost[], ctx: ExternalHostsContext, onInstalled: (installed: InstalledExternalHosts) => void): Promise<InstalledExternalHosts | undefined> {
  if (hosts.length === 0) return undefined;
  const plan = planExternalHosts(hosts);
  const installed: InstalledExternalHosts = { blocks: plan.blocks };
  // recorded before anything changes, so a failure part-way is still undone by a reset
  onInstalled(installed);
  for (const node of await nodeContainers(ctx)) {
    for (const cidr of plan.blocks) {
      try {
        await ctx.cli.nodeExec(node, routeCommand('replace', cidr), undefined, ROUTE_TIMEOUT_MS);
      } catch (err) {
        throw failed(`making ${cidr} local on node ${node}`, err);
      }
    }
  }
  if (plan.ports.length > 0) await startListeners(plan, ctx);
  if (plan.names.length > 0) await addNames(plan, ctx);
  return installed;
}

async function startListeners(plan: ExternalHostsPlan, ctx: ExternalHostsContext): Promise<void> {
  const { api } = ctx;
  const certificate = plan.ports.some((p) => p.kind === 'https' && p.protocol === 'TCP') ? await selfSignedCertificate() : undefined;
  const nodes = await api.list('v1', 'Node');
  const objects = [listenerSecret(certificate), ...nodes.map((n) => listenerPod(n.metadata.name, plan, ctx.image))];
  for (const obj of objects) {
    try {
      await api.apply(obj);
    } catch (err) {
      throw failed(`creating the external hosts' ${obj.kind} ${LISTENER_NAMESPACE}/${obj.metadata.name}`, err);
    }
  }
  await waitUntil(
    `the external hosts' listeners (pods ${LISTENER_SELECTOR} in ${LISTENER_NAMESPACE})`,
    async () => daemonPodsReady('external hosts listener', await api.list('v1', 'Pod', LISTENER_NAMESPACE, LISTENER_SELECTOR), await api.list('v1', 'Node')),
    waitOptions(ctx),
  );
}

async function corefileMap(api: ClusterApi): Promise<KubeObject> {
  const cm = await api.get('v1', 'ConfigMap', 'kube-system', 'coredns');
  const corefile: unknown = (cm?.data as Record<string, unknown> | undefined)?.Corefile;
  if (!cm || typeof corefile !== 'string') throw new KindError('setup-failed', 'the cluster has no kube-system/coredns ConfigMap with a Corefile to add the external names to');
  return cm;
}

async function addNames(plan: ExternalHostsPlan, ctx: ExternalHostsContext): Promise<void> {
  const cm = await corefileMap(ctx.api);
  const data = cm.data as Record<string, string>;
  const next = withHostsBlock(data.Corefile!, plan.names);
  if (next !== data.Corefile) await ctx.api.apply({ ...cm, data: { ...data, Corefile: next } });
  await rollOutCoreDns(namesDigest(plan.names), ctx);
}

/** Restart CoreDNS with a template annotation (as `kubectl rollout restart` does) and wait for it. */
async function rollOutCoreDns(digest: string | undefined, ctx: ExternalHostsContext): Promise<void> {
  const dep = await ctx.api.get('apps/v1', 'Deployment', 'kube-system', 'coredns');
  if (!dep) throw new KindError('setup-failed', 'the cluster has no kube-system/coredns Deployment to answer the external names');
  const template = (dep.spec?.template ?? {}) as { metadata?: { annotations?: Record<string, string> } };
  const annotations = { ...(template.metadata?.annotations ?? {}) };
  if (annotations[EXTERNAL_LABEL] === digest || (digest === undefined && !(EXTERNAL_LABEL in annotations))) return;
  if (digest === undefined) delete annotations[EXTERNAL_LABEL];
  else annotations[EXTERNAL_LABEL] = digest;
  const next = structuredClone(dep);
  next.spec.template = { ...template, metadata: { ...(template.metadata ?? {}), annotations } };
  try {
    await ctx.api.apply(next);
  } catch (err) {
    throw failed('restarting CoreDNS with the external names', err);
  }
  await waitUntil('CoreDNS (Deployment kube-system/coredns) to roll out', async () => deploymentAvailable(await ctx.api.get('apps/v1', 'Deployment', 'kube-system', 'coredns'), 'coredns'), waitOptions(ctx));
}

/** Take the names, the listeners and the routes off again; safe to repeat. */
export async function removeExternalHosts(installed: InstalledExternalHosts, ctx: ExternalHostsContext): Promise<void> {
  const { api } = ctx;
  const cm = await corefileMap(api);
  const data = cm.data as Record<string, string>;
  const cleaned = withoutHostsBlock(data.Corefile!);
  if (cleaned !== data.Corefile) await api.apply({ ...cm, data: { ...data, Corefile: cleaned } });
  await rollOutCoreDns(undefined, ctx);

  const pods = await api.list('v1', 'Pod', LISTENER_NAMESPACE, LISTENER_SELECTOR);
  for (const p of pods) await api.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.metadata.name, namespace: LISTENER_NAMESPACE } });
  await api.delete({ apiVersion: 'v1', kind: 'Secret', metadata: { name: LISTENER_NAME, namespace: LISTENER_NAMESPACE } });
  await waitUntil(
    "the external hosts' listeners to be deleted",
    async () => {
      const left = await api.list('v1', 'Pod', LISTENER_NAMESPACE, LISTENER_SELECTOR);
      return left.length === 0 ? { ready: true, detail: 'gone' } : { ready: false, detail: `still there: ${left.map((p) => p.metadata.name).join(', ')}` };
    },
    waitOptions(ctx),
  );

  for (const node of await nodeContainers(ctx)) {
    for (const cidr of installed.blocks) {
      try {
        await ctx.cli.nodeExec(node, routeCommand('del', cidr), undefined, ROUTE_TIMEOUT_MS);
      } catch (err) {
        // already gone (a route never added, or removed by an earlier reset that failed later on)
        if (err instanceof KindError && /No such process|Cannot find/i.test(`${err.detail ?? ''} ${err.message}`)) continue;
        throw failed(`removing the local route for ${cidr} on node ${node}`, err);
      }
    }
  }
}
