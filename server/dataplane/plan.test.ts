import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncLoop } from './plan.ts';

test('a sync loop coalesces a burst of requests and settles when every one has been through a run', async () => {
  let runs = 0;
  const loop = new SyncLoop(async () => {
    runs++;
    await new Promise((r) => setTimeout(r, 5));
  });
  loop.request();
  loop.request();
  loop.request();
  await loop.settled();
  assert.equal(runs, 1);
  loop.request();
  await loop.settled();
  assert.equal(runs, 2);
  loop.close();
});

test('waiting on a closed sync loop fails at once, also for a request made while a run was under way', async () => {
  let release!: () => void;
  const loop = new SyncLoop(() => new Promise<void>((r) => (release = r)));
  loop.request();
  await new Promise((r) => setImmediate(r));
  // a second request during the run, then the loop is closed before that run ends
  loop.request();
  const waiting = loop.settled();
  loop.close();
  await assert.rejects(waiting, /cluster runtime disposed/);
  release();
  await new Promise((r) => setImmediate(r));
  // a pod starting after its cluster went away must not wait for a run that will never come
  loop.request();
  await assert.rejects(loop.settled(), /cluster runtime disposed/);
});
