// Running kind and docker: always an argv array (nothing here ever goes through a shell), with a
// timeout, cancellation, and output kept for error messages.
import { spawn } from 'node:child_process';
import { KindError, abortedError } from './errors.ts';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  stdin?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  env: NodeJS.ProcessEnv;
}

/** Output kept per stream; kind's progress output is small, a runaway tool must not fill memory. */
const MAX_OUTPUT = 1024 * 1024;

/**
 * Run `binary args...`. Resolves with the exit code whatever it is; rejects only when the
 * program cannot be started (a `kind-missing` KindError), times out, or is cancelled.
 */
export function runCommand(binary: string, args: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(abortedError(opts.signal, `${binary} ${args[0] ?? ''}`));
    const child = spawn(binary, [...args], { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    // kind runs docker as children of its own: stop the whole group, not just kind
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000).unref();
    };
    const timer = setTimeout(() => {
      killGroup();
      finish(() => reject(new KindError('command-failed', `${binary} ${args.slice(0, 2).join(' ')} did not finish within ${Math.round(opts.timeoutMs / 1000)} s`, stderr)));
    }, opts.timeoutMs);
    const onAbort = (): void => {
      killGroup();
      finish(() => reject(abortedError(opts.signal, `${binary} ${args.slice(0, 2).join(' ')}`)));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      finish(() => {
        if (err.code === 'ENOENT') {
          const name = binary.split('/').pop() ?? binary;
          const install =
            name === 'docker'
              ? 'Install Docker Engine (https://docs.docker.com/engine/install/)'
              : 'Install kind v0.32.0 (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)';
          reject(new KindError('kind-missing', `${name} is not installed: "${binary}" was not found on PATH. ${install}, or set its path in the kind backend options.`));
        } else {
          reject(new KindError('command-failed', `could not run ${binary}: ${err.message}`));
        }
      });
    });
    child.on('close', (code, signal) => {
      finish(() => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    });
    child.stdin.on('error', () => {
      // the program exited without reading its input; its exit code says what happened
    });
    child.stdin.end(opts.stdin ?? '');
  });
}
