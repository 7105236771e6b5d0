// Debian's chromium driven by playwright-core, headless, with a fresh profile per run.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const chromiumPath = process.env.KUBELAB_CHROMIUM ?? '/usr/bin/chromium';

/** Why browser tests can't run here, or undefined when they can. */
export function browserSkipReason(): string | undefined {
  return existsSync(chromiumPath) ? undefined : `chromium not found at ${chromiumPath} (apt-get install chromium, or set KUBELAB_CHROMIUM)`;
}

/**
 * Playwright starts chromium with a fresh temporary --user-data-dir of its own (and removes it
 * on close); each role gets its own context, so cookies never mix.
 */
export async function launch(): Promise<{ browser: Browser; newContext(): Promise<BrowserContext>; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    newContext: () => browser.newContext({ viewport: { width: 1400, height: 900 } }),
    close: () => browser.close(),
  };
}

/** The terminal's visible text (xterm.js renders rows into the DOM). */
export async function terminalText(page: Page): Promise<string> {
  return page.locator('#terminal .xterm-rows').innerText();
}

export async function typeInTerminal(page: Page, text: string): Promise<void> {
  await page.locator('#terminal .xterm').click();
  await page.keyboard.type(text, { delay: 5 });
  await page.keyboard.press('Enter');
}

export async function waitForTerminal(page: Page, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const start = Date.now();
  let text = '';
  while (Date.now() - start < timeoutMs) {
    text = await terminalText(page).catch(() => '');
    if (pattern.test(text)) return text;
    await page.waitForTimeout(100);
  }
  throw new Error(`terminal never showed ${pattern}; it shows:\n${text.slice(-1500)}`);
}
