import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadCoursework, toStepResultView } from './coursework.ts';
import { loadLabs } from '../labs/loader.ts';
import { answerKey } from '../grader/quiz.ts';

const labsRoot = fileURLToPath(new URL('../../labs', import.meta.url));

test('the shipped labs load into the catalogue, render, and grade answers', async () => {
  const { coursework } = await loadCoursework(labsRoot);
  const labs = coursework.list();
  assert.ok(labs.length >= 1, 'at least one lab ships');
  assert.deepEqual(coursework.problems(), []);
  const lab = labs[0];
  assert.equal(lab.summary.steps, lab.steps.length);
  const html = await coursework.renderStep(lab.summary.id, lab.steps[0].id, { learner: '<b>Ada</b>', server: 'https://127.0.0.1:6443' });
  assert.ok(!html.includes('<b>Ada</b>'), 'template values are escaped');
  assert.ok(!/<script/i.test(html));
  const model = loadLabs(labsRoot).labs.find((l) => l.id === lab.summary.id)!;
  for (const q of model.questions) {
    for (const { answer, correct } of answerKey(q)) {
      const g = await coursework.gradeAnswer(lab.summary.id, q.id, answer);
      assert.equal(g.correct, correct, `question ${q.id} answer ${JSON.stringify(answer).slice(0, 60)}`);
    }
  }
  await assert.rejects(coursework.gradeAnswer(lab.summary.id, 'nope', 'x'), /no question/);
  assert.equal(coursework.get('no-such-lab'), undefined);
});

test('grader results become views with the probe split into target and port', () => {
  const v = toStepResultView({
    labId: 'l',
    durationMs: 5,
    stepId: 's',
    outcome: 'failed',
    summary: 'One check failed.',
    diagnosis: 'You allowed the namespace, not the pod.',
    at: 1,
    checks: [
      { id: 'c', title: 'frontend is blocked', kind: 'probe', status: 'fail', message: 'frontend reached payment-api', probe: { source: 'production/frontend', target: 'payment-api-svc.payments.svc.cluster.local:80', port: 80, protocol: 'TCP', expected: 'timeout', observed: 'connected', explanation: { verdict: 'allow', summary: 'allowed: allow-prod ingress[0] from[0] selects production' }, attempts: 1, durationMs: 3 } },
    ],
  });
  assert.equal(v.checks[0].probe?.target, 'payment-api-svc.payments.svc.cluster.local');
  assert.equal(v.checks[0].probe?.port, 80);
  assert.match(v.checks[0].explanation, /frontend reached payment-api — allowed: allow-prod/);
  assert.match(v.summary, /namespace, not the pod/);
});

test("a probe's explanation is not repeated when the check's message already says it", () => {
  const summary = 'allowed: production/frontend is not isolated for egress';
  const v = toStepResultView({
    labId: 'l', durationMs: 5, stepId: 's', outcome: 'failed', summary: 'One check failed.', at: 1,
    checks: [
      { id: 'c', title: 'frontend is blocked', kind: 'probe', status: 'fail', message: `this traffic must stay blocked, but frontend reached api: ${summary}`, probe: { source: 'production/frontend', target: 'api:80', port: 80, protocol: 'TCP', expected: 'timeout', observed: 'connected', explanation: { verdict: 'allow', summary }, attempts: 1, durationMs: 3 } },
    ],
  });
  assert.equal(v.checks[0].explanation, `this traffic must stay blocked, but frontend reached api: ${summary}`);
});
