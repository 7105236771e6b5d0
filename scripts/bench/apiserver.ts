// Embedded API server benchmarks:
//  - `kubectl get pods -n bench` wall time against the embedded API, relative to a static stub that
//    answers the same requests with canned bodies (so the ratio is the API server's own cost);
//  - memory per idle cluster, with 200 clusters in one process (measured in a child process that
//    can force garbage collection).
// Runnable alone: `node --import tsx scripts/bench/apiserver.ts`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiHost, type EmbeddedCluster } from '../../server/apiserver/index.ts';
import { createServingCertificate } from '../../server/apiserver/certificate.ts';
import type { PodRuntime } from '../../server/apiserver/runtime.ts';
import { summarize, type BenchResult } from './types.ts';

const NETWORK = { podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16', dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local', nodeName: 'kubelab-control-plane', externalHosts: [] };
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

/** The sim data plane: a real runtime (exec, DNS, policy decisions) that needs no privileges, so 200 clusters cost no kernel objects. */
async function benchRuntime(): Promise<{ runtime: PodRuntime; name: string }> {
  const { createSimRuntime } = await import('../../server/dataplane/index.ts');
  return { runtime: createSimRuntime(), name: 'sim' };
}

function timeKubectl(env: Record<string, string>, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn('kubectl', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr}`));
      else resolve(Number(process.hrtime.bigint() - start) / 1e6);
    });
  });
}

/** Fetch what kubectl fetches for `get pods`, from the embedded cluster, to replay from the stub. */
async function capture(cluster: EmbeddedCluster, paths: Array<[string, string]>): Promise<Map<string, { body: string; contentType: string }>> {
  const out = new Map<string, { body: string; contentType: string }>();
  const { request } = await import('node:https');
  const ca = cluster.kubeconfig().match(/certificate-authority-data: (\S+)/)?.[1] ?? '';
  for (const [path, accept] of paths) {
    const body = await new Promise<{ body: string; contentType: string }>((resolve, reject) => {
      const req = request(`${cluster.server}${path}`, { headers: { Authorization: `Bearer ${cluster.token}`, Accept: accept }, ca: Buffer.from(ca, 'base64') }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ body: text, contentType: String(res.headers['content-type'] ?? 'application/json') }));
      });
      req.on('error', reject);
      req.end();
    });
    out.set(`${path.split('?')[0]}|${accept.includes('as=Table') ? 'table' : accept.includes('apidiscovery') ? 'aggregated' : 'json'}`, body);
  }
  return out;
}

export async function benchGetPods(): Promise<BenchResult[]> {
  if (spawnSync('sh', ['-c', 'command -v kubectl']).status !== 0) return [];
  const cert = await createServingCertificate();
  const { runtime } = await benchRuntime();
  const host = await createApiHost({ port: 0, certificate: cert });
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-bench-'));
  try {
    const cluster = await host.createCluster({ id: 'bench', runtime, network: NETWORK });
    const { CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromString(cluster.kubeconfig());
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'bench' } } });
    for (let i = 0; i < 12; i++) {
      await core.createNamespacedPod({ namespace: 'bench', body: { metadata: { name: `pod-${i}`, labels: { app: `a${i % 3}` } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } });
    }
    await cluster.settle();

    // the stub serves the very bytes the embedded API served, from memory, with no logic
    const canned = await capture(cluster, [
      ['/version', 'application/json'],
      ['/api', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json'],
      ['/apis', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json'],
      ['/api/v1/namespaces/bench/pods?limit=500', TABLE_ACCEPT],
    ]);
    const stub = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      const path = (req.url ?? '/').replace(/^\/clusters\/stub/, '').split('?')[0];
      const accept = String(req.headers.accept ?? '');
      const kind = accept.includes('as=Table') ? 'table' : accept.includes('apidiscovery') ? 'aggregated' : 'json';
      const hit = canned.get(`${path}|${kind}`) ?? canned.get(`${path}|json`);
      if (!hit) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"NotFound","code":404}');
        return;
      }
      res.writeHead(200, { 'Content-Type': hit.contentType });
      res.end(hit.body);
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    const stubPort = (stub.address() as AddressInfo).port;
    const embeddedConfig = join(dir, 'embedded.kubeconfig');
    const stubConfig = join(dir, 'stub.kubeconfig');
    writeFileSync(embeddedConfig, cluster.kubeconfig());
    writeFileSync(stubConfig, cluster.kubeconfig().replace(cluster.server, `https://127.0.0.1:${stubPort}/clusters/stub`));
    const env = (config: string, cache: string) => ({ PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: config, KUBECACHEDIR: join(dir, cache) });
    const args = ['get', 'pods', '-n', 'bench'];
    // warm both discovery caches, then alternate so machine noise hits both alike
    for (let i = 0; i < 2; i++) {
      await timeKubectl(env(embeddedConfig, 'cache-e'), args);
      await timeKubectl(env(stubConfig, 'cache-s'), args);
    }
    const embedded: number[] = [];
    const stubbed: number[] = [];
    for (let i = 0; i < 20; i++) {
      embedded.push(await timeKubectl(env(embeddedConfig, 'cache-e'), args));
      stubbed.push(await timeKubectl(env(stubConfig, 'cache-s'), args));
    }
    stub.close();
    const e = summarize(embedded);
    const s = summarize(stubbed);
    return [
      { name: 'kubectl get pods (embedded) median', value: e.median, unit: 'ms', samples: embedded },
      { name: 'kubectl get pods (embedded) p95', value: e.p95, unit: 'ms' },
      { name: 'kubectl get pods (static stub) median', value: s.median, unit: 'ms', samples: stubbed },
      { name: 'kubectl get pods (static stub) p95', value: s.p95, unit: 'ms' },
      { name: 'kubectl get pods embedded/stub median ratio', value: e.median / s.median, unit: 'x', goal: '≤ 1.2' },
      { name: 'kubectl get pods embedded/stub p95 ratio', value: e.p95 / s.p95, unit: 'x', goal: '≤ 1.2' },
    ];
  } finally {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** In a child with --expose-gc: memory of N idle clusters. Prints one JSON line. */
async function memoryChild(count: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const settleGc = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const { runtime, name } = await benchRuntime();
  const host = await createApiHost({ port: 0 });
  // one cluster first, so code, schemas and shared documents are loaded before measuring
  const first = await host.createCluster({ id: 'warm', runtime, network: NETWORK });
  await first.settle();
  await settleGc();
  const before = process.memoryUsage();
  const clusters: EmbeddedCluster[] = [];
  for (let i = 0; i < count; i++) {
    const c = await host.createCluster({ id: `m${i}`, runtime, network: NETWORK });
    await c.settle();
    clusters.push(c);
  }
  await settleGc();
  const after = process.memoryUsage();
  const perCluster = (k: 'heapUsed' | 'rss' | 'external') => (after[k] - before[k]) / count / 2 ** 20;
  process.stdout.write(JSON.stringify({ runtime: name, heap: perCluster('heapUsed'), external: perCluster('external'), rss: perCluster('rss'), count }) + '\n');
  await host.close();
}

async function benchMemory(count: number): Promise<BenchResult[]> {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--memory-child', String(count)], { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)), maxBuffer: 1 << 20 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`memory benchmark failed: ${r.stderr}`);
  const m = JSON.parse(line) as { runtime: string; heap: number; external: number; rss: number; count: number };
  return [
    { name: `idle cluster memory, JS heap + external (${m.count} clusters, ${m.runtime} runtime)`, value: m.heap + m.external, unit: 'MiB/cluster', goal: '≤ 5' },
    { name: `idle cluster memory, RSS (${m.count} clusters, ${m.runtime} runtime)`, value: m.rss, unit: 'MiB/cluster', goal: '≤ 5' },
  ];
}

export async function benchApiserver(): Promise<BenchResult[]> {
  return [...(await benchGetPods()), ...(await benchMemory(200))];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--memory-child');
  if (i >= 0) {
    await memoryChild(Number(process.argv[i + 1] ?? 200));
  } else {
    for (const r of await benchApiserver()) process.stdout.write(`${r.name.padEnd(72)} ${r.value.toFixed(3).padStart(10)} ${r.unit}${r.goal ? `  (goal ${r.goal})` : ''}\n`);
  }
}
