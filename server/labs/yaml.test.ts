import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYaml } from './yaml.ts';

test('positions of values and keys', () => {
  const y = parseYaml('f.yaml', 'a: 1\nsteps:\n  - id: x\n    checks:\n      - expect: nope\n');
  assert.equal(y.problems.length, 0);
  const doc = y.docs[0];
  assert.deepEqual(doc.locate(['steps', 0, 'checks', 0, 'expect']), { line: 5, column: 17 });
  assert.deepEqual(doc.locate(['steps', 0, 'checks', 0, 'expect'], 'key'), { line: 5, column: 9 });
  // a missing field points at its closest ancestor
  assert.deepEqual(doc.locate(['steps', 0, 'title']), { line: 3, column: 5 });
});

test('a billion-laughs document is refused, not expanded', () => {
  const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
  }
  const y = parseYaml('bomb.yaml', levels.join('\n'));
  assert.equal(y.docs.length, 0);
  assert.match(y.problems[0].message, /resource exhaustion/);
});

test('__proto__ keys are refused and Object.prototype stays clean', () => {
  const y = parseYaml('p.yaml', '__proto__: {polluted: true}\nx:\n  <<: {polluted: true}\n  y: {"__proto__": {polluted: 1}}\n');
  assert.deepEqual(
    y.problems.map((p) => [p.line, p.path]),
    [
      [1, '__proto__'],
      [4, 'x.y.__proto__'],
    ],
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
});

test('merge keys are plain keys (no YAML 1.1 merging)', () => {
  const y = parseYaml('m.yaml', 'base: &b {a: 1}\nother:\n  <<: *b\n');
  assert.deepEqual(y.docs[0].value, { base: { a: 1 }, other: { '<<': { a: 1 } } });
});

test('size, document count and nesting limits', () => {
  assert.match(parseYaml('big.yaml', 'a: ' + 'x'.repeat(2000), { maxBytes: 1000 }).problems[0].message, /limit is 1000/);
  assert.match(parseYaml('many.yaml', 'a: 1\n---\nb: 2\n---\nc: 3\n', { maxDocuments: 2 }).problems[0].message, /3 YAML documents/);
  const deep = parseYaml('deep.yaml', '['.repeat(10000) + ']'.repeat(10000));
  assert.ok(deep.problems.length > 0 || deep.docs.length === 1, 'deep nesting is parsed or refused, never a crash');
});

test('duplicate keys and syntax errors come with their line', () => {
  const y = parseYaml('d.yaml', 'a: 1\nb: 2\na: 3\n');
  assert.deepEqual([y.problems[0].line, y.problems[0].message], [3, 'Map keys must be unique']);
  const bad = parseYaml('s.yaml', 'a: 1\nb: [1, 2\nc: 3\n');
  assert.ok(bad.problems.length > 0 && bad.problems.every((p) => (p.line ?? 0) >= 2));
});
