// `npm run bench [-- <suite>...] [--json]`: runs the benchmark suites and prints their figures.
// Each suite lives in scripts/bench/<name>.ts and exports bench<Name>(): Promise<BenchResult[]>.
import os from 'node:os';
import { existsSync } from 'node:fs';
import type { BenchResult } from './bench/types.ts';

const suites = ['netpol', 'apiserver', 'dataplane', 'grader', 'terminal', 'platform'];

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const wanted = args.filter((a) => !a.startsWith('-'));
  const selected = wanted.length ? suites.filter((s) => wanted.includes(s)) : suites;
  const all: Array<BenchResult & { suite: string }> = [];
  for (const suite of selected) {
    const file = new URL(`./bench/${suite}.ts`, import.meta.url);
    if (!existsSync(file)) continue;
    const mod = (await import(file.href)) as Record<string, unknown>;
    const fn = mod[`bench${suite[0].toUpperCase()}${suite.slice(1)}`];
    if (typeof fn !== 'function') continue;
    if (!json) process.stderr.write(`running ${suite}...\n`);
    const results = (await (fn as () => Promise<BenchResult[]>)()) ?? [];
    for (const r of results) all.push({ suite, ...r });
  }
  const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  if (json) {
    process.stdout.write(JSON.stringify({ machine, results: all }, null, 2) + '\n');
  } else {
    process.stdout.write(`machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memoryGiB} GiB, node ${machine.node}\n\n`);
    const rows = all.map((r) => [r.suite, r.name, formatValue(r.value), r.unit, r.goal ?? '']);
    const head = ['suite', 'figure', 'value', 'unit', 'goal'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
    process.stdout.write(line(head) + '\n' + line(widths.map((w) => '-'.repeat(w))) + '\n');
    for (const row of rows) process.stdout.write(line(row) + '\n');
  }
  return 0;
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(3)).toString();
}

main().then((code) => (process.exitCode = code));
