// Installing the network plugin into a fresh kind cluster and waiting until the cluster is usable,
// per CNI choice. Calico is applied through the Kubernetes API from its manifest (CRDs first,
// create-or-replace), then the waits from Calico's manifest-mode docs: calico-node on every node,
// calico-kube-controllers available, the nodes Ready, CoreDNS available.
import type { KubeObject } from '../../apiserver/runtime.ts';
import type { ClusterApi } from './cluster-api.ts';
import { isNotServed } from './cluster-api.ts';
import type { CniChoice } from './config.ts';
import { KindError } from './errors.ts';
import type { KindCli } from './kind-cli.ts';
import { imagesOf, installOrder, parseManifest, readManifestSource } from './manifest.ts';
import type { ResolvedKindOptions } from './options.ts';
import { WRITE_CNI_COMMAND, interNodeRoutes, nodeContainers, nodeNetworks, plainCniConfig } from './plain-cni.ts';
import type { Readiness, WaitOptions } from './readiness.ts';
import { crdEstablished, daemonPodsReady, deploymentAvailable, nodesReady, waitUntil } from './readiness.ts';

export interface CniPlan {
  cni: CniChoice;
  /** objects to apply, in install order (Calico only) */
  objects: KubeObject[];
  /** images the plugin runs, for preloading */
  images: string[];
}

/** Read and check the plugin's manifest once per backend, before any cluster is made. */
export async function loadCniPlan(opts: ResolvedKindOptions, cacheDir: string): Promise<CniPlan> {
  switch (opts.cni) {
    case 'calico': {
      let objects: KubeObject[];
      try {
        objects = installOrder(parseManifest(await readManifestSource(opts.calicoManifest, cacheDir), opts.calicoManifest));
      } catch (err) {
        throw new KindError('cni-failed', `cannot use the Calico manifest: ${err instanceof Error ? err.message : String(err)}`);
      }
      const hasNode = objects.some((o) => o.metadata.name === 'calico-node' || o.metadata.labels?.['k8s-app'] === 'calico-node');
      if (!hasNode) throw new KindError('cni-failed', `the Calico manifest ${opts.calicoManifest} has no calico-node (is it the manifest-mode calico.yaml?)`);
      return { cni: 'calico', objects, images: imagesOf(objects) };
    }
    case 'kindnet':
    case 'none':
      return { cni: opts.cni, objects: [], images: [] };
  }
}

export interface CniContext {
  api: ClusterApi;
  cli: KindCli;
  clusterName: string;
  opts: ResolvedKindOptions;
  signal?: AbortSignal;
  /** a line of progress for the learner */
  onWaiting?: (what: string, detail: string) => void;
}

function waitOptions(ctx: CniContext, what: string, reason: WaitOptions['reason'] = 'not-ready'): WaitOptions {
  return {
    timeoutMs: ctx.opts.timeouts.readyMs,
    intervalMs: ctx.opts.pollIntervalMs,
    clock: ctx.opts.clock,
    signal: ctx.signal,
    reason,
    onWaiting: (detail) => ctx.onWaiting?.(what, detail),
  };
}

/** Put the plugin in place. kind installs kindnet itself; `none` writes a plain CNI config per node. */
export async function installCni(plan: CniPlan, ctx: CniContext): Promise<void> {
  switch (plan.cni) {
    case 'calico':
      return applyCalico(plan.objects, ctx);
    case 'kindnet':
      return;
    case 'none':
      return installPlainCni(ctx);
  }
}

async function applyCalico(objects: KubeObject[], ctx: CniContext): Promise<void> {
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
  const rest = objects.filter((o) => o.kind !== 'CustomResourceDefinition');
  for (const crd of crds) await applyOne(crd, ctx);
  for (const crd of crds) {
    await waitUntil(`CustomResourceDefinition ${crd.metadata.name}`, async () => crdEstablished(await ctx.api.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, crd.metadata.name)), waitOptions(ctx, 'Calico CRDs', 'cni-failed'));
  }
  for (const obj of rest) await applyOne(obj, ctx);
}

async function applyOne(obj: KubeObject, ctx: CniContext): Promise<void> {
  try {
    await ctx.api.apply(obj);
  } catch (err) {
    const why = isNotServed(err) ? `this cluster does not serve ${obj.apiVersion} ${obj.kind}` : err instanceof Error ? err.message : String(err);
    throw new KindError('cni-failed', `installing Calico failed at ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}: ${why}`);
  }
}

async function installPlainCni(ctx: CniContext): Promise<void> {
  let networks: ReturnType<typeof nodeNetworks> = { ready: [], missing: [] };
  await waitUntil(
    'node pod ranges',
    async (): Promise<Readiness> => {
      const nodes = await ctx.api.list('v1', 'Node');
      networks = nodeNetworks(nodes);
      if (nodes.length === 0) return { ready: false, detail: 'no nodes registered yet' };
      return networks.missing.length === 0 ? { ready: true, detail: 'ok' } : { ready: false, detail: networks.missing.join('; ') };
    },
    waitOptions(ctx, 'node pod ranges', 'cni-failed'),
  );
  const containers = nodeContainers(networks.ready, await ctx.cli.getNodes(ctx.clusterName));
  if (typeof containers === 'string') throw new KindError('cni-failed', `cannot install the plain pod network: ${containers}`);
  for (const node of networks.ready) await ctx.cli.nodeExec(containers.get(node.name)!, WRITE_CNI_COMMAND, plainCniConfig(node.podCIDR), 60_000);
  for (const route of interNodeRoutes(networks.ready)) await ctx.cli.nodeExec(containers.get(route.node)!, route.command, undefined, 60_000);
}

/** The plugin's own pods, then the nodes, then CoreDNS (which cannot start before the pod network). */
export async function waitCniReady(plan: CniPlan, ctx: CniContext): Promise<void> {
  const { api } = ctx;
  switch (plan.cni) {
    case 'calico':
      await waitUntil(
        'calico-node (DaemonSet kube-system/calico-node)',
        async () => daemonPodsReady('calico-node', await api.list('v1', 'Pod', 'kube-system', 'k8s-app=calico-node'), await api.list('v1', 'Node')),
        waitOptions(ctx, 'calico-node'),
      );
      await waitUntil(
        'calico-kube-controllers (Deployment kube-system/calico-kube-controllers)',
        async () => deploymentAvailable(await api.get('apps/v1', 'Deployment', 'kube-system', 'calico-kube-controllers'), 'calico-kube-controllers'),
        waitOptions(ctx, 'calico-kube-controllers'),
      );
      break;
    case 'kindnet':
      await waitUntil(
        'kindnet (DaemonSet kube-system/kindnet)',
        async () => daemonPodsReady('kindnet', await api.list('v1', 'Pod', 'kube-system', 'k8s-app=kindnet'), await api.list('v1', 'Node')),
        waitOptions(ctx, 'kindnet'),
      );
      break;
    case 'none':
      break;
  }
  await waitUntil('the nodes', async () => nodesReady(await api.list('v1', 'Node')), waitOptions(ctx, 'nodes'));
  await waitUntil(
    'CoreDNS (Deployment kube-system/coredns)',
    async () => deploymentAvailable(await api.get('apps/v1', 'Deployment', 'kube-system', 'coredns'), 'coredns'),
    waitOptions(ctx, 'CoreDNS'),
  );
}
