// The channel protocol of exec/attach over WebSocket (v5.channel.k8s.io and v4.channel.k8s.io):
// one byte of channel, then payload; stdin 0, stdout 1, stderr 2, status 3 (a metav1.Status),
// resize 4 (JSON {"Width","Height"}), and in v5 a close frame 255 that ends one input channel.
// The API server uses it when the codec module (exec-stream.ts) is not part of the build.
import type { WebSocket } from 'ws';
import type { ExecSession } from './runtime.ts';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const STATUS = 3;
export const RESIZE = 4;
/** v5 only: the payload's first byte names the channel the client will not write again */
export const CLOSE = 255;

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';

/** Pause the process output above this much unsent data, resume below the low mark. */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 1 << 18;

/** The subprotocol to answer with: v5 when offered (kubectl 1.30+), else v4; undefined when neither. */
export function negotiateChannelProtocol(header: string | undefined): string | undefined {
  const offered = (header ?? '').split(',').map((p) => p.trim());
  if (offered.includes(V5)) return V5;
  if (offered.includes(V4)) return V4;
  return undefined;
}

export interface ChannelStreamOptions {
  protocol: string;
  tty: boolean;
  stdin: boolean;
  /** exec reports the command's exit code; attach ends with Success when the process goes away */
  mode?: 'exec' | 'attach';
  /** the command, for the non-zero exit message */
  command?: string[];
}

/** The status the kubelet writes when a session ends. */
export function exitStatus(exitCode: number, command: string[] | undefined, mode: 'exec' | 'attach'): Record<string, unknown> {
  if (exitCode === 0 || mode === 'attach') return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${(command ?? []).join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** Bridge a WebSocket to a session until the process ends (status then close 1000) or the client goes. */
export function serveChannelStream(ws: WebSocket, session: ExecSession, opts: ChannelStreamOptions): Promise<void> {
  const mode = opts.mode ?? 'exec';
  const v5 = opts.protocol === V5;
  return new Promise<void>((resolve) => {
    let finished = false;
    const outputs = [session.stdout, ...(session.stderr ? [session.stderr] : [])];
    const send = (channel: number, data: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true }, () => {
        if (ws.bufferedAmount < LOW_WATER) for (const o of outputs) if (o.isPaused()) o.resume();
      });
      if (ws.bufferedAmount > HIGH_WATER) for (const o of outputs) o.pause();
    };
    // tells the client the streams are set up (what kube-apiserver sends first)
    send(STDOUT, Buffer.alloc(0));
    const ended = (s: NodeJS.ReadableStream) => new Promise<void>((r) => {
      if ((s as { readableEnded?: boolean }).readableEnded) r();
      else {
        s.once('end', r);
        s.once('close', r);
        s.once('error', () => r());
      }
    });
    session.stdout.on('data', (d: Buffer | string) => send(STDOUT, Buffer.from(d)));
    session.stderr?.on('data', (d: Buffer | string) => send(STDERR, Buffer.from(d)));
    const drained = Promise.all(outputs.map(ended));

    ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
      if (data.length === 0) return;
      // kubectl sends binary frames; a text frame carries the same bytes
      void isBinary;
      const channel = data[0];
      const payload = data.subarray(1);
      switch (channel) {
        case STDIN:
          if (opts.stdin && session.stdin && !session.stdin.writableEnded) session.stdin.write(payload);
          break;
        case RESIZE:
          try {
            const size = JSON.parse(payload.toString('utf8')) as { Width?: number; Height?: number };
            if (size.Width && size.Height) session.resize(size.Width, size.Height);
          } catch {
            // a malformed resize is ignored, as the kubelet does
          }
          break;
        case CLOSE:
          if (v5 && payload[0] === STDIN) session.stdin?.end();
          break;
        default:
          // frames on channels this side does not read are dropped
          break;
      }
    });

    const finish = () => {
      if (finished) return;
      finished = true;
      resolve();
    };
    ws.on('close', () => {
      // exec dies with its client; an attached main process keeps running
      if (mode === 'exec') session.kill();
      finish();
    });
    ws.on('error', () => {
      if (mode === 'exec') session.kill();
      finish();
    });

    session.exit.then(
      async ({ exitCode }) => {
        // flush what the process wrote before reporting how it ended
        await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
        if (ws.readyState === ws.OPEN) {
          ws.send(Buffer.concat([Buffer.from([STATUS]), Buffer.from(JSON.stringify(exitStatus(exitCode, opts.command, mode)))]), { binary: true });
          ws.close(1000);
        }
        finish();
      },
      () => {
        if (ws.readyState === ws.OPEN) ws.close(1011, 'session failed');
        finish();
      },
    );
  });
}
