// The SPDY exec/attach server against a SPDY client written to spdystream's habits (streams opened
// one by one, each waiting for its SYN_REPLY; no flow control; pings with odd ids), over a real
// loopback HTTP server, with sessions from the process runtime (real processes).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { createProcessRuntime } from '../dataplane/process.ts';
import { ApiError } from './errors.ts';
import type { ClusterRuntime, ContainerRef, ExecRequest, ExecSession } from './runtime.ts';
import { expectedStreams, negotiateSpdyProtocol, serveSpdyExec, type SpdyExecOptions, type StreamType } from './spdy-exec.ts';
import { dataFrames, decodeFrame, FrameSplitter, goAwayFrame, HeaderCompression, pingFrame, synStreamFrame, type SpdyFrame } from './spdy-frames.ts';

const offers: Array<[string, string | string[] | undefined, string | undefined]> = [
  ['kubectl 1.29 (one header per version)', ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'], 'v5.channel.k8s.io'],
  ['kubectl 1.27 (joined by node)', 'v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io', 'v4.channel.k8s.io'],
  ['the client order wins', 'v3.channel.k8s.io,v4.channel.k8s.io', 'v3.channel.k8s.io'],
  ['v1 only', 'channel.k8s.io', undefined],
  ['nothing', undefined, undefined],
];
for (const [who, header, expected] of offers) {
  test(`negotiate: ${who}`, () => assert.equal(negotiateSpdyProtocol(header), expected));
}

test('expected streams follow the request, as the kubelet counts them', () => {
  const e = (r: Partial<ExecRequest>, p = 'v4.channel.k8s.io') => [...expectedStreams({ stdin: false, stdout: false, stderr: false, tty: false, ...r }, p)].sort();
  assert.deepEqual(e({ stdout: true, stderr: true }), ['error', 'stderr', 'stdout']);
  assert.deepEqual(e({ stdin: true, stdout: true, tty: true }), ['error', 'resize', 'stdin', 'stdout']);
  assert.deepEqual(e({ stdin: true, stdout: true, stderr: true, tty: true }), ['error', 'resize', 'stdin', 'stdout'], 'a terminal merges stderr into stdout');
  assert.deepEqual(e({ stdout: true, tty: true }, 'v2.channel.k8s.io'), ['error', 'stdout'], 'v2 has no resize stream');
});

let server: Server;
let cluster: ClusterRuntime;
let port: number;
const abort = new AbortController();
const served = new Map<string, { options: SpdyExecOptions; done?: Promise<void>; session?: ExecSession }>();

before(async () => {
  cluster = await createProcessRuntime().attach(
    { clusterId: 't', list: () => [], get: () => undefined, subscribe: () => () => {} },
    { podCIDR: '10.244.0.0/24', serviceCIDR: '10.96.0.0/12', dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local', nodeName: 'n', externalHosts: [] },
    { containerExited: () => {}, log: () => {} },
  );
  await cluster.startPod({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
  await cluster.startPod({ metadata: { name: 'main', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'while read l; do echo "got $l"; done'], stdin: true }] } });
  server = createServer();
  server.on('upgrade', (req, socket, head) => {
    const plan = served.get(req.url ?? '')!;
    const ctx = {
      closed: abort.signal,
      openSession: async (mode: 'exec' | 'attach', ref: ContainerRef, r: ExecRequest) => (plan.session = await (mode === 'exec' ? cluster.exec(ref, r) : cluster.attach(ref, r))),
    };
    plan.done = serveSpdyExec(ctx, req, socket, head, plan.options).catch((err: unknown) => {
      const status = (err as ApiError).toStatus();
      socket.end(`HTTP/1.1 ${status.code} x\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify(status)}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
after(async () => {
  abort.abort();
  server.closeAllConnections();
  server.close();
  await cluster.dispose();
});

/** The client half of the conversation, frame by frame. */
class Client {
  readonly frames: SpdyFrame[] = [];
  private readonly splitter = new FrameSplitter();
  private readonly inbound = new HeaderCompression();
  private readonly outbound = new HeaderCompression();
  private nextId = 1;
  private handling: Promise<void> = Promise.resolve();
  readonly closed: Promise<void>;
  readonly ids = new Map<StreamType, number>();

  constructor(
    readonly socket: Socket,
    readonly protocol: string,
  ) {
    socket.on('data', (chunk: Buffer) => {
      for (const raw of this.splitter.push(chunk)) {
        const decoded = decodeFrame(raw, this.inbound);
        this.handling = this.handling.then(async () => void this.frames.push(await decoded));
      }
    });
    this.closed = new Promise((r) => socket.once('close', () => r()));
  }

  /** Opens a stream and waits for its SYN_REPLY (spdystream's CreateStream + WaitTimeout). */
  async open(type: StreamType): Promise<number> {
    const id = this.nextId;
    this.nextId += 2;
    this.ids.set(type, id);
    this.socket.write(synStreamFrame(id, await this.outbound.encode(new Map([['streamtype', [type]]]))));
    await this.until(() => this.frames.some((f) => (f.type === 'syn_reply' || f.type === 'rst_stream') && f.streamId === id));
    return id;
  }

  send(type: StreamType, data: string | Buffer, fin = false): void {
    this.socket.write(dataFrames(this.ids.get(type)!, Buffer.from(data), fin));
  }

  text(type: StreamType): string {
    const id = this.ids.get(type);
    return Buffer.concat(this.frames.flatMap((f) => (f.type === 'data' && f.streamId === id ? [f.data] : []))).toString();
  }

  finned(type: StreamType): boolean {
    const id = this.ids.get(type);
    return this.frames.some((f) => f.type === 'data' && f.streamId === id && f.fin);
  }

  async until(check: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out; frames so far: ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    await this.handling;
  }
}

let seq = 0;
const ref = { namespace: 'default', pod: 'p', container: 'c' };

async function connect(options: Partial<SpdyExecOptions> & { request: ExecRequest }, versions: string[] = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']): Promise<Client> {
  const path = `/exec/${++seq}`;
  served.set(path, { options: { mode: 'exec', ref, ...options } });
  return new Promise((resolve, reject) => {
    const req = request({ port, path, method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': versions } });
    req.on('upgrade', (res, socket) => {
      assert.equal(res.statusCode, 101);
      assert.equal(res.headers.upgrade, 'SPDY/3.1');
      resolve(new Client(socket, String(res.headers['x-stream-protocol-version'])));
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(Object.assign(new Error(body), { status: res.statusCode })));
    });
    req.on('error', reject);
    req.end();
  });
}

function execRequest(command: string[], extra: Partial<ExecRequest> = {}): ExecRequest {
  return { command, stdin: false, stdout: true, stderr: true, tty: false, ...extra };
}

test('exec (v4): stdout and stderr, then the exit status on the error stream, FIN everywhere, GOAWAY', async () => {
  const c = await connect({ request: execRequest(['sh', '-c', 'echo hi; echo oops >&2; exit 3']) });
  assert.equal(c.protocol, 'v4.channel.k8s.io');
  for (const t of ['error', 'stdout', 'stderr'] as const) await c.open(t);
  await c.until(() => c.frames.some((f) => f.type === 'goaway'));
  assert.equal(c.text('stdout'), 'hi\n');
  assert.equal(c.text('stderr'), 'oops\n');
  assert.deepEqual(JSON.parse(c.text('error')), {
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [sh -c echo hi; echo oops >&2; exit 3], exit code 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
  for (const t of ['error', 'stdout', 'stderr'] as const) assert.ok(c.finned(t), `${t} got FIN`);
  const replies = c.frames.filter((f) => f.type === 'syn_reply');
  assert.deepEqual(replies.map((f) => f.type === 'syn_reply' && f.headers.size), [0, 0, 0], 'replies carry no headers');
  c.socket.end();
  await c.closed;
});

test('exec (v3): the error stream carries the failure message as text, and nothing on success', async () => {
  const failing = await connect({ request: execRequest(['sh', '-c', 'exit 2'], { stderr: false }) }, ['v3.channel.k8s.io']);
  await failing.open('error');
  await failing.open('stdout');
  await failing.until(() => failing.finned('error'));
  assert.equal(failing.text('error'), 'command terminated with non-zero exit code: error executing command [sh -c exit 2], exit code 2');
  failing.socket.destroy();
  const ok = await connect({ request: execRequest(['true'], { stderr: false }) }, ['v3.channel.k8s.io']);
  await ok.open('error');
  await ok.open('stdout');
  await ok.until(() => ok.finned('error'));
  assert.equal(ok.text('error'), '');
  ok.socket.destroy();
});

test('stdin: data frames reach the process, FIN closes its stdin; pings are echoed', async () => {
  const c = await connect({ request: execRequest(['cat'], { stdin: true }) }, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
  assert.equal(c.protocol, 'v5.channel.k8s.io');
  for (const t of ['error', 'stdin', 'stdout', 'stderr'] as const) await c.open(t);
  c.socket.write(pingFrame(1));
  c.send('stdin', 'hello ');
  c.send('stdin', 'world\n', true);
  await c.until(() => c.finned('error'));
  assert.equal(c.text('stdout'), 'hello world\n');
  assert.deepEqual(JSON.parse(c.text('error')), { metadata: {}, status: 'Success' });
  assert.ok(c.frames.some((f) => f.type === 'ping' && f.id === 1), 'ping 1 echoed');
  c.socket.destroy();
});

test('terminal: resize lines (split across frames, zero sizes ignored) reach the pty; stderr goes to stdout', async () => {
  const c = await connect({ request: execRequest(['sh'], { stdin: true, tty: true, stderr: false }) });
  for (const t of ['error', 'stdin', 'stdout', 'resize'] as const) await c.open(t);
  c.send('resize', '{"Width":0,"Height":0}\n{"Width":1');
  c.send('resize', '20,"Height":30}\n');
  await new Promise((r) => setTimeout(r, 100));
  c.send('stdin', 'stty size; echo err >&2; exit 0\n');
  await c.until(() => c.finned('error'));
  assert.match(c.text('stdout'), /30 120/);
  assert.match(c.text('stdout'), /err/);
  assert.deepEqual(JSON.parse(c.text('error')), { metadata: {}, status: 'Success' });
  c.socket.destroy();
});

test('no flow control: 4 MiB of output arrives without a WINDOW_UPDATE from the client', async () => {
  const total = 4 * 1024 * 1024;
  const c = await connect({ request: execRequest(['head', '-c', String(total), '/dev/zero'], { stderr: false }) });
  await c.open('error');
  await c.open('stdout');
  await c.until(() => c.finned('error'), 15_000);
  assert.equal(c.text('stdout').length, total);
  c.socket.destroy();
});

test('streams: an unknown or unrequested type is refused; a missing one times out with a message', async () => {
  const c = await connect({ request: execRequest(['true'], { stderr: false }), streamTimeoutMs: 300 });
  await c.open('error');
  const refused = await c.open('stdin');
  assert.ok(c.frames.some((f) => f.type === 'rst_stream' && f.streamId === refused), 'stdin was not asked for');
  await c.until(() => c.finned('error'));
  assert.deepEqual(JSON.parse(c.text('error')), { metadata: {}, status: 'Failure', message: 'timed out waiting for client to create streams', reason: 'InternalError', code: 500 });
  c.socket.destroy();
});

test('exec: a client that goes away kills the process; attach leaves the main process running', async () => {
  const c = await connect({ request: execRequest(['sleep', '600'], { stderr: false }) });
  await c.open('error');
  await c.open('stdout');
  const plan = [...served.values()].at(-1)!;
  await c.until(() => plan.session !== undefined);
  c.socket.write(goAwayFrame(0));
  c.socket.destroy();
  const exit = await Promise.race([plan.session!.exit, new Promise((r) => setTimeout(() => r('still running'), 3000))]);
  assert.notEqual(exit, 'still running');
  await plan.done;

  const attach = (): Promise<Client> => connect({ mode: 'attach', ref: { namespace: 'default', pod: 'main', container: 'c' }, request: execRequest([], { stdin: true }) });
  const first = await attach();
  for (const t of ['error', 'stdin', 'stdout', 'stderr'] as const) await first.open(t);
  first.send('stdin', 'one\n');
  await first.until(() => first.text('stdout').includes('got one'));
  first.socket.destroy();
  const second = await attach();
  for (const t of ['error', 'stdin', 'stdout', 'stderr'] as const) await second.open(t);
  second.send('stdin', 'two\n');
  await second.until(() => second.text('stdout').includes('got two'));
  second.socket.destroy();
});

test('upgrade refusals: no version header, or only versions the server does not speak', async () => {
  await assert.rejects(connect({ request: execRequest(['true']) }, []), (e: Error & { status?: number }) => e.status === 400 && /X-Stream-Protocol-Version is required/.test(e.message));
  await assert.rejects(
    connect({ request: execRequest(['true']) }, ['channel.k8s.io']),
    (e: Error & { status?: number }) => e.status === 403 && JSON.parse(e.message).message === 'unable to upgrade: unable to negotiate protocol: client supports [channel.k8s.io], server accepts [v5.channel.k8s.io v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io]',
  );
});

test('a protocol error (a SPDY/2 frame) ends the connection with GOAWAY', async () => {
  const c = await connect({ request: execRequest(['true']) });
  const v2 = pingFrame(1);
  v2.writeUInt16BE(0x8002, 0);
  c.socket.write(v2);
  await c.closed;
  assert.deepEqual(c.frames.filter((f) => f.type === 'goaway').map((f) => f.type === 'goaway' && f.status), [1]);
});
