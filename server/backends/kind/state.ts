// What this server has made, on disk: one directory per cluster with an ownership record and the
// kubeconfig kind wrote, one per environment with the learner's copy. At start-up, any kind
// cluster with our name prefix that is not live in this server is a leftover of a crash and is
// deleted; a lock file keeps two servers from sharing one state directory.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CniChoice } from './config.ts';

export interface ClusterRecord {
  name: string;
  /** this server's persistent id, also set as the node label kubelab.dev/owner */
  owner: string;
  /** pid of the server that made it */
  pid: number;
  createdAt: string;
  cni: CniChoice;
}

/** Lowercase letters and digits: safe in a kind cluster name, a docker container name and a path. */
export function randomId(length = 10): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Write through a temporary name so a crash never leaves half a file under the real name. */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomId(6)}.tmp`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

export class StateDir {
  readonly clustersDir: string;
  readonly environmentsDir: string;
  readonly cacheDir: string;
  private lockPath: string;
  owner = '';

  constructor(readonly root: string) {
    this.clustersDir = join(root, 'clusters');
    this.environmentsDir = join(root, 'environments');
    this.cacheDir = join(root, 'cache');
    this.lockPath = join(root, 'server.lock');
  }

  /** Create the layout, load or mint the owner id, and take the lock. */
  async open(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await chmod(this.root, 0o700);
    for (const d of [this.clustersDir, this.environmentsDir, this.cacheDir]) await mkdir(d, { recursive: true, mode: 0o700 });
    await this.lock();
    const ownerFile = join(this.root, 'owner');
    try {
      this.owner = (await readFile(ownerFile, 'utf8')).trim();
    } catch {
      // first start
    }
    if (!/^[a-z0-9]{6,32}$/.test(this.owner)) {
      this.owner = randomId(12);
      await writeFileAtomic(ownerFile, `${this.owner}\n`, 0o600);
    }
  }

  private async lock(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(this.lockPath, 'wx', 0o600);
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number((await readFile(this.lockPath, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && pidAlive(holder)) {
        throw new Error(`another kubelab server (pid ${holder}) is using the kind state directory ${this.root}; give each server its own stateDir and namePrefix`);
      }
      await rm(this.lockPath, { force: true });
    }
    throw new Error(`could not lock ${this.lockPath}`);
  }

  async unlock(): Promise<void> {
    const holder = Number((await readFile(this.lockPath, 'utf8').catch(() => '')).trim());
    if (holder === process.pid) await rm(this.lockPath, { force: true });
  }

  clusterDir(name: string): string {
    return join(this.clustersDir, name);
  }

  /** Where kind writes the cluster's admin kubeconfig. */
  kindKubeconfigPath(name: string): string {
    return join(this.clusterDir(name), 'kind.kubeconfig');
  }

  async recordCluster(record: ClusterRecord): Promise<void> {
    await mkdir(this.clusterDir(record.name), { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.clusterDir(record.name), 'record.json'), JSON.stringify(record, null, 2) + '\n', 0o600);
  }

  async forgetCluster(name: string): Promise<void> {
    await rm(this.clusterDir(name), { recursive: true, force: true });
  }

  async recordedClusters(): Promise<ClusterRecord[]> {
    const out: ClusterRecord[] = [];
    for (const name of await readdir(this.clustersDir).catch(() => [] as string[])) {
      try {
        out.push(JSON.parse(await readFile(join(this.clustersDir, name, 'record.json'), 'utf8')) as ClusterRecord);
      } catch {
        out.push({ name, owner: '', pid: 0, createdAt: '', cni: 'calico' });
      }
    }
    return out;
  }

  environmentDir(id: string): string {
    return join(this.environmentsDir, id);
  }

  async removeEnvironment(id: string): Promise<void> {
    await rm(this.environmentDir(id), { recursive: true, force: true });
  }

  /** Environment directories left by an earlier run (their clusters are reaped separately). */
  async leftoverEnvironments(): Promise<string[]> {
    return readdir(this.environmentsDir).catch(() => [] as string[]);
  }
}
