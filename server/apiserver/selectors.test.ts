// Label and field selector parsing and matching, as apimachinery's labels.Parse / fields.ParseSelector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './errors.ts';
import { compileFieldSelector, formatLabels, formatLabelSelector, labelsMatch, mapSelectorMatches, parseFieldSelector, parseLabelSelector, selectorRequirements } from './selectors.ts';
import type { KubeObject } from './runtime.ts';

const labels = { app: 'web', tier: 'front', 'example.com/team': 'a', n: '7' };

test('label selector syntax: every operator, matched against one label set', () => {
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (web,db)', true],
    ['app in (db)', false],
    ['app notin (db, cache)', true],
    ['app notin (web)', false],
    ['missing notin (web)', true],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!tier', false],
    ['example.com/team=a', true],
    ['app=web,tier=back', false],
    ['app=web, tier in (front)', true],
    ['n>5', true],
    ['n<5', false],
    ['app=', false],
  ];
  for (const [sel, want] of cases) assert.equal(labelsMatch(parseLabelSelector(sel), labels), want, sel);
});

test('label selector errors are 400s that name the problem', () => {
  for (const bad of ['app in', 'app in ()', '=web', 'app=web,', 'a b', 'app=-bad-']) {
    assert.throws(() => parseLabelSelector(bad), (e: unknown) => e instanceof ApiError && e.code === 400 && e.message.startsWith('unable to parse requirement'), bad);
  }
});

test('object selectors: matchLabels AND matchExpressions; services need a non-empty map', () => {
  const reqs = selectorRequirements({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }, { key: 'gone', operator: 'DoesNotExist' }] });
  assert.equal(labelsMatch(reqs, labels), true);
  assert.equal(labelsMatch(selectorRequirements({}), labels), true);
  assert.equal(labelsMatch(selectorRequirements({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }), labels), false);
  assert.equal(mapSelectorMatches({}, labels), false);
  assert.equal(mapSelectorMatches({ app: 'web' }, labels), true);
  assert.equal(mapSelectorMatches({ app: 'web', tier: 'back' }, labels), false);
});

test('formatting as kubectl prints selectors and labels', () => {
  assert.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
  assert.equal(formatLabels({}), '<none>');
  assert.equal(formatLabelSelector({}), '<none>');
  assert.equal(formatLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }, { key: 'x', operator: 'Exists' }] }), 'app=web,tier in (a,b),x');
});

test('field selectors: supported fields per resource, = == != and escaped commas', () => {
  const pod = { metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } } as KubeObject;
  const m = (res: string, sel: string, o: KubeObject) => compileFieldSelector(res, parseFieldSelector(sel)).matches(o);
  assert.equal(m('pods', 'metadata.name=web', pod), true);
  assert.equal(m('pods', 'metadata.name==web,status.phase!=Running', pod), false);
  assert.equal(m('pods', 'spec.nodeName=n1,metadata.namespace=default', pod), true);
  const ev = { metadata: { name: 'e', namespace: 'default' }, involvedObject: { name: 'web', namespace: 'default', uid: 'u1', kind: 'Pod' }, reason: 'Started', type: 'Normal' } as unknown as KubeObject;
  assert.equal(m('events', 'involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u1', ev), true);
  assert.equal(m('events', 'involvedObject.uid=u2', ev), false);
  assert.deepEqual(parseFieldSelector('metadata.name=a\\,b'), [{ field: 'metadata.name', operator: '=', value: 'a,b' }]);
  assert.throws(() => compileFieldSelector('pods', parseFieldSelector('spec.bogus=1')), /field label not supported: spec.bogus/);
  assert.throws(() => compileFieldSelector('services', parseFieldSelector('status.phase=Running')), /field label not supported: status.phase/);
});
