import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { jsonMergePatch, jsonPatch, PatchError, strategicMergePatch } from './smp.ts';

type Obj = Record<string, any>;
const recorded = (name: string) => JSON.parse(readFileSync(new URL(`./testdata/apply-${name}.json`, import.meta.url), 'utf8')) as { gvk: { group: string; version: string; kind: string }; live: Obj; patch: Obj };

const POD = { group: '', version: 'v1', kind: 'Pod' };
const DEPLOY = { group: 'apps', version: 'v1', kind: 'Deployment' };
const NODE = { group: '', version: 'v1', kind: 'Node' };

// Patches recorded from real `kubectl apply` (test/codecs/capture.ts). After each, kubectl
// applying the same manifest again must find nothing to change, so the result has to equal
// what the manifest says, with the server's own fields kept.
test('kubectl apply: deployment port change, env reorder, label removal', () => {
  const { gvk, live, patch } = recorded('deployment');
  const out = strategicMergePatch(live, patch, gvk) as Obj;
  assert.deepEqual(out.metadata.labels, { app: 'web' });
  assert.equal(out.spec.replicas, 3);
  assert.equal(out.metadata.uid, live.metadata.uid);
  const [nginx, sidecar] = out.spec.template.spec.containers;
  assert.deepEqual(nginx, { name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 8080 }], env: [{ name: 'B', value: '3' }, { name: 'A', value: '1' }] });
  assert.deepEqual(sidecar, { command: ['sleep', 'infinity'], image: 'busybox', name: 'sidecar' });
  assert.match(out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], /"replicas":3/);
  assert.equal(live.spec.replicas, 2, 'the original is not mutated');
});

test('kubectl apply: network policy rules are replaced whole (no merge strategy)', () => {
  const { gvk, live, patch } = recorded('networkpolicy');
  const out = strategicMergePatch(live, patch, gvk) as Obj;
  assert.deepEqual(out.spec, {
    podSelector: { matchLabels: { app: 'api' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 9090 }] }],
  });
});

test('kubectl apply: service port removed by merge key, selector merged', () => {
  const { gvk, live, patch } = recorded('service');
  const out = strategicMergePatch(live, patch, gvk) as Obj;
  assert.deepEqual(out.spec.ports, [{ name: 'http', port: 80, targetPort: 8081 }]);
  assert.deepEqual(out.spec.selector, { app: 'api', tier: 'back' });
});

const pod = (containers: Obj[], extra: Obj = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: '1', b: '2' } }, spec: { containers, ...extra } });

const cases: Array<[string, Obj, Obj, (out: Obj) => void]> = [
  ['null deletes a key', pod([]), { metadata: { labels: { a: null } } }, (o) => assert.deepEqual(o.metadata.labels, { b: '2' })],
  ['containers merge by name', pod([{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }]), { spec: { containers: [{ name: 'b', image: 'z' }] } }, (o) => assert.deepEqual(o.spec.containers, [{ name: 'a', image: 'x' }, { name: 'b', image: 'z' }])],
  ['new container is appended', pod([{ name: 'a', image: 'x' }]), { spec: { containers: [{ name: 'c', image: 'q' }] } }, (o) => assert.deepEqual(o.spec.containers.map((c: Obj) => c.name), ['a', 'c'])],
  ['$patch: delete removes by merge key', pod([{ name: 'a' }, { name: 'b' }]), { spec: { containers: [{ name: 'a', $patch: 'delete' }] } }, (o) => assert.deepEqual(o.spec.containers, [{ name: 'b' }])],
  ['$patch: replace replaces the list', pod([{ name: 'a' }, { name: 'b' }]), { spec: { containers: [{ name: 'z' }, { $patch: 'replace' }] } }, (o) => assert.deepEqual(o.spec.containers, [{ name: 'z' }])],
  ['$patch: replace on a map', pod([{ name: 'a', resources: { limits: { cpu: '1' }, requests: { cpu: '1' } } }]), { spec: { containers: [{ name: 'a', resources: { $patch: 'replace', limits: { cpu: '2' } } }] } }, (o) => assert.deepEqual(o.spec.containers[0].resources, { limits: { cpu: '2' } })],
  ['$patch: delete on a map', pod([], { securityContext: { runAsUser: 1 } }), { spec: { securityContext: { $patch: 'delete' } } }, (o) => assert.deepEqual(o.spec.securityContext, {})],
  ['primitive lists without strategy are replaced', pod([{ name: 'a', args: ['1', '2'] }]), { spec: { containers: [{ name: 'a', args: ['3'] }] } }, (o) => assert.deepEqual(o.spec.containers[0].args, ['3'])],
  ['ports merge by containerPort', pod([{ name: 'a', ports: [{ containerPort: 80, name: 'http' }] }]), { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443 }] }] } }, (o) => assert.deepEqual(o.spec.containers[0].ports, [{ containerPort: 80, name: 'http', protocol: 'TCP' }, { containerPort: 443 }])],
  ['volumes keep their retainKeys', pod([], { volumes: [{ name: 'v', emptyDir: {} }] }), { spec: { volumes: [{ name: 'v', $retainKeys: ['name', 'configMap'], configMap: { name: 'cm' } }] } }, (o) => assert.deepEqual(o.spec.volumes, [{ name: 'v', configMap: { name: 'cm' } }])],
  ['$setElementOrder orders merged items', pod([{ name: 'a' }, { name: 'b' }, { name: 'c' }]), { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'a' }, { name: 'b' }], containers: [{ name: 'c', image: 'n' }] } }, (o) => assert.deepEqual(o.spec.containers, [{ name: 'c', image: 'n' }, { name: 'a' }, { name: 'b' }])],
  ['new keys drop nulls and directives', pod([]), { spec: { nodeSelector: { a: 'x', b: null } } }, (o) => assert.deepEqual(o.spec.nodeSelector, { a: 'x' })],
];
for (const [name, original, patch, check] of cases) {
  test(`strategic merge: ${name}`, () => check(strategicMergePatch(original, patch, POD) as Obj));
}

test('strategic merge: finalizers merge as a set, $deleteFromPrimitiveList removes', () => {
  const original = { metadata: { name: 'n', finalizers: ['a', 'b'] } };
  const added = strategicMergePatch(original, { metadata: { finalizers: ['b', 'c'] } }, POD) as Obj;
  assert.deepEqual(added.metadata.finalizers, ['a', 'b', 'c']);
  const removed = strategicMergePatch(original, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, POD) as Obj;
  assert.deepEqual(removed.metadata.finalizers, ['b']);
});

test('strategic merge: deployment strategy retains only listed keys', () => {
  const original = { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
  const out = strategicMergePatch(original, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, DEPLOY) as Obj;
  assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
});

test('strategic merge: node addresses merge by type', () => {
  const original = { status: { addresses: [{ type: 'InternalIP', address: '1' }, { type: 'Hostname', address: 'h' }] } };
  const out = strategicMergePatch(original, { status: { addresses: [{ type: 'InternalIP', address: '2' }] } }, NODE) as Obj;
  assert.deepEqual(out.status.addresses, [{ type: 'InternalIP', address: '2' }, { type: 'Hostname', address: 'h' }]);
});

const errors: Array<[string, Obj, RegExp]> = [
  ['merge list element without its key', { spec: { containers: [{ image: 'x' }] } }, /does not contain declared merge key: name/],
  ['unknown map directive', { spec: { $patch: 'merge' } }, /unknown patch type: merge in map/],
  ['$patch: merge in a list', { spec: { containers: [{ name: 'a', $patch: 'merge' }] } }, /merging lists cannot yet be specified/],
  ['retainKeys that is not a list', { spec: { $retainKeys: 'x' } }, /invalid patch format of retainKeys/],
  ['a key outside retainKeys', { spec: { $retainKeys: ['a'], b: 1 } }, /doesn't match retainKeys/],
  ['setElementOrder that is not a list', { spec: { '$setElementOrder/containers': {} } }, /invalid patch format of setElementOrder list/],
];
for (const [name, patch, message] of errors) {
  test(`strategic merge refuses ${name}`, () => {
    const original = pod([{ name: 'a' }]);
    assert.throws(() => strategicMergePatch(original, patch, POD), (e: unknown) => e instanceof PatchError && message.test((e as Error).message));
  });
}

test('strategic merge refuses kinds without a schema', () => {
  assert.throws(() => strategicMergePatch({}, {}, { group: 'batch', version: 'v1', kind: 'Job' }), PatchError);
});

// RFC 7386 appendix A examples.
const mergeCases: Array<[unknown, unknown, unknown]> = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];
mergeCases.forEach(([original, patch, expected], i) => {
  test(`json merge patch: RFC 7386 example ${i + 1}`, () => assert.deepEqual(jsonMergePatch(original as object, patch as object), expected));
});

test('json merge patch: kubectl label removal', () => {
  const out = jsonMergePatch({ metadata: { labels: { env: 'dev', app: 'x' } } }, { metadata: { labels: { env: null } } }) as Obj;
  assert.deepEqual(out.metadata.labels, { app: 'x' });
});

// RFC 6902 section A examples.
const patchCases: Array<[string, unknown, unknown, unknown]> = [
  ['add an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
  ['add an array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
  ['remove an object member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
  ['remove an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
  ['replace a value', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
  ['move a value', { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } }, [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }], { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } }],
  ['move an array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
  ['test then add', { baz: 'qux', foo: ['a', 2, 'c'] }, [{ op: 'test', path: '/baz', value: 'qux' }, { op: 'test', path: '/foo/1', value: 2 }], { baz: 'qux', foo: ['a', 2, 'c'] }],
  ['add a nested member', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
  ['append with -', { foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], { foo: ['bar', ['abc', 'def']] }],
  ['escaped pointer (kubectl label with a slash)', { metadata: { labels: { 'app.kubernetes.io/name': 'x', 'a~b': 'y' } } }, [{ op: 'remove', path: '/metadata/labels/app.kubernetes.io~1name' }, { op: 'replace', path: '/metadata/labels/a~0b', value: 'z' }], { metadata: { labels: { 'a~b': 'z' } } }],
  ['copy', { a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }], { a: { b: 1 }, c: { b: 1 } }],
];
for (const [name, doc, ops, expected] of patchCases) {
  test(`json patch: ${name}`, () => assert.deepEqual(jsonPatch(doc as object, ops), expected));
}

const patchErrors: Array<[string, unknown, unknown, RegExp]> = [
  ['test failure', { baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }], /testing value \/baz failed/],
  ['remove of a missing key', { a: 1 }, [{ op: 'remove', path: '/b' }], /remove operation does not apply: doc is missing path: "\/b"/],
  ['add under a missing parent', { a: 1 }, [{ op: 'add', path: '/x/y', value: 1 }], /add operation does not apply/],
  ['index out of range', { a: [1] }, [{ op: 'add', path: '/a/5', value: 1 }], /index out of range/],
  ['unknown op', { a: 1 }, [{ op: 'frob', path: '/a' }], /Unexpected kind: frob/],
  ['not a list', { a: 1 }, { op: 'add' }, /cannot unmarshal object/],
  ['move into its own child', { a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }], /"from" is a parent of "path"/],
];
for (const [name, doc, ops, message] of patchErrors) {
  test(`json patch refuses ${name}`, () => {
    assert.throws(() => jsonPatch(doc as object, ops), (e: unknown) => e instanceof PatchError && message.test((e as Error).message));
  });
}

test('json patch: a failed op leaves the original untouched', () => {
  const doc = { a: 1 };
  assert.throws(() => jsonPatch(doc, [{ op: 'replace', path: '/a', value: 2 }, { op: 'remove', path: '/zz' }]));
  assert.deepEqual(doc, { a: 1 });
});
