// `kubectl exec`/`kubectl attach` over SPDY/3.1, as kubectl before 1.30 (or with
// KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) asks for it: an HTTP/1.1 upgrade naming the
// remotecommand protocol versions in X-Stream-Protocol-Version, then one SPDY stream per standard
// stream, told apart by a `streamType` header (client-go tools/remotecommand v2..v5; the server
// side is the kubelet's cri/streaming/remotecommand). The error stream carries the exit status
// (v4/v5: one metav1.Status as JSON, the same one the WebSocket path sends; v2/v3: the failure
// message as text), then every stream gets FIN and the connection a GOAWAY.
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { ClusterContext } from './context.ts';
import { ApiError } from './errors.ts';
import { execExitStatus } from './exec-stream.ts';
import type { ContainerRef, ExecRequest, ExecSession } from './runtime.ts';
import { SpdyConnection, type SpdyStream } from './spdy-connection.ts';
import { RST_REFUSED_STREAM } from './spdy-frames.ts';

export const SPDY_PROTOCOL_V5 = 'v5.channel.k8s.io';
export const SPDY_PROTOCOL_V4 = 'v4.channel.k8s.io';
export const SPDY_PROTOCOL_V3 = 'v3.channel.k8s.io';
export const SPDY_PROTOCOL_V2 = 'v2.channel.k8s.io';

/**
 * What the server accepts. Over SPDY v5 is v4 (its close signal exists only on WebSocket); v3 adds
 * the resize stream to v2; v4 turns the error stream's text into a Status with the exit code.
 * v1 (channel.k8s.io) differs in stream setup and no kubectl since 1.5 needs it.
 */
export const SPDY_PROTOCOLS = [SPDY_PROTOCOL_V5, SPDY_PROTOCOL_V4, SPDY_PROTOCOL_V3, SPDY_PROTOCOL_V2];

export type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/** How long the client has to open every stream it asked for (the kubelet's default). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

/**
 * The protocol to use from X-Stream-Protocol-Version values (repeated headers arrive joined with
 * ", "): the client's first choice the server accepts, as httpstream.Handshake picks it.
 */
export function negotiateSpdyProtocol(header: string | string[] | undefined): string | undefined {
  const offered = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return offered.find((p) => SPDY_PROTOCOLS.includes(p));
}

/** The streams a request needs, as the kubelet expects them: error always, resize with a tty from v3 on. */
export function expectedStreams(request: Pick<ExecRequest, 'stdin' | 'stdout' | 'stderr' | 'tty'>, protocol: string): Set<StreamType> {
  const types = new Set<StreamType>(['error']);
  if (request.stdin) types.add('stdin');
  if (request.stdout) types.add('stdout');
  if (request.stderr && !request.tty) types.add('stderr');
  if (request.tty && protocol !== SPDY_PROTOCOL_V2) types.add('resize');
  return types;
}

export interface SpdyExecOptions {
  mode: 'exec' | 'attach';
  ref: ContainerRef;
  request: ExecRequest;
  /** pause the process output while this many bytes wait in the socket (default 1 MiB) */
  highWaterMark?: number;
  /** how long to wait for the client's streams (default 30 s) */
  streamTimeoutMs?: number;
}

/**
 * Answer an exec/attach upgrade with SPDY/3.1 and stream the session over it. Throws an ApiError
 * (before anything is written) when no protocol version fits; resolves once the connection closed.
 */
export async function serveSpdyExec(ctx: Pick<ClusterContext, 'openSession' | 'closed'>, req: IncomingMessage, socket: Duplex, head: Buffer, opts: SpdyExecOptions): Promise<void> {
  const offered = req.headers['x-stream-protocol-version'];
  const protocol = negotiateSpdyProtocol(offered);
  if (!protocol) {
    const listed = (Array.isArray(offered) ? offered.join(',') : (offered ?? '')).split(',').map((p) => p.trim()).filter(Boolean);
    if (listed.length === 0) throw new ApiError(400, 'BadRequest', 'unable to upgrade: X-Stream-Protocol-Version is required');
    throw new ApiError(403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports [${listed.join(' ')}], server accepts [${SPDY_PROTOCOLS.join(' ')}]`);
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
  const conn = new SpdyConnection(socket, head);
  const session = new RemoteCommandSession(ctx, conn, protocol, opts);
  return session.done;
}

/** One exec/attach over one SPDY connection. */
class RemoteCommandSession {
  readonly done: Promise<void>;
  private readonly expected: Set<StreamType>;
  private readonly streams = new Map<StreamType, SpdyStream>();
  private readonly high: number;
  private exec: ExecSession | undefined;
  private outputs: Readable[] = [];
  private started = false;
  /** the status was sent, or the client went away first */
  private finished = false;
  private paused = false;
  private pendingResizes: Buffer[] = [];
  private resizeText = '';
  private readonly timer: NodeJS.Timeout;
  private readonly detachers: Array<() => void> = [];

  constructor(
    private readonly ctx: Pick<ClusterContext, 'openSession' | 'closed'>,
    private readonly conn: SpdyConnection,
    private readonly protocol: string,
    private readonly opts: SpdyExecOptions,
  ) {
    this.expected = expectedStreams(opts.request, protocol);
    this.high = opts.highWaterMark ?? 1 << 20;
    this.done = new Promise<void>((resolve) => conn.once('close', resolve));
    conn.on('error', () => {
      /* the connection closes after an error; 'close' ends the session */
    });
    conn.on('stream', (stream) => this.onStream(stream));
    conn.on('drain', () => this.resumeOutput());
    conn.once('close', () => this.onClose());
    this.timer = setTimeout(() => {
      if (this.started) return;
      // the kubelet gives up the same way; the client sees the error stream if it opened one
      this.fail('timed out waiting for client to create streams');
    }, opts.streamTimeoutMs ?? STREAM_CREATION_TIMEOUT_MS);
    this.timer.unref();
    const onAbort = (): void => conn.close(1000);
    ctx.closed.addEventListener('abort', onAbort, { once: true });
    this.detachers.push(() => ctx.closed.removeEventListener('abort', onAbort));
  }

  private onStream(stream: SpdyStream): void {
    const type = stream.header('streamtype') as StreamType | undefined;
    if (!type || !this.expected.has(type) || this.streams.has(type)) {
      stream.reset(RST_REFUSED_STREAM);
      return;
    }
    stream.reply();
    this.streams.set(type, stream);
    if (type === 'resize') stream.on('data', (d) => this.onResize(d));
    if (this.streams.size === this.expected.size) void this.start();
  }

  private async start(): Promise<void> {
    this.started = true;
    clearTimeout(this.timer);
    const { mode, ref, request } = this.opts;
    let exec: ExecSession;
    try {
      exec = await this.ctx.openSession(mode, ref, request);
    } catch (err) {
      // as the kubelet reports a session the runtime cannot start
      const message = err instanceof Error ? err.message : String(err);
      this.finish({ metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 });
      return;
    }
    if (this.finished) {
      // the client went away while the session was starting
      if (mode === 'exec') exec.kill();
      else exec.detach?.();
      return;
    }
    this.exec = exec;
    this.pipe(exec);
  }

  private pipe(exec: ExecSession): void {
    const stdin = this.streams.get('stdin');
    if (stdin && exec.stdin) {
      const target = exec.stdin;
      target.on('error', () => {
        /* the process closed its stdin; what the client still sends is dropped */
      });
      stdin.on('data', (d) => {
        if (target.writableEnded || target.destroyed) return;
        if (!target.write(d)) {
          this.conn.socket.pause();
          target.once('drain', () => this.conn.socket.resume());
        }
      });
      const close = (): void => {
        if (!target.writableEnded) target.end();
      };
      stdin.once('end', close);
      stdin.once('reset', close);
      if (stdin.remoteClosed) close();
    }
    for (const d of this.pendingResizes) this.applyResize(d);
    this.pendingResizes = [];

    const stdout = this.streams.get('stdout');
    const stderr = this.opts.request.tty ? stdout : this.streams.get('stderr');
    const outputs: Readable[] = [exec.stdout, ...(exec.stderr ? [exec.stderr] : [])];
    const forward = (target: SpdyStream | undefined) => (chunk: Buffer | string) => {
      if (!target) return;
      if (!target.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk) || this.conn.bufferedAmount > this.high) this.pauseOutput(outputs);
    };
    const onStdout = forward(stdout);
    const onStderr = forward(stderr);
    exec.stdout.on('data', onStdout);
    exec.stderr?.on('data', onStderr);
    this.detachers.push(() => {
      exec.stdout.off('data', onStdout);
      exec.stderr?.off('data', onStderr);
      if (this.paused) for (const s of outputs) s.resume();
    });
    this.outputs = outputs;
    const ended = outputs.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.readableEnded || s.destroyed) return resolve();
          s.once('end', resolve);
          s.once('close', resolve);
        }),
    );
    void exec.exit.then(async ({ exitCode }) => {
      // let stdout/stderr drain before the status, or kubectl loses the last output
      await Promise.race([Promise.all(ended), delay(2000)]);
      this.finish(this.opts.mode === 'attach' ? execExitStatus(0) : execExitStatus(exitCode, this.opts.request.command));
    });
  }

  private pauseOutput(outputs: Readable[]): void {
    if (this.paused) return;
    this.paused = true;
    for (const s of outputs) s.pause();
  }

  private resumeOutput(): void {
    if (!this.paused || this.conn.bufferedAmount > this.high / 4) return;
    this.paused = false;
    for (const s of this.outputs) s.resume();
  }

  private onResize(data: Buffer): void {
    if (!this.exec) {
      this.pendingResizes.push(data);
      return;
    }
    this.applyResize(data);
  }

  /** json.Encoder writes one TerminalSize per line: {"Width":80,"Height":24}; frames may split lines. */
  private applyResize(data: Buffer): void {
    this.resizeText += data.toString('utf8');
    let nl: number;
    while ((nl = this.resizeText.indexOf('\n')) >= 0) {
      const line = this.resizeText.slice(0, nl).trim();
      this.resizeText = this.resizeText.slice(nl + 1);
      if (line) applyTerminalSize(this.exec, line);
    }
    if (this.resizeText.length > 4096) this.resizeText = '';
  }

  private fail(message: string): void {
    this.finish({ metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 });
  }

  /** Status on the error stream, FIN on every stream, GOAWAY. */
  private finish(status: object): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.detach();
    const errorStream = this.streams.get('error');
    if (errorStream) errorStream.end(this.errorPayload(status as { status?: string; message?: string }));
    for (const [type, stream] of this.streams) if (type !== 'error') stream.end();
    this.conn.close();
  }

  private errorPayload(status: { status?: string; message?: string }): Buffer {
    if (this.protocol === SPDY_PROTOCOL_V4 || this.protocol === SPDY_PROTOCOL_V5) return Buffer.from(JSON.stringify(status));
    // v2/v3 clients read the error stream as the failure message itself; nothing means success
    return Buffer.from(status.status === 'Success' ? '' : (status.message ?? ''));
  }

  private onClose(): void {
    clearTimeout(this.timer);
    this.detach();
    if (!this.finished) {
      this.finished = true;
      // exec ends with its client; an attached main process keeps running
      if (this.exec && this.opts.mode === 'exec') this.exec.kill();
      else this.exec?.detach?.();
    }
  }

  private detach(): void {
    for (const d of this.detachers.splice(0)) d();
  }
}

function applyTerminalSize(exec: ExecSession | undefined, line: string): void {
  let size: { Width?: unknown; Height?: unknown };
  try {
    size = JSON.parse(line) as { Width?: unknown; Height?: unknown };
  } catch {
    return;
  }
  const cols = Number(size.Width);
  const rows = Number(size.Height);
  // {"Width":0,"Height":0} comes before kubectl knows the terminal
  if (exec && Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0) exec.resize(cols, rows);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
