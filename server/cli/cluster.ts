// `kubelab cluster up --kubeconfig FILE [--port N] [--id ID]`: one embedded cluster in the
// foreground for your own kubectl; Ctrl-C (or SIGTERM) takes it down and removes what it made.
import { rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import process from 'node:process';
import { createApiHost } from '../apiserver/index.ts';
import { chooseRuntime } from '../dataplane/index.ts';

const usage = `usage: kubelab cluster up --kubeconfig FILE [--port N] [--id ID]

  --kubeconfig FILE  where to write the cluster's kubeconfig (removed on exit)
  --port N           HTTPS port on 127.0.0.1 (default 0: any free port)
  --id ID            cluster id, part of the server URL (default: dev)

KUBELAB_DATAPLANE=netns|sim|process picks the data plane.`;

class UsageError extends Error {}

interface UpArgs {
  kubeconfig: string;
  port: number;
  id: string;
}

export function parseUpArgs(args: string[]): UpArgs {
  let kubeconfig: string | undefined;
  let port = 0;
  let id = 'dev';
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
    else throw new UsageError(`unknown argument "${a}"`);
  }
  if (!kubeconfig) throw new UsageError('--kubeconfig FILE is required');
  return { kubeconfig: resolve(kubeconfig), port, id };
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
      network: { podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16', dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local', nodeName: 'kubelab-control-plane', externalHosts: [] },
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
