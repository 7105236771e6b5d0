// A container's main process (a shell from `kubectl run -it -- sh`, or a finite command): its
// output goes to `kubectl logs` and to whoever is attached; attach() hands out sessions that see
// output from then on and write to its stdin. Its exit is reported once, through the hooks.
import { PassThrough, Writable } from 'node:stream';
import type { ContainerRef, ExecRequest, ExecSession, RuntimeHooks } from '../apiserver/runtime.ts';

export class ContainerProcess {
  private readonly attached = new Set<PassThrough>();
  private partial = '';
  private done = false;
  readonly exited: Promise<number>;

  constructor(
    readonly ref: ContainerRef,
    private readonly session: ExecSession,
    private readonly hooks: RuntimeHooks,
    private readonly opts: { tty: boolean; stdinOnce: boolean; onExit?: (code: number) => void },
  ) {
    const onData = (d: Buffer) => {
      this.log(d);
      for (const out of this.attached) out.write(d);
    };
    session.stdout.on('data', onData);
    session.stderr?.on('data', onData);
    this.exited = session.exit.then(({ exitCode }) => {
      this.done = true;
      if (this.partial) hooks.log(ref, this.partial);
      this.partial = '';
      for (const out of this.attached) out.end();
      this.attached.clear();
      this.opts.onExit?.(exitCode);
      return exitCode;
    });
  }

  get running(): boolean {
    return !this.done;
  }

  private log(d: Buffer): void {
    const text = this.partial + d.toString('utf8');
    const lines = text.split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const l of lines) this.hooks.log(this.ref, l);
  }

  /** A session on the running process; ending it leaves the process running (unless stdinOnce). */
  attach(req: ExecRequest): ExecSession {
    if (this.done) throw new Error(`container ${this.ref.container} is not running`);
    const stdout = new PassThrough();
    this.attached.add(stdout);
    const detach = () => {
      this.attached.delete(stdout);
      stdout.end();
    };
    let resolveExit!: (v: { exitCode: number }) => void;
    const exit = new Promise<{ exitCode: number }>((r) => (resolveExit = r));
    void this.exited.then((code) => resolveExit({ exitCode: code }));
    const target = this.session.stdin;
    const stdin =
      req.stdin && target
        ? new Writable({
            write: (chunk: Buffer, _enc, cb) => {
              if (!this.done) target.write(chunk);
              cb();
            },
            final: (cb) => {
              // `kubectl run -i` sets stdinOnce: the container's stdin closes when the first attach does.
              if (this.opts.stdinOnce && !this.done) target.end();
              cb();
            },
          })
        : null;
    if (req.tty && req.size) this.session.resize(req.size.cols, req.size.rows);
    return {
      stdin,
      stdout,
      stderr: this.opts.tty ? null : new PassThrough().end() as PassThrough,
      resize: (cols, rows) => this.session.resize(cols, rows),
      exit,
      kill: () => {
        detach();
        resolveExit({ exitCode: 0 });
      },
      detach: () => {
        detach();
        resolveExit({ exitCode: 0 });
      },
    };
  }

  kill(): void {
    this.session.kill();
  }
}

/**
 * Attach sessions on containers that run no process of ours (`sleep infinity`, a server image
 * whose listeners the runtime serves): as containerd does for a container without stdin, the
 * session succeeds, prints nothing and drops what is typed, until the client detaches (kill) or
 * the container stops (end).
 */
export class IdleAttaches {
  private readonly sessions = new Map<string, Set<() => void>>();

  open(container: string, req: ExecRequest): ExecSession {
    const stdout = new PassThrough();
    let resolveExit!: (v: { exitCode: number }) => void;
    const exit = new Promise<{ exitCode: number }>((r) => (resolveExit = r));
    let set = this.sessions.get(container);
    if (!set) {
      set = new Set();
      this.sessions.set(container, set);
    }
    const ended = set;
    const finish = () => {
      ended.delete(finish);
      stdout.end();
      resolveExit({ exitCode: 0 });
    };
    ended.add(finish);
    return {
      stdin: req.stdin ? new Writable({ write: (_chunk: Buffer, _enc, cb) => cb() }) : null,
      stdout,
      stderr: req.tty ? null : (new PassThrough().end() as PassThrough),
      resize: () => {},
      exit,
      kill: finish,
      detach: finish,
    };
  }

  /** The container (or, without a name, every container) stopped: its sessions end. */
  end(container?: string): void {
    const sets = container === undefined ? [...this.sessions.values()] : [this.sessions.get(container) ?? new Set<() => void>()];
    for (const set of sets) for (const finish of [...set]) finish();
  }
}
