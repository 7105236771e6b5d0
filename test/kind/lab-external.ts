// The Network Policies lab's external hosts and the checks that probe them, read from lab.yaml,
// for the kind tests that require those checks to run and pass.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { blockContains, parseBlock } from '../../server/dataplane/ipv4.ts';

const labFile = fileURLToPath(new URL('../../labs/network-policies/lab.yaml', import.meta.url));

export interface LabHost {
  address: string;
  names?: string[];
  ports: unknown[];
}

interface LabFile {
  environment?: { externalHosts?: LabHost[] };
  steps?: Array<{ checks?: Array<{ id: string; to?: { ip?: string; host?: string } }> }>;
}

function lab(): LabFile {
  return parse(readFileSync(labFile, 'utf8')) as LabFile;
}

export function labExternalHosts(): LabHost[] {
  return lab().environment?.externalHosts ?? [];
}

/** Ids of the lab's probe checks whose target is one of its external addresses or names. */
export function externalCheckIds(): string[] {
  const hosts = labExternalHosts();
  const blocks = hosts.map((h) => parseBlock(h.address));
  const names = new Set(hosts.flatMap((h) => h.names ?? []));
  return (lab().steps ?? [])
    .flatMap((s) => s.checks ?? [])
    .filter((c) => (c.to?.ip && blocks.some((b) => blockContains(b, c.to!.ip!))) || (c.to?.host && names.has(c.to.host)))
    .map((c) => c.id);
}
