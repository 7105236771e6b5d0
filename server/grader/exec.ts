// Running one command in a pod through the Kubernetes exec API (WebSocket, as kubectl exec does),
// collecting its output and exit code.
import { Writable } from 'node:stream';
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

export async function execInPod(
  config: KubeConfig,
  target: { namespace: string; pod: string; container: string },
  command: string[],
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<ExecResult> {
  const started = Date.now();
  const out = collector();
  const err = collector();
  const exec = new Exec(config);
  let status: V1Status | undefined;
  return new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    let socket: { close(): void; on(event: string, cb: (...args: unknown[]) => void): void } | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const timer = setTimeout(() => {
      finish(() => reject(new ExecError(`the command did not finish within ${options.timeoutMs} ms`)));
      socket?.close();
    }, options.timeoutMs);
    const onAbort = () => {
      finish(() => reject(new ExecError('cancelled')));
      socket?.close();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () =>
      finish(() => {
        if (!status) return reject(new ExecError('the exec connection closed without an exit status'));
        const code = exitCodeOf(status);
        if (code === undefined) return reject(new ExecError(status.message ?? `exec failed: ${status.reason ?? 'unknown reason'}`));
        resolve({ exitCode: code, stdout: out.text(), stderr: err.text(), elapsedMs: Date.now() - started });
      });
    exec
      .exec(target.namespace, target.pod, target.container, command, out.stream, err.stream, null, false, (s) => {
        status = s;
      })
      .then((ws) => {
        socket = ws as unknown as typeof socket;
        if (settled) return ws.close();
        ws.on('close', () => setImmediate(done));
        ws.on('error', (e: Error) => finish(() => reject(new ExecError(`exec connection failed: ${e.message}`))));
      })
      .catch((e: unknown) => finish(() => reject(new ExecError(`cannot exec in ${target.namespace}/${target.pod}: ${describe(e)}`))));
  });
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object') {
    const o = e as { message?: string; status?: string; reason?: string };
    if (o.message) return o.message;
  }
  return String(e);
}
