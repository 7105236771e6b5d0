// One embedded cluster on the sim plane: pods get addresses and files but no network of their
// own. Commands run on the host (inside bubblewrap with an empty network namespace where it is
// available), and nc/curl/wget/nslookup/dig/ping on their PATH are shims that ask this process,
// which answers from the same services, DNS and policy engine the netns plane compiles.
import { mkdirSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  ClusterNetworkOptions,
  ClusterRuntime,
  ClusterStateView,
  ContainerRef,
  ExecRequest,
  ExecSession,
  KubeObject,
  PodStarted,
  RuntimeHooks,
} from '../../apiserver/runtime.ts';
import { AddressPool } from '../ipv4.ts';
import { podKey } from '../cluster-model.ts';
import { podWorkload, type ListenerSpec } from '../workload.ts';
import { planCluster, SyncLoop, WATCHED_RESOURCES } from '../plan.ts';
import { sandboxLaunch, writePodFiles, CONTAINER_PATH, type PodFiles } from '../sandbox.ts';
import { launch, type LaunchSpec } from '../exec-session.ts';
import { ContainerProcess, IdleAttaches } from '../container-process.ts';
import { externalPorts, type ExternalPort } from '../netns/nft.ts';
import { SimNetwork } from './network.ts';
import { ShimServer } from './shim-server.ts';
import { SIM_TOOLS } from './tools/index.ts';

export const SHIM_PATH = fileURLToPath(new URL('./shim.mjs', import.meta.url));
/** where the shim pieces appear inside a sandbox */
const IN_SANDBOX = { bin: '/kubelab/bin', shim: '/kubelab/shim.mjs', node: '/kubelab/node', run: '/kubelab/run' };

/** The node address the sim plane reports as hostIP. */
export const SIM_HOST_IP = '172.18.0.2';

export type SimSandbox = { kind: 'bwrap'; unprivileged: boolean } | { kind: 'none' };

interface PodState {
  key: string;
  namespace: string;
  name: string;
  ip: string;
  files: PodFiles;
  listeners: ListenerSpec[];
  processes: Map<string, ContainerProcess>;
  timers: NodeJS.Timeout[];
  sessions: Set<ExecSession>;
  /** attach sessions on containers without a process of ours */
  idle: IdleAttaches;
  stopped: boolean;
}

function writeShimBin(dir: string, node: string, shim: string): void {
  mkdirSync(dir, { recursive: true });
  for (const tool of Object.keys(SIM_TOOLS)) {
    const file = join(dir, tool);
    writeFileSync(file, `#!/bin/sh\nexec '${node}' '${shim}' ${tool} "$@"\n`);
    chmodSync(file, 0o755);
  }
}

export class SimCluster implements ClusterRuntime {
  private readonly pool: AddressPool;
  private readonly pods = new Map<string, PodState>();
  private readonly addresses = new Map<string, string>();
  private readonly listeners = new Map<string, ListenerSpec[]>();
  private network: SimNetwork;
  private readonly sync: SyncLoop;
  private unsubscribe: () => void = () => {};
  private shims!: ShimServer;
  private disposed = false;
  private nextIndex = 1;
  private readonly external: ExternalPort[];

  private constructor(
    readonly view: ClusterStateView,
    readonly options: ClusterNetworkOptions,
    private readonly hooks: RuntimeHooks,
    private readonly dir: string,
    private readonly sandbox: SimSandbox,
  ) {
    this.pool = new AddressPool(options.podCIDR);
    this.external = externalPorts(options.externalHosts);
    this.network = new SimNetwork(planCluster(view, this.addresses, options), this.listeners, this.external, options);
    this.sync = new SyncLoop(async () => {
      if (this.disposed) return;
      this.network = new SimNetwork(planCluster(this.view, this.addresses, this.options), this.listeners, this.external, this.options);
    });
  }

  static async create(view: ClusterStateView, options: ClusterNetworkOptions, hooks: RuntimeHooks, dir: string, sandbox: SimSandbox): Promise<SimCluster> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const c = new SimCluster(view, options, hooks, dir, sandbox);
    try {
      mkdirSync(join(dir, 'run'), { recursive: true });
      c.shims = await ShimServer.listen(join(dir, 'run', 'sim.sock'), () => c.network);
      writeShimBin(join(dir, 'bin-sandbox'), IN_SANDBOX.node, IN_SANDBOX.shim);
      writeShimBin(join(dir, 'bin-host'), process.execPath, SHIM_PATH);
      c.unsubscribe = view.subscribe((e) => {
        if (WATCHED_RESOURCES.has(e.resource)) c.sync.request();
      });
      c.sync.request();
      await c.sync.settled();
    } catch (err) {
      await c.dispose();
      throw err;
    }
    return c;
  }

  get simNetwork(): SimNetwork {
    return this.network;
  }

  podAddress(namespace: string, name: string): string | undefined {
    return this.addresses.get(podKey(namespace, name));
  }

  private launchIn(state: PodState, opts: { command: string[]; env: Record<string, string>; tty: boolean; stdin: boolean; workingDir?: string; size?: { cols: number; rows: number } }): { spec: LaunchSpec; token: string } {
    const token = this.shims.issue(state.key);
    if (this.sandbox.kind === 'bwrap') {
      const spec = sandboxLaunch({
        hostname: state.name,
        files: state.files,
        command: opts.command,
        env: opts.env,
        tty: opts.tty,
        stdin: opts.stdin,
        workingDir: opts.workingDir,
        size: opts.size,
        unshareNet: true,
        unprivileged: this.sandbox.unprivileged,
        binds: [
          { source: join(this.dir, 'bin-sandbox'), dest: IN_SANDBOX.bin },
          { source: SHIM_PATH, dest: IN_SANDBOX.shim },
          { source: process.execPath, dest: IN_SANDBOX.node },
          { source: join(this.dir, 'run'), dest: IN_SANDBOX.run },
        ],
        pathPrefix: [IN_SANDBOX.bin],
        extraEnv: { KUBELAB_SIM_SOCKET: `${IN_SANDBOX.run}/sim.sock`, KUBELAB_SIM_TOKEN: token },
      });
      return { spec, token };
    }
    // No bubblewrap: the command runs as this user in the pod's directory, tools still shimmed.
    const env: Record<string, string> = {
      PATH: `${join(this.dir, 'bin-host')}:${CONTAINER_PATH}`,
      HOSTNAME: state.name,
      HOME: state.files.dir,
      ...opts.env,
      KUBELAB_SIM_SOCKET: this.shims.socketPath,
      KUBELAB_SIM_TOKEN: token,
    };
    if (opts.tty && !env.TERM) env.TERM = 'xterm';
    const [file, ...args] = opts.command;
    const spec: LaunchSpec = { file, args, env, cwd: state.files.dir, tty: opts.tty, stdin: opts.stdin };
    if (opts.size) spec.size = opts.size;
    return { spec, token };
  }

  async startPod(pod: KubeObject): Promise<PodStarted> {
    if (this.disposed) throw new Error('cluster runtime disposed');
    const namespace = pod.metadata.namespace ?? 'default';
    const key = podKey(namespace, pod.metadata.name);
    const existing = this.pods.get(key);
    if (existing && !existing.stopped) return { podIP: existing.ip, hostIP: SIM_HOST_IP };
    const ip = this.pool.allocate();
    const index = this.nextIndex++;
    const workload = podWorkload(pod);
    const state: PodState = {
      key,
      namespace,
      name: pod.metadata.name,
      ip,
      files: writePodFiles(join(this.dir, 'pods', index.toString(36)), { namespace, name: pod.metadata.name, ip, dnsServiceIP: this.options.dnsServiceIP, clusterDomain: this.options.clusterDomain }),
      listeners: workload.listeners,
      processes: new Map(),
      timers: [],
      sessions: new Set(),
      idle: new IdleAttaches(),
      stopped: false,
    };
    this.pods.set(key, state);
    this.addresses.set(key, ip);
    this.listeners.set(key, workload.listeners);
    this.sync.request();
    await this.sync.settled();
    for (const proc of workload.processes) {
      const ref: ContainerRef = { namespace, pod: state.name, container: proc.container };
      const { spec, token } = this.launchIn(state, { command: proc.command, env: proc.env, tty: proc.tty, stdin: proc.stdin, workingDir: proc.workingDir });
      const cp = new ContainerProcess(ref, launch(spec), this.hooks, {
        tty: proc.tty,
        stdinOnce: proc.stdinOnce,
        onExit: (code) => {
          this.shims.revoke(token);
          if (!state.stopped) this.hooks.containerExited(ref, code);
        },
      });
      state.processes.set(proc.container, cp);
    }
    for (const t of workload.timers) {
      const ref: ContainerRef = { namespace, pod: state.name, container: t.container };
      state.timers.push(
        setTimeout(() => {
          if (state.stopped) return;
          state.idle.end(t.container);
          this.hooks.containerExited(ref, 0);
        }, Math.min(t.seconds * 1000, 2 ** 31 - 1)),
      );
    }
    return { podIP: ip, hostIP: SIM_HOST_IP };
  }

  async stopPod(namespace: string, name: string): Promise<void> {
    const key = podKey(namespace, name);
    const state = this.pods.get(key);
    if (!state || state.stopped) return;
    state.stopped = true;
    for (const t of state.timers) clearTimeout(t);
    for (const s of state.sessions) s.kill();
    state.idle.end();
    for (const p of state.processes.values()) p.kill();
    await Promise.all([...state.processes.values()].map((p) => p.exited));
    this.pods.delete(key);
    this.addresses.delete(key);
    this.listeners.delete(key);
    this.sync.request();
    await this.sync.settled().catch(() => {});
    this.pool.release(state.ip);
    rmSync(state.files.dir, { recursive: true, force: true });
  }

  private runningPod(ref: ContainerRef): PodState {
    const state = this.pods.get(podKey(ref.namespace, ref.pod));
    if (!state || state.stopped) throw new Error(`pod "${ref.pod}" in namespace "${ref.namespace}" is not running`);
    const pod = this.view.get('pods', ref.namespace, ref.pod);
    const containers: Array<{ name?: string }> = Array.isArray(pod?.spec?.containers) ? pod!.spec.containers : [];
    if (pod && !containers.some((c) => c.name === ref.container)) throw new Error(`container ${ref.container} is not valid for pod ${ref.pod}`);
    return state;
  }

  async exec(ref: ContainerRef, req: ExecRequest): Promise<ExecSession> {
    const state = this.runningPod(ref);
    if (req.command.length === 0) throw new Error('you must specify at least one command for the container');
    const pod = this.view.get('pods', ref.namespace, ref.pod);
    const container = (pod?.spec?.containers ?? []).find((c: { name?: string }) => c.name === ref.container) as { env?: Array<{ name?: string; value?: unknown }>; workingDir?: string } | undefined;
    const env: Record<string, string> = {};
    for (const e of container?.env ?? []) if (e.name && typeof e.value === 'string') env[e.name] = e.value;
    Object.assign(env, req.env ?? {});
    const { spec, token } = this.launchIn(state, { command: req.command, env, tty: req.tty, stdin: req.stdin, workingDir: container?.workingDir, size: req.size });
    const session = launch(spec);
    state.sessions.add(session);
    void session.exit.then(() => {
      state.sessions.delete(session);
      this.shims.revoke(token);
    });
    return session;
  }

  async attach(ref: ContainerRef, req: ExecRequest): Promise<ExecSession> {
    const state = this.runningPod(ref);
    const proc = state.processes.get(ref.container);
    if (!proc) return state.idle.open(ref.container, req);
    if (!proc.running) throw new Error(`container ${ref.container} in pod ${ref.pod} has no running process to attach to`);
    return proc.attach(req);
  }

  settle(): Promise<void> {
    return this.sync.settled();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.unsubscribe();
    this.sync.close();
    for (const s of this.pods.values()) {
      s.stopped = true;
      for (const t of s.timers) clearTimeout(t);
      for (const x of s.sessions) x.kill();
      s.idle.end();
      for (const p of s.processes.values()) p.kill();
    }
    await this.shims?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
