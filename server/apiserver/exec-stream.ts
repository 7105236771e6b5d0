// The server side of `kubectl exec`/`kubectl attach` over WebSocket (the channel.k8s.io
// subprotocols of k8s.io/apimachinery wsstream and the kubelet's remotecommand server):
// every message is [channel byte, ...payload]; stdout/stderr flow out, stdin and terminal
// resizes flow in; the error channel carries one metav1.Status when the process ends, then
// the socket closes normally (1000) so kubectl's copy loops see EOF instead of an error.
import type { WebSocket, RawData } from 'ws';
import type { ExecSession } from './runtime.ts';

export const CHANNEL_STDIN = 0;
export const CHANNEL_STDOUT = 1;
export const CHANNEL_STDERR = 2;
export const CHANNEL_ERROR = 3;
export const CHANNEL_RESIZE = 4;
/** v5 only: the client says it will send nothing more on the channel in the payload */
export const CHANNEL_CLOSE = 255;

export const PROTOCOL_V5 = 'v5.channel.k8s.io';
export const PROTOCOL_V4 = 'v4.channel.k8s.io';
export const PROTOCOL_V4_BASE64 = 'v4.base64.channel.k8s.io';

/** Best first. kubectl 1.30+ offers only v5; client-node offers v5..v1; v1-v3 differ in status framing and are not served. */
const SUPPORTED = [PROTOCOL_V5, PROTOCOL_V4, PROTOCOL_V4_BASE64];

/** Picks the subprotocol to echo from a Sec-WebSocket-Protocol request header, or undefined if none fits. */
export function negotiateExecProtocol(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const offered = new Set(header.split(',').map((p) => p.trim()).filter(Boolean));
  return SUPPORTED.find((p) => offered.has(p));
}

export interface ExecStreamOptions {
  protocol: string;
  tty: boolean;
  stdin: boolean;
  /** exec (default) kills the process when the client goes away; attach leaves it running */
  mode?: 'exec' | 'attach';
  /** the command, for the non-zero exit message ("error executing command [sh -c exit 3], exit code 3") */
  command?: string[];
  /** pause the process output while this many bytes wait in the socket (default 1 MiB) */
  highWaterMark?: number;
}

/** A metav1.Status as the kubelet writes it on the error channel. */
export function execExitStatus(exitCode: number, command: string[] = []): object {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** Streams one session over an accepted WebSocket; resolves once the socket has closed. */
export function serveExecStream(ws: WebSocket, session: ExecSession, opts: ExecStreamOptions): Promise<void> {
  const base64 = opts.protocol === PROTOCOL_V4_BASE64;
  const v5 = opts.protocol === PROTOCOL_V5;
  const mode = opts.mode ?? 'exec';
  const high = opts.highWaterMark ?? 1 << 20;
  const outputs = [session.stdout, ...(session.stderr && !opts.tty ? [session.stderr] : [])];
  let finished = false;

  const send = (channel: number, payload: Buffer | string): void => {
    if (ws.readyState !== ws.OPEN) return;
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (base64) ws.send(String(channel) + data.toString('base64'));
    else ws.send(Buffer.concat([Buffer.from([channel]), data]));
  };

  // Flow control: the process output is paused while the socket has more than `high` bytes
  // queued, and resumed once it drained below a quarter of that (ws has no drain event).
  let paused = false;
  let drainTimer: NodeJS.Timeout | undefined;
  const checkPressure = (): void => {
    if (!paused && ws.bufferedAmount > high) {
      paused = true;
      for (const s of outputs) s.pause();
      drainTimer = setInterval(() => {
        if (ws.readyState !== ws.OPEN || ws.bufferedAmount <= high / 4) {
          clearInterval(drainTimer);
          drainTimer = undefined;
          paused = false;
          for (const s of outputs) s.resume();
        }
      }, 5);
    }
  };

  const forward = (channel: number) => (chunk: Buffer | string) => {
    send(channel, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    checkPressure();
  };
  const onStdout = forward(CHANNEL_STDOUT);
  const onStderr = forward(opts.tty ? CHANNEL_STDOUT : CHANNEL_STDERR);
  session.stdout.on('data', onStdout);
  if (session.stderr) session.stderr.on('data', onStderr);
  const ended = outputs.map((s) => new Promise<void>((resolve) => {
    if (s.readableEnded || s.destroyed) return resolve();
    s.once('end', resolve);
    s.once('close', resolve);
  }));

  // the kubelet opens with an empty frame on the first writable channel
  send(CHANNEL_STDOUT, Buffer.alloc(0));

  ws.on('message', (raw: RawData, isBinary: boolean) => {
    const frame = decodeFrame(raw, isBinary, base64);
    if (!frame) return;
    const [channel, payload] = frame;
    switch (channel) {
      case CHANNEL_STDIN:
        if (opts.stdin && session.stdin && !session.stdin.writableEnded) session.stdin.write(payload);
        return;
      case CHANNEL_RESIZE:
        resize(session, payload);
        return;
      case CHANNEL_CLOSE:
        if (v5 && payload[0] === CHANNEL_STDIN && session.stdin && !session.stdin.writableEnded) session.stdin.end();
        return;
      default:
        return; // kubectl's demux also ignores channels it does not know
    }
  });

  const detach = (): void => {
    session.stdout.off('data', onStdout);
    session.stderr?.off('data', onStderr);
    if (drainTimer) clearInterval(drainTimer);
    if (paused) for (const s of outputs) s.resume();
  };

  return new Promise<void>((resolve) => {
    ws.once('close', () => {
      detach();
      if (!finished && mode === 'exec') session.kill();
      if (!finished && mode === 'attach') session.detach?.();
      resolve();
    });
    ws.on('error', () => {
      /* a reset connection ends in 'close' too */
    });
    void session.exit.then(async ({ exitCode }) => {
      // let stdout/stderr drain before the status, or kubectl loses the last output
      await Promise.race([Promise.all(ended), delay(2000)]);
      finished = true;
      detach();
      if (ws.readyState !== ws.OPEN) return;
      send(CHANNEL_ERROR, JSON.stringify(mode === 'attach' ? execExitStatus(0) : execExitStatus(exitCode, opts.command)));
      ws.close(1000);
    });
  });
}

function decodeFrame(raw: RawData, isBinary: boolean, base64: boolean): [number, Buffer] | undefined {
  const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer);
  if (buf.length === 0) return undefined;
  if (base64 && !isBinary) {
    const text = buf.toString('utf8');
    const channel = text.charCodeAt(0) - 48;
    return [channel, Buffer.from(text.slice(1), 'base64')];
  }
  return [buf[0], buf.subarray(1)];
}

/** TerminalSize has no JSON tags, so the keys are Go's field names: {"Width":80,"Height":24}. */
function resize(session: ExecSession, payload: Buffer): void {
  let size: { Width?: unknown; Height?: unknown };
  try {
    size = JSON.parse(payload.toString('utf8')) as { Width?: unknown; Height?: unknown };
  } catch {
    return;
  }
  const cols = Number(size.Width);
  const rows = Number(size.Height);
  // kubectl sends {"Width":0,"Height":0} before it knows the terminal
  if (Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0) session.resize(cols, rows);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
