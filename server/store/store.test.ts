import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from './index.ts';
import { migrations } from './migrations.ts';

test('a reopened store keeps learners, sessions, progress, results and answers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-store-'));
  try {
    const file = join(dir, 'kubelab.db');
    let store = new Store(file);
    assert.equal(store.schemaVersion, migrations.length);
    const cls = store.createClass('Monday', 'example', false);
    assert.match(cls.code, /^[A-Z2-9]{6}$/);
    const learner = store.createLearner('Ada', cls.code);
    const token = store.createSession('learner', learner.id);
    store.saveProgress({ learnerId: learner.id, labId: 'example', currentStep: 'two', passedSteps: ['one'], hintsShown: { two: 1 } });
    store.recordCheck(learner.id, 'example', { stepId: 'one', outcome: 'passed', summary: 'ok', checks: [], at: 1 });
    store.recordAnswer(learner.id, 'example', 'q1', 'b', { correct: true, score: 1, explanation: 'yes' });
    store.close();

    store = new Store(file);
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.deepEqual(store.findSession(token, 60_000), { role: 'learner', learnerId: learner.id });
    assert.equal(store.findSession(token + 'x', 60_000), undefined);
    assert.equal(store.getProgress(learner.id, 'example').currentStep, 'two');
    assert.deepEqual(store.getProgress(learner.id, 'example').hintsShown, { two: 1 });
    assert.equal(store.lastCheck(learner.id, 'example')?.outcome, 'passed');
    assert.equal(store.latestAnswers(learner.id, 'example')[0].grade.correct, true);
    assert.equal(store.getClass(cls.code.toLowerCase())?.name, 'Monday');
    // the raw token is nowhere in the database
    const raw = store.db.prepare('SELECT token_hash FROM sessions').all() as Array<{ token_hash: string }>;
    assert.ok(raw.every((r) => r.token_hash !== token));
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an idle session expires', () => {
  const store = new Store(':memory:');
  const token = store.createSession('instructor');
  assert.equal(store.findSession(token, -1), undefined);
  assert.equal(store.findSession(token, 60_000), undefined, 'expired sessions are deleted');
  store.close();
});
