// The exec/attach channel protocol, spoken by a real ws client as kubectl speaks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { CLOSE, negotiateChannelProtocol, RESIZE, serveChannelStream, STATUS, STDIN, STDERR, STDOUT, V4, V5 } from './channel-stream.ts';
import type { ExecSession } from './runtime.ts';

interface FakeProcess {
  session: ExecSession;
  stdinText: () => string;
  sizes: Array<[number, number]>;
  stdinEnded: Promise<void>;
  killed: () => boolean;
  exit(code: number): void;
}

/** A session whose "process" echoes what the test tells it to; enough to drive every channel. */
function fakeProcess(tty = false): FakeProcess {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = tty ? null : new PassThrough();
  let input = '';
  let killed = false;
  const sizes: Array<[number, number]> = [];
  stdin.on('data', (d: Buffer) => (input += d.toString()));
  const stdinEnded = new Promise<void>((r) => stdin.on('end', r));
  let resolveExit: (v: { exitCode: number }) => void = () => {};
  const exit = new Promise<{ exitCode: number }>((r) => (resolveExit = r));
  return {
    session: { stdin, stdout, stderr, resize: (c, r) => sizes.push([c, r]), exit, kill: () => (killed = true) },
    stdinText: () => input,
    sizes,
    stdinEnded,
    killed: () => killed,
    exit(code) {
      stdout.end();
      stderr?.end();
      resolveExit({ exitCode: code });
    },
  };
}

async function connect(p: FakeProcess, protocols: string[], opts: { mode?: 'exec' | 'attach'; command?: string[] } = {}) {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => negotiateChannelProtocol([...offered].join(',')) ?? false });
  const server = createServer();
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => void serveChannelStream(ws, p.session, { protocol: ws.protocol, tty: false, stdin: true, ...opts })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, protocols);
  const frames: Buffer[] = [];
  ws.on('message', (d: Buffer) => frames.push(d));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise<void>((r, j) => {
    ws.on('open', () => r());
    ws.on('error', j);
  });
  return { ws, frames, closed, stop: () => server.close() };
}

const text = (frames: Buffer[], channel: number) => Buffer.concat(frames.filter((f) => f[0] === channel).map((f) => f.subarray(1))).toString();

test('subprotocol negotiation prefers v5, accepts v4, refuses the rest', () => {
  assert.equal(negotiateChannelProtocol(`${V4}, ${V5}`), V5);
  assert.equal(negotiateChannelProtocol(`${V4},channel.k8s.io`), V4);
  assert.equal(negotiateChannelProtocol('channel.k8s.io'), undefined);
  assert.equal(negotiateChannelProtocol(undefined), undefined);
});

test('stdout, stderr, stdin, resize and v5 close; then the status and a normal close', async () => {
  const p = fakeProcess();
  const c = await connect(p, [V5], { command: ['sh', '-c', 'exit 3'] });
  assert.equal(c.ws.protocol, V5);
  c.ws.send(Buffer.from([STDIN, ...Buffer.from('typed\n')]));
  c.ws.send(Buffer.from([RESIZE, ...Buffer.from('{"Width":100,"Height":40}')]));
  c.ws.send(Buffer.from([CLOSE, STDIN]));
  await p.stdinEnded;
  assert.equal(p.stdinText(), 'typed\n');
  assert.deepEqual(p.sizes, [[100, 40]]);
  (p.session.stdout as PassThrough).write('out\n');
  (p.session.stderr as PassThrough).write('err\n');
  p.exit(3);
  assert.equal(await c.closed, 1000);
  assert.equal(c.frames[0].length, 1, 'an empty frame opens the stream');
  assert.equal(text(c.frames, STDOUT), 'out\n');
  assert.equal(text(c.frames, STDERR), 'err\n');
  const statusFrames = c.frames.filter((f) => f[0] === STATUS);
  assert.equal(statusFrames.length, 1);
  assert.deepEqual(JSON.parse(statusFrames[0].subarray(1).toString()), {
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
  assert.ok(c.frames.indexOf(statusFrames[0]) > c.frames.findIndex((f) => f[0] === STDOUT && f.length > 1), 'the status comes after the output');
  c.stop();
});

test('a successful exit sends Success; attach always ends with Success', async () => {
  for (const [mode, code] of [['exec', 0], ['attach', 2]] as const) {
    const p = fakeProcess();
    const c = await connect(p, [V4], { mode });
    assert.equal(c.ws.protocol, V4);
    p.exit(code);
    assert.equal(await c.closed, 1000);
    assert.deepEqual(JSON.parse(text(c.frames, STATUS)), { metadata: {}, status: 'Success' });
    c.stop();
  }
});

test('a client that goes away kills an exec, but not an attached main process', async () => {
  for (const [mode, killed] of [['exec', true], ['attach', false]] as const) {
    const p = fakeProcess();
    const c = await connect(p, [V5], { mode });
    c.ws.close();
    await c.closed;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(p.killed(), killed, mode);
    c.stop();
  }
});
