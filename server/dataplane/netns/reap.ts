// Removes what a crashed server left behind: namespaces, cgroups (and the processes in them) and
// state directories of cluster tags whose owner process is gone. A tag whose owner is alive is
// never touched, so a test run cannot tear down a running server's clusters.
import { statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterNames, NAMESPACE_PATTERN, listNamespaces, ownedTags, ownerAlive, ownersDir, readOwner } from './names.ts';
import { deleteNamespaces } from './host.ts';
import { ClusterCgroups, destroyCgroupDirs } from './cgroups.ts';

/** A tag directory younger than this without an owner record may be a claim in progress. */
const CLAIM_GRACE_MS = 60_000;

function tagIsLive(tag: string): boolean {
  const owner = readOwner(tag);
  if (owner) return ownerAlive(owner);
  try {
    return Date.now() - statSync(join(ownersDir(), tag)).mtimeMs < CLAIM_GRACE_MS;
  } catch {
    return false;
  }
}

export interface ReapReport {
  tags: string[];
  namespaces: string[];
}

export async function reapLeftovers(): Promise<ReapReport> {
  const namespaces = listNamespaces();
  const byTag = new Map<string, string[]>();
  for (const ns of namespaces) {
    const m = NAMESPACE_PATTERN.exec(ns);
    if (!m) continue;
    byTag.set(m[1], [...(byTag.get(m[1]) ?? []), ns]);
  }
  const tags = new Set([...ownedTags(), ...byTag.keys()]);
  const report: ReapReport = { tags: [], namespaces: [] };
  for (const tag of tags) {
    if (tagIsLive(tag)) continue;
    const names = new ClusterNames(tag);
    await destroyCgroupDirs(ClusterCgroups.candidates(names.cgroup));
    const victims = byTag.get(tag) ?? [];
    if (victims.length) await deleteNamespaces(victims);
    rmSync(names.stateDir, { recursive: true, force: true });
    report.tags.push(tag);
    report.namespaces.push(...victims);
  }
  return report;
}
