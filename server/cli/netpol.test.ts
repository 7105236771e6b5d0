// `kubelab netpol` as other tools run it: a child process, JSON on stdout, problems on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const data = (f: string) => `server/netpol/testdata/${f}`;

function kubelab(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', 'netpol', ...args], { cwd: root, encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('eval: one case gives {results} in probe order', () => {
  const r = kubelab(['eval', data('valid-one-case.json')]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { results: Array<{ verdict: string; explanation: { summary: string } }> };
  assert.deepEqual(out.results.map((x) => x.verdict), ['allow', 'deny', 'deny', 'allow']);
  assert.match(out.results[1].explanation.summary, /^blocked: x\/a is isolated for ingress by allow-b; allow-b ingress\[0\] from\[0\]/);
});

test('eval: an array of cases gives an array of {results}', () => {
  const r = kubelab(['eval', data('valid-two-cases.json')]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Array<{ results: Array<{ verdict: string }> }>;
  assert.deepEqual(out.map((c) => c.results.map((x) => x.verdict)), [['allow', 'deny', 'deny', 'allow'], ['allow', 'allow']]);
});

test('eval: "-" reads stdin', () => {
  const r = kubelab(['eval', '-'], readFileSync(`${root}/${data('valid-one-case.json')}`, 'utf8'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { results: unknown[] }).results.length, 4);
});

test('eval: the public e2e cases all match their expectations', () => {
  const cases = JSON.parse(readFileSync(`${root}/${data('e2e-public.json')}`, 'utf8')) as Array<{ probes: Array<{ expect: string }> }>;
  const r = kubelab(['eval', data('e2e-public.json')]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Array<{ results: Array<{ verdict: string }> }>;
  assert.equal(out.length, cases.length);
  cases.forEach((c, i) => assert.deepEqual(out[i].results.map((x) => x.verdict), c.probes.map((p) => p.expect), `case ${i}`));
});

const broken: Array<[string, string]> = [
  ['unknown-pod.json', 'case 1: probes[1].from: pod "x/q" not found'],
  ['invalid-policy-type.json', 'case 0: policies[0]: spec.policyTypes[0]: Unsupported value: "egress": supported values: "Ingress", "Egress"'],
  ['invalid-ipblock.json', 'case 0: policies[0]: spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`\ncase 0: policies[0]: spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer'],
  ['ill-typed-port.json', 'case 0: probes[0].port: must be an integer, got string "80"'],
  ['missing-probes.json', 'case 0: probes: required'],
  ['unknown-field.json', 'case 0: policies[0]: strict decoding error: unknown field "spec.Egress"'],
  ['bad-protocol.json', 'case 0: probes[2].protocol: must be "TCP", "UDP" or "SCTP", got "ICMP"'],
  ['bad-pod-ip.json', 'case 0: cluster.pods[1].ip: "10.244.1" is not an IP address'],
];

for (const [file, message] of broken) {
  test(`eval: ${file} is refused with its case and field`, () => {
    const r = kubelab(['eval', data(file)]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '', 'nothing on stdout');
    assert.equal(r.stderr.trim(), message);
  });
}

test('eval: bad JSON and unreadable files', () => {
  const t = kubelab(['eval', data('truncated.json')]);
  assert.equal(t.code, 1);
  assert.equal(t.stdout, '');
  assert.match(t.stderr, /truncated\.json: invalid JSON \(line \d+, column \d+\)/);
  const m = kubelab(['eval', data('no-such-file.json')]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /cannot read .*no-such-file\.json/);
});

test('matrix: a table per port with every pod', () => {
  const r = kubelab(['matrix', data('valid-one-case.json')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      '# case 0: named port from one pod',
      '80/TCP',
      'from \\ to   x/a  x/b  y/a  192.0.2.10',
      'x/a         .    .    .    .',
      'x/b         .    .    .    .',
      'y/a         X    .    .    .',
      '192.0.2.10  X    .    .    .',
      '',
      '443/TCP',
      'from \\ to   x/a  x/b  y/a  192.0.2.10',
      'x/a         .    .    .    .',
      'x/b         X    .    .    .',
      'y/a         X    .    .    .',
      '192.0.2.10  X    .    .    .',
      '',
      '. allowed   X denied   ? not evaluated',
      '',
    ].join('\n'),
  );
});

test('usage: --help, and a wrong verb exits 2', () => {
  const h = kubelab(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /kubelab netpol eval FILE/);
  assert.equal(kubelab(['judge', 'x']).code, 2);
  assert.equal(kubelab(['eval']).code, 2);
});
