import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GradingQueue } from './grading-queue.ts';
import { HttpError } from './errors.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('gradings run a few at a time, the rest in the order they came', async () => {
  const q = new GradingQueue({ concurrency: 2, maxWaitMs: 10_000 });
  const gates = Array.from({ length: 5 }, deferred);
  const started: number[] = [];
  let peak = 0;
  const runs = gates.map((g, i) =>
    q.run(async () => {
      started.push(i);
      peak = Math.max(peak, q.load.running);
      await g.promise;
      return i;
    }),
  );
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(q.load, { running: 2, waiting: 3 });
  gates[1].resolve();
  await runs[1];
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1, 2]);
  for (const g of gates) g.resolve();
  assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4]);
  assert.equal(peak, 2);
  assert.deepEqual(q.load, { running: 0, waiting: 0 });
});

test('a grading that fails frees its slot; one that waits too long is a 503 with Retry-After', async () => {
  const q = new GradingQueue({ concurrency: 1, maxWaitMs: 50 });
  await assert.rejects(q.run(async () => Promise.reject(new Error('boom'))), /boom/);
  const gate = deferred();
  const first = q.run(() => gate.promise);
  const late = q.run(async () => 'never');
  await assert.rejects(late, (err: unknown) => err instanceof HttpError && err.status === 503 && err.retryAfter === 10 && /could not start within 1 s/.test(err.message));
  assert.deepEqual(q.load, { running: 1, waiting: 0 });
  gate.resolve();
  await first;
  assert.equal(await q.run(async () => 'next'), 'next');
  assert.deepEqual(q.load, { running: 0, waiting: 0 });
});
