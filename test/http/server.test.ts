import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { startHarness, call, join_, waitFor, type Harness } from './fixtures.ts';
import type { LabSession, StepResultView, StepView, ClassView, EnvironmentView, LearnerDetail } from '../../shared/api.ts';
import type { ServerMessage } from '../../shared/terminal-protocol.ts';

const harnesses: Harness[] = [];
after(async () => {
  for (const h of harnesses) await h.close();
});
async function harness(...args: Parameters<typeof startHarness>): Promise<Harness> {
  const h = await startHarness(...args);
  harnesses.push(h);
  return h;
}

/** Raw WebSocket handshake so every header (or its absence) is exactly what the test says. */
function upgrade(h: Harness, path: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const { port } = new URL(h.url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), '127.0.0.1', () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      sock.write(lines.join('\r\n') + '\r\n\r\n');
    });
    let data = '';
    sock.on('data', (d) => {
      data += d.toString();
      if (data.includes('\r\n\r\n')) {
        sock.destroy();
        resolve({ status: Number(data.split(' ')[1]), text: data });
      }
    });
    sock.on('error', reject);
  });
}

async function startLab(h: Harness, cookie: string): Promise<void> {
  const r = await call<EnvironmentView>(h, 'POST', '/api/labs/demo/start', { cookie });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await waitFor(async () => (await call<LabSession>(h, 'GET', '/api/labs/demo/session', { cookie })).body.environment.status === 'ready', 5000, 'environment ready');
}

function openTerminal(h: Harness, cookie: string): Promise<{ ws: WebSocket; hello: Extract<ServerMessage, { type: 'hello' }>; messages: ServerMessage[]; text: () => string }> {
  const ws = new WebSocket(h.url.replace('http', 'ws') + '/ws/terminal?lab=demo', { headers: { cookie, origin: h.origin } });
  const messages: ServerMessage[] = [];
  return new Promise((resolve, reject) => {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      messages.push(m);
      if (m.type === 'output') ws.send(JSON.stringify({ type: 'ack', chars: m.data.length }));
      if (m.type === 'hello') resolve({ ws, hello: m, messages, text: () => messages.map((x) => (x.type === 'hello' ? x.replay : x.type === 'output' ? x.data : '')).join('') });
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

test('catalogue, security headers, and static files without traversal', async () => {
  const h = await harness();
  const labs = await call<Array<{ id: string }>>(h, 'GET', '/api/labs');
  assert.equal(labs.status, 200);
  assert.deepEqual(labs.body.map((l) => l.id), ['demo']);
  const csp = labs.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /connect-src 'self' ws:\/\/127\.0\.0\.1:\d+/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(labs.headers.get('x-content-type-options'), 'nosniff');
  const index = await fetch(h.url + '/');
  assert.equal(index.status, 200);
  assert.match(await index.text(), /<script type="module" src="app.js"><\/script>/);
  assert.ok(!/<script>/.test(await (await fetch(h.url + '/index.html')).text()), 'no inline script');
  for (const p of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '//etc/passwd', '/.env', '/.git/config', '/app.js/../../package.json', '/%2e%2e%5cpackage.json', '/web/../package.json']) {
    const r = await fetch(h.url + p);
    const text = await r.text();
    assert.ok(r.status === 404 || r.status === 403, `${p} gave ${r.status}`);
    assert.ok(!text.includes('root:') && !text.includes('"name": "kubelab"'), `${p} leaked a file`);
  }
  const health = await call<{ ok: boolean }>(h, 'GET', '/healthz');
  assert.equal(health.body.ok, true);
  const metrics = await fetch(h.url + '/metrics');
  assert.match(await metrics.text(), /kubelab_environments/);
});

test('joining: validation names the field, JSON only, same origin only, body size bounded, cookie is HttpOnly and SameSite', async () => {
  const h = await harness();
  const bad = await call<{ field: string }>(h, 'POST', '/api/join', { body: { name: '<script>' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, 'name');
  const code = await call<{ field: string }>(h, 'POST', '/api/join', { body: { name: 'Ada', code: 'NOPE42' } });
  assert.equal(code.status, 404);
  assert.equal(code.body.field, 'code');
  const form = await call(h, 'POST', '/api/join', { raw: 'name=Ada', type: 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 415);
  const cross = await call(h, 'POST', '/api/join', { body: { name: 'Ada' }, origin: 'http://evil.example' });
  assert.equal(cross.status, 403);
  const big = await call(h, 'POST', '/api/join', { raw: JSON.stringify({ name: 'x'.repeat(100_000) }) });
  assert.equal(big.status, 413);
  const ok = await fetch(h.url + '/api/join', { method: 'POST', headers: { 'content-type': 'application/json', origin: h.origin }, body: JSON.stringify({ name: 'Ada Lovelace' }) });
  assert.equal(ok.status, 201);
  const setCookie = ok.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /^kubelab_session=[A-Za-z0-9_-]{40,};/);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
});

test('joins and checks are rate limited', async () => {
  const h = await harness({ rates: { joinsPerMinute: 4, checksPerMinute: 4 } });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await call(h, 'POST', '/api/join', { body: { name: `L${i}` } })).status);
  assert.deepEqual(statuses.slice(0, 1), [201]);
  const limited = await call(h, 'POST', '/api/join', { body: { name: 'Late' } });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);

  const h2 = await harness({ rates: { checksPerMinute: 4 } });
  const cookie = await join_(h2);
  await startLab(h2, cookie);
  const results: number[] = [];
  for (let i = 0; i < 3; i++) results.push((await call(h2, 'POST', '/api/labs/demo/steps/one/check', { cookie })).status);
  assert.equal(results[0], 200);
  assert.ok(results.includes(429), `checks gave ${results}`);
});

test('auth: learner, instructor and anonymous each see only their own', async () => {
  const h = await harness();
  assert.equal((await call(h, 'GET', '/api/labs/demo/session')).status, 401);
  const cookie = await join_(h);
  assert.equal((await call(h, 'GET', '/api/class', { cookie })).status, 403);
  assert.equal((await call(h, 'POST', '/api/instructor/login', { body: { token: 'wrong' } })).status, 401);
  const login = await call(h, 'POST', '/api/instructor/login', { body: { token: 'teacher-secret-token' } });
  assert.equal(login.status, 200);
  const teacher = login.cookie!;
  const cls = await call<ClassView>(h, 'GET', '/api/class', { cookie: teacher });
  assert.equal(cls.status, 200);
  assert.equal(cls.body.learners.length, 0, 'a learner who has not started a lab has no row yet');
  assert.equal((await call(h, 'GET', '/api/labs/demo/session', { cookie: teacher })).status, 403);
  assert.equal((await call(h, 'GET', '/api/labs/demo/session', { cookie: 'kubelab_session=forged' })).status, 401);
  const logout = await call(h, 'POST', '/api/logout', { cookie });
  assert.equal(logout.status, 200);
  assert.equal((await call(h, 'GET', '/api/labs/demo/session', { cookie })).status, 401, 'a logged-out cookie stops working');
});

test('WebSocket upgrades need our exact Origin and a session before any shell starts', async () => {
  const h = await harness();
  const cookie = await join_(h);
  await startLab(h, cookie);
  const { port } = new URL(h.url);
  const cases: Array<[string, Record<string, string>, number]> = [
    ['missing Origin', { Cookie: cookie }, 403],
    ['Origin null', { Cookie: cookie, Origin: 'null' }, 403],
    ['look-alike host', { Cookie: cookie, Origin: `http://127.0.0.1.evil.com:${port}` }, 403],
    ['port mismatch', { Cookie: cookie, Origin: `http://127.0.0.1:${Number(port) + 1}` }, 403],
    ['scheme mismatch', { Cookie: cookie, Origin: `https://127.0.0.1:${port}` }, 403],
    ['foreign site', { Cookie: cookie, Origin: 'http://evil.example' }, 403],
    ['no session', { Origin: h.origin }, 401],
    ['forged session', { Origin: h.origin, Cookie: 'kubelab_session=abc' }, 401],
    ['unknown path', { Origin: h.origin, Cookie: cookie }, 404],
  ];
  for (const [name, headers, status] of cases) {
    const r = await upgrade(h, name === 'unknown path' ? '/ws/other' : '/ws/terminal?lab=demo', headers);
    assert.equal(r.status, status, `${name}: ${r.text.split('\r\n')[0]}`);
  }
  assert.equal(h.server.context.terminals.count, 0, 'no shell was started by a refused upgrade');
  const other = await join_(h, 'Bob');
  const noEnv = await upgrade(h, '/ws/terminal?lab=demo', { Origin: h.origin, Cookie: other });
  assert.equal(noEnv.status, 409, 'a learner without an environment gets no shell, and never someone else’s');
  const good = await upgrade(h, '/ws/terminal?lab=demo', { Origin: `http://localhost:${port}`, Cookie: cookie });
  assert.equal(good.status, 101);
});

test('each learner gets their own shell; a reconnect gets the same one with its scrollback', async () => {
  const h = await harness();
  const a = await join_(h, 'Ann');
  const b = await join_(h, 'Ben');
  await startLab(h, a);
  await startLab(h, b);
  const ta = await openTerminal(h, a);
  const tb = await openTerminal(h, b);
  assert.notEqual(ta.hello.pid, tb.hello.pid);
  ta.ws.send(JSON.stringify({ type: 'input', data: 'echo ann-$((20+22))\r' }));
  await waitFor(() => ta.text().includes('ann-42'), 5000, 'echo in Ann’s shell');
  assert.ok(!tb.text().includes('ann-42'));
  ta.ws.close();
  await new Promise((r) => setTimeout(r, 100));
  const again = await openTerminal(h, a);
  assert.equal(again.hello.pid, ta.hello.pid, 'same shell after reconnect');
  assert.match(again.hello.replay, /ann-42/, 'scrollback replayed');
  again.ws.close();
  tb.ws.close();
});

test('bad terminal frames close the socket: oversized 1009, binary and malformed 1008', async () => {
  const h = await harness();
  const cookie = await join_(h);
  await startLab(h, cookie);
  const closeCode = async (send: (ws: WebSocket) => void) => {
    const t = await openTerminal(h, cookie);
    const code = new Promise<number>((resolve) => t.ws.on('close', (c) => resolve(c)));
    send(t.ws);
    return code;
  };
  assert.equal(await closeCode((ws) => ws.send(JSON.stringify({ type: 'input', data: 'x'.repeat(200_000) }))), 1009);
  assert.equal(await closeCode((ws) => ws.send(Buffer.from([1, 2, 3]), { binary: true })), 1008);
  assert.equal(await closeCode((ws) => ws.send('{"type":"resize","cols":100000,"rows":1}')), 1008);
  assert.equal(await closeCode((ws) => ws.send('not json')), 1008);
  assert.ok(h.server.context.terminals.count <= 1, 'the shell survives its sockets');
});

test('steps unlock in order, checks are recorded, and a restart loses nothing', async () => {
  const h = await harness();
  const cookie = await join_(h);
  await startLab(h, cookie);
  assert.equal((await call(h, 'GET', '/api/labs/demo/steps/two', { cookie })).status, 403, 'step two is locked');
  const step = await call<StepView>(h, 'GET', '/api/labs/demo/steps/one', { cookie });
  assert.equal(step.body.hints.length, 0);
  const hint = await call<{ hints: string[] }>(h, 'POST', '/api/labs/demo/steps/one/hint', { cookie });
  assert.deepEqual(hint.body.hints, ['first hint']);
  const failed = await call<StepResultView>(h, 'POST', '/api/labs/demo/steps/one/check', { cookie });
  assert.equal(failed.body.outcome, 'failed');
  assert.equal(failed.body.checks[0].probe?.observed, 'connected');
  assert.match(failed.body.checks[0].explanation, /isolated for ingress/);
  assert.equal((await call(h, 'POST', '/api/labs/demo/steps/one/solve', { cookie })).status, 200);
  const passed = await call<StepResultView>(h, 'POST', '/api/labs/demo/steps/one/check', { cookie });
  assert.equal(passed.body.outcome, 'passed');
  const answer = await call<{ correct: boolean }>(h, 'POST', '/api/labs/demo/questions/q1', { cookie, body: { answer: 'b' } });
  assert.equal(answer.body.correct, true);
  assert.equal((await call(h, 'POST', '/api/labs/demo/questions/q1', { cookie, body: { answer: { evil: 1 } } })).status, 400);

  // restart on the same database
  const dbFile = `${h.dir}/kubelab.db`;
  await h.server.close();
  harnesses.splice(harnesses.indexOf(h), 1);
  h.store.close();
  const h2 = await harness({}, dbFile);
  assert.equal(h2.server.context.environments.recreate(), 1);
  const session = await call<LabSession>(h2, 'GET', '/api/labs/demo/session', { cookie });
  assert.equal(session.status, 200, 'the cookie still works');
  assert.equal(session.body.currentStep, 'two');
  assert.deepEqual(session.body.steps.map((s) => s.state), ['passed', 'open']);
  assert.equal(session.body.questions[0].last?.correct, true);
  await waitFor(() => h2.backend.provisioned.length === 1, 5000, 'the environment to be recreated');
  const again = await call<StepView>(h2, 'GET', '/api/labs/demo/steps/one', { cookie });
  assert.deepEqual(again.body.hints, ['first hint']);
  assert.equal(again.body.lastResult?.outcome, 'passed');
});

test('a full server says so, and the instructor sees the class with a heatmap and CSV', async () => {
  const h = await harness({ limits: { max: 1 } });
  const a = await join_(h, '-Ada');
  await startLab(h, a);
  await call(h, 'POST', '/api/labs/demo/steps/one/check', { cookie: a });
  const b = await join_(h, 'Ben');
  const full = await call<{ error: string }>(h, 'POST', '/api/labs/demo/start', { cookie: b });
  assert.equal(full.status, 503);
  assert.match(full.body.error, /full/);
  const teacher = (await call(h, 'POST', '/api/instructor/login', { body: { token: 'teacher-secret-token' } })).cookie!;
  const cls = await call<ClassView>(h, 'GET', '/api/class', { cookie: teacher });
  assert.equal(cls.body.learners.length, 1);
  assert.equal(cls.body.heatmap[0].checkId, 'blocked');
  assert.equal(cls.body.heatmap[0].failures, 1);
  const detail = await call<LearnerDetail>(h, 'GET', `/api/class/learners/${cls.body.learners[0].id}?lab=demo`, { cookie: teacher });
  assert.equal(detail.status, 200);
  assert.equal(detail.body.results[0].checks[0].probe?.observed, 'connected', 'the last probe results are there');
  assert.equal((await call(h, 'GET', `/api/class/learners/${cls.body.learners[0].id}`, { cookie: a })).status, 403, 'learners cannot drill into others');
  const csv = await fetch(h.url + '/api/class/grades.csv', { headers: { cookie: teacher } });
  const text = await csv.text();
  assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
  assert.match(text, /^learner_id,name,class,lab/);
  assert.ok(text.includes(`"'-Ada"`), 'a formula-looking name is defused');
});

test('an environment expires, its shell ends, and the learner can start again', async () => {
  const h = await harness({ limits: { ttlMs: 300 } });
  const cookie = await join_(h);
  await startLab(h, cookie);
  const t = await openTerminal(h, cookie);
  const closed = new Promise<number>((resolve) => t.ws.on('close', (c) => resolve(c)));
  // the reaper runs every 5 s
  assert.equal(await closed, 4002);
  const session = await call<LabSession>(h, 'GET', '/api/labs/demo/session', { cookie });
  assert.equal(session.body.environment.status, 'expired');
  assert.equal(h.backend.disposed, 1);
  assert.equal(h.server.context.terminals.count, 0);
});

test('a client that stops reading cannot make the server buffer a flood, and Ctrl-C still answers', async () => {
  const h = await harness();
  const cookie = await join_(h);
  await startLab(h, cookie);
  const t = await openTerminal(h, cookie);
  const session = h.server.context.terminals.all()[0];
  // acknowledge everything (even what never arrived) so only the socket-buffer brake is left
  const acker = setInterval(() => t.ws.send(JSON.stringify({ type: 'ack', chars: 1_000_000_000 })), 10);
  t.ws.send(JSON.stringify({ type: 'input', data: 'yes kubelab-flood\r' }));
  await waitFor(() => t.text().includes('kubelab-flood'), 5000, 'yes to start');
  const socket = (t.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  let peak = 0;
  const start = Date.now();
  while (Date.now() - start < 1500) {
    peak = Math.max(peak, session.buffered);
    await new Promise((r) => setTimeout(r, 10));
  }
  clearInterval(acker);
  assert.ok(peak < 1024 * 1024, `server-side buffer peaked at ${peak} bytes`);
  socket.resume();
  t.ws.send(JSON.stringify({ type: 'input', data: '\x03' }));
  t.ws.send(JSON.stringify({ type: 'input', data: 'echo done-$((2+3))\r' }));
  await waitFor(() => t.text().includes('done-5'), 10_000, 'the prompt after Ctrl-C');
  t.ws.close();
});

test('class codes: joining a class, skipping when the instructor allows it, live progress events, extending', async () => {
  const h = await harness({ limits: { ttlMs: 60_000, warnBeforeMs: 120_000 } });
  const teacher = (await call(h, 'POST', '/api/instructor/login', { body: { token: 'teacher-secret-token' } })).cookie!;
  const cls = await call<{ code: string }>(h, 'POST', '/api/classes', { cookie: teacher, body: { name: 'Tuesday', labId: 'demo', allowSkip: true } });
  assert.equal(cls.status, 201);
  assert.equal((await call(h, 'POST', '/api/classes', { cookie: teacher, body: { name: 'X', labId: 'nope' } })).status, 400);
  const joined = await call(h, 'POST', '/api/join', { body: { name: 'Cy', code: cls.body.code.toLowerCase() } });
  assert.equal(joined.status, 201);
  const cookie = joined.cookie!;

  // live updates: the provisioning progress and the environment arrive on /ws/events
  const events: Array<{ type: string }> = [];
  const ws = new WebSocket(h.url.replace('http', 'ws') + '/ws/events', { headers: { cookie, origin: h.origin } });
  await new Promise((r) => ws.once('open', r));
  ws.on('message', (d) => events.push(JSON.parse(d.toString()) as { type: string }));
  await startLab(h, cookie);
  await waitFor(() => events.some((e) => e.type === 'environment') && events.some((e) => e.type === 'progress'), 5000, 'live events');
  ws.close();

  const session = await call<LabSession>(h, 'GET', '/api/labs/demo/session', { cookie });
  assert.equal(session.body.allowSkip, true);
  assert.deepEqual(session.body.steps.map((s) => s.state), ['open', 'open']);
  assert.equal((await call(h, 'GET', '/api/labs/demo/steps/two', { cookie })).status, 200);

  const env = session.body.environment;
  assert.equal(env.canExtend, true, 'inside the warning window the learner may extend');
  await new Promise((r) => setTimeout(r, 20));
  const extended = await call<EnvironmentView>(h, 'POST', '/api/labs/demo/extend', { cookie });
  assert.equal(extended.status, 200);
  assert.ok((extended.body.expiresAt ?? 0) > (env.expiresAt ?? 0));

  const view = await call<ClassView>(h, 'GET', `/api/class?code=${cls.body.code}`, { cookie: teacher });
  assert.deepEqual(view.body.learners.map((l) => l.name), ['Cy']);
  assert.equal(view.body.classes[0].learners, 1);
  const off = await call(h, 'POST', `/api/classes/${cls.body.code}`, { cookie: teacher, body: { allowSkip: false } });
  assert.equal(off.status, 200);
  assert.equal((await call(h, 'GET', '/api/labs/demo/steps/two', { cookie })).status, 403);
});
