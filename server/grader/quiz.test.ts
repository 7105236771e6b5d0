import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLab } from '../labs/loader.ts';
import type { ChoiceQuestion, ManifestQuestion, Question, TextQuestion } from '../labs/types.ts';
import { answerKey, gradeAnswer, lintQuestions, readPolicies } from './quiz.ts';

const lab = loadLab('labs/example');
const byId = <T extends Question>(id: string) => lab.questions.find((q) => q.id === id) as T;
const source = { file: 'x', line: 1, column: 1 };

test('single choice', () => {
  const q = byId<ChoiceQuestion>('empty-ingress');
  assert.equal(gradeAnswer(q, 'deny-ingress').correct, true);
  const wrong = gradeAnswer(q, 'nothing');
  assert.deepEqual([wrong.correct, wrong.score], [false, 0]);
  assert.deepEqual(wrong.details, ['A policy without rules still isolates the pods it selects.']);
  assert.equal(wrong.explanation, q.explanation);
  assert.match(gradeAnswer(q, 'zzz').details[0], /no option "zzz"/);
  assert.equal(gradeAnswer(q, ['deny-ingress']).correct, false);
});

test('multiple choice: exact set, partial score', () => {
  const q: ChoiceQuestion = {
    type: 'multiple',
    id: 'm',
    source,
    prompt: 'Which select pods?',
    explanation: 'e',
    options: [
      { id: 'pod', text: 'podSelector', correct: true },
      { id: 'ns', text: 'namespaceSelector', correct: true },
      { id: 'ip', text: 'ipBlock', correct: false, explanation: 'ipBlock matches addresses, not labels' },
    ],
  };
  assert.equal(gradeAnswer(q, ['ns', 'pod']).correct, true);
  const half = gradeAnswer(q, ['pod']);
  assert.deepEqual([half.correct, half.score], [false, 0.5]);
  const mixed = gradeAnswer(q, ['pod', 'ip']);
  assert.deepEqual([mixed.correct, mixed.score], [false, 0]);
  assert.ok(mixed.details.includes('ipBlock matches addresses, not labels'));
  assert.equal(gradeAnswer(q, ['pod', 'pod', 'ns', 'ip', 'x']).correct, false);
  assert.equal(gradeAnswer(q, 'pod').score, 0.5);
});

test('short text: patterns, case, junk', () => {
  const q = byId<TextQuestion>('selector-field');
  for (const a of ['podSelector', '  spec.podSelector ', 'PODSELECTOR']) assert.equal(gradeAnswer(q, a).correct, true, a);
  for (const a of ['namespaceSelector', 'podSelector please', '', 'x'.repeat(5000)]) assert.equal(gradeAnswer(q, a).correct, false, a);
  assert.equal(gradeAnswer({ ...q, caseSensitive: true }, 'PODSELECTOR').correct, false);
  assert.equal(gradeAnswer(q, ['podSelector']).correct, false);
});

test('manifest answers are graded by what they do, not by their text', () => {
  const q = byId<ManifestQuestion>('write-default-deny');
  assert.equal(gradeAnswer(q, q.answer).correct, true);
  // the same meaning written differently: another name, flow style, explicit empty rule lists, no namespace
  const rewritten = `{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: lock-it-all}, spec: {podSelector: {matchLabels: {}}, policyTypes: [Egress, Ingress], ingress: [], egress: []}}`;
  assert.equal(gradeAnswer(q, rewritten).correct, true);
  // two policies that together mean the same
  const split = ['Ingress', 'Egress']
    .map((t) => `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-${t.toLowerCase()}, namespace: payments}\nspec:\n  podSelector: {}\n  policyTypes: [${t}]\n`)
    .join('---\n');
  assert.equal(gradeAnswer(q, split).correct, true);
  const ingressOnly = gradeAnswer(q, q.wrongAnswers[0]);
  assert.equal(ingressOnly.correct, false);
  assert.equal(ingressOnly.score, 3 / 5);
  assert.match(ingressOnly.details[0], /payments\/payment-api → production\/checkout:8080\/TCP must be denied \(traffic out of payments must be denied\), but your policies allow it/);
  // too wide: denies other namespaces too
  const wide = `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: production}\nspec: {podSelector: {}, policyTypes: [Egress]}\n---\n` + q.answer;
  assert.equal(gradeAnswer(q, wide).correct, false);
});

test('manifest answers: bad YAML and invalid policies get a message with the line, not a crash', () => {
  const q = byId<ManifestQuestion>('write-default-deny');
  const cases: Array<[string, RegExp]> = [
    ['kind: NetworkPolicy\n  bad: indent\n', /^line 1, column 7: Nested mappings are not allowed/],
    ['apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec:\n  podSelector: {}\n  policyTypes: [egress]\n', /^line 6, column 17: spec.policyTypes\[0\]: Unsupported value: "egress": supported values: "Ingress", "Egress"$/],
    ['apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec:\n  podSelector: {}\n  Egress: []\n', /^line 6, column 3: spec.Egress: unknown field "spec.Egress"$/],
    ['apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n', /kind: this question wants NetworkPolicy objects, not Pod/],
    ['', /no YAML document/],
    ['- just\n- a list\n', /must be a map/],
    ['a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n', /resource exhaustion/],
    ['apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: {}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: {}}\n', /appears twice/],
  ];
  for (const [yaml, want] of cases) {
    const g = gradeAnswer(q, yaml);
    assert.equal(g.correct, false, yaml);
    assert.equal(g.score, 0);
    assert.match(g.details.join('\n'), want, yaml);
  }
  assert.match(gradeAnswer(q, 'x'.repeat(70 * 1024)).details[0], /longer than 64 KiB/);
  assert.equal(gradeAnswer(q, ['not', 'text']).correct, false);
});

test('readPolicies fills the default namespace and reports document numbers', () => {
  const r = readPolicies('apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {podSelector: {}}\n---\nkind: NetworkPolicy\nmetadata: {name: b}\n', 'payments');
  assert.equal(r.policies[0].metadata.namespace, 'payments');
  assert.match(r.problems[0], /^document 2, line 6, column 1: apiVersion: is required$/);
});

test('every example question: its key is right and its wrong answers are wrong', () => {
  assert.deepEqual(lintQuestions(lab), []);
  for (const q of lab.questions) for (const k of answerKey(q)) assert.equal(gradeAnswer(q, k.answer).correct, k.correct, `${q.id} ${JSON.stringify(k.answer)}`);
});
