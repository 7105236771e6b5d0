// What an operator can set for the kind backend, the defaults, and the checks that turn a bad
// setting into an error naming the field before any cluster is made.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import type { CniChoice } from './config.ts';
import { CNI_CHOICES, checkPodSubnet } from './config.ts';
import { CALICO_MANIFEST_URL, CALICO_POD_SUBNET, KINDNET_POD_SUBNET, NETSHOOT_IMAGE, NODE_IMAGE } from './pins.ts';

export interface KindTimeouts {
  /** `kind create cluster` (node boot + kubeadm) */
  createMs: number;
  /** each readiness wait: calico-node, calico-kube-controllers, CoreDNS, nodes */
  readyMs: number;
  /** the lab's setup pods becoming Ready */
  setupMs: number;
  /** `kind load docker-image` for one batch of images */
  loadImagesMs: number;
  /** `kind delete cluster` */
  deleteMs: number;
}

export interface KindBackendOptions {
  /** where kubeconfigs and the ownership records live (default ~/.kubelab/kind) */
  stateDir?: string;
  /** the kind executable (default `kind` on PATH, or $KUBELAB_KIND) */
  kindBinary?: string;
  /** the docker executable (default `docker` on PATH, or $KUBELAB_DOCKER) */
  dockerBinary?: string;
  /** environment for kind/docker commands (default: this process's) */
  commandEnv?: NodeJS.ProcessEnv;
  /** cluster names are `<namePrefix><id>`; leftovers with this prefix are deleted at start-up */
  namePrefix?: string;
  /** `--image` for kind; pinned by digest */
  nodeImage?: string;
  /** extra worker nodes (default 0: one node does everything, about half the memory) */
  workers?: number;
  cni?: CniChoice;
  /** default 192.168.0.0/16 for Calico, 10.244.0.0/16 otherwise */
  podSubnet?: string;
  /** Calico manifest: an https URL or a local file (an offline mirror); default the pinned calico.yaml */
  calicoManifest?: string;
  /** also `kind load` the images the CNI manifest names (they must be pulled on the host) */
  preloadCniImages?: boolean;
  /** the prober image the grader uses, preloaded into every cluster */
  netshootImage?: string;
  /** `docker pull` an image that is missing on the host before loading it (default true) */
  pullMissingImages?: boolean;
  /** containerd TOML patches for every node (a registry mirror) */
  containerdConfigPatches?: string[];
  /** clusters kept ready for the next learners (default 0) */
  poolSize?: number;
  /** clusters being created at once, pool refills included (default 2) */
  maxConcurrentCreates?: number;
  /**
   * When a learner's environment is disposed, reset its cluster and put it back in the pool
   * instead of deleting it. Faster, but the previous learner keeps a working kubeconfig for it and
   * cluster-scoped changes they made survive; use only where learners trust each other.
   */
  reuseClusters?: boolean;
  /** environments older than this are disposed by the reaper (default 8 h; 0 = never) */
  ttlMs?: number;
  /** how often the reaper looks (default 60 s) */
  reapIntervalMs?: number;
  /** readiness polling interval (default 1 s) */
  pollIntervalMs?: number;
  timeouts?: Partial<KindTimeouts>;
  /** check Docker, kind and inotify limits when the backend starts (default true) */
  preflight?: boolean;
  /** delete `<namePrefix>*` clusters this server does not own when it starts (default true) */
  reapLeftovers?: boolean;
  /** told when the TTL reaper disposes an environment */
  onExpired?: (environmentId: string) => void;
  /** log lines for the server log */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  clock?: Clock;
}

export interface ResolvedKindOptions {
  stateDir: string;
  kindBinary: string;
  dockerBinary: string;
  commandEnv: NodeJS.ProcessEnv;
  namePrefix: string;
  nodeImage: string;
  workers: number;
  cni: CniChoice;
  podSubnet: string;
  calicoManifest: string;
  preloadCniImages: boolean;
  netshootImage: string;
  pullMissingImages: boolean;
  containerdConfigPatches: string[];
  poolSize: number;
  maxConcurrentCreates: number;
  reuseClusters: boolean;
  ttlMs: number;
  reapIntervalMs: number;
  pollIntervalMs: number;
  timeouts: KindTimeouts;
  preflight: boolean;
  reapLeftovers: boolean;
  onExpired: (environmentId: string) => void;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  clock: Clock;
}

export const DEFAULT_TIMEOUTS: KindTimeouts = {
  createMs: 5 * 60_000,
  readyMs: 5 * 60_000,
  setupMs: 3 * 60_000,
  loadImagesMs: 5 * 60_000,
  deleteMs: 2 * 60_000,
};

export class KindOptionsError extends Error {
  override readonly name = 'KindOptionsError';
  constructor(readonly problems: string[]) {
    super(`invalid kind backend options:\n  ${problems.join('\n  ')}`);
  }
}

const NAME_PREFIX = /^[a-z][a-z0-9-]{0,19}$/;

function wholeNumber(problems: string[], field: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${field}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return fallback;
  }
  return value;
}

/**
 * Settings an operator can give through the environment, for commands that construct the backend
 * with no options (`kubelab test --backend kind`, `kubelab serve --backend kind`). Options passed
 * in code win over these.
 */
export const ENVIRONMENT_SETTINGS = {
  stateDir: 'KUBELAB_KIND_STATE_DIR',
  kindBinary: 'KUBELAB_KIND',
  dockerBinary: 'KUBELAB_DOCKER',
  cni: 'KUBELAB_KIND_CNI',
  calicoManifest: 'KUBELAB_KIND_CALICO_MANIFEST',
  nodeImage: 'KUBELAB_KIND_NODE_IMAGE',
  workers: 'KUBELAB_KIND_WORKERS',
  poolSize: 'KUBELAB_KIND_POOL_SIZE',
  maxConcurrentCreates: 'KUBELAB_KIND_MAX_CREATES',
} as const;

function envNumber(problems: string[], env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) {
    problems.push(`${name}: must be a whole number, got ${JSON.stringify(raw)}`);
    return undefined;
  }
  return Number(raw);
}

/** Fill in defaults and check every field; throws KindOptionsError listing every problem. */
export function resolveKindOptions(given: KindBackendOptions = {}): ResolvedKindOptions {
  const problems: string[] = [];
  const env = given.commandEnv ?? process.env;
  const E = ENVIRONMENT_SETTINGS;
  const opts: KindBackendOptions = {
    ...given,
    stateDir: given.stateDir ?? (env[E.stateDir] || undefined),
    cni: given.cni ?? ((env[E.cni] || undefined) as CniChoice | undefined),
    calicoManifest: given.calicoManifest ?? (env[E.calicoManifest] || undefined),
    nodeImage: given.nodeImage ?? (env[E.nodeImage] || undefined),
    workers: given.workers ?? envNumber(problems, env, E.workers),
    poolSize: given.poolSize ?? envNumber(problems, env, E.poolSize),
    maxConcurrentCreates: given.maxConcurrentCreates ?? envNumber(problems, env, E.maxConcurrentCreates),
  };
  const cni = opts.cni ?? 'calico';
  if (!CNI_CHOICES.includes(cni)) problems.push(`cni${given.cni === undefined ? ` (${E.cni})` : ''}: must be one of ${CNI_CHOICES.join(', ')}, got ${JSON.stringify(cni)}`);
  const podSubnet = opts.podSubnet ?? (cni === 'calico' ? CALICO_POD_SUBNET : KINDNET_POD_SUBNET);
  problems.push(...checkPodSubnet('podSubnet', podSubnet));
  const namePrefix = opts.namePrefix ?? 'kubelab-';
  if (!NAME_PREFIX.test(namePrefix)) problems.push(`namePrefix: must start with a lowercase letter and hold only a-z, 0-9 and "-" (at most 20), got ${JSON.stringify(namePrefix)}`);
  const nodeImage = opts.nodeImage ?? NODE_IMAGE;
  if (!nodeImage || /\s/.test(nodeImage) || nodeImage.startsWith('-')) problems.push(`nodeImage: not an image reference: ${JSON.stringify(nodeImage)}`);
  const netshootImage = opts.netshootImage ?? NETSHOOT_IMAGE;
  if (!netshootImage || /\s/.test(netshootImage) || netshootImage.startsWith('-')) problems.push(`netshootImage: not an image reference: ${JSON.stringify(netshootImage)}`);
  else if (!/:[^/]+$/.test(netshootImage.split('@')[0]!) || netshootImage.endsWith(':latest'))
    problems.push(`netshootImage: ${JSON.stringify(netshootImage)} needs a fixed tag (an untagged or :latest image is always pulled, so preloading it does nothing)`);
  const calicoManifest = opts.calicoManifest ?? CALICO_MANIFEST_URL;
  if (!/^https?:\/\//.test(calicoManifest) && calicoManifest.trim() === '') problems.push('calicoManifest: must be an http(s) URL or a file path');
  const patches = opts.containerdConfigPatches ?? [];
  if (!Array.isArray(patches) || patches.some((p) => typeof p !== 'string')) problems.push('containerdConfigPatches: must be a list of TOML strings');
  const workers = wholeNumber(problems, 'workers', opts.workers, 0, 0, 4);
  const poolSize = wholeNumber(problems, 'poolSize', opts.poolSize, 0, 0, 100);
  const maxConcurrentCreates = wholeNumber(problems, 'maxConcurrentCreates', opts.maxConcurrentCreates, 2, 1, 32);
  const ttlMs = wholeNumber(problems, 'ttlMs', opts.ttlMs, 8 * 3600_000, 0, 7 * 24 * 3600_000);
  const reapIntervalMs = wholeNumber(problems, 'reapIntervalMs', opts.reapIntervalMs, 60_000, 10, 3600_000);
  const pollIntervalMs = wholeNumber(problems, 'pollIntervalMs', opts.pollIntervalMs, 1000, 1, 60_000);
  const timeouts: KindTimeouts = { ...DEFAULT_TIMEOUTS };
  for (const key of Object.keys(opts.timeouts ?? {}) as Array<keyof KindTimeouts>) {
    if (!(key in DEFAULT_TIMEOUTS)) {
      problems.push(`timeouts.${key}: unknown timeout (known: ${Object.keys(DEFAULT_TIMEOUTS).join(', ')})`);
      continue;
    }
    timeouts[key] = wholeNumber(problems, `timeouts.${key}`, opts.timeouts?.[key], DEFAULT_TIMEOUTS[key], 1, 3600_000);
  }
  if (problems.length > 0) throw new KindOptionsError(problems);
  const log = opts.log ?? ((level, message) => process.stderr.write(`kind backend ${level}: ${message}\n`));
  return {
    stateDir: resolve(opts.stateDir ?? join(homedir(), '.kubelab', 'kind')),
    kindBinary: opts.kindBinary ?? (env[E.kindBinary] || 'kind'),
    dockerBinary: opts.dockerBinary ?? (env[E.dockerBinary] || 'docker'),
    commandEnv: env,
    namePrefix,
    nodeImage,
    workers,
    cni,
    podSubnet,
    calicoManifest,
    preloadCniImages: opts.preloadCniImages ?? true,
    netshootImage,
    pullMissingImages: opts.pullMissingImages ?? true,
    containerdConfigPatches: [...patches],
    poolSize,
    maxConcurrentCreates,
    reuseClusters: opts.reuseClusters ?? false,
    ttlMs,
    reapIntervalMs,
    pollIntervalMs,
    timeouts,
    preflight: opts.preflight ?? true,
    reapLeftovers: opts.reapLeftovers ?? true,
    onExpired: opts.onExpired ?? (() => {}),
    log,
    clock: opts.clock ?? systemClock,
  };
}
