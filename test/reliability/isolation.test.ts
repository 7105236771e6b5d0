// Learners kept apart on one real platform (embedded clusters, real terminals): WebSocket
// upgrades that must be refused before any shell starts (foreign or missing Origin, no, expired,
// logged-out or instructor session, a malformed handshake, thousands of headers), frames too big
// for the protocol, and learner A reaching for learner B's cluster, progress or terminal with
// A's own cookie, A's kubeconfig token, or guessed ids.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { hashToken } from '../../server/store/index.ts';
import { Learner, sleep, type Term } from './learner.ts';
import { startPlatform, type Platform } from './server.ts';

const LAB = 'first-network-policy';

/** Learner shells of this server: every process whose command line carries its private shell directory. */
function shellProcesses(): number {
  const marker = `kubelab-term-${process.pid}-`;
  let n = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) n++;
    } catch {
      // gone
    }
  }
  return n;
}

function upgrade(url: string, path: string, headers: Record<string, string>, extraLines: string[] = []): Promise<{ status: number; head: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), '127.0.0.1', () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: Upgrade', 'Upgrade: websocket', ...extraLines];
      const base: Record<string, string> = { 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };
      for (const [k, v] of Object.entries({ ...base, ...headers })) if (v !== '') lines.push(`${k}: ${v}`);
      sock.write(lines.join('\r\n') + '\r\n\r\n');
    });
    let data = '';
    const done = () => resolve({ status: Number(data.split(' ')[1] ?? 0), head: data.split('\r\n')[0] ?? '' });
    sock.on('data', (d) => {
      data += d.toString();
      if (data.includes('\r\n\r\n')) {
        sock.destroy();
        done();
      }
    });
    sock.on('close', done);
    sock.on('error', (e) => (data ? done() : reject(e)));
  });
}

function apiCall(server: string, ca: string | undefined, token: string | undefined, path: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${server}${path}`, { method, ca, rejectUnauthorized: Boolean(ca), headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function kubeconfigParts(kubeconfig: string): { server: string; token: string; ca: string } {
  const server = /server: (\S+)/.exec(kubeconfig)?.[1] ?? '';
  const token = /token: (\S+)/.exec(kubeconfig)?.[1] ?? '';
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(kubeconfig)?.[1] ?? '', 'base64').toString();
  return { server, token, ca };
}

describe('learners kept apart', () => {
  let p: Platform;
  let a: Learner;
  let b: Learner;
  let termB: Term;

  before(async () => {
    p = await startPlatform({ capacity: 10 });
    a = await new Learner(p.url).join('Ada');
    b = await new Learner(p.url).join('Bea');
    await Promise.all([a.start(LAB), b.start(LAB)]);
    await Promise.all([a.waitReady(LAB), b.waitReady(LAB)]);
    termB = await b.openTerminal(LAB);
    await termB.waitFor('learner@kubelab');
  });
  after(async () => {
    await termB?.close();
    a?.close();
    b?.close();
    await p?.close();
  });

  test('refused WebSocket upgrades start no shell', async () => {
    const { port } = new URL(p.url);
    const instructor = new Learner(p.url);
    const login = await instructor.request('POST', '/api/instructor/login', { token: 'reliability-teacher-token' });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const instructorCookie = String(login.headers['set-cookie']?.[0]).split(';')[0];
    const expired = await new Learner(p.url).join('Eve');
    p.store.db.prepare('UPDATE sessions SET last_seen = 0 WHERE token_hash = ?').run(hashToken(decodeURIComponent(expired.cookie.split('=')[1])));
    const loggedOut = await new Learner(p.url).join('Lou');
    const idle = await new Learner(p.url).join('Ida');
    const out = await loggedOut.request('POST', '/api/logout', {});
    assert.equal(out.status, 200);

    const path = `/ws/terminal?lab=${LAB}`;
    const shells = shellProcesses();
    const terminals = p.server.context.terminals.count;
    const cases: Array<[string, Record<string, string>, number, string[]?]> = [
      ['foreign Origin', { Cookie: a.cookie, Origin: 'https://evil.example' }, 403],
      ['missing Origin', { Cookie: a.cookie }, 403],
      ['Origin null', { Cookie: a.cookie, Origin: 'null' }, 403],
      ['look-alike Origin', { Cookie: a.cookie, Origin: `http://127.0.0.1.evil.example:${port}` }, 403],
      ['Origin with a path trick', { Cookie: a.cookie, Origin: `http://127.0.0.1:${port}@evil.example` }, 403],
      ['two Origins', { Cookie: a.cookie, Origin: `${p.url}, https://evil.example` }, 403],
      ['no session', { Origin: p.url }, 401],
      ['a guessed session', { Origin: p.url, Cookie: 'kubelab_session=' + 'A'.repeat(43) }, 401],
      ['an expired session', { Origin: p.url, Cookie: expired.cookie }, 401],
      ['a logged-out session', { Origin: p.url, Cookie: loggedOut.cookie }, 401],
      ['an instructor session', { Origin: p.url, Cookie: instructorCookie }, 403],
      ['a learner without an environment for the lab', { Origin: p.url, Cookie: idle.cookie }, 409],
      ['another lab id', { Origin: p.url, Cookie: a.cookie }, 409],
    ];
    for (const [what, headers, status] of cases) {
      const r = await upgrade(p.url, what === 'another lab id' ? '/ws/terminal?lab=network-policies' : path, headers);
      assert.equal(r.status, status, `${what}: ${r.head}`);
    }
    // thousands of headers (the ws crash of CVE-2024-37890) and a giant subprotocol list
    const many = Array.from({ length: 2000 }, (_, i) => `X-Filler-${i}: ${i}`);
    const flooded = await upgrade(p.url, path, { Cookie: a.cookie, Origin: p.url }, many);
    assert.ok(flooded.status === 431 || flooded.status === 400 || flooded.status === 0 || flooded.status === 101, `many headers: ${flooded.head}`);
    const proto = await upgrade(p.url, path, { Cookie: a.cookie, Origin: p.url, 'Sec-WebSocket-Protocol': 'x,'.repeat(7000) + 'y' });
    assert.ok([400, 431, 0, 101].includes(proto.status), `giant subprotocol: ${proto.head}`);
    // a handshake ws itself must refuse: wrong version, no key
    const badVersion = await upgrade(p.url, path, { Cookie: a.cookie, Origin: p.url, 'Sec-WebSocket-Version': '7' });
    assert.equal(badVersion.status, 400, `wrong version: ${badVersion.head}`);
    const noKey = await upgrade(p.url, path, { Cookie: a.cookie, Origin: p.url, 'Sec-WebSocket-Key': '' });
    assert.equal(noKey.status, 400, `no key: ${noKey.head}`);
    await sleep(300);
    if (flooded.status !== 101 && proto.status !== 101) {
      assert.equal(p.server.context.terminals.count, terminals, 'no terminal session was made');
      assert.equal(shellProcesses(), shells, 'no shell process was spawned');
    }
    // the server is still up and answers the learner normally
    assert.equal((await a.request('GET', '/api/me')).status, 200);
    instructor.close();
    expired.close();
    loggedOut.close();
    idle.close();
  });

  test('frames too big for the protocol close the socket; what they carried never reaches the shell', async () => {
    const t = await a.openTerminal(LAB);
    await t.waitFor('learner@kubelab');
    const pid = t.hello?.pid;
    const closed = new Promise<number>((resolve) => t.ws.once('close', (code) => resolve(code)));
    t.ws.send(JSON.stringify({ type: 'input', data: `echo PWNED-$((6*7))\r${'#'.repeat(200_000)}` }));
    assert.equal(await closed, 1009);
    // many small fragments adding up past the limit: the same
    const t2 = await a.openTerminal(LAB);
    const closed2 = new Promise<number>((resolve) => t2.ws.once('close', (code) => resolve(code)));
    const piece = '{"type":"input","data":"echo FRAG-$((6*7))\\r' + ' '.repeat(100);
    t2.ws.send(piece, { fin: false });
    for (let i = 0; i < 2000; i++) t2.ws.send(' '.repeat(100), { fin: false });
    t2.ws.send('"}', { fin: true });
    assert.equal(await closed2, 1009);
    // the shell is the same one, alive, and never ran either command
    const again = await a.openTerminal(LAB);
    await again.waitFor('learner@kubelab');
    assert.equal(again.hello?.pid, pid, 'same shell');
    const r = await again.run('echo alive-$((40+2))');
    assert.equal(r.exitCode, 0);
    assert.match(again.text, /alive-42/);
    assert.doesNotMatch(again.text, /PWNED-42|FRAG-42/);
    await again.close();
  });

  test("A's cookie reaches none of B's things over HTTP", async () => {
    const before = await b.request<{ steps: unknown; questions: unknown }>('GET', `/api/labs/${LAB}/session`);
    const routes: Array<[string, string, number[]]> = [
      ['GET', `/api/class/learners/${b.id}`, [403]],
      ['GET', `/api/class/learners/${b.id}?lab=${LAB}`, [403]],
      ['GET', '/api/class', [403]],
      ['GET', '/api/class/grades.csv', [403]],
      ['POST', '/api/classes', [403]],
      ['GET', `/api/labs/${LAB}/session?learner=${b.id}`, [200]],
      ['GET', `/api/learners/${b.id}`, [404]],
      ['POST', `/api/labs/${LAB}/steps/look-around/check?learner=${b.id}`, [200, 409, 429]],
    ];
    for (const [method, path, statuses] of routes) {
      const r = await a.request<{ environment?: unknown }>(method, path, method === 'POST' ? {} : undefined);
      assert.ok(statuses.includes(r.status), `${method} ${path} with A's cookie: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      assert.doesNotMatch(JSON.stringify(r.body), new RegExp(b.id), `${method} ${path}: nothing of B's in A's answer`);
    }
    // B's progress and answers are as they were
    const after_ = await b.request('GET', `/api/labs/${LAB}/session`);
    assert.deepEqual((after_.body as typeof before.body).steps, before.body.steps);
    assert.deepEqual((after_.body as typeof before.body).questions, before.body.questions);
  });

  test("A's kubeconfig token opens only A's cluster; B's cluster answers 403, guessed ones 401", async () => {
    const envA = (await p.server.context.environments.ready(a.id, LAB)).env;
    const envB = (await p.server.context.environments.ready(b.id, LAB)).env;
    const ka = kubeconfigParts(envA.kubeconfig);
    const kb = kubeconfigParts(envB.kubeconfig);
    assert.notEqual(ka.token, kb.token);
    const bPrefix = kb.server;
    const mine = await apiCall(ka.server, ka.ca, ka.token, '/api/v1/namespaces');
    assert.equal(mine.status, 200);
    for (const [method, path, body] of [
      ['GET', '/api/v1/namespaces', undefined],
      ['GET', '/api/v1/namespaces/shop/pods', undefined],
      ['GET', '/api/v1/secrets', undefined],
      ['DELETE', '/api/v1/namespaces/shop', undefined],
      ['POST', '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies', JSON.stringify({ metadata: { name: 'from-a' }, spec: { podSelector: {} } })],
      ['GET', '/api/v1/namespaces/shop/pods?watch=true', undefined],
    ] as Array<[string, string, string | undefined]>) {
      const r = await apiCall(bPrefix, kb.ca, ka.token, path, method, body);
      assert.equal(r.status, 403, `${method} ${path} on B's cluster with A's token: ${r.body.slice(0, 200)}`);
      assert.equal(JSON.parse(r.body).reason, 'Forbidden');
    }
    for (const token of [undefined, 'guess', `${ka.token}x`, kb.token.slice(0, -1)]) {
      assert.equal((await apiCall(bPrefix, kb.ca, token, '/api/v1/namespaces')).status, 401);
    }
    // B's cluster still has only what B's lab made
    const policies = await apiCall(bPrefix, kb.ca, kb.token, '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies');
    assert.equal(JSON.parse(policies.body).items.length, 0);
    // an exec into B's pod with A's token is refused before any stream opens
    const pods = JSON.parse((await apiCall(bPrefix, kb.ca, kb.token, '/api/v1/namespaces/shop/pods')).body) as { items: Array<{ metadata: { name: string } }> };
    const target = pods.items[0].metadata.name;
    const execStatus = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${bPrefix.replace('https', 'wss')}/api/v1/namespaces/shop/pods/${target}/exec?command=id&stdout=true`, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], { ca: kb.ca, headers: { Authorization: `Bearer ${ka.token}` } });
      ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', () => resolve(-1));
    });
    assert.equal(execStatus, 403);
  });

  test("A's shell cannot see B's kubeconfig, and kubectl there cannot reach B's cluster", async () => {
    const envB = (await p.server.context.environments.ready(b.id, LAB)).env;
    const kb = kubeconfigParts(envB.kubeconfig);
    const t = await a.openTerminal(LAB);
    await t.waitFor('learner@kubelab');
    const cat = await t.run(`cat ${envB.kubeconfigPath} 2>&1 | head -3`);
    assert.doesNotMatch(cat.output, new RegExp(kb.token), "B's token is not readable from A's shell");
    const grep = await t.run(`grep -rqs ${kb.token.slice(0, 16)} /home /tmp /etc /run /var /root; echo searched=$?`, 60_000);
    assert.match(grep.output, /searched=[12]/, "no copy of B's token anywhere A's shell can read");
    const forbidden = await t.run(`kubectl --server=${kb.server} get pods -A 2>&1 | tail -1`);
    assert.match(forbidden.output, /Forbidden|forbidden/, forbidden.output);
    const own = await t.run('kubectl get ns shop -o name');
    assert.equal(own.exitCode, 0, own.output);
    await t.close();
    // nothing A typed shows in B's terminal
    assert.doesNotMatch(termB.text, /searched|Forbidden/);
  });
});
