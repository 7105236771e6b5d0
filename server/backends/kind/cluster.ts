// One learner cluster from nothing to ready, and back to nothing: `kind create cluster`, images
// preloaded, the CNI installed and waited for. A failure at any point deletes what was made (the
// kind cluster, its kubeconfig, its record) before the error goes back to the learner.
import { readFile } from 'node:fs/promises';
import type { ProvisionProgress } from '../types.ts';
import { ClusterApi } from './cluster-api.ts';
import type { CniPlan } from './cni.ts';
import { installCni, waitCniReady } from './cni.ts';
import { kindClusterConfig } from './config.ts';
import type { InotifyLimits } from './errors.ts';
import { KindError } from './errors.ts';
import type { ExternalHostsContext, InstalledExternalHosts } from './external-hosts-apply.ts';
import { removeExternalHosts } from './external-hosts-apply.ts';
import type { KindCli } from './kind-cli.ts';
import type { ResolvedKindOptions } from './options.ts';
import type { ClusterSource } from './pool.ts';
import type { Priority } from './semaphore.ts';
import type { ResetReport } from './setup.ts';
import { resetCluster } from './setup.ts';
import type { StateDir } from './state.ts';
import { randomId } from './state.ts';

export const OWNER_LABEL = 'kubelab.dev/owner';
export const CNI_LABEL = 'kubelab.dev/cni';

export interface KindCluster {
  name: string;
  /** the admin kubeconfig kind wrote */
  kubeconfig: string;
  api: ClusterApi;
  server: string;
  createdAt: number;
  /** images already imported into the nodes */
  loaded: Set<string>;
  /** the lab's external hosts put on it at hand-out, taken off at reset */
  external?: InstalledExternalHosts;
}

export type Report = (progress: ProvisionProgress) => void;

export interface KindClusterSourceDeps {
  opts: ResolvedKindOptions;
  cli: KindCli;
  state: StateDir;
  plan: () => Promise<CniPlan>;
  /** the host's inotify limits, read once at start-up */
  inotify: () => InotifyLimits | undefined;
}

const CNI_TITLE = { calico: 'Calico', kindnet: 'kindnet', none: 'a plain pod network (no NetworkPolicy enforcement)' } as const;

export class KindClusterSource implements ClusterSource<KindCluster> {
  lastReset: ResetReport | undefined;

  constructor(private readonly deps: KindClusterSourceDeps) {}

  describe(c: KindCluster): string {
    return c.name;
  }

  async build(signal: AbortSignal, _priority: Priority, report: Report = () => {}): Promise<KindCluster> {
    const { opts, cli, state } = this.deps;
    const plan = await this.deps.plan();
    const name = `${opts.namePrefix}${randomId(10)}`;
    const kubeconfigPath = state.kindKubeconfigPath(name);
    // recorded before kind runs, so a crash mid-create still leaves a trace the next start-up reaps
    await state.recordCluster({ name, owner: state.owner, pid: process.pid, createdAt: new Date(opts.clock.now()).toISOString(), cni: opts.cni });
    try {
      report({ phase: 'creating-cluster', message: 'creating node', fraction: 0.05 });
      const config = kindClusterConfig({
        cni: opts.cni,
        podSubnet: opts.podSubnet,
        workers: opts.workers,
        nodeLabels: { [OWNER_LABEL]: state.owner, [CNI_LABEL]: opts.cni },
        containerdConfigPatches: opts.containerdConfigPatches,
      });
      await cli.createCluster({ name, config, kubeconfigPath, nodeImage: opts.nodeImage, timeoutMs: opts.timeouts.createMs, signal, inotify: this.deps.inotify() });
      let kubeconfig: string;
      try {
        kubeconfig = await readFile(kubeconfigPath, 'utf8');
      } catch (err) {
        throw new KindError('create-failed', `kind created ${name} but wrote no kubeconfig at ${kubeconfigPath}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const api = new ClusterApi(kubeconfig);
      const cluster: KindCluster = { name, kubeconfig, api, server: api.server, createdAt: opts.clock.now(), loaded: new Set() };

      report({ phase: 'loading-images', message: 'loading images', fraction: 0.3 });
      await this.loadImages(cluster, [opts.netshootImage, ...(opts.preloadCniImages ? plan.images : [])], signal);

      report({ phase: 'installing-cni', message: `installing ${CNI_TITLE[plan.cni]}`, fraction: 0.45 });
      const ctx = {
        api,
        cli,
        clusterName: name,
        opts,
        signal,
        onWaiting: (what: string, detail: string) => report({ phase: 'waiting-ready', message: `waiting for ${what}: ${detail}`, fraction: 0.7 }),
      };
      await installCni(plan, ctx);
      report({ phase: 'waiting-ready', message: `waiting for ${plan.cni === 'calico' ? 'Calico, ' : ''}CoreDNS and the node to be ready`, fraction: 0.6 });
      await waitCniReady(plan, ctx);
      return cluster;
    } catch (err) {
      await this.deleteQuietly(name);
      throw err;
    }
  }

  /**
   * `kind load docker-image` for the images not yet in the nodes. An image missing on the host is
   * pulled first (when allowed); one that still cannot be had is left for the node to pull itself.
   */
  async loadImages(cluster: KindCluster, images: string[], signal?: AbortSignal): Promise<void> {
    const { opts, cli } = this.deps;
    const wanted = [...new Set(images)].filter((i) => i && !cluster.loaded.has(i));
    const present: string[] = [];
    for (const image of wanted) {
      if (await cli.imagePresent(image)) {
        present.push(image);
        continue;
      }
      if (!opts.pullMissingImages) {
        opts.log('warn', `image ${image} is not on the host; the cluster will pull it itself (pre-pull it to make clusters start faster)`);
        continue;
      }
      try {
        await cli.pullImage(image, opts.timeouts.loadImagesMs, signal);
        present.push(image);
      } catch (err) {
        if (err instanceof KindError && err.reason === 'aborted') throw err;
        opts.log('warn', `could not pull ${image}; the cluster will try itself: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (present.length === 0) return;
    await cli.loadDockerImages(cluster.name, present, opts.timeouts.loadImagesMs, signal);
    for (const i of present) cluster.loaded.add(i);
  }

  async reset(cluster: KindCluster, signal?: AbortSignal): Promise<void> {
    const { opts } = this.deps;
    this.lastReset = await resetCluster({ api: cluster.api, clock: opts.clock, pollIntervalMs: opts.pollIntervalMs, timeoutMs: opts.timeouts.readyMs, signal });
    if (cluster.external) {
      await removeExternalHosts(cluster.external, this.externalContext(cluster, signal));
      cluster.external = undefined;
    }
  }

  /** What putting a lab's external hosts on (or off) this cluster needs. */
  externalContext(cluster: KindCluster, signal?: AbortSignal, onWaiting?: (detail: string) => void): ExternalHostsContext {
    const { opts, cli } = this.deps;
    return { api: cluster.api, cli, clusterName: cluster.name, image: opts.netshootImage, clock: opts.clock, pollIntervalMs: opts.pollIntervalMs, timeoutMs: opts.timeouts.setupMs, signal, onWaiting };
  }

  async destroy(cluster: KindCluster): Promise<void> {
    await this.delete(cluster.name);
  }

  /** Delete the kind cluster, then its directory (kubeconfig and record) once kind confirms. */
  async delete(name: string): Promise<void> {
    await this.deps.cli.deleteCluster(name, this.deps.opts.timeouts.deleteMs);
    await this.deps.state.forgetCluster(name);
  }

  private async deleteQuietly(name: string): Promise<void> {
    try {
      await this.delete(name);
    } catch (err) {
      // the record stays, so the next start-up tries again
      this.deps.opts.log('error', `could not delete the half-made cluster ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
