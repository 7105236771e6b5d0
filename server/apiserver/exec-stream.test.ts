import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { createProcessRuntime } from '../dataplane/process.ts';
import type { ClusterRuntime, ExecSession } from './runtime.ts';
import { CHANNEL_CLOSE, CHANNEL_ERROR, CHANNEL_RESIZE, CHANNEL_STDERR, CHANNEL_STDIN, CHANNEL_STDOUT, negotiateExecProtocol, serveExecStream, type ExecStreamOptions } from './exec-stream.ts';

const offers: Array<[string, string | undefined, string | undefined]> = [
  ['kubectl 1.30+', 'v5.channel.k8s.io', 'v5.channel.k8s.io'],
  ['client-node', 'v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io', 'v5.channel.k8s.io'],
  ['an older client', 'v4.channel.k8s.io,v3.channel.k8s.io', 'v4.channel.k8s.io'],
  ['base64 only', 'v4.base64.channel.k8s.io, base64.channel.k8s.io', 'v4.base64.channel.k8s.io'],
  ['v1 only', 'channel.k8s.io', undefined],
  ['nothing', undefined, undefined],
  ['empty', '', undefined],
];
for (const [who, header, expected] of offers) {
  test(`negotiate: ${who}`, () => assert.equal(negotiateExecProtocol(header), expected));
}

// A real ws server on loopback whose sessions come from the process runtime (real processes).
let server: Server;
let cluster: ClusterRuntime;
let port: number;
interface Plan {
  session: () => Promise<ExecSession>;
  opts: Omit<ExecStreamOptions, 'protocol'>;
  served?: Promise<void>;
  socket?: WebSocket;
}
const plans = new Map<string, Plan>();

before(async () => {
  cluster = await createProcessRuntime().attach(
    { clusterId: 't', list: () => [], get: () => undefined, subscribe: () => () => {} },
    { podCIDR: '10.244.0.0/24', serviceCIDR: '10.96.0.0/12', dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local', nodeName: 'n', externalHosts: [] },
    { containerExited: () => {}, log: () => {} },
  );
  await cluster.startPod({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
  await cluster.startPod({ metadata: { name: 'main', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'while read l; do echo "got $l"; done'], stdin: true }] } });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (set) => negotiateExecProtocol([...set].join(',')) ?? false });
  server = createServer();
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, async (ws) => {
      const plan = plans.get(req.url ?? '')!;
      plan.socket = ws;
      plan.served = serveExecStream(ws, await plan.session(), { ...plan.opts, protocol: ws.protocol });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await cluster.dispose();
});

const ref = { namespace: 'default', pod: 'p', container: 'c' };
function exec(command: string[], tty = false, stdin = false): () => Promise<ExecSession> {
  return () => cluster.exec(ref, { command, tty, stdin, stdout: true, stderr: !tty, size: { cols: 80, rows: 24 } });
}

interface Conversation {
  ws: WebSocket;
  frames: Array<[number, Buffer]>;
  closed: Promise<number>;
  text(channel: number): string;
}
let seq = 0;
async function open(plan: Plan, protocol = 'v5.channel.k8s.io'): Promise<Conversation & { plan: Plan }> {
  const path = `/exec/${++seq}`;
  plans.set(path, plan);
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, [protocol]);
  const frames: Array<[number, Buffer]> = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) frames.push([data[0], data.subarray(1)]);
    else frames.push([data.toString().charCodeAt(0) - 48, Buffer.from(data.toString().slice(1), 'base64')]);
  });
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  assert.equal(ws.protocol, protocol);
  return { ws, frames, closed, plan, text: (ch) => Buffer.concat(frames.filter(([c]) => c === ch).map(([, b]) => b)).toString() };
}

test('exec: output on stdout/stderr, then the failure status, then a normal close', async () => {
  const c = await open({ session: exec(['sh', '-c', 'echo hi; echo oops >&2; exit 3']), opts: { tty: false, stdin: false, command: ['sh', '-c', 'exit 3'] } });
  assert.equal(await c.closed, 1000);
  assert.deepEqual(c.frames[0], [CHANNEL_STDOUT, Buffer.alloc(0)], 'opens with an empty stdout frame');
  assert.equal(c.text(CHANNEL_STDOUT), 'hi\n');
  assert.equal(c.text(CHANNEL_STDERR), 'oops\n');
  assert.equal(c.frames[c.frames.length - 1][0], CHANNEL_ERROR, 'the status comes last');
  assert.deepEqual(JSON.parse(c.text(CHANNEL_ERROR)), {
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
});

test('exec: stdin is delivered and the v5 close frame ends it', async () => {
  const c = await open({ session: exec(['cat'], false, true), opts: { tty: false, stdin: true } });
  c.ws.send(Buffer.from([CHANNEL_STDIN, ...Buffer.from('hello\n')]));
  c.ws.send(Buffer.from([CHANNEL_CLOSE, CHANNEL_STDIN]));
  assert.equal(await c.closed, 1000);
  assert.equal(c.text(CHANNEL_STDOUT), 'hello\n');
  assert.deepEqual(JSON.parse(c.text(CHANNEL_ERROR)), { metadata: {}, status: 'Success' });
});

test('exec with a terminal: resize frames reach the pty (zero sizes ignored)', async () => {
  const c = await open({ session: exec(['sh'], true, true), opts: { tty: true, stdin: true } });
  c.ws.send(Buffer.concat([Buffer.from([CHANNEL_RESIZE]), Buffer.from('{"Width":0,"Height":0}\n')]));
  c.ws.send(Buffer.concat([Buffer.from([CHANNEL_RESIZE]), Buffer.from('{"Width":120,"Height":30}\n')]));
  await new Promise((r) => setTimeout(r, 100));
  c.ws.send(Buffer.from([CHANNEL_STDIN, ...Buffer.from('stty size; exit 0\n')]));
  assert.equal(await c.closed, 1000);
  assert.match(c.text(CHANNEL_STDOUT), /30 120/);
  assert.equal(c.text(CHANNEL_STDERR), '');
});

test('exec: a client that goes away kills the process', async () => {
  let session: ExecSession | undefined;
  const c = await open({ session: async () => (session = await exec(['sleep', '600'])()), opts: { tty: false, stdin: false } });
  await new Promise((r) => setTimeout(r, 50));
  c.ws.terminate();
  const exit = await Promise.race([session!.exit, new Promise((r) => setTimeout(() => r('still running'), 3000))]);
  assert.notEqual(exit, 'still running');
  await c.plan.served;
});

test('attach: a client that goes away leaves the main process running', async () => {
  const attach = () => cluster.attach({ namespace: 'default', pod: 'main', container: 'c' }, { command: [], tty: false, stdin: true, stdout: true, stderr: true });
  const first = await open({ session: attach, opts: { tty: false, stdin: true, mode: 'attach' } });
  first.ws.send(Buffer.from([CHANNEL_STDIN, ...Buffer.from('one\n')]));
  await until(() => first.text(CHANNEL_STDOUT).includes('got one'));
  first.ws.close();
  await first.plan.served;
  const second = await open({ session: attach, opts: { tty: false, stdin: true, mode: 'attach' } });
  second.ws.send(Buffer.from([CHANNEL_STDIN, ...Buffer.from('two\n')]));
  await until(() => second.text(CHANNEL_STDOUT).includes('got two'));
  second.ws.close();
});

test('flow control: output pauses while the client does not read, nothing is lost', async () => {
  const total = 16 * 1024 * 1024;
  const high = 256 * 1024;
  const c = await open({ session: exec(['head', '-c', String(total), '/dev/zero']), opts: { tty: false, stdin: false, highWaterMark: high } });
  const client = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  client.pause();
  let peak = 0;
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 10));
    peak = Math.max(peak, c.plan.socket?.bufferedAmount ?? 0);
  }
  assert.ok(peak > 0, 'output was queued');
  assert.ok(peak < high + 1024 * 1024, `the server queued at most a chunk over the mark (peak ${peak})`);
  client.resume();
  assert.equal(await c.closed, 1000);
  assert.equal(c.frames.filter(([ch]) => ch === CHANNEL_STDOUT).reduce((n, [, b]) => n + b.length, 0), total);
  assert.deepEqual(JSON.parse(c.text(CHANNEL_ERROR)), { metadata: {}, status: 'Success' });
});

test('v4.base64: text frames with an ASCII channel digit', async () => {
  const c = await open({ session: exec(['sh', '-c', 'echo b64']), opts: { tty: false, stdin: false } }, 'v4.base64.channel.k8s.io');
  assert.equal(await c.closed, 1000);
  assert.equal(c.text(CHANNEL_STDOUT), 'b64\n');
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
