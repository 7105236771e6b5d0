// The whole platform in a browser: the shipped lab on an embedded cluster with the real grader.
// The learner lists namespaces with kubectl in their terminal, applies a step's solution there,
// checks it (probes run in their cluster), reads why a blocked probe was blocked, answers a
// question, the instructor sees it, and a reload keeps the same shell.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { ClusterBackend } from '../../server/backends/types.ts';
import { createKubelabServer, type KubelabServer } from '../../server/http/app.ts';
import { loadCoursework } from '../../server/http/coursework.ts';
import { buildWebBundle } from '../../server/http/bundle.ts';
import { Store } from '../../server/store/index.ts';
import { loadLabs } from '../../server/labs/loader.ts';
import { browserSkipReason, launch, typeInTerminal, waitForTerminal } from './browser.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const labId = 'first-network-policy';

async function platformSkipReason(): Promise<string | undefined> {
  const chromium = browserSkipReason();
  if (chromium) return chromium;
  const missing: string[] = [];
  for (const [file, name] of [['server/backends/embedded.ts', 'createEmbeddedBackend'], ['server/grader/index.ts', 'createGrader'], ['server/apiserver/exec-stream.ts', 'serveExecStream']] as const) {
    try {
      const mod = (await import(new URL(`../../${file}`, import.meta.url).href)) as Record<string, unknown>;
      if (typeof mod[name] !== 'function') missing.push(`${file} (${name})`);
    } catch (err) {
      missing.push(`${file}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  return missing.length ? `the platform is incomplete on this checkout: ${missing.join('; ')}` : undefined;
}

const skip = await platformSkipReason();
if (skip) console.log(`# skipping the embedded browser test: ${skip}`);

let cleanup: (() => Promise<void>) | undefined;
after(async () => {
  await cleanup?.();
});

test('a learner does a real step on an embedded cluster', { skip, timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-e2e-'));
  const webDir = join(dir, 'web');
  await buildWebBundle(webDir);
  const { coursework } = await loadCoursework(join(root, 'labs'));
  assert.ok(coursework.get(labId), `lab ${labId} is in labs/`);
  const embedded = (await import(new URL('../../server/backends/embedded.ts', import.meta.url).href)) as { createEmbeddedBackend(o: Record<string, unknown>): ClusterBackend };
  let runtime: unknown;
  try {
    const dp = (await import(new URL('../../server/dataplane/index.ts', import.meta.url).href)) as { chooseRuntime?: () => Promise<unknown> };
    runtime = await dp.chooseRuntime?.();
  } catch {
    runtime = undefined;
  }
  const backend = embedded.createEmbeddedBackend(runtime ? { runtime, stateDir: join(dir, 'clusters') } : { stateDir: join(dir, 'clusters') });
  const store = new Store(join(dir, 'kubelab.db'));
  const server: KubelabServer = createKubelabServer({ store, coursework, backend, log: pino({ level: 'silent' }), instructorToken: 'e2e-teacher-token', webDir });
  const url = await server.listen(0, '127.0.0.1');
  const browser = await launch();
  cleanup = async () => {
    await browser.close();
    await server.close({ dispose: true });
    store.close();
    rmSync(dir, { recursive: true, force: true });
  };

  const page = await (await browser.newContext()).newPage();
  // "cluster changed" events as they arrive on the page's live socket
  const changes: number[] = [];
  page.on('websocket', (ws) => {
    if (!ws.url().endsWith('/ws/events')) return;
    ws.on('framereceived', (f) => {
      if (typeof f.payload === 'string' && f.payload.includes('"cluster-changed"')) changes.push(Date.now());
    });
  });
  await page.goto(url + '/');
  await page.locator('#join-name').fill('Linus');
  await page.locator(`[data-lab="${labId}"] button`).click();
  await page.locator('#env-status.ready').waitFor({ timeout: 120_000 });
  await waitForTerminal(page, /learner@kubelab/, 30_000);

  // the step's title shows once, and the text names the learner's own cluster and the lab's namespaces
  const title = await page.locator('.step-title').innerText();
  assert.equal(title, 'Everything can reach everything');
  assert.equal(await page.locator('#lesson :is(h1, h2)', { hasText: title }).count(), 1);
  await page.locator('.step-text', { hasText: /Your cluster \(https:\/\/127\.0\.0\.1:\d+\/\S+\) has two namespaces/ }).waitFor({ timeout: 15_000 });
  assert.match(await page.locator('.step-text').innerText(), /namespaces for this lab: shop and outside\./);

  // the learner's own cluster, through the real kubectl
  await typeInTerminal(page, 'kubectl get ns');
  await waitForTerminal(page, /shop\s+Active/, 30_000);
  const pid = await page.locator('#terminal').getAttribute('data-pid');

  // step 1 passes as it is (everything reaches everything)
  await page.locator('#check').click();
  await page.locator('.result.passed').waitFor({ timeout: 60_000 });
  await page.locator('button.next').click();

  // step 2: apply the solution from the terminal, then check
  const labDir = loadLabs(join(root, 'labs')).labs.find((l) => l.id === labId)!.dir;
  const solution = readFileSync(join(labDir, 'solutions', 'default-deny.yaml'), 'utf8').trim();
  // with the policy map open: the apply reaches the page as "cluster changed" and the map redraws
  // well before its fallback poll (30 s) would have
  await page.locator('[data-tab="map"]').click();
  await page.locator('#matrix').waitFor({ timeout: 30_000 });
  assert.match(await page.locator('#policy-map').innerText(), /No NetworkPolicies yet/);
  const changesBefore = changes.length;
  await typeInTerminal(page, `kubectl apply -f - <<'EOF'\n${solution}\nEOF`);
  await waitForTerminal(page, /networkpolicy\.networking\.k8s\.io\/\S+ created/, 30_000);
  await page.locator('#policy-map table.policies td', { hasText: 'default-deny-ingress' }).waitFor({ timeout: 20_000 });
  assert.ok(changes.length > changesBefore, 'the server pushed "cluster changed"');
  await page.locator('[data-tab="lesson"]').click();
  await page.locator('#check').click();
  await page.locator('.result.passed').waitFor({ timeout: 60_000 });
  const blocked = page.locator('.check.pass', { hasText: 'can no longer reach api' });
  const text = await blocked.innerText();
  assert.match(text, /outside\/.* → .*api.*:8080/);
  assert.match(text, /expected timeout, observed timeout/);
  assert.match(text, /isolated|blocked|denied/i, `a blocked probe says why: ${text}`);

  // a question
  await page.locator('[data-tab="questions"]').click();
  await page.locator('[data-question="empty-ingress"] input[value="deny-ingress"]').check();
  await page.locator('[data-question="empty-ingress"] button.primary').click();
  await page.locator('[data-question="empty-ingress"] .grade.correct').waitFor();

  // the instructor sees the learner's progress
  const tpage = await (await browser.newContext()).newPage();
  await tpage.goto(url + '/#/instructor');
  await tpage.locator('#instructor-token').fill('e2e-teacher-token');
  await tpage.locator('form.signin button').click();
  await tpage.locator('#learners td', { hasText: 'default-deny: passed' }).waitFor({ timeout: 15_000 });
  assert.match(await tpage.locator('#learners').innerText(), /Linus/);

  // a reload keeps the same shell and its scrollback
  await page.reload();
  await page.locator('#env-status.ready').waitFor({ timeout: 30_000 });
  await waitForTerminal(page, /shop\s+Active/, 15_000);
  assert.equal(await page.locator('#terminal').getAttribute('data-pid'), pid);
});
