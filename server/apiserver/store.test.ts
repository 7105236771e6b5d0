// The object store: resourceVersions, frozen snapshots, ordering, and the bounded watch history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectStore, thaw } from './store.ts';
import type { KubeObject } from './runtime.ts';

const obj = (name: string, ns?: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, ...extra });

test('every change gets the next resourceVersion; stored objects are frozen snapshots', () => {
  const s = new ObjectStore();
  const a = s.create('configmaps', obj('a', 'x'));
  assert.equal(a.metadata.resourceVersion, '1');
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.metadata));
  assert.throws(() => {
    (a.metadata as Record<string, unknown>).name = 'b';
  });
  const next = thaw(a);
  next.data = { k: 'v' };
  const b = s.update('configmaps', next);
  assert.equal(b.metadata.resourceVersion, '2');
  assert.equal(a.data, undefined, 'the old snapshot is unchanged');
  const gone = s.delete('configmaps', 'x', 'a');
  assert.equal(gone?.metadata.resourceVersion, '3');
  assert.equal(s.get('configmaps', 'x', 'a'), undefined);
  assert.equal(s.resourceVersion, 3);
});

test('lists are ordered by namespace then name, and filter by namespace', () => {
  const s = new ObjectStore();
  for (const [n, ns] of [['b', 'y'], ['a', 'y'], ['c', 'x']]) s.create('configmaps', obj(n, ns));
  assert.deepEqual(s.list('configmaps').map((o) => `${o.metadata.namespace}/${o.metadata.name}`), ['x/c', 'y/a', 'y/b']);
  assert.deepEqual(s.list('configmaps', 'y').map((o) => o.metadata.name), ['a', 'b']);
  assert.deepEqual(s.list('pods'), []);
});

test('history replays changes after a resourceVersion, and expires once evicted', () => {
  const s = new ObjectStore(3);
  for (const n of ['a', 'b', 'c']) s.create('configmaps', obj(n, 'x'));
  const r1 = s.eventsSince(1);
  assert.ok('events' in r1);
  assert.deepEqual(r1.events.map((e) => [e.rv, e.object.metadata.name]), [[2, 'b'], [3, 'c']]);
  assert.ok('events' in s.eventsSince(0), 'nothing evicted yet: any version is fine');
  s.create('configmaps', obj('d', 'x'));
  s.delete('configmaps', 'x', 'a');
  // history now holds rv 3,4,5; rv 1 and 2 are gone
  assert.deepEqual(s.eventsSince(1), { expired: true, oldest: 2 });
  const r2 = s.eventsSince(2);
  assert.ok('events' in r2);
  assert.deepEqual(r2.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED c', 'ADDED d', 'DELETED a']);
  assert.equal(r2.events[2].previous?.metadata.name, 'a');
});

test('subscribers see each committed change once, after it is stored', () => {
  const s = new ObjectStore();
  const seen: string[] = [];
  const stop = s.subscribe((e) => seen.push(`${e.type} ${e.object.metadata.name} ${s.get('configmaps', 'x', e.object.metadata.name) ? 'present' : 'absent'}`));
  s.create('configmaps', obj('a', 'x'));
  s.delete('configmaps', 'x', 'a');
  stop();
  s.create('configmaps', obj('b', 'x'));
  assert.deepEqual(seen, ['ADDED a present', 'DELETED a absent']);
});
