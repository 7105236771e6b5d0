import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from './clock.ts';
import { KindError } from './errors.ts';
import type { ClusterSource } from './pool.ts';
import { WarmPool } from './pool.ts';

interface Fake {
  id: number;
  dirty: boolean;
  broken?: boolean;
}

/** A cluster source whose builds finish when the test says so, recording what happened. */
class FakeSource implements ClusterSource<Fake> {
  next = 1;
  building = 0;
  peak = 0;
  failNext = 0;
  events: string[] = [];
  private waiters: Array<() => void> = [];
  manual = false;

  async build(signal: AbortSignal): Promise<Fake> {
    this.building++;
    this.peak = Math.max(this.peak, this.building);
    try {
      if (this.manual) await new Promise<void>((resolve, reject) => {
        this.waiters.push(resolve);
        signal.addEventListener('abort', () => reject(new KindError('aborted', 'stopped')), { once: true });
      });
      if (this.failNext > 0) {
        this.failNext--;
        this.events.push('build-failed');
        throw new KindError('create-failed', 'boom');
      }
      const c = { id: this.next++, dirty: false };
      this.events.push(`built ${c.id}`);
      return c;
    } finally {
      this.building--;
    }
  }
  finishOne(): void {
    this.waiters.shift()?.();
  }
  async reset(c: Fake): Promise<void> {
    if (c.broken) throw new Error('nodes NotReady');
    c.dirty = false;
    this.events.push(`reset ${c.id}`);
  }
  async destroy(c: Fake): Promise<void> {
    this.events.push(`destroyed ${c.id}`);
  }
  describe(c: Fake): string {
    return `c${c.id}`;
  }
}

const tick = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};
const quiet = () => {};

test('fill builds up to the pool size; a learner gets a warm cluster, reset, and a refill starts', async () => {
  const src = new FakeSource();
  const pool = new WarmPool(src, { size: 2, maxConcurrentBuilds: 2, clock: new ManualClock(), log: quiet });
  pool.fill();
  await pool.settled();
  assert.equal(pool.stats().idle, 2);
  const c = await pool.acquire();
  assert.equal(c.id, 1);
  assert.ok(src.events.includes('reset 1'), 'handed out only after a reset');
  await pool.settled();
  assert.deepEqual(pool.stats(), { idle: 2, building: 0, leased: 1, buildsStarted: 3, buildsFailed: 0, peakConcurrentBuilds: 2 });
  await pool.close();
});

test('with an empty pool a learner waits for a build of their own', async () => {
  const src = new FakeSource();
  const pool = new WarmPool(src, { size: 0, maxConcurrentBuilds: 1, clock: new ManualClock(), log: quiet });
  const c = await pool.acquire();
  assert.equal(c.id, 1);
  assert.equal(pool.stats().leased, 1);
  await pool.release(c, false);
  assert.deepEqual(src.events, ['built 1', 'destroyed 1']);
  await pool.close();
});

test('builds never exceed the concurrency bound, however many learners ask', async () => {
  const src = new FakeSource();
  src.manual = true;
  const pool = new WarmPool(src, { size: 1, maxConcurrentBuilds: 2, clock: new ManualClock(), log: quiet });
  pool.fill();
  const learners = [pool.acquire(), pool.acquire(), pool.acquire()];
  await tick();
  assert.equal(src.building, 2);
  for (let i = 0; i < 4; i++) {
    src.finishOne();
    await tick();
  }
  const got = await Promise.all(learners);
  assert.equal(new Set(got.map((c) => c.id)).size, 3);
  assert.equal(src.peak, 2);
  src.manual = false;
  src.finishOne();
  await pool.close();
});

test('a learner goes ahead of background refills waiting for the same slot', async () => {
  const src = new FakeSource();
  src.manual = true;
  const pool = new WarmPool(src, { size: 2, maxConcurrentBuilds: 1, clock: new ManualClock(), log: quiet });
  pool.fill(); // one background build runs, one waits
  await tick();
  const learner = pool.acquire();
  await tick();
  src.finishOne(); // the running background build finishes → it goes idle... but the learner already waits
  await tick();
  // the slot went to the learner, not to the second background build
  src.finishOne();
  await tick();
  const c = await learner;
  assert.equal(pool.stats().leased, 1);
  assert.ok(c.id === 2, `learner built its own (#2) while #1 went idle; got #${c.id}`);
  src.manual = false;
  src.finishOne();
  src.finishOne();
  await pool.close();
});

test('release with reuse resets the cluster and returns it to the pool; without, it is destroyed', async () => {
  const src = new FakeSource();
  const pool = new WarmPool(src, { size: 1, maxConcurrentBuilds: 1, clock: new ManualClock(), log: quiet });
  const a = await pool.acquire(); // built for the learner; a refill (#2) starts
  await pool.settled();
  const b = await pool.acquire(); // takes #2; a refill (#3) starts
  await pool.settled();
  const c = await pool.acquire(); // takes #3; a refill (#4) starts
  await pool.settled();
  assert.equal(pool.stats().idle, 1);
  a.dirty = true;
  await pool.release(a, true);
  assert.ok(src.events.includes(`destroyed ${a.id}`), 'pool already full: destroyed rather than kept');
  const d = await pool.acquire(); // takes #4; pool empty, refill #5 in flight
  b.dirty = true;
  await pool.release(b, true);
  assert.equal(b.dirty, false, 'reset on return');
  assert.ok(!src.events.includes(`destroyed ${b.id}`));
  await pool.settled();
  const again = await pool.acquire();
  assert.equal(again.id, b.id, 'the returned cluster is handed out next');
  for (const x of [c, d, again]) await pool.release(x, false);
  await pool.close();
});

test('a warm cluster that cannot be reset is destroyed and another is used', async () => {
  const src = new FakeSource();
  const pool = new WarmPool(src, { size: 1, maxConcurrentBuilds: 1, clock: new ManualClock(), log: quiet });
  pool.fill();
  await pool.settled();
  const broken = (pool as unknown as { idle: Fake[] }).idle[0]!;
  broken.broken = true;
  const c = await pool.acquire();
  assert.notEqual(c.id, broken.id);
  assert.ok(src.events.includes(`destroyed ${broken.id}`));
  await pool.close();
});

test('a failed background build is retried after a growing delay, on the clock', async () => {
  const src = new FakeSource();
  src.failNext = 2;
  const clock = new ManualClock(1000);
  const logs: string[] = [];
  const pool = new WarmPool(src, { size: 1, maxConcurrentBuilds: 1, clock, log: (_l, m) => logs.push(m), retryDelayMs: 1000 });
  pool.fill();
  for (let i = 0; i < 20 && pool.stats().idle === 0; i++) await pool.settled();
  assert.equal(pool.stats().idle, 1);
  assert.deepEqual(src.events, ['build-failed', 'build-failed', 'built 1']);
  assert.match(logs[0]!, /retrying in 1 s/);
  assert.match(logs[1]!, /retrying in 2 s/);
  assert.ok(clock.now() >= 1000 + 1000 + 2000, 'waited 1 s then 2 s of clock time');
  assert.equal(pool.stats().buildsFailed, 2);
  await pool.close();
});

test('close destroys idle clusters and stops builds in flight', async () => {
  const src = new FakeSource();
  const pool = new WarmPool(src, { size: 1, maxConcurrentBuilds: 2, clock: new ManualClock(), log: quiet });
  pool.fill();
  await pool.settled();
  src.manual = true;
  const learner = pool.acquire(); // takes the idle one
  const c = await learner;
  const building = pool.acquire();
  await tick();
  assert.equal(src.building >= 1, true);
  await pool.close();
  await assert.rejects(building, (err: unknown) => err instanceof KindError && (err.reason === 'aborted' || err.reason === 'closed'));
  await assert.rejects(pool.acquire(), /shutting down/);
  assert.deepEqual(pool.leasedClusters(), [c]);
});
