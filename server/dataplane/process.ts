// The fallback pod runtime: pods are plain local processes with NO network semantics. Each pod
// gets an address from the pod CIDR (bookkeeping only: nothing listens on it, no policy is
// enforced, no DNS), a private working directory, and, when its container asks for one, a main
// process (`kubectl run -it --image=busybox -- sh`). Server-like containers (nginx, http-echo,
// anything with only ports) have no process and simply stay Running. `kubectl exec` runs the
// command as a local process in the pod directory (through a pty when a terminal is asked for).
//
// It exists so the API, kubectl and the terminal work where neither the netns nor the sim data
// plane can run. Commands run on this host: when the server is root they run under an
// unprivileged uid (default 65534), which is the only isolation this runtime gives.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { IdleAttaches } from './container-process.ts';
import type {
  ClusterNetworkOptions,
  ClusterRuntime,
  ClusterStateView,
  ContainerRef,
  ExecRequest,
  ExecSession,
  KubeObject,
  PodRuntime,
  PodStarted,
  RuntimeHooks,
} from '../apiserver/runtime.ts';

export interface ProcessRuntimeOptions {
  /** where pod directories live (default: the OS temp dir) */
  baseDir?: string;
  /** when the server runs as root, pod processes run as this uid/gid; null keeps root (default 65534) */
  runAsUid?: number | null;
  /** the node address reported as hostIP */
  hostIP?: string;
  /** PATH for pod processes */
  path?: string;
}

const DIR_PREFIX = 'kubelab-pods-';
/** images whose entrypoint is a server: their args are flags, not a command */
const SERVER_IMAGES = /(^|\/)(nginx|httpd|http-echo|echoserver|agnhost|traefik\/whoami|caddy|redis|postgres|mysql)(:|@|$)/;

export function createProcessRuntime(opts: ProcessRuntimeOptions = {}): PodRuntime {
  const baseDir = opts.baseDir ?? tmpdir();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const runAs = isRoot && opts.runAsUid !== null ? (opts.runAsUid ?? 65534) : undefined;
  const setpriv = runAs !== undefined ? findOnPath('setpriv', process.env.PATH ?? '') : undefined;
  const reason = `process: pods are local processes without network isolation${runAs !== undefined ? (setpriv ? ` (running as uid ${runAs})` : ' (WARNING: setpriv missing, pod processes run as root)') : ''}`;
  return {
    name: 'process',
    reason,
    async attach(cluster: ClusterStateView, options: ClusterNetworkOptions, hooks: RuntimeHooks): Promise<ClusterRuntime> {
      mkdirSync(baseDir, { recursive: true });
      const root = mkdtempSync(join(baseDir, `${DIR_PREFIX}${process.pid}-`));
      return new ProcessCluster(cluster, options, hooks, root, {
        hostIP: opts.hostIP ?? '172.18.0.2',
        path: opts.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        runAs: setpriv && runAs !== undefined ? { uid: runAs, setpriv } : undefined,
      });
    },
    async reapLeftovers(): Promise<void> {
      // directories of earlier server processes that are gone (the pid is in the name)
      let entries: string[];
      try {
        entries = readdirSync(baseDir);
      } catch {
        return;
      }
      for (const name of entries) {
        const m = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name);
        if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
        rmSync(join(baseDir, name), { recursive: true, force: true });
      }
    },
  };
}

interface Settings {
  hostIP: string;
  path: string;
  runAs?: { uid: number; setpriv: string };
}

/** A container's main process, shared by every attach. */
interface MainProcess {
  output: PassThrough;
  stdin: Writable | null;
  resize(cols: number, rows: number): void;
  kill(): void;
  exit: Promise<{ exitCode: number; signal?: string }>;
  tty: boolean;
}

interface PodState {
  ip: string;
  dir: string;
  main: Map<string, MainProcess>;
  sessions: Set<ExecSession>;
  /** attach sessions on containers without a main process */
  idle: IdleAttaches;
}

class ProcessCluster implements ClusterRuntime {
  private readonly pods = new Map<string, PodState>();
  private readonly ips: IpAllocator;

  constructor(
    _cluster: ClusterStateView,
    options: ClusterNetworkOptions,
    private readonly hooks: RuntimeHooks,
    private readonly root: string,
    private readonly settings: Settings,
  ) {
    this.ips = new IpAllocator(options.podCIDR);
  }

  async startPod(pod: KubeObject): Promise<PodStarted> {
    const namespace = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name;
    const key = `${namespace}/${name}`;
    const existing = this.pods.get(key);
    if (existing) return { podIP: existing.ip, hostIP: this.settings.hostIP };
    const ip = this.ips.allocate();
    const dir = join(this.root, `${namespace}_${name}`);
    mkdirSync(dir, { recursive: true });
    if (this.settings.runAs) chownSync(dir, this.settings.runAs.uid, this.settings.runAs.uid);
    const state: PodState = { ip, dir, main: new Map(), sessions: new Set(), idle: new IdleAttaches() };
    this.pods.set(key, state);
    const containers = (pod.spec?.containers ?? []) as ContainerSpec[];
    for (const c of containers) {
      const argv = mainCommand(c);
      if (!argv) continue;
      const ref = { namespace, pod: name, container: c.name };
      const env = { ...envOf(c), HOSTNAME: name };
      let main: MainProcess;
      try {
        main = this.startMain(argv, state.dir, env, Boolean(c.tty), Boolean(c.stdin));
      } catch (err) {
        this.hooks.log(ref, String((err as Error).message));
        queueMicrotask(() => this.hooks.containerExited(ref, 127));
        continue;
      }
      state.main.set(c.name, main);
      let partial = '';
      main.output.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split(/\r?\n/);
        partial = lines.pop() ?? '';
        for (const line of lines) this.hooks.log(ref, line);
      });
      void main.exit.then(({ exitCode }) => {
        if (partial) this.hooks.log(ref, partial);
        if (this.pods.get(key) === state) this.hooks.containerExited(ref, exitCode);
      });
    }
    return { podIP: ip, hostIP: this.settings.hostIP };
  }

  async stopPod(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    const state = this.pods.get(key);
    if (!state) return;
    this.pods.delete(key);
    for (const s of state.sessions) s.kill();
    state.idle.end();
    for (const m of state.main.values()) m.kill();
    await Promise.all([...state.main.values()].map((m) => withTimeout(m.exit, 2000)));
    this.ips.release(state.ip);
    rmSync(state.dir, { recursive: true, force: true });
  }

  async exec(ref: ContainerRef, req: ExecRequest): Promise<ExecSession> {
    const state = this.pod(ref);
    if (req.command.length === 0) throw new Error('command must not be empty');
    const session = this.spawnSession(req.command, state.dir, { ...(req.env ?? {}), HOSTNAME: ref.pod }, req);
    state.sessions.add(session);
    void session.exit.then(() => state.sessions.delete(session));
    return session;
  }

  async attach(ref: ContainerRef, req: ExecRequest): Promise<ExecSession> {
    const state = this.pod(ref);
    const main = state.main.get(ref.container);
    if (!main) return state.idle.open(ref.container, req);
    const stdout = new PassThrough();
    const forward = (chunk: Buffer) => stdout.write(chunk);
    main.output.on('data', forward);
    const detach = () => {
      main.output.off('data', forward);
      stdout.end();
    };
    void main.exit.then(detach);
    if (req.tty && req.size) main.resize(req.size.cols, req.size.rows);
    const stdin = req.stdin && main.stdin ? detachableWriter(main.stdin) : null;
    return {
      stdin,
      stdout,
      stderr: null,
      resize: (cols, rows) => main.resize(cols, rows),
      exit: main.exit,
      // an explicit kill ends the container's process; a client going away only detaches (exec-stream)
      kill: () => {
        detach();
        main.kill();
      },
      detach,
    };
  }

  async settle(): Promise<void> {}

  async dispose(): Promise<void> {
    await Promise.all([...this.pods.keys()].map((k) => {
      const [ns, name] = k.split('/');
      return this.stopPod(ns, name);
    }));
    rmSync(this.root, { recursive: true, force: true });
  }

  private pod(ref: ContainerRef): PodState {
    const state = this.pods.get(`${ref.namespace}/${ref.pod}`);
    if (!state) throw new Error(`pod ${ref.namespace}/${ref.pod} is not running`);
    return state;
  }

  private env(extra: Record<string, string>): Record<string, string> {
    return { PATH: this.settings.path, HOME: '/root', TERM: 'xterm', ...extra };
  }

  /** argv for the process, dropping to the unprivileged uid when the server is root */
  private argv(command: string[]): [string, string[]] {
    const file = resolveCommand(command[0], this.settings.path);
    if (!this.settings.runAs) return [file, command.slice(1)];
    const id = String(this.settings.runAs.uid);
    return [this.settings.runAs.setpriv, [`--reuid=${id}`, `--regid=${id}`, '--clear-groups', file, ...command.slice(1)]];
  }

  private startMain(command: string[], cwd: string, env: Record<string, string>, tty: boolean, stdin: boolean): MainProcess {
    const session = this.spawnSession(command, cwd, env, { command, tty, stdin, stdout: true, stderr: !tty, size: { cols: 80, rows: 24 } });
    const output = new PassThrough();
    session.stdout.pipe(output, { end: false });
    session.stderr?.pipe(output, { end: false });
    void session.exit.then(() => setImmediate(() => output.end()));
    return { output, stdin: session.stdin, resize: session.resize, kill: session.kill, exit: session.exit, tty };
  }

  private spawnSession(command: string[], cwd: string, extraEnv: Record<string, string>, req: ExecRequest): ExecSession {
    const [file, args] = this.argv(command);
    const env = this.env(extraEnv);
    return req.tty ? ptySession(file, args, cwd, env, req) : pipeSession(file, args, cwd, env, req);
  }
}

function pipeSession(file: string, args: string[], cwd: string, env: Record<string, string>, req: ExecRequest): ExecSession {
  const child: ChildProcess = spawn(file, args, { cwd, env, stdio: [req.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
  const exit = new Promise<{ exitCode: number; signal?: string }>((resolve) => {
    child.once('error', () => resolve({ exitCode: 126 }));
    child.once('close', (code, signal) => resolve(signal ? { exitCode: 128 + signalNumber(signal), signal } : { exitCode: code ?? 0 }));
  });
  child.stdin?.on('error', () => {}); // the process may exit before reading its stdin
  return {
    stdin: child.stdin ?? null,
    stdout: child.stdout!,
    stderr: child.stderr!,
    resize: () => {},
    exit,
    kill: () => killGroup(child.pid),
  };
}

function ptySession(file: string, args: string[], cwd: string, env: Record<string, string>, req: ExecRequest): ExecSession {
  // node-pty is a native module: loaded only when a terminal is asked for
  const pty = loadPty();
  const term = pty.spawn(file, args, { name: 'xterm', cols: req.size?.cols || 80, rows: req.size?.rows || 24, cwd, env });
  const stdout = new PassThrough();
  let exited = false;
  term.onData((d: string) => stdout.write(Buffer.from(d, 'utf8')));
  const exit = new Promise<{ exitCode: number; signal?: string }>((resolve) => {
    term.onExit(({ exitCode, signal }: { exitCode: number; signal?: number }) => {
      exited = true;
      setImmediate(() => stdout.end());
      resolve(signal ? { exitCode: 128 + signal, signal: String(signal) } : { exitCode });
    });
  });
  const stdin = req.stdin
    ? new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (!exited) term.write(chunk.toString('utf8'));
          cb();
        },
        final(cb) {
          // end of input on a terminal is ^D
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
      if (!exited) killGroup(term.pid);
    },
  };
}

interface PtyProcess {
  pid: number;
  onData(cb: (d: string) => void): void;
  onExit(cb: (e: { exitCode: number; signal?: number }) => void): void;
  write(d: string): void;
  resize(cols: number, rows: number): void;
}
interface PtyModule {
  spawn(file: string, args: string[], opts: { name: string; cols: number; rows: number; cwd: string; env: Record<string, string> }): PtyProcess;
}
let ptyModule: PtyModule | undefined;
function loadPty(): PtyModule {
  if (!ptyModule) ptyModule = createRequire(import.meta.url)('node-pty') as PtyModule;
  return ptyModule;
}

/** A writer into a shared stdin that a detaching client cannot close for the others. */
function detachableWriter(target: Writable): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!target.writableEnded && !target.destroyed) target.write(chunk);
      cb();
    },
  });
}

interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  stdin?: boolean;
  tty?: boolean;
}

/**
 * The container's main process, if it has one: an explicit command, or args that are a command
 * (`kubectl run --image=busybox -- sh`) rather than flags for a server image's entrypoint.
 */
export function mainCommand(c: ContainerSpec): string[] | undefined {
  const command = c.command ?? [];
  const args = c.args ?? [];
  if (command.length) return [...command, ...args];
  if (args.length === 0) return undefined;
  if (args[0].startsWith('-') || SERVER_IMAGES.test(c.image ?? '')) return undefined;
  return args;
}

function envOf(c: ContainerSpec): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
  return env;
}

/** Resolves a command on PATH the way exec does, failing as the container runtime words it. */
function resolveCommand(cmd: string, path: string): string {
  if (cmd.includes('/')) {
    if (isExecutable(cmd)) return cmd;
    throw new Error(`exec: "${cmd}": stat ${cmd}: no such file or directory`);
  }
  const found = findOnPath(cmd, path);
  if (!found) throw new Error(`exec: "${cmd}": executable file not found in $PATH`);
  return found;
}

function findOnPath(cmd: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const p = join(dir, cmd);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalNumber(signal: string): number {
  const r = spawnSync('kill', ['-l', signal.replace(/^SIG/, '')], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 9;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);
}

/** Hands out pod addresses from a CIDR: the network address and the gateway (.1) are skipped, freed ones reused lowest first. */
export class IpAllocator {
  private readonly base: number;
  private readonly size: number;
  private readonly used = new Set<number>();

  constructor(cidr: string) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr.trim());
    if (!m) throw new Error(`podCIDR ${JSON.stringify(cidr)} is not an IPv4 CIDR`);
    const octets = m.slice(1, 5).map(Number);
    const bits = Number(m[5]);
    if (octets.some((o) => o > 255) || bits < 8 || bits > 30) throw new Error(`podCIDR ${JSON.stringify(cidr)} is not a usable IPv4 CIDR (prefix /8 to /30)`);
    const addr = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    this.size = 2 ** (32 - bits);
    this.base = (addr & ~(this.size - 1)) >>> 0;
  }

  allocate(): string {
    for (let i = 2; i < this.size - 1; i++) {
      if (!this.used.has(i)) {
        this.used.add(i);
        return toIp(this.base + i);
      }
    }
    throw new Error('pod CIDR exhausted: no free pod addresses');
  }

  release(ip: string): void {
    const parts = ip.split('.').map(Number);
    const n = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
    this.used.delete(n - this.base);
  }
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
