// One learner shell that outlives its WebSocket. The pty's output goes to a headless xterm.js
// mirror (the authoritative screen) and to at most one attached browser. A browser that
// reconnects gets the mirror serialized — whole escape sequences, never a torn byte stream —
// and then the live output from exactly where the snapshot ended, because the shell is paused
// while the snapshot is taken.
import * as pty from 'node-pty';
import headless from '@xterm/headless';
import serialize from '@xterm/addon-serialize';
import { randomBytes } from 'node:crypto';
import type { ClientMessage, SandboxMode, ServerMessage } from '../../shared/terminal-protocol.ts';
import { CloseCode, MAX_COLS, MAX_ROWS } from '../../shared/terminal-protocol.ts';
import { OutputFlow, defaultFlowLimits, type FlowDecision, type FlowLimits } from './flow-control.ts';
import { detectSandbox, planShell, type SandboxSupport, type ShellPlan } from './sandbox.ts';
import { ShellCgroup, defaultShellLimits } from './limits.ts';

/** What a session needs from the connection it is attached to (a WebSocket in production). */
export interface TerminalClient {
  send(message: ServerMessage): void;
  /** bytes queued in the connection and not yet written to the network */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

export interface TerminalOptions {
  kubeconfig: string;
  env: Record<string, string>;
  cols?: number;
  rows?: number;
  /** lines of scrollback kept for reconnects */
  scrollback?: number;
  maxProcesses?: number;
  /** memory the shell and everything it starts may use (default 512 MiB) */
  memoryBytes?: number;
  flow?: FlowLimits;
  sandbox?: SandboxSupport;
  /** uid for the shell when the server is root; distinct per live session */
  uid?: number;
}

// Host uids for shells come from a block of this server process's own (chosen by its pid), so two
// servers on one host, or test files running side by side, do not share a uid and with it the
// kernel's per-uid process limit: one learner's fork bomb must not stop another server's shells.
const uidBlock = 200_000 + (process.pid % 800) * 1000;
let nextUid = 0;
const liveUids = new Set<number>();
function allocateUid(): number {
  for (let i = 0; i < 1000; i++) {
    const uid = uidBlock + ((nextUid++) % 990);
    if (!liveUids.has(uid)) {
      liveUids.add(uid);
      return uid;
    }
  }
  throw new Error('no free shell uid: more than 990 live terminals');
}

export class TerminalSession {
  readonly id = randomBytes(12).toString('base64url');
  readonly pid: number;
  readonly sandbox: SandboxMode;
  private readonly proc: pty.IPty;
  private readonly mirror: InstanceType<typeof headless.Terminal>;
  private readonly serializer: InstanceType<typeof serialize.SerializeAddon>;
  private readonly flow: OutputFlow;
  private readonly plan: ShellPlan;
  private readonly uid: number;
  private readonly cgroup: ShellCgroup | undefined;
  private client: TerminalClient | undefined;
  private cols: number;
  private rows: number;
  private pending = '';
  private flushScheduled = false;
  private pausedBy = new Set<'flow' | 'detached' | 'snapshot'>();
  private pollTimer: NodeJS.Timeout | undefined;
  private exitListeners: Array<(exitCode: number, signal?: number) => void> = [];
  private exited: { exitCode: number; signal?: number } | undefined;
  lastActivity = Date.now();

  constructor(opts: TerminalOptions) {
    this.cols = clamp(opts.cols ?? 100, 2, MAX_COLS);
    this.rows = clamp(opts.rows ?? 30, 1, MAX_ROWS);
    this.flow = new OutputFlow(opts.flow ?? defaultFlowLimits);
    const support = opts.sandbox ?? detectSandbox();
    this.sandbox = support.mode;
    this.uid = opts.uid ?? allocateUid();
    const maxProcesses = opts.maxProcesses ?? defaultShellLimits.pids;
    this.plan = planShell({ kubeconfig: opts.kubeconfig, env: opts.env, uid: this.uid, maxProcesses }, support);
    this.mirror = new headless.Terminal({ cols: this.cols, rows: this.rows, scrollback: opts.scrollback ?? 2000, allowProposedApi: true });
    this.serializer = new serialize.SerializeAddon();
    this.mirror.loadAddon(this.serializer);
    // a uid of its own means root runs the server: the shell joins its cgroups before it drops to that uid
    this.cgroup =
      this.plan.uid !== undefined
        ? ShellCgroup.prepare(`kubelab-term-${process.pid}-${this.id}`, { pids: maxProcesses, memoryBytes: opts.memoryBytes ?? defaultShellLimits.memoryBytes })
        : undefined;
    const [file, ...args] = this.cgroup ? this.cgroup.joinArgv(this.plan.uid!, this.plan.gid ?? this.plan.uid!, [this.plan.file, ...this.plan.args]) : [this.plan.file, ...this.plan.args];
    try {
      this.proc = pty.spawn(file, args, {
        name: 'xterm-256color',
        cols: this.cols,
        rows: this.rows,
        cwd: this.plan.cwd,
        env: this.plan.env,
        ...(this.cgroup ? {} : { uid: this.plan.uid, gid: this.plan.gid }),
      });
    } catch (err) {
      this.cgroup?.remove();
      this.plan.cleanup();
      liveUids.delete(this.uid);
      throw err;
    }
    this.pid = this.proc.pid;
    if (support.mode === 'none') {
      this.mirror.write('\x1b[1;31mWARNING: this shell is not sandboxed on this server (see the server log).\x1b[0m\r\n');
    }
    this.proc.onData((data) => this.output(data));
    this.proc.onExit(({ exitCode, signal }) => this.ended(exitCode, signal));
    // No browser yet: hold the shell until one attaches, so nothing runs unseen.
    this.pause('detached');
  }

  get attached(): boolean {
    return this.client !== undefined;
  }

  get hasExited(): boolean {
    return this.exited !== undefined;
  }

  get size(): { cols: number; rows: number } {
    return { cols: this.cols, rows: this.rows };
  }

  /** Characters sent to the browser and not yet acknowledged (for tests and metrics). */
  get unacknowledged(): number {
    return this.flow.unacknowledged;
  }

  /** Bytes the attached connection holds unsent (for tests and metrics). */
  get buffered(): number {
    return this.client?.bufferedAmount() ?? 0;
  }

  onExit(listener: (exitCode: number, signal?: number) => void): void {
    if (this.exited) listener(this.exited.exitCode, this.exited.signal);
    else this.exitListeners.push(listener);
  }

  /** Attach a browser: any earlier one is closed, the screen is replayed, then output streams. */
  attach(client: TerminalClient): void {
    if (this.client && this.client !== client) this.client.close(CloseCode.replaced, 'terminal opened elsewhere');
    this.client = client;
    this.lastActivity = Date.now();
    this.apply(this.flow.reset(), 'flow');
    this.flushPending(false);
    this.pause('snapshot');
    this.resume('detached');
    this.mirror.write('', () => {
      if (this.client !== client) return;
      const replay = this.serializer.serialize({ scrollback: 1000 });
      client.send({ type: 'hello', session: this.id, pid: this.pid, cols: this.cols, rows: this.rows, replay, sandbox: this.sandbox });
      if (this.exited) client.send({ type: 'exit', exitCode: this.exited.exitCode, signal: this.exited.signal });
      this.resume('snapshot');
    });
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => {
        if (this.client) this.apply(this.flow.poll(this.client.bufferedAmount()), 'flow');
      }, 50);
      this.pollTimer.unref();
    }
  }

  /** The browser went away; the shell stays (paused) for the next attach. */
  detach(client: TerminalClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.pending = '';
    this.pause('detached');
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** Handle one validated frame from the attached browser. */
  receive(client: TerminalClient, message: ClientMessage): void {
    if (this.client !== client || this.exited) return;
    this.lastActivity = Date.now();
    switch (message.type) {
      case 'input':
        this.proc.write(message.data);
        return;
      case 'resize':
        this.resize(message.cols, message.rows);
        return;
      case 'ack':
        this.apply(this.flow.acknowledged(message.chars, client.bufferedAmount()), 'flow');
        return;
    }
  }

  /** Type into the shell on the learner's behalf ("run in terminal"). */
  write(data: string): void {
    if (this.exited) return;
    this.lastActivity = Date.now();
    this.proc.write(data);
  }

  resize(cols: number, rows: number): void {
    this.cols = clamp(cols, 2, MAX_COLS);
    this.rows = clamp(rows, 1, MAX_ROWS);
    this.mirror.resize(this.cols, this.rows);
    if (!this.exited) this.proc.resize(this.cols, this.rows);
  }

  /** End the shell and everything it started. */
  kill(reason = 'session ended'): void {
    if (this.client) this.client.close(CloseCode.ended, reason);
    this.client = undefined;
    if (!this.exited) {
      try {
        // The pty's process group: bash and whatever it runs in the foreground.
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        try {
          this.proc.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    // background jobs live in process groups of their own; the cgroup holds them all
    this.cgroup?.killAll();
    this.release();
  }

  private release(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.plan.cleanup();
    liveUids.delete(this.uid);
  }

  private output(data: string): void {
    this.mirror.write(data);
    if (!this.client) return;
    this.pending += data;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushPending(true));
    }
  }

  private flushPending(send: boolean): void {
    this.flushScheduled = false;
    const data = this.pending;
    this.pending = '';
    if (!send || !data || !this.client) return;
    this.client.send({ type: 'output', data });
    this.apply(this.flow.sent(data.length, this.client.bufferedAmount()), 'flow');
  }

  private ended(exitCode: number, signal?: number): void {
    this.flushPending(true);
    this.exited = { exitCode, signal };
    this.client?.send({ type: 'exit', exitCode, signal });
    this.cgroup?.killAll();
    this.cgroup?.remove();
    this.release();
    for (const l of this.exitListeners) l(exitCode, signal);
    this.exitListeners = [];
  }

  private apply(decision: FlowDecision, why: 'flow'): void {
    if (decision === 'pause') this.pause(why);
    else if (decision === 'resume') this.resume(why);
  }

  private pause(why: 'flow' | 'detached' | 'snapshot'): void {
    const was = this.pausedBy.size > 0;
    this.pausedBy.add(why);
    if (!was && !this.exited) this.proc.pause();
  }

  private resume(why: 'flow' | 'detached' | 'snapshot'): void {
    if (!this.pausedBy.delete(why)) return;
    if (this.pausedBy.size === 0 && !this.exited) this.proc.resume();
  }
}

function clamp(v: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(v)));
}
