import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { TerminalSession, type TerminalClient } from './session.ts';
import { FLOW_HIGH, type ServerMessage } from '../../shared/terminal-protocol.ts';
import { OutputFlow } from './flow-control.ts';

const kubeconfig = 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n';

/** A stand-in browser: keeps what it receives and acknowledges like xterm.js's write callback. */
class FakeBrowser implements TerminalClient {
  text = '';
  messages: ServerMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  maxInFlight = 0;
  constructor(private readonly session: () => TerminalSession, private readonly ackDelayMs = 0) {}
  send(m: ServerMessage): void {
    this.messages.push(m);
    if (m.type === 'hello') this.text += m.replay;
    if (m.type === 'output') {
      this.text += m.data;
      if (this.text.length > 400_000) this.text = this.text.slice(-200_000);
      this.maxInFlight = Math.max(this.maxInFlight, this.session().unacknowledged);
      setTimeout(() => this.session().receive(this, { type: 'ack', chars: m.data.length }), this.ackDelayMs);
    }
  }
  bufferedAmount(): number {
    return 0;
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  async waitFor(pattern: RegExp | string, timeoutMs = 5000): Promise<void> {
    const start = Date.now();
    while (!(typeof pattern === 'string' ? this.text.includes(pattern) : pattern.test(this.text))) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${pattern}; screen ends with ${JSON.stringify(this.text.slice(-300))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

function start(): { session: TerminalSession; browser: FakeBrowser } {
  let session!: TerminalSession;
  session = new TerminalSession({ kubeconfig, env: {}, cols: 80, rows: 24 });
  const browser = new FakeBrowser(() => session);
  return { session, browser };
}

test('a shell answers, sees only its own kubeconfig, and ends when killed', async () => {
  const { session, browser } = start();
  try {
    session.attach(browser);
    await browser.waitFor('learner@kubelab');
    session.receive(browser, { type: 'input', data: 'echo sum=$((6*7)); echo kc=$KUBECONFIG\r' });
    await browser.waitFor('sum=42');
    await browser.waitFor(/kc=\S+/);
    if (session.sandbox === 'bwrap') {
      session.receive(browser, { type: 'input', data: 'ls /work /root 2>&1 | head -2; cat ~/.kube/config | head -1\r' });
      await browser.waitFor('apiVersion: v1');
      assert.match(browser.text, /ls: cannot access '\/work'/);
    }
  } finally {
    session.kill();
  }
});

test('yes floods, Ctrl-C brings the prompt back, and in-flight output stays bounded', async () => {
  let session!: TerminalSession;
  session = new TerminalSession({ kubeconfig, env: {}, cols: 80, rows: 24 });
  // a browser that parses slowly: every ack waits 20 ms
  const browser = new FakeBrowser(() => session, 20);
  try {
    session.attach(browser);
    await browser.waitFor('learner@kubelab');
    session.receive(browser, { type: 'input', data: 'yes kubelab-flood\r' });
    await browser.waitFor(/(kubelab-flood\r\n){50}/);
    await new Promise((r) => setTimeout(r, 500));
    session.receive(browser, { type: 'input', data: '\x03' });
    browser.text = '';
    session.receive(browser, { type: 'input', data: 'echo after-$((1+1))\r' });
    await browser.waitFor('after-2', 5000);
    // one coalesced chunk may overshoot the high watermark, never more
    assert.ok(browser.maxInFlight < FLOW_HIGH + 64 * 1024, `in flight peaked at ${browser.maxInFlight}`);
  } finally {
    session.kill();
  }
});

test('a reconnect gets the same shell with its scrollback, and the old connection is closed', async () => {
  const { session, browser } = start();
  try {
    session.attach(browser);
    await browser.waitFor('learner@kubelab');
    session.receive(browser, { type: 'input', data: 'echo marker-$((40+2)); echo pid=$$\r' });
    await browser.waitFor('marker-42');
    session.detach(browser);
    const second = new FakeBrowser(() => session);
    session.attach(second);
    await second.waitFor('marker-42');
    const hello = second.messages.find((m) => m.type === 'hello');
    assert.ok(hello && hello.type === 'hello' && hello.pid === session.pid);
    // a third tab takes over: the second is told why
    const third = new FakeBrowser(() => session);
    session.attach(third);
    assert.equal(second.closed?.code, 4001);
    session.receive(third, { type: 'input', data: 'echo still-$((1+2))\r' });
    await third.waitFor('still-3');
    assert.ok(!second.text.includes('still-3'), 'a replaced connection receives nothing');
  } finally {
    session.kill();
  }
});

test('resize reaches the shell', async () => {
  const { session, browser } = start();
  try {
    session.attach(browser);
    await browser.waitFor('learner@kubelab');
    session.receive(browser, { type: 'resize', cols: 123, rows: 45 });
    session.receive(browser, { type: 'input', data: 'stty size\r' });
    await browser.waitFor('45 123');
    assert.deepEqual(session.size, { cols: 123, rows: 45 });
  } finally {
    session.kill();
  }
});

test('killing a session removes its private directory', async () => {
  const { session, browser } = start();
  session.attach(browser);
  await browser.waitFor('learner@kubelab');
  const dir = (session as unknown as { plan: { dir: string } }).plan.dir;
  assert.ok(existsSync(dir));
  session.kill();
  assert.ok(!existsSync(dir));
});

test('OutputFlow pauses above high, resumes at low, and clamps over-acknowledgement', () => {
  const flow = new OutputFlow({ high: 100, low: 10, maxBuffered: 1000 });
  assert.equal(flow.sent(60, 0), 'none');
  assert.equal(flow.sent(60, 0), 'pause');
  assert.equal(flow.acknowledged(50, 0), 'none');
  assert.equal(flow.acknowledged(500, 0), 'resume');
  assert.equal(flow.unacknowledged, 0);
  assert.equal(flow.sent(1, 5000), 'pause', 'a full socket buffer pauses too');
  assert.equal(flow.poll(400), 'resume');
});
