// Running one command in a pod through the Kubernetes exec API (WebSocket, as kubectl exec does),
// collecting its output and exit code.
import { PassThrough, type Readable, Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** The exec itself failed (pod gone, container not running, connection lost): not a network outcome. */
export class ExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecError';
  }
}

const maxOutput = 64 * 1024;

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (size < maxOutput) {
        chunks.push(chunk);
        size += chunk.length;
      }
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8').slice(0, maxOutput) };
}

/** Exit code from the exec status (0 on Success, the ExitCode cause otherwise). */
export function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message !== undefined && /^\d+$/.test(cause.message)) return Number(cause.message);
  return undefined;
}

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

/** An exec that has started (or is starting): its end, and a way to cut it short. */
export interface StartedExec {
  /** the exit status and output once the command ends; an ExecError when the exec itself fails */
  readonly done: Promise<ExecResult>;
  /** true once `done` has settled */
  readonly ended: boolean;
  /** close the connection (the command is killed); `done` rejects with `why` if still pending */
  close(why?: string): void;
}

/**
 * Start a command in a pod. `stdin`, when given, is sent as the command's standard input and
 * never ended: an end would close the whole connection on exec protocols before v5, so the
 * command must know by itself where its input stops.
 */
export function startExec(config: KubeConfig, target: ExecTarget, command: string[], stdin?: Readable): StartedExec {
  const started = Date.now();
  const out = collector();
  const err = collector();
  let status: V1Status | undefined;
  let socket: { close(): void; on(event: string, cb: (...args: unknown[]) => void): void } | undefined;
  let ended = false;
  let fail: (e: ExecError) => void = () => {};
  const done = new Promise<ExecResult>((resolve, reject) => {
    const finish = (fn: () => void) => {
      if (ended) return;
      ended = true;
      fn();
    };
    fail = (e) => finish(() => reject(e));
    const closed = () =>
      finish(() => {
        if (!status) return reject(new ExecError('the exec connection closed without an exit status'));
        const code = exitCodeOf(status);
        if (code === undefined) return reject(new ExecError(status.message ?? `exec failed: ${status.reason ?? 'unknown reason'}`));
        resolve({ exitCode: code, stdout: out.text(), stderr: err.text(), elapsedMs: Date.now() - started });
      });
    new Exec(config)
      .exec(target.namespace, target.pod, target.container, command, out.stream, err.stream, stdin ?? null, false, (s) => {
        status = s;
      })
      .then((ws) => {
        socket = ws as unknown as typeof socket;
        if (ended) return ws.close();
        ws.on('close', () => setImmediate(closed));
        ws.on('error', (e: Error) => finish(() => reject(new ExecError(`exec connection failed: ${e.message}`))));
      })
      .catch((e: unknown) => finish(() => reject(new ExecError(`cannot exec in ${target.namespace}/${target.pod}: ${describe(e)}`))));
  });
  // a caller that never awaits `done` (an exec kept for later that is closed unused) must not leave an unhandled rejection
  done.catch(() => {});
  return {
    done,
    get ended() {
      return ended;
    },
    close(why = 'cancelled') {
      fail(new ExecError(why));
      socket?.close();
    },
  };
}

/** Wait for a started exec, at most `timeoutMs`, or until `signal` aborts; either closes it. */
export async function awaitExec(exec: StartedExec, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ExecResult> {
  const timer = setTimeout(() => exec.close(`the command did not finish within ${options.timeoutMs} ms`), options.timeoutMs);
  const onAbort = () => exec.close('cancelled');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await exec.done;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

export async function execInPod(config: KubeConfig, target: ExecTarget, command: string[], options: { timeoutMs: number; signal?: AbortSignal; stdin?: string }): Promise<ExecResult> {
  let input: PassThrough | undefined;
  if (options.stdin !== undefined) {
    input = new PassThrough();
    input.write(options.stdin);
  }
  return awaitExec(startExec(config, target, command, input), options);
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object') {
    const o = e as { message?: string; status?: string; reason?: string };
    if (o.message) return o.message;
  }
  return String(e);
}
