// Reading cases from untrusted JSON: shapes, defaults and the paths named in errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaseError, readCase } from './cases.ts';

const cluster = { namespaces: [{ name: 'x', labels: {} }], pods: [{ namespace: 'x', name: 'a', labels: {}, ip: '10.0.0.1' }] };

function error(v: unknown): string {
  try {
    readCase(v);
  } catch (err) {
    assert.ok(err instanceof CaseError, String(err));
    return err.message;
  }
  return 'no error';
}

test('defaults: protocol TCP, podSelector {}, bare addresses, extra keys ignored', () => {
  const c = readCase({ name: 'n', source: 's', tags: [], notes: '', cluster, policies: [{ metadata: { name: 'p', namespace: 'x' }, spec: {} }], probes: [{ from: '192.0.2.1', to: 'x/a', port: 80 }, { from: { ip: 'fd00::1' }, to: { pod: 'x/a' }, port: 53, protocol: 'UDP', expect: 'deny' }] });
  assert.deepEqual(c.probes[0], { from: { ip: '192.0.2.1' }, to: { pod: 'x/a' }, port: 80, protocol: 'TCP' });
  assert.deepEqual(c.probes[1], { from: { ip: 'fd00::1' }, to: { pod: 'x/a' }, port: 53, protocol: 'UDP', expect: 'deny' });
  assert.deepEqual(c.policies[0].spec.podSelector, {});
});

const bad: Array<[string, unknown, string]> = [
  ['not an object', [], 'must be an object, got an array'],
  ['cluster missing', { policies: [], probes: [] }, 'cluster: required'],
  ['pods not an array', { cluster: { pods: {} }, policies: [], probes: [] }, 'cluster.pods: must be an array, got an object'],
  ['pod label not a string', { cluster: { pods: [{ namespace: 'x', name: 'a', ip: '10.0.0.1', labels: { app: 1 } }] }, policies: [], probes: [] }, 'cluster.pods[0].labels.app: must be a string, got number 1'],
  ['pod without ip', { cluster: { pods: [{ namespace: 'x', name: 'a' }] }, policies: [], probes: [] }, 'cluster.pods[0].ip: required'],
  ['duplicate pod', { cluster: { pods: [{ namespace: 'x', name: 'a', ip: '10.0.0.1' }, { namespace: 'x', name: 'a', ip: '10.0.0.2' }] }, policies: [], probes: [] }, 'cluster.pods[1]: pod "x/a" appears twice'],
  ['container port out of range', { cluster: { pods: [{ namespace: 'x', name: 'a', ip: '10.0.0.1', containerPorts: [{ port: 0 }] }] }, policies: [], probes: [] }, 'cluster.pods[0].containerPorts[0].port: must be between 1 and 65535, got 0'],
  ['probe to an unknown pod', { cluster, policies: [], probes: [{ from: 'x/a', to: 'y/b', port: 80 }] }, 'probes[0].to: pod "y/b" not found'],
  ['probe endpoint of the wrong type', { cluster, policies: [], probes: [{ from: 7, to: 'x/a', port: 80 }] }, 'probes[0].from: must be "namespace/pod" or {"ip": "..."}, got number 7'],
  ['probe without port', { cluster, policies: [], probes: [{ from: 'x/a', to: 'x/a' }] }, 'probes[0].port: required'],
  ['probe port out of range', { cluster, policies: [], probes: [{ from: 'x/a', to: 'x/a', port: 70000 }] }, 'probes[0].port: must be between 1 and 65535, got 70000'],
  ['bad expect', { cluster, policies: [], probes: [{ from: 'x/a', to: 'x/a', port: 80, expect: 'yes' }] }, 'probes[0].expect: must be "allow" or "deny", got string "yes"'],
  ['policy kind', { cluster, policies: [{ kind: 'Pod', metadata: {}, spec: {} }], probes: [] }, 'policies[0]: kind: must be "NetworkPolicy", got "Pod"'],
  ['policy rule not an object', { cluster, policies: [{ metadata: {}, spec: { ingress: [[]] } }], probes: [] }, 'policies[0]: spec.ingress[0]: must be an object, got an array'],
  ['peer selector values not strings', { cluster, policies: [{ metadata: {}, spec: { egress: [{ to: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: [1] }] } }] }] } }], probes: [] }, 'policies[0]: spec.egress[0].to[0].podSelector.matchExpressions[0].values[0]: must be a string, got number 1'],
  ['unknown field in a peer', { cluster, policies: [{ metadata: {}, spec: { ingress: [{ from: [{ podselector: {} }] }] } }], probes: [] }, 'policies[0]: strict decoding error: unknown field "spec.ingress[0].from[0].podselector"'],
];

for (const [name, input, message] of bad) {
  test(`refused: ${name}`, () => assert.equal(error(input), message));
}
