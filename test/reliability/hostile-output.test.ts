// Hostile bytes from the shell cannot script the page: a title (OSC 0/2) carrying HTML, an OSC 8
// link to javascript: (clicked, and its confirmation accepted), DECRQSS and report requests that
// try to type into the shell, invalid UTF-8, and a 3 MB line. In a real browser (Debian's
// chromium through playwright-core) against the real web UI and a real sandboxed bash: no script
// of theirs runs, nothing is injected into the DOM, no reply reaches the shell, and the terminal
// still works afterwards.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startHarness, type Harness } from '../http/fixtures.ts';
import { browserSkipReason, launch, waitForTerminal } from '../browser/browser.ts';

const skip = browserSkipReason();
if (skip) console.log(`# skipping the hostile terminal output test: ${skip}`);

let harness: Harness | undefined;
after(async () => {
  await harness?.close();
});

/** Type a command line without clicking (a click could land on a link the output made). */
async function typeInTerminal(page: Page, text: string): Promise<void> {
  await page.bringToFront();
  await page.locator('#terminal textarea.xterm-helper-textarea').focus();
  await page.keyboard.insertText(text);
  await page.keyboard.press('Enter');
}

/** What the page looks like, for before/after comparison. */
async function pageState(page: Page): Promise<{ title: string; pwned: string | undefined; violations: string[]; risky: string[]; elements: Record<string, number> }> {
  return page.evaluate(() => {
    const w = window as unknown as { __violations?: string[] };
    const risky = [...document.querySelectorAll('[onerror], [onload], [onclick], a[href^="javascript:" i], iframe, object, embed, base, form[action^="javascript:" i]')].map((e) => e.outerHTML.slice(0, 120));
    const elements: Record<string, number> = {};
    for (const tag of ['script', 'img', 'svg', 'a', 'style', 'link', 'meta']) elements[tag] = document.getElementsByTagName(tag).length;
    return { title: document.title, pwned: document.body.dataset.pwned, violations: w.__violations ?? [], risky, elements };
  });
}

test('hostile terminal output cannot script the page or type into the shell', { skip, timeout: 180_000 }, async (t) => {
  harness = await startHarness();
  const h = harness;
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const popups: string[] = [];
    context.on('page', (p) => popups.push(p.url()));
    // set by the test runner, outside the page's CSP: records every violation the page reports
    await page.addInitScript(() => {
      const w = window as unknown as { __violations: string[] };
      w.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective}: ${e.blockedURI} ${e.sample}`));
    });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      // the learner clicks OK on whatever the page asks: the worst case
      void d.accept();
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // everything the page sends to the shell: typed keys, and whatever xterm.js answers to the output
    const sent: string[] = [];
    page.on('websocket', (ws) => {
      if (!ws.url().includes('/ws/terminal')) return;
      ws.on('framesent', (f) => {
        try {
          const m = JSON.parse(String(f.payload)) as { type: string; data?: string };
          if (m.type === 'input' && m.data) sent.push(m.data);
        } catch {
          // not ours
        }
      });
    });

    await page.goto(h.url + '/');
    await page.locator('#join-name').fill('Mallory');
    await page.locator('[data-lab="demo"] button').click();
    await page.locator('#env-status.ready').waitFor({ timeout: 30_000 });
    await waitForTerminal(page, /learner@kubelab/);
    const before = await pageState(page);
    const started = Date.now();

    // Each payload is written with printf octal escapes, so the command line the learner typed
    // (and the terminal echoed) is harmless text; only the shell's output carries the bytes.
    const ESC = '\\033';
    const BEL = '\\007';
    const ST = `${ESC}\\\\`;
    const payloads: Array<[string, string]> = [
      ['OSC 0 title with HTML', `${ESC}]0;<img src=x onerror="document.body.dataset.pwned='title0'">${BEL}`],
      ['OSC 2 title closing the title tag', `${ESC}]2;</title><script>document.body.dataset.pwned='title2'</script>${BEL}`],
      ['OSC 8 javascript: link', `${ESC}]8;;javascript:document.body.dataset.pwned='osc8'${ST}CLICK-ME-NOW${ESC}]8;;${ST}`],
      ['OSC 8 data: link', `${ESC}]8;;data:text/html,<script>opener.document.body.dataset.pwned='data'</script>${ST}DATA-LINK${ESC}]8;;${ST}`],
      ['DECRQSS carrying a command', `${ESC}P$q;touch /tmp/pwned-decrqss\\r${ST}`],
      ['DECRQSS for SGR and cursor style', `${ESC}P$qm${ST}${ESC}P$q q${ST}`],
      ['title report after a title that is a command', `${ESC}]2;;touch /tmp/pwned-title\\r${BEL}${ESC}[21t${ESC}[20t`],
      ['device status and attributes reports', `${ESC}[6n${ESC}[c${ESC}[>c${ESC}[5n`],
      ['OSC 52 clipboard write and query', `${ESC}]52;c;dG91Y2ggL3RtcC9wd25lZC1jbGlw${BEL}${ESC}]52;c;?${BEL}`],
      ['OSC 50 font query', `${ESC}]50;?${BEL}`],
      ['invalid UTF-8', '\\377\\376\\303\\050 \\355\\240\\200 \\300\\257 end'],
    ];
    const replies: Array<[string, string]> = [];
    for (const [i, [what, bytes]] of payloads.entries()) {
      await typeInTerminal(page, `printf '${bytes}'; echo; echo done-$((${i}+1000))`);
      const typed = sent.length;
      await waitForTerminal(page, new RegExp(`done-${i + 1000}`), 15_000);
      await page.waitForTimeout(150);
      // what reached the shell without being typed: the terminal's own answers to the output
      for (const r of sent.slice(typed)) replies.push([what, r]);
      // a reply may have left readline mid-sequence; Ctrl-C gives the next command a clean line
      await page.keyboard.press('Control+C');
      await waitForTerminal(page, /\^C\s*\n\s*learner@kubelab:~\$\s*$/, 5_000).catch(() => undefined);
    }
    // a 3 MB line, then the terminal must still answer
    const bigStarted = Date.now();
    await typeInTerminal(page, "head -c 3000000 /dev/zero | tr '\\0' A; echo; echo big-$((6*7))");
    await waitForTerminal(page, /big-42/, 90_000);
    t.diagnostic(`the 3 MB line took ${Math.round((Date.now() - bigStarted) / 1000)} s to show`);

    // click the links the way a learner would (xterm asks for confirmation; we say yes)
    for (const text of ['CLICK-ME-NOW', 'DATA-LINK']) {
      const row = page.locator('#terminal .xterm-rows > div', { hasText: text }).last();
      if ((await row.count()) === 0) continue;
      const box = await row.boundingBox();
      if (!box) continue;
      await page.mouse.move(box.x + 20, box.y + box.height / 2);
      await page.waitForTimeout(200);
      await page.mouse.click(box.x + 20, box.y + box.height / 2);
      await page.waitForTimeout(500);
    }

    // nothing the output asked for reached the shell as input
    await typeInTerminal(page, 'ls /tmp/pwned-decrqss /tmp/pwned-title /tmp/pwned-clip 2>&1 | grep -c "No such file"; echo checked-$((6*7))');
    const screen = await waitForTerminal(page, /checked-42/, 15_000);
    assert.match(screen, /^3\s*$/m, `none of the files the replies tried to create exists:\n${screen.slice(-800)}`);

    // replies (cursor reports, device attributes, DECRQSS answers) may reach the shell, but
    // never with anything the output chose: no title, no request text, no clipboard
    for (const [what, r] of replies) {
      assert.doesNotMatch(r, /touch|pwned|img|script|javascript|title|clip|dG91Y2g/i, `${what}: the terminal sent back output-chosen text: ${JSON.stringify(r)}`);
    }
    t.diagnostic(`replies sent to the shell: ${replies.map(([w, r]) => `${w}: ${JSON.stringify(r)}`).join('; ') || 'none'}`);
    t.diagnostic(`payloads done after ${Math.round((Date.now() - started) / 1000)} s`);

    const after_ = await pageState(page);
    for (const p of context.pages()) {
      if (p === page) continue;
      const pwned = await p.evaluate(() => document.body?.dataset.pwned).catch(() => undefined);
      assert.equal(pwned, undefined, `a popup ran the payload: ${p.url()}`);
    }
    assert.equal(after_.pwned, undefined, 'no payload ran in the page');
    assert.deepEqual(after_.risky, [], 'no injected handler, javascript: link, frame or base element');
    assert.deepEqual(after_.elements, before.elements, 'no element was added by terminal output');
    assert.equal(after_.title, before.title, 'the page title is the app’s, not the shell’s');
    assert.deepEqual(after_.violations, [], 'nothing even tried to run against the CSP');
    assert.deepEqual(popups, [], 'no window was opened by a link in the output');
    assert.deepEqual(errors, [], `page errors: ${errors.join('\n')}`);

    // and the terminal still works
    await typeInTerminal(page, 'echo still-$((40+2))');
    await waitForTerminal(page, /still-42/, 15_000);
    assert.deepEqual(dialogs, [], 'no dialog was raised by the output');
  } finally {
    await browser.close();
  }
});
