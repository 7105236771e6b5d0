// NetworkPolicy engine throughput on a generated cluster: 1,000 pods in 20 namespaces with 200
// policies. Runs on one core (one thread); prints figures, asserts nothing.
// `node --import tsx scripts/bench/netpol.ts` runs it alone.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import process from 'node:process';
import type { BenchResult } from './types.ts';
import { summarize } from './types.ts';
import type { Connection, Protocol } from '../../server/netpol/types.ts';
import { PolicyEngine } from '../../server/netpol/engine.ts';
import { generate, random } from '../../server/netpol/testdata/generate.ts';

const shape = { namespaces: 20, pods: 1000, policies: 200 };
const runs = 9;
const perRun = 200_000;

function connections(engine: PolicyEngine, n: number, seed: number): Connection[] {
  const rnd = random(seed);
  const pods = engine.cluster.pods.map((p) => p.key);
  const ports: Array<[number, Protocol]> = [[80, 'TCP'], [8080, 'TCP'], [9090, 'TCP'], [53, 'UDP'], [5432, 'TCP'], [443, 'TCP'], [8050, 'TCP']];
  const out: Connection[] = [];
  for (let i = 0; i < n; i++) {
    const [port, protocol] = ports[Math.floor(rnd() * ports.length)];
    const from = rnd() < 0.03 ? { ip: '192.0.2.7' } : { pod: pods[Math.floor(rnd() * pods.length)] };
    const to = rnd() < 0.03 ? { ip: '198.51.100.9' } : { pod: pods[Math.floor(rnd() * pods.length)] };
    out.push({ from, to, port, protocol });
  }
  return out;
}

/** Calls per second for each run over the same connections. */
function rate(conns: Connection[], fn: (c: Connection) => unknown): number[] {
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (const c of conns) fn(c);
    samples.push(conns.length / ((performance.now() - t0) / 1000));
  }
  return samples;
}

export async function benchNetpol(): Promise<BenchResult[]> {
  const { cluster, policies } = generate(42, shape);
  const builds: number[] = [];
  let engine!: PolicyEngine;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    engine = new PolicyEngine(cluster, policies);
    builds.push(performance.now() - t0);
  }
  const conns = connections(engine, perRun, 7);

  // First pass over a fresh engine: selecting-policy and peer caches fill as it goes.
  const cold = new PolicyEngine(cluster, policies);
  const t0 = performance.now();
  for (const c of conns) cold.verdict(c);
  const coldRate = conns.length / ((performance.now() - t0) / 1000);

  const verdicts = rate(conns, (c) => engine.verdict(c));
  const explained = rate(conns.slice(0, perRun / 4), (c) => engine.evaluate(c));
  const denied = conns.filter((c) => engine.verdict(c) === 'deny').length / conns.length;

  const views: number[] = [];
  for (let r = 0; r < 3; r++) {
    const fresh = new PolicyEngine(cluster, policies);
    const v0 = performance.now();
    for (const p of fresh.cluster.pods) {
      fresh.podPolicy(p.key, 'ingress');
      fresh.podPolicy(p.key, 'egress');
    }
    views.push(performance.now() - v0);
  }

  const v = summarize(verdicts);
  const e = summarize(explained);
  // For a rate, the slow tail is the low end: the 95th-percentile run is the 5th-percentile rate.
  const p95rate = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(0.05 * xs.length)];
  return [
    { name: `verdicts/s, median of ${runs} runs (1,000 pods, 20 ns, 200 policies; ${Math.round(denied * 100)}% denied)`, value: v.median, unit: 'verdicts/s', goal: '≥ 200,000 on one core', samples: verdicts },
    { name: 'verdicts/s, p95 run (slowest 5%)', value: p95rate(verdicts), unit: 'verdicts/s', goal: '≥ 200,000 on one core' },
    { name: 'verdicts/s, first pass on a fresh engine (caches filling)', value: coldRate, unit: 'verdicts/s' },
    { name: `evaluate() with explanation/s, median of ${runs} runs`, value: e.median, unit: 'decisions/s', samples: explained },
    { name: 'evaluate() with explanation/s, p95 run', value: p95rate(explained), unit: 'decisions/s' },
    { name: 'engine build (validate, default, compile 200 policies), median', value: summarize(builds).median, unit: 'ms', samples: builds },
    { name: 'podPolicy views for all 1,000 pods × 2 directions, median', value: summarize(views).median, unit: 'ms', samples: views },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await benchNetpol();
  const rows = results.map((r) => [r.name, r.value >= 1000 ? Math.round(r.value).toLocaleString('en-US') : r.value.toFixed(2), r.unit, r.goal ?? '']);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) process.stdout.write(row.map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd() + '\n');
}
