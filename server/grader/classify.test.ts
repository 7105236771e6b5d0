import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { classify, type ProbeTool, type ToolRun } from './classify.ts';

interface Row extends ToolRun {
  name: string;
  tool?: ProbeTool;
  expect?: string;
  command?: string;
}

// Recorded from the real tools by testdata/capture-tool-outputs.sh (OpenBSD nc 1.219, bind9 9.18, curl 7.88).
const recorded = (JSON.parse(readFileSync(new URL('./testdata/tool-outputs.json', import.meta.url), 'utf8')) as Row[]).filter((r) => r.tool);

// What the same tools print where libc is musl (nicolaka/netshoot is Alpine), from musl's
// gai_strerror table and curl 8's wording; and busybox's nc/nslookup.
const otherWorlds: Row[] = [
  { name: 'musl nc NXDOMAIN', tool: 'nc', expect: 'dns-error', exitCode: 1, stdout: '', stderr: 'nc: getaddrinfo for host "nosuch" port 80: Name does not resolve\n' },
  { name: 'musl nc DNS unreachable', tool: 'nc', expect: 'dns-error', exitCode: 1, stdout: '', stderr: 'nc: getaddrinfo for host "web" port 80: Try again\n' },
  { name: 'busybox nc open', tool: 'nc', expect: 'connected', exitCode: 0, stdout: '', stderr: 'web (10.96.0.20:80) open\n' },
  { name: 'busybox nc timed out', tool: 'nc', expect: 'timeout', exitCode: 1, stdout: '', stderr: 'nc: web (10.96.0.20:80): Operation timed out\n' },
  { name: 'busybox nc refused', tool: 'nc', expect: 'refused', exitCode: 1, stdout: '', stderr: 'nc: web (10.96.0.20:80): Connection refused\n' },
  { name: 'curl 8 refused wording', tool: 'curl', expect: 'refused', exitCode: 7, stdout: '000', stderr: 'curl: (7) Failed to connect to 10.96.0.20 port 80 after 1 ms: Could not connect to server\n' },
  { name: 'curl resolve timeout', tool: 'curl', expect: 'dns-error', exitCode: 28, stdout: '000', stderr: 'curl: (28) Resolving timed out after 1000 milliseconds\n' },
  { name: 'busybox nslookup NXDOMAIN', tool: 'nslookup', expect: 'dns-error', exitCode: 1, stdout: 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n** server can\'t find nosuch.svc.cluster.local: NXDOMAIN\n', stderr: '' },
  { name: 'nc missing', tool: 'nc', expect: 'error', exitCode: 127, stdout: '', stderr: 'sh: nc: not found\n' },
  { name: 'dig missing', tool: 'dig', expect: 'error', exitCode: 127, stdout: '', stderr: 'exec: "dig": executable file not found in $PATH\n' },
  { name: 'curl unknown failure', tool: 'curl', expect: 'error', exitCode: 3, stdout: '000', stderr: 'curl: (3) URL using bad/illegal format or missing URL\n' },
];

test('recorded tool outputs classify as their outcome', () => {
  assert.ok(recorded.length >= 25, 'the recorded table is there');
  const wrong = [...recorded, ...otherWorlds]
    .map((r) => ({ name: r.name, expect: r.expect, got: classify(r.tool!, r) }))
    .filter((r) => r.got.outcome !== r.expect)
    .map((r) => `${r.name}: expected ${r.expect}, got ${r.got.outcome} (${r.got.detail})`);
  assert.deepEqual(wrong, []);
});

test('every outcome is covered by the recorded table', () => {
  const outcomes = new Set(recorded.map((r) => r.expect));
  for (const o of ['connected', 'refused', 'timeout', 'dns-error']) assert.ok(outcomes.has(o), o);
});

test('lookups return their addresses, HTTP its status', () => {
  const dig = recorded.find((r) => r.name === 'dig-found')!;
  assert.deepEqual(classify('dig', dig).addresses, ['127.0.0.1']);
  const ns = recorded.find((r) => r.name === 'nslookup-found')!;
  assert.deepEqual(classify('nslookup', ns).addresses, ['127.0.0.1']);
  const curl = recorded.find((r) => r.name === 'curl-connected')!;
  assert.equal(classify('curl', curl).httpStatus, 200);
  assert.equal(classify('curl', { exitCode: 0, stdout: '404', stderr: '' }).httpStatus, 404);
});

test('quiet nc: an instant silent failure is a refusal, a slow one a timeout', () => {
  assert.equal(classify('nc', { exitCode: 1, stdout: '', stderr: '', elapsedMs: 20, timeoutMs: 2000 }).outcome, 'refused');
  assert.equal(classify('nc', { exitCode: 1, stdout: '', stderr: '', elapsedMs: 2010, timeoutMs: 2000 }).outcome, 'timeout');
  assert.equal(classify('nc', { exitCode: 1, stdout: '', stderr: '' }).outcome, 'timeout');
});
