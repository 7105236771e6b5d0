// Extending an environment needs a learner at work: terminal input or a lab action within the
// last activeWithinMs. Reads (an open page polling) and pressing Extend itself do not count.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startHarness, call, join_, waitFor, type Harness } from './fixtures.ts';
import type { ApiError, EnvironmentView, LabSession } from '../../shared/api.ts';

const harnesses: Harness[] = [];
after(async () => {
  for (const h of harnesses) await h.close();
});

const idle = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ready(h: Harness): Promise<string> {
  const cookie = await join_(h);
  assert.equal((await call(h, 'POST', '/api/labs/demo/start', { cookie })).status, 202);
  await waitFor(async () => (await call<LabSession>(h, 'GET', '/api/labs/demo/session', { cookie })).body.environment.status === 'ready', 5000, 'environment ready');
  return cookie;
}

test('extend works while the learner is at work and says why not when idle', { timeout: 60_000 }, async () => {
  const h = await startHarness({ limits: { activeWithinMs: idle, ttlMs: 60_000, warnBeforeMs: 120_000 } });
  harnesses.push(h);
  const cookie = await ready(h);
  const extend = () => call<EnvironmentView & ApiError>(h, 'POST', '/api/labs/demo/extend', { cookie });

  // just started: at work
  const first = await extend();
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.ok(first.body.expiresAt! > Date.now() + 50_000);

  await sleep(idle + 200);
  const refused = await extend();
  assert.equal(refused.status, 409);
  assert.match(refused.body.error, /^Not extended: nothing was typed in your terminal or done in this lab for 1 minute\. Carry on working, then extend\.$/);

  // reads and Extend itself are not work
  await call(h, 'GET', '/api/labs/demo/session', { cookie });
  await call(h, 'GET', '/api/labs/demo/steps/one', { cookie });
  assert.equal((await extend()).status, 409);

  // typing in the terminal is
  const ws = new WebSocket(h.url.replace('http', 'ws') + '/ws/terminal?lab=demo', { headers: { cookie, origin: h.origin } });
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d) => {
      if ((JSON.parse(d.toString()) as { type: string }).type === 'hello') resolve();
    });
    ws.on('error', reject);
  });
  // resizes and acknowledgements come without the learner
  ws.send(JSON.stringify({ type: 'resize', cols: 90, rows: 30 }));
  ws.send(JSON.stringify({ type: 'ack', chars: 0 }));
  await sleep(200);
  assert.equal((await extend()).status, 409, 'a resize is not work');
  ws.send(JSON.stringify({ type: 'input', data: 'echo at-work\r' }));
  await waitFor(async () => (await extend()).status === 200, 5000, 'extend after typing');
  ws.close();

  // so is a lab action (a hint, a check, an answer)
  await sleep(idle + 200);
  assert.equal((await extend()).status, 409);
  assert.equal((await call(h, 'POST', '/api/labs/demo/steps/one/hint', { cookie })).status, 200);
  assert.equal((await extend()).status, 200);
});

test('extend past the maximum lifetime is refused with the reason', { timeout: 30_000 }, async () => {
  const h = await startHarness({ limits: { ttlMs: 60_000, warnBeforeMs: 120_000, maxLifetimeMs: 30_000 } });
  harnesses.push(h);
  const cookie = await ready(h);
  const r = await call<ApiError>(h, 'POST', '/api/labs/demo/extend', { cookie });
  assert.equal(r.status, 409);
  assert.equal(r.body.error, 'Not extended: an environment lives at most 1 minute. When it ends, start it again: your objects and progress are kept.');
});
