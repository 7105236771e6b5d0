// Names of everything the netns plane creates, and who owns it. Each attached cluster claims a
// short tag (4 base-36 characters) by creating its owner directory exclusively, so tags are unique
// across every process on the machine, and a reaper can tell a live server's namespaces (owner
// process alive) from a crashed one's. Interface names must fit 15 characters; they only exist
// inside the cluster's own namespaces, so they carry "kl" + the tag instead of the full prefix.
import { mkdirSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';

export const NETNS_DIR = '/run/netns';
export const PREFIX = 'kubelab-';
/** namespaces this code creates: kubelab-<tag>-node | -ext | -p<index> */
export const NAMESPACE_PATTERN = /^kubelab-([a-z0-9]{4})-(node|ext|p[a-z0-9]{1,8})$/;
/** the node-side address of every pod's gateway and the node-to-external link */
export const POD_GATEWAY = '169.254.1.1';
export const NODE_EXT_ADDRESS = '169.254.2.1';
export const EXT_ADDRESS = '169.254.2.2';

export function runDir(): string {
  return process.env.KUBELAB_RUN_DIR ?? '/run/kubelab';
}

export function ownersDir(): string {
  return join(runDir(), 'dataplane');
}

export class ClusterNames {
  constructor(readonly tag: string) {}
  get node(): string {
    return `${PREFIX}${this.tag}-node`;
  }
  get ext(): string {
    return `${PREFIX}${this.tag}-ext`;
  }
  pod(index: number): string {
    return `${PREFIX}${this.tag}-p${index.toString(36)}`;
  }
  /** node-side end of a pod's veth */
  podLink(index: number): string {
    return `kl${this.tag}p${index.toString(36)}`;
  }
  /** node-side end of the link to the external-hosts namespace */
  get extLink(): string {
    return `kl${this.tag}x`;
  }
  /** cgroup directory name (under the server's own cgroup in each controller) */
  get cgroup(): string {
    return `${PREFIX}${this.tag}`;
  }
  get stateDir(): string {
    return join(ownersDir(), this.tag);
  }
}

export function nsPath(name: string): string {
  return join(NETNS_DIR, name);
}

export interface OwnerRecord {
  pid: number;
  /** /proc/<pid>/stat start time, so a reused pid is not mistaken for the owner */
  startTime: string;
  clusterId: string;
}

export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export function ownerAlive(record: OwnerRecord): boolean {
  return processStartTime(record.pid) === record.startTime;
}

export function readOwner(tag: string): OwnerRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(ownersDir(), tag, 'owner.json'), 'utf8')) as OwnerRecord;
  } catch {
    return undefined;
  }
}

/** Claim a fresh tag for a cluster: its state directory exists and names this process as owner. */
export function claimTag(clusterId: string): ClusterNames {
  mkdirSync(ownersDir(), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 100; attempt++) {
    const tag = randomInt(36 ** 4).toString(36).padStart(4, '0');
    const dir = join(ownersDir(), tag);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    const record: OwnerRecord = { pid: process.pid, startTime: processStartTime(process.pid) ?? '', clusterId };
    writeFileSync(join(dir, 'owner.json'), JSON.stringify(record));
    return new ClusterNames(tag);
  }
  throw new Error(`could not claim a cluster tag under ${ownersDir()}`);
}

export function releaseTag(names: ClusterNames): void {
  rmSync(names.stateDir, { recursive: true, force: true });
}

export function ownedTags(): string[] {
  try {
    return readdirSync(ownersDir()).filter((t) => /^[a-z0-9]{4}$/.test(t));
  } catch {
    return [];
  }
}

export function listNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}
