import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchPattern } from './match.ts';

const defaultDeny = { spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } };

test('maps: a subset; {} means empty', () => {
  assert.equal(matchPattern(defaultDeny, { metadata: { name: 'x' }, spec: { podSelector: {}, policyTypes: ['Egress', 'Ingress'], ingress: [] } }), undefined);
  assert.equal(matchPattern(defaultDeny, { spec: { podSelector: { matchLabels: {} }, policyTypes: ['Ingress', 'Egress'] } }), undefined, 'an empty matchLabels is still every pod');
  assert.deepEqual(matchPattern(defaultDeny, { spec: { podSelector: { matchLabels: { app: 'payment-api' } }, policyTypes: ['Ingress', 'Egress'] } }), {
    path: 'spec.podSelector',
    want: 'empty ({})',
    got: 'app=payment-api',
  });
  assert.deepEqual(matchPattern(defaultDeny, { spec: { podSelector: {} } }), { path: 'spec.policyTypes', want: '["Ingress","Egress"]', got: 'nothing' });
});

test('lists: same items in any order, same length', () => {
  assert.equal(matchPattern(['a', 'b'], ['b', 'a']), undefined);
  assert.ok(matchPattern(['a', 'b'], ['a', 'b', 'c']));
  assert.ok(matchPattern(['a', 'a'], ['a', 'b']));
  assert.equal(matchPattern([{ port: 8080 }], [{ port: 8080, protocol: 'TCP' }]), undefined);
});

test('operators', () => {
  assert.equal(matchPattern({ x: { $exists: false } }, {}), undefined);
  assert.deepEqual(matchPattern({ x: { $exists: true } }, {}), { path: 'x', want: 'present', got: 'nothing' });
  assert.equal(matchPattern({ t: { $contains: ['Ingress'] } }, { t: ['Egress', 'Ingress'] }), undefined);
  assert.deepEqual(matchPattern({ t: { $contains: ['Ingress'] } }, { t: ['Egress'] }), { path: 't', want: 'a list including Ingress', got: '["Egress"]' });
  assert.equal(matchPattern({ p: { $oneOf: [80, 8080] } }, { p: 8080 }), undefined);
  assert.ok(matchPattern({ p: { $oneOf: [80, 8080] } }, { p: 443 }));
});

test('numbers and strings compare by value', () => {
  assert.equal(matchPattern({ port: 8080 }, { port: '8080' }), undefined);
  assert.ok(matchPattern({ port: 8080 }, { port: 'http' }));
});
