// Data-plane figures: a 12-pod lab cluster coming up, a policy change reaching the packets
// (measured by probing, not by trusting the code path), memory per pod, and 200 clusters on one
// machine. Runs the netns plane where this host allows it, else only what sim can show.
// Run alone: `node --import tsx scripts/bench/dataplane.ts`.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { summarize, type BenchResult } from './types.ts';
import { MemoryCluster, NETWORK } from '../../test/dataplane/memory-cluster.ts';
import { netnsUnavailable, createSimRuntime } from '../../server/dataplane/index.ts';
import { createNetnsRuntime } from '../../server/dataplane/netns/runtime.ts';
import { loadNetnsAddon } from '../../server/dataplane/native.ts';
import { listNamespaces } from '../../server/dataplane/netns/names.ts';
import type { PodRuntime } from '../../server/apiserver/runtime.ts';

const LAB_PODS: Array<[string, string, Record<string, string>, Array<Record<string, unknown>>]> = [
  ['payments', 'payment-api-0', { app: 'payment-api' }, [{ containerPort: 8080, name: 'http' }, { containerPort: 9090, name: 'metrics' }]],
  ['payments', 'payment-api-1', { app: 'payment-api' }, [{ containerPort: 8080, name: 'http' }, { containerPort: 9090, name: 'metrics' }]],
  ['payments', 'postgres-0', { app: 'postgres' }, [{ containerPort: 5432 }]],
  ['payments', 'fraud-svc-0', { app: 'fraud-svc' }, [{ containerPort: 8080 }]],
  ['production', 'checkout-api-0', { app: 'checkout-api' }, [{ containerPort: 8080 }]],
  ['production', 'checkout-api-1', { app: 'checkout-api' }, [{ containerPort: 8080 }]],
  ['production', 'frontend-0', { app: 'frontend' }, [{ containerPort: 8080 }]],
  ['production', 'order-svc-0', { app: 'order-svc' }, [{ containerPort: 8080 }]],
  ['monitoring', 'prometheus-0', { app: 'prometheus' }, [{ containerPort: 9090 }]],
  ['default', 'netshoot', { app: 'netshoot' }, []],
  ['payments', 'echo-0', { app: 'echo' }, [{ containerPort: 5353, protocol: 'UDP' }]],
];

async function labCluster(runtime: PodRuntime, id: string): Promise<{ cluster: MemoryCluster; ms: number }> {
  const cluster = new MemoryCluster(id);
  await cluster.attach(runtime);
  for (const ns of ['kube-system', 'payments', 'production', 'monitoring', 'default']) await cluster.namespace(ns);
  const t0 = performance.now();
  // 11 lab pods + CoreDNS = 12, started together as the API server starts a lab's setup.
  await Promise.all([
    cluster.seedDns(),
    ...LAB_PODS.map(([ns, name, labels, ports]) => cluster.pod(ns, name, labels, [{ name: 'main', image: `kubelab/${labels.app}:1`, ports, ...(name === 'netshoot' ? { command: ['sleep', 'infinity'] } : {}) }])),
  ]);
  await cluster.runtime!.settle();
  return { cluster, ms: performance.now() - t0 };
}

function figure(name: string, samples: number[], unit: string, goal: string): BenchResult[] {
  const { median, p95 } = summarize(samples);
  return [
    { name: `${name} (median)`, value: median, unit, goal, samples },
    { name: `${name} (p95)`, value: p95, unit },
  ];
}

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

function heapMiB(): number {
  const m = process.memoryUsage();
  return (m.heapUsed + m.external + m.arrayBuffers) / 2 ** 20;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** One UDP exchange from a fresh source port (a new conntrack entry, so policy is consulted). */
function udpProbe(fromNs: string, ip: string, port: number, waitMs: number): Promise<boolean> {
  const { addon } = loadNetnsAddon();
  const fd = addon!.socketInNetns(fromNs, 4, 'udp', 0, '0.0.0.0');
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), waitMs);
    sock.on('message', () => done(true));
    sock.on('error', () => done(false));
    sock.bind({ fd }, () => sock.send('probe', port, ip));
  });
}

async function policyLatency(runtime: PodRuntime, rounds: number): Promise<{ deny: number[]; allow: number[] }> {
  const { cluster } = await labCluster(runtime, 'bench-policy');
  const rt = cluster.runtime as unknown as { podNamespace(ns: string, name: string): string; podAddress(ns: string, name: string): string };
  const from = `/run/netns/${rt.podNamespace('default', 'netshoot')}`;
  const target = rt.podAddress('payments', 'echo-0');
  const deny: number[] = [];
  const allow: number[] = [];
  // A reply proves "passes" at once; "dropped" needs three silent probes in a row (a busy
  // machine can delay one reply), and counts from the first of them.
  const measure = async (change: () => Promise<void>, want: boolean): Promise<number> => {
    const t0 = performance.now();
    void change();
    let firstSilent: number | undefined;
    let silent = 0;
    for (;;) {
      const sent = performance.now();
      const ok = await udpProbe(from, target, 5353, 50);
      if (want && ok) return sent - t0;
      if (!want) {
        if (ok) silent = 0;
        else if (++silent === 1) firstSilent = sent;
        if (silent === 3) return firstSilent! - t0;
      }
      if (performance.now() - t0 > 5000) throw new Error('policy change not enforced within 5 s');
    }
  };
  const reachable = async () => {
    for (let i = 0; i < 50; i++) if (await udpProbe(from, target, 5353, 200)) return;
    throw new Error('echo not reachable before the policy');
  };
  const denyPolicy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'payments', name: 'deny-echo' }, spec: { podSelector: { matchLabels: { app: 'echo' } }, policyTypes: ['Ingress'] } };
  for (let i = 0; i < rounds; i++) {
    await reachable();
    deny.push(await measure(() => cluster.apply('networkpolicies', denyPolicy).then(() => undefined), false));
    allow.push(await measure(() => cluster.remove('networkpolicies', 'payments', 'deny-echo'), true));
  }
  await cluster.runtime!.dispose();
  return { deny, allow };
}

export async function benchDataplane(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const why = netnsUnavailable();
  const runtime: PodRuntime = why ? createSimRuntime() : createNetnsRuntime();
  await runtime.reapLeftovers();
  const plane = runtime.name;

  // 12-pod lab cluster start.
  const starts: number[] = [];
  for (let i = 0; i < 7; i++) {
    const { cluster, ms } = await labCluster(runtime, `bench-start-${i}`);
    if (i > 1) starts.push(ms); // the first runs warm up code paths and the TLS certificate
    await cluster.runtime!.dispose();
  }
  results.push(...figure(`${plane}: 12-pod lab cluster ready`, starts.map((x) => x / 1000), 's', '≤ 0.5 s'));

  if (!why) {
    const { deny, allow } = await policyLatency(runtime, 15);
    results.push(...figure('netns: policy change → packets dropped (probed)', deny, 'ms', '≤ 100 ms'));
    results.push(...figure('netns: policy removed → packets pass (probed)', allow, 'ms', '≤ 100 ms'));
  }

  // Memory per pod: one cluster, 100 idle server pods.
  {
    const cluster = new MemoryCluster('bench-memory');
    await cluster.attach(runtime);
    await cluster.namespace('load');
    gc();
    const before = rssMiB();
    const heapBefore = heapMiB();
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => cluster.pod('load', `p${i}`, { app: `a${i % 10}` }, [{ name: 'main', image: 'kubelab/app:1', ports: [{ containerPort: 8080 }, { containerPort: 9090 }] }])));
    await cluster.runtime!.settle();
    gc();
    results.push({ name: `${plane}: server memory per pod (2 listeners, RSS)`, value: Math.max(0, rssMiB() - before) / n, unit: 'MiB', goal: '≤ 2 MiB' });
    results.push({ name: `${plane}: server memory per pod (2 listeners, JS heap + buffers)`, value: (heapMiB() - heapBefore) / n, unit: 'MiB', goal: '≤ 2 MiB' });
    await cluster.runtime!.dispose();
  }

  // 200 clusters, each with CoreDNS and two pods.
  {
    const count = Number(process.env.KUBELAB_BENCH_CLUSTERS ?? 200);
    gc();
    const rss0 = rssMiB();
    const avail0 = memAvailableMiB();
    const ns0 = listNamespaces().length;
    const clusters: MemoryCluster[] = [];
    const attachMs: number[] = [];
    for (let i = 0; i < count; i++) {
      const c = new MemoryCluster(`bench-many-${i}`);
      const t0 = performance.now();
      await c.attach(runtime);
      await c.seedDns();
      await c.namespace('app');
      await Promise.all([c.pod('app', 'web', { app: 'web' }, [{ name: 'main', image: 'nginx' }]), c.pod('app', 'client', { app: 'client' }, [{ name: 'main', image: 'nicolaka/netshoot', command: ['sleep', 'infinity'] }])]);
      attachMs.push(performance.now() - t0);
      clusters.push(c);
    }
    gc();
    results.push({ name: `${plane}: ${count} clusters up (3 pods each)`, value: clusters.length, unit: 'clusters' });
    if (!why) results.push({ name: `netns: network namespaces for ${count} clusters`, value: listNamespaces().length - ns0, unit: 'netns' });
    results.push({ name: `${plane}: server RSS per cluster (${count} clusters)`, value: (rssMiB() - rss0) / count, unit: 'MiB' });
    if (avail0 !== undefined) results.push({ name: `${plane}: machine memory per cluster incl. kernel (${count} clusters)`, value: (avail0 - (memAvailableMiB() ?? avail0)) / count, unit: 'MiB' });
    results.push(...figure(`${plane}: cluster + 3 pods start, with up to ${count} running`, attachMs, 'ms', ''));
    const t0 = performance.now();
    await Promise.all(clusters.map((c) => c.runtime!.dispose()));
    results.push({ name: `${plane}: dispose ${count} clusters`, value: (performance.now() - t0) / 1000, unit: 's' });
  }
  return results;
}

function memAvailableMiB(): number | undefined {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await benchDataplane();
  for (const r of results) console.log(`${r.name.padEnd(70)} ${Number(r.value.toPrecision(3)).toString().padStart(10)} ${r.unit}${r.goal ? `   goal ${r.goal}` : ''}`);
  void NETWORK;
}
