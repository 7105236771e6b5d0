#!/usr/bin/env node
// Runs every *.test.ts under server/, shared/ and test/ with node's test runner (through tsx).
// Extra arguments are path filters: `node scripts/run-tests.mjs netpol` runs only matching files.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const roots = ['server', 'shared', 'test', 'scripts'];
const files = [];
function walk(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
for (const r of roots) walk(join(root, r));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
// The long files start first, so that they are not what the run waits for at its end; the rest
// follow in name order.
const longest = [
  'test/dataplane/conformance-netns.test.ts',
  'test/kind/kind-backend.test.ts',
  'test/dataplane/conformance-sim.test.ts',
  'test/labs/network-policies.test.ts',
  'test/reliability/load.test.ts',
  'test/kind/lab-on-fake-kind.test.ts',
  'test/reliability/manifests.test.ts',
  'test/reliability/containment.test.ts',
];
const rank = (f) => (longest.includes(f) ? longest.indexOf(f) : longest.length);
const selected = files
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort((a, b) => rank(a) - rank(b));
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Most of a file's time is spent waiting (probe timeouts, clusters starting), not computing: three
// files at once keep two cores busy.
const concurrency = process.env.KUBELAB_TEST_CONCURRENCY ?? '4';
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...flags, ...selected], {
  cwd: root,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
