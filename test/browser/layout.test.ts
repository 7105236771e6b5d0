// The lab page's layout in chromium: the window never scrolls, the lesson pane scrolls on its
// own under a step bar that stays, the header and the terminal stay in place and the terminal
// fills its pane (and the shell hears the new size) at 1280x800 and in a narrow 800x900 window.
// Also: the provisioning screen covers only the terminal side, Extend says why when idle, and a
// learner can sign out.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startHarness, testBackend, testCoursework, type Harness } from '../http/fixtures.ts';
import { browserSkipReason, launch, typeInTerminal, waitForTerminal } from './browser.ts';

const skip = browserSkipReason();
if (skip) console.log(`# skipping browser tests: ${skip}`);

let harness: Harness | undefined;
after(async () => {
  await harness?.close();
});

interface Box {
  top: number;
  bottom: number;
  left: number;
  right: number;
  height: number;
  width: number;
}

async function box(page: Page, selector: string): Promise<Box> {
  const b = await page.locator(selector).first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height, width: r.width };
  });
  return b;
}

/** What the page looks like now, for the geometry checks. */
async function layout(page: Page) {
  return page.evaluate(() => {
    const left = document.querySelector('.left')!;
    const rows = document.querySelectorAll('#terminal .xterm-rows > div').length;
    return {
      windowScrolls: document.scrollingElement!.scrollHeight > window.innerHeight + 1,
      innerHeight: window.innerHeight,
      innerWidth: window.innerWidth,
      lessonScrollable: left.scrollHeight > left.clientHeight + 50,
      lessonScrollTop: left.scrollTop,
      rows,
    };
  });
}

test('only the lesson scrolls; header, step bar and terminal stay; the terminal fills its pane', { skip, timeout: 120_000 }, async () => {
  // a long step, as real steps are
  const coursework = testCoursework();
  const long = Array.from({ length: 60 }, (_, i) => `<p>Paragraph ${i + 1} of a long step about NetworkPolicy.</p>`).join('');
  coursework.renderStep = async (_lab, stepId) => `<p>Start of ${stepId}.</p>${long}<pre data-run="true"><code>kubectl get ns</code></pre><p id="end-of-text">End.</p>`;
  // provisioning waits until the test lets it go, so the page can be seen while it starts
  const backend = testBackend();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const provision = backend.provision.bind(backend);
  backend.provision = async (req) => {
    await gate;
    return provision(req);
  };
  harness = await startHarness({ coursework, backend, limits: { ttlMs: 5 * 60_000, activeWithinMs: 2000 } });
  const h = harness;
  const browser = await launch();
  try {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(h.url + '/');
    await page.locator('#join-name').fill('Grace');
    await page.locator('[data-lab="demo"] button').click();
    await page.locator('#env-status.provisioning').waitFor();
    await page.locator('.step-text').waitFor();

    // while it starts: the status is a small badge and the overlay covers the terminal side only
    const badge = await box(page, '#env-status');
    assert.ok(badge.height < 40 && badge.width < 200, `the status badge stays a badge: ${JSON.stringify(badge)}`);
    const overlay = await box(page, '#provisioning');
    const right = await box(page, '.right');
    assert.deepEqual([overlay.left, overlay.top, overlay.right, overlay.bottom].map(Math.round), [right.left, right.top, right.right, right.bottom].map(Math.round));
    const lessonCenter = await box(page, '.step-text');
    const hit = await page.evaluate(({ x, y }) => document.elementFromPoint(x, y)?.closest('.left') !== null, { x: lessonCenter.left + 20, y: lessonCenter.top + 10 });
    assert.ok(hit, 'the lesson is readable while the cluster starts');
    release();

    await page.locator('#env-status.ready').waitFor({ timeout: 30_000 });
    await waitForTerminal(page, /learner@kubelab/);

    const topbar = await box(page, '.topbar');
    const header = await box(page, '.lab-header');
    const before = await layout(page);
    assert.equal(before.windowScrolls, false, 'the window itself does not scroll');
    assert.ok(before.lessonScrollable, 'the long lesson scrolls inside its pane');

    // scroll the lesson to its end: nothing else moves
    await page.locator('#end-of-text').scrollIntoViewIfNeeded();
    const after = await layout(page);
    assert.ok(after.lessonScrollTop > 500, `the lesson scrolled (${after.lessonScrollTop})`);
    assert.deepEqual(await box(page, '.topbar'), topbar);
    assert.deepEqual(await box(page, '.lab-header'), header);
    const left = await box(page, '.left');
    const nav = await box(page, '.steps-nav');
    assert.ok(Math.abs(nav.top - left.top) < 1, `the step bar stays at the top of the lesson pane (${nav.top} vs ${left.top})`);
    assert.ok(await page.locator('.steps-nav button', { hasText: 'Step one' }).isVisible());
    await checkTerminalFills(page, 'wide');

    // narrow window: lesson above, terminal below, both in the window; the shell gets the new size
    await page.setViewportSize({ width: 800, height: 900 });
    await page.waitForFunction((rows) => document.querySelectorAll('#terminal .xterm-rows > div').length !== rows, before.rows, { timeout: 30_000 });
    const narrow = await layout(page);
    assert.equal(narrow.windowScrolls, false);
    assert.ok(narrow.lessonScrollable);
    const lesson = await box(page, '.left');
    const term = await box(page, '.right');
    assert.ok(lesson.bottom <= term.top + 1 && term.bottom <= 900 + 1, `stacked: lesson ${JSON.stringify(lesson)} terminal ${JSON.stringify(term)}`);
    assert.ok(term.height > 250, `the terminal keeps a usable height (${term.height})`);
    await checkTerminalFills(page, 'narrow');
    await typeInTerminal(page, 'echo size=$(stty size | tr " " x)');
    const text = await waitForTerminal(page, /size=\d+x\d+/);
    const [rows, cols] = /size=(\d+)x(\d+)/.exec(text)!.slice(1).map(Number);
    assert.equal(rows, narrow.rows, 'the shell has as many rows as the terminal shows');
    assert.ok(cols > 60 && cols < 110, `and a width that fits 800 px (${cols} columns)`);

    // Extend while idle: refused, and the page says why; after typing it extends
    await page.setViewportSize({ width: 1280, height: 800 });
    // idle for longer than activeWithinMs (2 s here; a window a loaded machine can still meet)
    await page.waitForTimeout(2500);
    await page.locator('#extend').click();
    const note = page.locator('.countdown-note.error');
    await note.waitFor();
    assert.match(await note.innerText(), /^Not extended: nothing was typed in your terminal/);
    assert.ok(await note.isVisible());
    await typeInTerminal(page, 'echo typed-$((2+3))');
    await waitForTerminal(page, /typed-5/);
    // the keystrokes and the click travel on different connections: press again until it lands
    let extended = false;
    for (let i = 0; i < 20 && !extended; i++) {
      await page.locator('#extend').click();
      await page.waitForTimeout(300);
      extended = (await page.locator('.countdown-note.error').count()) === 0;
    }
    assert.ok(extended, 'Extend works once the learner typed');

    // a learner signs out (a shared machine): back to the catalogue, asked for a name again
    assert.equal(await page.locator('.topbar a', { hasText: 'Instructor' }).count(), 0, 'no instructor sign-in offered to a learner');
    await page.locator('#sign-out').click();
    await page.locator('#join-name').waitFor();
    assert.equal(await page.locator('.who').count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

/** The terminal's screen fills its host to within a row and a column, and the host fills the pane below its status bar. */
async function checkTerminalFills(page: Page, what: string): Promise<void> {
  await page.waitForTimeout(300); // the fit after a resize is debounced
  const m = await page.evaluate(() => {
    const host = document.querySelector<HTMLElement>('#terminal')!;
    const screen = host.querySelector<HTMLElement>('.xterm-screen')!;
    const right = document.querySelector<HTMLElement>('.right')!.getBoundingClientRect();
    const status = document.querySelector<HTMLElement>('.terminal-status')!.getBoundingClientRect();
    const hr = host.getBoundingClientRect();
    const sr = screen.getBoundingClientRect();
    const rows = host.querySelectorAll('.xterm-rows > div').length;
    return { hostTop: hr.top, hostBottom: hr.bottom, hostW: hr.width, hostH: hr.height, screenW: sr.width, screenH: sr.height, rightBottom: right.bottom, statusBottom: status.bottom, rowH: sr.height / rows, innerHeight: window.innerHeight };
  });
  assert.ok(Math.abs(m.hostTop - m.statusBottom) < 1 && Math.abs(m.hostBottom - m.rightBottom) < 1, `${what}: the terminal host fills the pane ${JSON.stringify(m)}`);
  assert.ok(m.rightBottom <= m.innerHeight + 1, `${what}: the terminal ends inside the window ${JSON.stringify(m)}`);
  assert.ok(m.hostH - m.screenH < m.rowH + 12 && m.screenH <= m.hostH, `${what}: the screen fills the host's height ${JSON.stringify(m)}`);
  assert.ok(m.hostW - m.screenW < 40 && m.screenW <= m.hostW, `${what}: the screen fills the host's width ${JSON.stringify(m)}`);
}
