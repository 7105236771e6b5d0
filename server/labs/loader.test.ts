import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { checkLab, loadLab, loadLabs } from './loader.ts';
import { LabError, formatProblem } from './problems.ts';
import { validateLabs } from '../cli/validate.ts';

const testdata = 'server/labs/testdata';

// Each broken lab keeps the exact lines `kubelab validate` must print for it, paths relative to the lab.
for (const name of readdirSync(testdata).sort()) {
  test(`validate reports every problem of testdata/${name}`, () => {
    const dir = `${testdata}/${name}`;
    const expected = readFileSync(`${dir}/expected.txt`, 'utf8').trim().split('\n').filter(Boolean);
    const got = validateLabs(dir).problems.map(formatProblem).map((l) => l.replace(`${dir}/`, ''));
    assert.deepEqual(got, expected);
    assert.ok(got.length > 0, 'a broken lab must have problems');
  });
}

test('the example lab loads clean, with defaults filled in', () => {
  const lab = loadLab('labs/example');
  assert.equal(lab.id, 'first-network-policy');
  assert.deepEqual(
    lab.steps.map((s) => [s.id, s.beforeSolution, s.checks.length]),
    [
      ['look-around', 'pass', 2],
      ['default-deny', 'fail', 3],
      ['allow-frontend', 'fail', 3],
    ],
  );
  const probe = lab.steps[0].checks[0];
  assert.equal(probe.type, 'probe');
  if (probe.type === 'probe') {
    assert.equal(probe.protocol, 'TCP');
    assert.equal(probe.timeoutSeconds, 2);
    assert.deepEqual(probe.to, { service: 'api', namespace: 'shop' }, 'a service target defaults to the source namespace');
  }
  assert.equal(lab.environment.setup.length, 7);
  assert.deepEqual(lab.environment.setup[0].source, { file: 'labs/example/setup/namespaces.yaml', line: 1, column: 1 });
  assert.equal(validateLabs('labs/example').problems.length, 0);
});

test('loadLab throws a LabError listing every problem', () => {
  assert.throws(
    () => loadLab(`${testdata}/missing-files`),
    (err: unknown) => err instanceof LabError && err.problems.length === 4 && /4 problems/.test(err.message) && err.message.includes('steps/missing.md does not exist'),
  );
});

test('loadLabs finds labs under a root and keeps broken ones out', () => {
  const { labs, problems } = loadLabs(testdata);
  assert.equal(labs.length, 0);
  assert.ok(problems.some((p) => p.file.includes('bad-yaml')));
  const root = loadLabs('labs');
  assert.ok(root.labs.some((l) => l.id === 'first-network-policy'));
});

test('a directory without lab.yaml, and one that does not exist', () => {
  assert.match(checkLab('server/labs').problems[0].message, /no lab.yaml/);
  assert.match(checkLab('no/such/dir').problems[0].message, /no such lab directory/);
  assert.match(validateLabs('server/netpol').problems[0].message, /no lab.yaml here or in any subdirectory/);
});
