// ExecSessions over a child process (pipes) or a pseudo-terminal (node-pty), shared by every
// data plane. With a tty, stderr is merged into stdout, as the container runtime does.
import { spawn as spawnChild } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import * as pty from 'node-pty';
import type { ExecSession } from '../apiserver/runtime.ts';

export interface LaunchSpec {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  tty: boolean;
  /** whether the caller will write stdin; without it stdin is /dev/null */
  stdin: boolean;
  size?: { cols: number; rows: number };
}

function signalName(sig: number | undefined): string | undefined {
  if (!sig) return undefined;
  const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 9: 'SIGKILL', 13: 'SIGPIPE', 15: 'SIGTERM' };
  return names[sig] ?? `signal ${sig}`;
}

/** Start a process and expose it as an ExecSession. */
export function launch(spec: LaunchSpec): ExecSession {
  return spec.tty ? launchPty(spec) : launchPipes(spec);
}

function launchPipes(spec: LaunchSpec): ExecSession {
  const child = spawnChild(spec.file, spec.args, {
    env: spec.env,
    cwd: spec.cwd,
    stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<{ exitCode: number; signal?: string }>((resolve) => {
    let done = false;
    child.on('error', () => {
      if (done) return;
      done = true;
      resolve({ exitCode: 126 });
    });
    child.on('close', (code, signal) => {
      if (done) return;
      done = true;
      resolve(signal ? { exitCode: 128 + (signalNumber(signal) ?? 0), signal } : { exitCode: code ?? 0 });
    });
  });
  child.stdin?.on('error', () => {});
  return {
    stdin: child.stdin ?? null,
    stdout: child.stdout!,
    stderr: child.stderr!,
    resize: () => {},
    exit,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const map: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return map[signal];
}

function launchPty(spec: LaunchSpec): ExecSession {
  const term = pty.spawn(spec.file, spec.args, {
    name: spec.env.TERM ?? 'xterm',
    cols: spec.size?.cols ?? 80,
    rows: spec.size?.rows ?? 24,
    cwd: spec.cwd,
    env: spec.env,
    encoding: null,
  } as pty.IPtyForkOptions);
  const stdout = new PassThrough();
  let exited = false;
  term.onData((d: string | Buffer) => {
    if (!stdout.write(typeof d === 'string' ? Buffer.from(d) : d)) {
      // Back-pressure from the reader (the exec WebSocket) pauses the program itself.
      term.pause();
      stdout.once('drain', () => {
        if (!exited) term.resume();
      });
    }
  });
  const exit = new Promise<{ exitCode: number; signal?: string }>((resolve) => {
    term.onExit(({ exitCode, signal }) => {
      exited = true;
      stdout.end();
      const name = signalName(signal);
      resolve(name && exitCode === 0 ? { exitCode: 128 + (signal ?? 0), signal: name } : { exitCode });
    });
  });
  const stdin = spec.stdin
    ? new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (!exited) term.write(chunk.toString('utf8'));
          cb();
        },
        final(cb) {
          // The far end closed stdin: a terminal sees end-of-file as ^D at the start of a line.
          if (!exited) term.write('\x04');
          cb();
        },
      })
    : null;
  return {
    stdin,
    stdout,
    stderr: null,
    resize: (cols, rows) => {
      if (!exited && cols > 0 && rows > 0) term.resize(cols, rows);
    },
    exit,
    kill: () => {
      if (!exited) term.kill('SIGKILL');
    },
  };
}
