import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Semaphore } from './semaphore.ts';
import { KindError } from './errors.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

test('never more holders than the limit; slots pass on in order', async () => {
  const s = new Semaphore(2);
  const order: string[] = [];
  const a = await s.acquire();
  const b = await s.acquire();
  const c = s.acquire().then((rel) => (order.push('c'), rel));
  const d = s.acquire().then((rel) => (order.push('d'), rel));
  await tick();
  assert.equal(s.inUse, 2);
  assert.equal(s.waiting, 2);
  a();
  a(); // a second release of the same slot is ignored
  await tick();
  assert.deepEqual(order, ['c']);
  assert.equal(s.inUse, 2);
  b();
  (await c)();
  (await d)();
  assert.equal(s.inUse, 0);
  assert.equal(s.peak, 2);
});

test('a learner waiting goes ahead of background work queued earlier', async () => {
  const s = new Semaphore(1);
  const first = await s.acquire('background');
  const order: string[] = [];
  const bg = s.acquire('background').then((r) => (order.push('background'), r));
  const learner = s.acquire('learner').then((r) => (order.push('learner'), r));
  first();
  (await learner)();
  (await bg)();
  assert.deepEqual(order, ['learner', 'background']);
});

test('an aborted wait leaves the queue and rejects as aborted', async () => {
  const s = new Semaphore(1);
  const held = await s.acquire();
  const ac = new AbortController();
  const waiting = s.acquire('learner', ac.signal);
  ac.abort(new Error('learner left'));
  await assert.rejects(waiting, (err: unknown) => err instanceof KindError && err.reason === 'aborted' && /learner left/.test(err.message));
  assert.equal(s.waiting, 0);
  held();
  assert.equal(s.inUse, 0);
});

test('the limit must be a whole number of at least one', () => {
  assert.throws(() => new Semaphore(0), RangeError);
  assert.throws(() => new Semaphore(1.5), RangeError);
});
