// Request classification, content negotiation and watch event transitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoveryFormat } from './discovery.ts';
import { parseRequestInfo, responseForm } from './request.ts';
import { compileFieldSelector, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { StoredEvent } from './store.ts';
import { eventFor } from './watch.ts';
import type { KubeObject } from './runtime.ts';

const q = (s = '') => new URLSearchParams(s);

test('paths become resource requests like kube-apiserver classifies them', () => {
  assert.deepEqual(parseRequestInfo('GET', '/api/v1/namespaces/default/pods', q()), { kind: 'resource', verb: 'list', group: '', version: 'v1', resource: 'pods', namespace: 'default', groupVersionPath: 'api/v1' });
  assert.equal((parseRequestInfo('GET', '/api/v1/pods', q('watch=true')) as { verb: string }).verb, 'watch');
  assert.deepEqual(parseRequestInfo('GET', '/api/v1/namespaces/foo', q()), { kind: 'resource', verb: 'get', group: '', version: 'v1', resource: 'namespaces', namespace: 'foo', name: 'foo', groupVersionPath: 'api/v1' });
  assert.deepEqual(parseRequestInfo('PUT', '/api/v1/namespaces/foo/status', q()), { kind: 'resource', verb: 'update', group: '', version: 'v1', resource: 'namespaces', namespace: 'foo', name: 'foo', subresource: 'status', groupVersionPath: 'api/v1' });
  assert.deepEqual(parseRequestInfo('POST', '/api/v1/namespaces/d/pods/p/exec', q()), { kind: 'resource', verb: 'create', group: '', version: 'v1', resource: 'pods', namespace: 'd', name: 'p', subresource: 'exec', groupVersionPath: 'api/v1' });
  assert.deepEqual(parseRequestInfo('DELETE', '/apis/networking.k8s.io/v1/namespaces/d/networkpolicies', q()), {
    kind: 'resource', verb: 'deletecollection', group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies', namespace: 'd', groupVersionPath: 'apis/networking.k8s.io/v1',
  });
  assert.equal(parseRequestInfo('GET', '/apis/apps/v1', q()).kind, 'nonresource');
  assert.equal(parseRequestInfo('GET', '/version', q()).kind, 'nonresource');
});

test('discovery format follows the first acceptable media type', () => {
  const kubectl132 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  assert.equal(discoveryFormat(kubectl132), 'v2');
  assert.equal(discoveryFormat('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'), 'v2beta1');
  assert.equal(discoveryFormat('application/json, */*'), 'legacy');
  assert.equal(discoveryFormat(undefined), 'legacy');
});

test('tables are served when asked for; protobuf-first clients get JSON', () => {
  assert.deepEqual(responseForm('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'), { as: 'table', apiVersion: 'meta.k8s.io/v1' });
  assert.deepEqual(responseForm('application/vnd.kubernetes.protobuf,application/json'), { as: 'object' });
  assert.deepEqual(responseForm('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io'), { as: 'metadata', apiVersion: 'meta.k8s.io/v1' });
  assert.throws(() => responseForm('text/html'), /only the following media types are accepted/);
});

test('a filtered watch sees objects enter and leave its selector as ADDED and DELETED', () => {
  const pod = (labels: Record<string, string>): KubeObject => ({ metadata: { name: 'p', namespace: 'd', labels } });
  const filter = { namespace: 'd', labels: parseLabelSelector('app=web'), fields: compileFieldSelector('pods', parseFieldSelector('')) };
  const ev = (type: StoredEvent['type'], object: KubeObject, previous?: KubeObject): StoredEvent => ({ rv: 1, type, resource: 'pods', object, previous });
  assert.equal(eventFor(ev('ADDED', pod({ app: 'web' })), filter)?.type, 'ADDED');
  assert.equal(eventFor(ev('ADDED', pod({ app: 'db' })), filter), undefined);
  assert.equal(eventFor(ev('MODIFIED', pod({ app: 'web', x: '1' }), pod({ app: 'web' })), filter)?.type, 'MODIFIED');
  assert.equal(eventFor(ev('MODIFIED', pod({ app: 'db' }), pod({ app: 'web' })), filter)?.type, 'DELETED');
  assert.equal(eventFor(ev('MODIFIED', pod({ app: 'web' }), pod({ app: 'db' })), filter)?.type, 'ADDED');
  assert.equal(eventFor(ev('MODIFIED', pod({ app: 'db' }), pod({ app: 'db' })), filter), undefined);
  assert.equal(eventFor(ev('DELETED', pod({ app: 'web' }), pod({ app: 'web' })), filter)?.type, 'DELETED');
  const other = { metadata: { name: 'p', namespace: 'e', labels: { app: 'web' } } };
  assert.equal(eventFor(ev('ADDED', other), filter), undefined);
});

test('unknown fields that pass validation are dropped like a typed decode drops them', async () => {
  const { checkDecoded, pruneFields, fieldPathSegments } = await import('./body.ts');
  const { mustResource } = await import('./resources.ts');
  assert.deepEqual(fieldPathSegments('spec.containers[0].imagee'), ['spec', 'containers', 0, 'imagee']);
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x', imagee: 'y' }] }, extra: 1 };
  assert.throws(() => checkDecoded(mustResource('pods'), structuredClone(pod), 'Strict'), /strict decoding error: unknown field "extra", unknown field "spec\.containers\[0\]\.imagee"|strict decoding error: unknown field "spec\.containers\[0\]\.imagee", unknown field "extra"/);
  const warned = structuredClone(pod);
  assert.equal(checkDecoded(mustResource('pods'), warned, 'Warn').length, 2);
  assert.deepEqual(warned, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  const ignored = structuredClone(pod);
  assert.deepEqual(checkDecoded(mustResource('pods'), ignored, 'Ignore'), []);
  assert.equal('extra' in ignored, false);
  const o = { a: { b: [{ c: 1, d: 2 }] } };
  pruneFields(o, ['a.b[0].d', 'a.missing.x']);
  assert.deepEqual(o, { a: { b: [{ c: 1 }] } });
});
