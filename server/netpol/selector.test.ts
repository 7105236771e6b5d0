// Label selectors: matching semantics and kubectl-style formatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLabelSelector, labelSelectorMatches } from './selector.ts';
import type { LabelSelector } from './types.ts';

const pod = { app: 'payment-api', tier: 'backend', empty: '' };

const matching: Array<[string, LabelSelector, boolean]> = [
  ['{} matches everything', {}, true],
  ['{} matches an object without labels', {}, true],
  ['matchLabels equal', { matchLabels: { app: 'payment-api' } }, true],
  ['matchLabels different value', { matchLabels: { app: 'checkout' } }, false],
  ['matchLabels missing key', { matchLabels: { team: 'x' } }, false],
  ['matchLabels are ANDed', { matchLabels: { app: 'payment-api', tier: 'frontend' } }, false],
  ['matchLabels empty value', { matchLabels: { empty: '' } }, true],
  ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend', 'backend'] }] }, true],
  ['In, key missing', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
  ['NotIn, value listed', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['backend'] }] }, false],
  ['NotIn, key missing matches', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
  ['Exists', { matchExpressions: [{ key: 'empty', operator: 'Exists' }] }, true],
  ['DoesNotExist, key present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
  ['DoesNotExist, key missing matches', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
  ['matchLabels AND matchExpressions', { matchLabels: { app: 'payment-api' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['data'] }] }, false],
  ['inherited properties are not labels', { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, false],
];

for (const [name, sel, want] of matching) {
  test(`selector: ${name}`, () => assert.equal(labelSelectorMatches(sel, name.includes('without labels') ? {} : pod), want));
}

test('formatLabelSelector is kubectl style, sorted by key', () => {
  assert.equal(formatLabelSelector({}), '');
  assert.equal(formatLabelSelector({ matchLabels: { app: 'payment-api' } }), 'app=payment-api');
  assert.equal(
    formatLabelSelector({
      matchLabels: { zone: 'a', app: 'x' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['b', 'a'] },
        { key: 'env', operator: 'NotIn', values: ['dev'] },
        { key: 'debug', operator: 'DoesNotExist' },
        { key: 'canary', operator: 'Exists' },
      ],
    }),
    'app=x,canary,!debug,env notin (dev),tier in (a,b),zone=a',
  );
});
