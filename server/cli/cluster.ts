// `kubelab cluster up --kubeconfig FILE [--port N] [--id ID] [--external-hosts FILE|JSON]`: one
// embedded cluster in the foreground for your own kubectl; Ctrl-C (or SIGTERM) takes it down and
// removes what it made.
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import process from 'node:process';
import { createApiHost } from '../apiserver/index.ts';
import type { ExternalHost } from '../apiserver/runtime.ts';
import { chooseRuntime } from '../dataplane/index.ts';

const usage = `usage: kubelab cluster up --kubeconfig FILE [--port N] [--id ID] [--external-hosts FILE|JSON]

  --kubeconfig FILE      where to write the cluster's kubeconfig (removed on exit)
  --port N               HTTPS port on 127.0.0.1 (default 0: any free port)
  --id ID                cluster id, part of the server URL (default: dev)
  --external-hosts X     hosts outside the cluster that answer, as a lab's environment.externalHosts:
                         a JSON array (or {"externalHosts": [...]}) inline or in a file

KUBELAB_DATAPLANE=netns|sim|process picks the data plane.`;

class UsageError extends Error {}

interface UpArgs {
  kubeconfig: string;
  port: number;
  id: string;
  externalHosts: ExternalHost[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `--external-hosts` as inline JSON or a JSON file; errors name the bad entry's field. */
export function parseExternalHosts(value: string): ExternalHost[] {
  let text = value;
  const trimmed = value.trim();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch (err) {
      throw new UsageError(`--external-hosts: cannot read ${value}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--external-hosts: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const list = isObject(doc) ? doc.externalHosts : doc;
  if (!Array.isArray(list)) throw new UsageError('--external-hosts: must be a JSON array of hosts, or an object with an "externalHosts" array');
  return list.map((h: unknown, i): ExternalHost => {
    const at = `externalHosts[${i}]`;
    if (!isObject(h)) throw new UsageError(`--external-hosts: ${at} must be an object`);
    if (typeof h.address !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(h.address)) throw new UsageError(`--external-hosts: ${at}.address must be an IPv4 address or CIDR`);
    const names = h.names ?? [];
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new UsageError(`--external-hosts: ${at}.names must be a list of names`);
    if (!Array.isArray(h.ports)) throw new UsageError(`--external-hosts: ${at}.ports must be a list`);
    const ports = h.ports.map((p: unknown, j) => {
      const pat = `${at}.ports[${j}]`;
      if (!isObject(p) || typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new UsageError(`--external-hosts: ${pat}.port must be a port number`);
      if (p.protocol !== undefined && p.protocol !== 'TCP' && p.protocol !== 'UDP') throw new UsageError(`--external-hosts: ${pat}.protocol must be TCP or UDP`);
      if (p.kind !== undefined && p.kind !== 'http' && p.kind !== 'https' && p.kind !== 'tcp') throw new UsageError(`--external-hosts: ${pat}.kind must be http, https or tcp`);
      return { port: p.port, protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP', kind: (p.kind ?? 'tcp') as 'http' | 'https' | 'tcp' };
    });
    return { names: names as string[], address: h.address, ports, ...(typeof h.description === 'string' ? { description: h.description } : {}) };
  });
}

export function parseUpArgs(args: string[]): UpArgs {
  let kubeconfig: string | undefined;
  let port = 0;
  let id = 'dev';
  let externalHosts: ExternalHost[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (name: string) => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    if (a === '--kubeconfig' || a.startsWith('--kubeconfig=')) kubeconfig = value('--kubeconfig');
    else if (a === '--port' || a.startsWith('--port=')) {
      const v = value('--port');
      port = Number(v);
      if (!/^\d+$/.test(v) || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535, not "${v}"`);
    } else if (a === '--id' || a.startsWith('--id=')) id = value('--id');
    else if (a === '--external-hosts' || a.startsWith('--external-hosts=')) externalHosts = parseExternalHosts(value('--external-hosts'));
    else throw new UsageError(`unknown argument "${a}"`);
  }
  if (!kubeconfig) throw new UsageError('--kubeconfig FILE is required');
  return { kubeconfig: resolve(kubeconfig), port, id, externalHosts };
}

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(usage + '\n');
    return sub ? 0 : 2;
  }
  if (sub !== 'up') {
    process.stderr.write(`kubelab cluster: unknown sub-command "${sub}"\n${usage}\n`);
    return 2;
  }
  let opts: UpArgs;
  try {
    opts = parseUpArgs(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`kubelab cluster up: ${err.message}\n${usage}\n`);
      return 2;
    }
    throw err;
  }
  const runtime = await chooseRuntime();
  await runtime.reapLeftovers();
  const host = await createApiHost({ port: opts.port });
  let cluster;
  try {
    cluster = await host.createCluster({
      id: opts.id,
      runtime,
      network: { podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16', dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local', nodeName: 'kubelab-control-plane', externalHosts: opts.externalHosts },
    });
    await writeFile(opts.kubeconfig, cluster.kubeconfig(), { mode: 0o600 });
    await cluster.settle();
  } catch (err) {
    await host.close();
    throw err;
  }
  process.stdout.write(`cluster "${cluster.id}" ready at ${cluster.server} (data plane: ${runtime.reason})\n`);
  process.stdout.write(`  export KUBECONFIG=${opts.kubeconfig}\n`);
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  process.stdout.write(`${signal}: stopping cluster "${cluster.id}"\n`);
  await host.close();
  await rm(opts.kubeconfig, { force: true });
  return 0;
}
