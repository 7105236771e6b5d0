// An empty answer is refused with the field named, not graded: grading it would show the
// explanation (and so the answer) to a learner who never tried.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, call, join_, type Harness } from './fixtures.ts';
import type { ApiError, GradeView } from '../../shared/api.ts';

let h: Harness | undefined;
after(async () => {
  await h?.close();
});

test('an empty answer is refused, a real one graded', async () => {
  const harness = await startHarness();
  h = harness;
  const cookie = await join_(harness);
  for (const answer of ['', '   ']) {
    const r = await call<ApiError>(harness, 'POST', '/api/labs/demo/questions/q1', { cookie, body: { answer } });
    assert.equal(r.status, 400, JSON.stringify(answer));
    assert.deepEqual(r.body, { error: 'answer: pick one of the options first', field: 'answer' });
  }
  const ok = await call<GradeView>(harness, 'POST', '/api/labs/demo/questions/q1', { cookie, body: { answer: 'b' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.correct, true);
});
