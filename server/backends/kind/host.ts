// What the Docker host can take, checked before the first cluster: the daemon answers, kind is
// installed, and the inotify limits are high enough for several kind nodes (each node runs
// systemd, kubelet and containerd, which all watch files; the limits are per user and host-wide).
import { readFile } from 'node:fs/promises';
import type { InotifyLimits } from './errors.ts';
import { INOTIFY_FIX, lowInotifyLimits } from './errors.ts';
import type { KindCli } from './kind-cli.ts';

/** `sysctl fs.inotify.max_user_watches fs.inotify.max_user_instances`, read from /proc. */
export async function readInotifyLimits(procRoot = '/proc'): Promise<InotifyLimits | undefined> {
  try {
    const [watches, instances] = await Promise.all([
      readFile(`${procRoot}/sys/fs/inotify/max_user_watches`, 'utf8'),
      readFile(`${procRoot}/sys/fs/inotify/max_user_instances`, 'utf8'),
    ]);
    const maxUserWatches = Number(watches.trim());
    const maxUserInstances = Number(instances.trim());
    if (!Number.isFinite(maxUserWatches) || !Number.isFinite(maxUserInstances)) return undefined;
    return { maxUserWatches, maxUserInstances };
  } catch {
    return undefined;
  }
}

export interface HostReport {
  kindVersion: string;
  inotify: InotifyLimits | undefined;
  /** things that work but will hurt a class (low limits) */
  warnings: string[];
}

/** Throws a KindError (`docker-unavailable`, `kind-missing`) when clusters cannot be made at all. */
export async function checkHost(cli: KindCli, procRoot?: string): Promise<HostReport> {
  const kindVersion = await cli.version();
  await cli.dockerInfo();
  const inotify = await readInotifyLimits(procRoot);
  const warnings: string[] = [];
  const low = lowInotifyLimits(inotify);
  if (low.length > 0) {
    warnings.push(`inotify limits are low for several kind clusters (${low.join(', ')}); clusters past the first few will fail to boot. Fix: ${INOTIFY_FIX}`);
  }
  return { kindVersion, inotify, warnings };
}
