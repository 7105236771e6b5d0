// Why a kind environment could not be made, as a closed set, with a message an instructor can act
// on. kind reports almost everything as "ERROR: failed to create cluster: ..." on stderr; the text
// after that is what tells a full inotify table from a stopped Docker daemon.

export type KindFailure =
  /** the Docker daemon does not answer (`docker info` fails) */
  | 'docker-unavailable'
  /** the kind (or docker) executable is not installed */
  | 'kind-missing'
  /** the host ran out of inotify watches/instances: the node container never boots */
  | 'inotify-limit'
  /** `kind create cluster` failed for another reason */
  | 'create-failed'
  /** the CNI manifest could not be read or applied */
  | 'cni-failed'
  /** a component did not become ready in time */
  | 'not-ready'
  /** the lab's setup could not be applied or its pods did not become ready */
  | 'setup-failed'
  /** a kind command other than create failed */
  | 'command-failed'
  /** the caller gave up (AbortSignal) */
  | 'aborted'
  /** the backend is closed */
  | 'closed';

export class KindError extends Error {
  override readonly name = 'KindError';
  constructor(
    readonly reason: KindFailure,
    message: string,
    /** what the tool printed, for the server log (never shown to learners) */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Recommended by kind's "known issues" page for hosts running several clusters. */
export const INOTIFY_RECOMMENDED = { maxUserWatches: 524288, maxUserInstances: 512 } as const;

export const INOTIFY_FIX =
  `sysctl -w fs.inotify.max_user_watches=${INOTIFY_RECOMMENDED.maxUserWatches} fs.inotify.max_user_instances=${INOTIFY_RECOMMENDED.maxUserInstances} ` +
  `(and put both lines in /etc/sysctl.d/99-kubelab.conf to keep them after a reboot)`;

export interface InotifyLimits {
  maxUserWatches: number;
  maxUserInstances: number;
}

/** The limits that are below what kind needs, as `name=value` strings; empty when both are fine. */
export function lowInotifyLimits(limits: InotifyLimits | undefined): string[] {
  if (!limits) return [];
  const low: string[] = [];
  if (limits.maxUserWatches < INOTIFY_RECOMMENDED.maxUserWatches) low.push(`fs.inotify.max_user_watches=${limits.maxUserWatches}`);
  if (limits.maxUserInstances < INOTIFY_RECOMMENDED.maxUserInstances) low.push(`fs.inotify.max_user_instances=${limits.maxUserInstances}`);
  return low;
}

const DOCKER_DOWN = /Cannot connect to the Docker daemon|Is the docker daemon running|docker\.sock: connect: (?:no such file|permission denied|connection refused)|error during connect/i;
const TOO_MANY_FILES = /too many open files|inotify|fsnotify watcher/i;
const NODE_NEVER_BOOTED = /could not find a log line that matches/i;

/** The useful lines of kind's stderr: the ERROR line and what follows, without the progress spinner. */
export function kindErrorSummary(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim())
    .filter((l) => l.length > 0);
  const start = lines.findIndex((l) => l.startsWith('ERROR:'));
  const picked = start >= 0 ? lines.slice(start) : lines.slice(-3);
  return picked.slice(0, 4).join(' ').slice(0, 600);
}

/**
 * Turn a failed `kind create cluster` into a KindError. `limits` are the host's inotify limits when
 * known: kind's "could not find a log line" means the node's systemd never started, which on a
 * host with low inotify limits is almost always those limits (and otherwise usually memory).
 */
export function classifyCreateFailure(stderr: string, limits?: InotifyLimits): KindError {
  const summary = kindErrorSummary(stderr);
  if (DOCKER_DOWN.test(stderr)) {
    return new KindError('docker-unavailable', `Docker is not running: ${summary}. Start the Docker daemon (systemctl start docker) and try again.`, stderr);
  }
  const low = lowInotifyLimits(limits);
  if (TOO_MANY_FILES.test(stderr) || (NODE_NEVER_BOOTED.test(stderr) && low.length > 0)) {
    const now = low.length > 0 ? ` The host has ${low.join(', ')}.` : '';
    return new KindError(
      'inotify-limit',
      `kind could not start the cluster's node because the host is out of inotify watches or instances (${summary}).${now} Fix: ${INOTIFY_FIX}.`,
      stderr,
    );
  }
  if (NODE_NEVER_BOOTED.test(stderr)) {
    return new KindError(
      'create-failed',
      `kind could not start the cluster's node (${summary}). This is usually the host's inotify limits (fix: ${INOTIFY_FIX}) or too little free memory (about 1.5 GiB per cluster).`,
      stderr,
    );
  }
  return new KindError('create-failed', `kind could not create the cluster: ${summary || 'no output'}`, stderr);
}

/** A failed kind/docker command other than create. */
export function classifyCommandFailure(what: string, stderr: string): KindError {
  const summary = kindErrorSummary(stderr);
  if (DOCKER_DOWN.test(stderr)) {
    return new KindError('docker-unavailable', `Docker is not running: ${summary}. Start the Docker daemon (systemctl start docker) and try again.`, stderr);
  }
  return new KindError('command-failed', `${what} failed: ${summary || 'no output'}`, stderr);
}

export function abortedError(signal: AbortSignal | undefined, what: string): KindError {
  const why = signal?.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new KindError('aborted', `${what} was cancelled${why}`);
}
