// The browser UI end to end against the web server with a test lab and backend (the shell is
// real; the cluster is not): join, terminal, checks with explanations, fast-forward, questions,
// the instructor's live class view, and a reload that keeps the same shell.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../http/fixtures.ts';
import { browserSkipReason, launch, typeInTerminal, waitForTerminal, terminalText } from './browser.ts';

const skip = browserSkipReason();
if (skip) console.log(`# skipping browser tests: ${skip}`);

let harness: Harness | undefined;
after(async () => {
  await harness?.close();
});

test('a learner works through a step and the instructor watches', { skip, timeout: 120_000 }, async () => {
  harness = await startHarness();
  const h = harness;
  const browser = await launch();
  try {
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/favicon/.test(m.text())) errors.push(m.text());
    });
    await page.goto(h.url + '/');
    await page.locator('#join-name').fill('Grace');
    await page.locator('[data-lab="demo"] button').click();
    await page.waitForURL(/#\/lab\/demo/);
    await page.locator('#env-status.ready').waitFor({ timeout: 30_000 });
    await waitForTerminal(page, /learner@kubelab/);
    await typeInTerminal(page, 'echo from-the-browser-$((6*7))');
    await waitForTerminal(page, /from-the-browser-42/);
    const pid = await page.locator('#terminal').getAttribute('data-pid');
    assert.ok(pid && Number(pid) > 0);

    // "run in terminal" on a code block types it into the shell
    await page.locator('.step-text pre .run').click();
    await waitForTerminal(page, /kubectl get ns/);

    // a failing check shows the probe and the explanation
    await page.locator('#check').click();
    await page.locator('.result.failed').waitFor();
    const failed = await page.locator('.result.failed').innerText();
    assert.match(failed, /web\/frontend → api\.payments:80/);
    assert.match(failed, /expected timeout, observed connected/);
    assert.match(failed, /isolated for ingress/);

    // hints one at a time
    await page.locator('#hint').click();
    await page.locator('.hints li').first().waitFor();
    assert.equal(await page.locator('.hints li').count(), 1);

    // fast-forward, check again: passes and offers the next step
    await page.locator('#solve').click();
    await page.locator('.note', { hasText: 'Solution applied' }).waitFor();
    await page.locator('#check').click();
    await page.locator('.result.passed').waitFor();
    await page.locator('button.next').waitFor();

    // a question
    await page.locator('[data-tab="questions"]').click();
    await page.locator('[data-question="q1"] input[value="b"]').check();
    await page.locator('[data-question="q1"] button.primary').click();
    await page.locator('[data-question="q1"] .grade.correct').waitFor();

    // the instructor's view shows the learner and updates live
    const tpage = await (await browser.newContext()).newPage();
    await tpage.goto(h.url + '/#/instructor');
    await tpage.locator('#instructor-token').fill('teacher-secret-token');
    await tpage.locator('form.signin button').click();
    await tpage.locator('#learners tr[data-learner]').first().waitFor({ timeout: 10_000 });
    assert.match(await tpage.locator('#learners').innerText(), /Grace/);
    assert.match(await tpage.locator('#heatmap').innerText(), /frontend cannot reach the API/);
    // a new check by the learner shows up without the instructor reloading
    const before = await tpage.locator('#learners').innerText();
    assert.match(before, /one: passed/);
    await page.locator('[data-tab="lesson"]').click();
    await page.locator('button.next').click();
    await page.locator('#check').click();
    await page.locator('.result.failed').waitFor();
    await tpage.locator('#learners td', { hasText: 'two: failed' }).waitFor({ timeout: 10_000 });

    // reload: the same shell with its scrollback
    await page.reload();
    await page.locator('.who', { hasText: 'Grace' }).waitFor();
    await page.locator('#env-status.ready').waitFor({ timeout: 30_000 });
    await waitForTerminal(page, /from-the-browser-42/);
    assert.equal(await page.locator('#terminal').getAttribute('data-pid'), pid);
    assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
    void terminalText;
  } finally {
    await browser.close();
  }
});
