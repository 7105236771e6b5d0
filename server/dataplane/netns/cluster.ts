// One embedded cluster on the netns plane. Layout (all inside namespaces this code creates):
//
//   pod netns kubelab-<tag>-p<i>          node netns kubelab-<tag>-node          ext netns kubelab-<tag>-ext
//   eth0 10.244.0.5/32  ──veth──  kl<tag>p<i> (no address; route 10.244.0.5/32)
//   default via 169.254.1.1               lo 169.254.1.1/32 (answers ARP for it)
//                                          kl<tag>x 169.254.2.1/30  ──veth──  eth0 169.254.2.2/30
//                                          routes: external blocks via ext;   `local` routes for the
//                                          blackhole default (unknown → drop)  declared blocks (AnyIP)
//
// Routed like Calico (a /32 per pod, no bridge); nftables in the node namespace does service DNAT
// then per-pod policy in the forward hook. Listeners, DNS and external hosts are sockets this
// process created inside those namespaces (native addon), so there is no process per pod.
import net from 'node:net';
import dgram from 'node:dgram';
import tls from 'node:tls';
import http from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
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
import type { NetnsAddon } from '../native.ts';
import { AddressPool } from '../ipv4.ts';
import { podKey } from '../cluster-model.ts';
import { ClusterResolver, serveDnsTcp, serveDnsUdp } from '../dns.ts';
import { httpAnswer, serveHttp, serveTcpAccept, serveUdpEcho } from '../apps.ts';
import { podWorkload, type ListenerSpec } from '../workload.ts';
import { planCluster, SyncLoop, WATCHED_RESOURCES, type ClusterPlan } from '../plan.ts';
import { writePodFiles, sandboxLaunch, type PodFiles } from '../sandbox.ts';
import { launch } from '../exec-session.ts';
import { ContainerProcess, IdleAttaches } from '../container-process.ts';
import { selfSignedCertificate } from '../tls.ts';
import { ClusterNames, claimTag, releaseTag, nsPath, POD_GATEWAY, NODE_EXT_ADDRESS, EXT_ADDRESS } from './names.ts';
import { ipBatch, nftApply, deleteNamespaces } from './host.ts';
import { compileRuleset, compileExternalRuleset, externalPorts, type PodPolicies, type ExternalPort } from './nft.ts';
import { ClusterCgroups, type ClusterLimits } from './cgroups.ts';
import { formatBlock } from '../ipv4.ts';

type Closeable = net.Server | dgram.Socket;

interface PodState {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  index: number;
  ip: string;
  netns: string;
  link: string;
  files: PodFiles;
  servers: Closeable[];
  processes: Map<string, ContainerProcess>;
  timers: NodeJS.Timeout[];
  sessions: Set<ExecSession>;
  /** attach sessions on containers without a process of ours */
  idle: IdleAttaches;
  stopped: boolean;
}

interface PendingCreate {
  netns: string;
  link: string;
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface NetnsClusterDeps {
  addon: NetnsAddon;
  limits: ClusterLimits;
}

function closeAll(servers: Closeable[]): void {
  for (const s of servers) {
    try {
      if (s instanceof net.Server) s.close();
      else s.close();
    } catch {
      // already closed
    }
  }
}

export class NetnsCluster implements ClusterRuntime {
  private readonly pool: AddressPool;
  private readonly pods = new Map<string, PodState>();
  private readonly starting = new Map<string, Promise<PodStarted>>();
  private readonly addresses = new Map<string, string>();
  private nextIndex = 1;
  private plan: ClusterPlan | undefined;
  private resolver: ClusterResolver;
  private readonly sync: SyncLoop;
  private lastScript = '';
  private unsubscribe: () => void = () => {};
  private pendingCreates: PendingCreate[] = [];
  private extServers: Closeable[] = [];
  private disposed = false;
  /** policies the engine refused at the last sync */
  rejectedPolicies: string[] = [];

  private constructor(
    readonly view: ClusterStateView,
    readonly options: ClusterNetworkOptions,
    private readonly hooks: RuntimeHooks,
    private readonly deps: NetnsClusterDeps,
    readonly names: ClusterNames,
    private readonly cgroups: ClusterCgroups | undefined,
    private readonly external: ExternalPort[],
  ) {
    this.pool = new AddressPool(options.podCIDR);
    this.resolver = new ClusterResolver({ clusterDomain: options.clusterDomain, services: [], pods: [], externalHosts: options.externalHosts });
    this.sync = new SyncLoop(() => this.applyState());
  }

  static async create(view: ClusterStateView, options: ClusterNetworkOptions, hooks: RuntimeHooks, deps: NetnsClusterDeps): Promise<NetnsCluster> {
    const external = externalPorts(options.externalHosts);
    const names = claimTag(view.clusterId);
    const cgroups = ClusterCgroups.create(names.cgroup, deps.limits);
    const cluster = new NetnsCluster(view, options, hooks, deps, names, cgroups, external);
    try {
      await cluster.createNetwork();
      cluster.unsubscribe = view.subscribe((e) => {
        if (WATCHED_RESOURCES.has(e.resource)) cluster.sync.request();
      });
      cluster.sync.request();
      await cluster.sync.settled();
    } catch (err) {
      await cluster.dispose();
      throw err;
    }
    return cluster;
  }

  private async createNetwork(): Promise<void> {
    const n = this.names;
    await ipBatch([`netns add ${n.node}`, `netns add ${n.ext}`, `link add ${n.extLink} netns ${n.node} type veth peer name eth0 netns ${n.ext}`]);
    const blocks = [...new Set(this.external.map((p) => formatBlock(p.block)))];
    await ipBatch(
      [
        'link set lo up',
        `addr add ${POD_GATEWAY}/32 dev lo`,
        `link set ${n.extLink} up`,
        `addr add ${NODE_EXT_ADDRESS}/30 dev ${n.extLink}`,
        ...blocks.map((b) => `route add ${b} via ${EXT_ADDRESS}`),
        // Addresses nobody declared go nowhere, silently: a client times out, as in a cluster
        // whose egress to the internet is firewalled.
        'route add blackhole default',
      ],
      { netns: n.node },
    );
    await ipBatch(
      ['link set lo up', 'link set eth0 up', `addr add ${EXT_ADDRESS}/30 dev eth0`, `route add default via ${NODE_EXT_ADDRESS}`, ...blocks.map((b) => `route add local ${b} dev lo`)],
      { netns: n.ext },
    );
    const node = nsPath(n.node);
    this.deps.addon.writeSysctl(node, 'net/ipv4/ip_forward', '1');
    this.deps.addon.writeSysctl(node, 'net/ipv4/conf/all/send_redirects', '0');
    this.deps.addon.writeSysctl(node, 'net/ipv4/conf/default/send_redirects', '0');
    this.deps.addon.writeSysctl(nsPath(n.ext), 'net/ipv4/ping_group_range', '0 2147483647');
    await nftApply(n.ext, compileExternalRuleset(this.external));
    await this.startExternalListeners();
  }

  private async startExternalListeners(): Promise<void> {
    const byPort = new Map<string, ExternalPort[]>();
    for (const p of this.external) {
      const k = `${p.protocol}/${p.port}`;
      byPort.set(k, [...(byPort.get(k) ?? []), p]);
    }
    const ext = nsPath(this.names.ext);
    const certificate = this.external.some((p) => p.kind === 'https') ? await selfSignedCertificate() : undefined;
    for (const [k, ports] of byPort) {
      const [protocol, portText] = k.split('/');
      const port = Number(portText);
      if (protocol === 'UDP') {
        this.extServers.push(await serveUdpEcho(this.deps.addon.socketInNetns(ext, 4, 'udp', port, '0.0.0.0')));
        continue;
      }
      if (protocol !== 'TCP') continue;
      const fd = this.deps.addon.socketInNetns(ext, 4, 'tcp', port, '0.0.0.0');
      const handler = (owner: ExternalPort) =>
        (req: http.IncomingMessage, res: http.ServerResponse) => {
          const a = httpAnswer({ kind: 'app', service: owner.host.names[0] ?? owner.host.address }, req.method ?? 'GET', req.url ?? '/', { pod: owner.host.names[0] ?? owner.host.address, namespace: 'external' });
          res.writeHead(a.status, a.headers);
          res.end(a.body);
        };
      const lookup = (local: string | undefined) => ports.find((p) => local !== undefined && isInBlock(local, p));
      const httpServer = http.createServer((req, res) => {
        const owner = lookup(req.socket.localAddress);
        if (owner) handler(owner)(req, res);
        else res.destroy();
      });
      let tlsServer: tls.Server | undefined;
      const server = net.createServer((sock) => {
        sock.on('error', () => {});
        const owner = lookup(sock.localAddress?.replace(/^::ffff:/, ''));
        if (!owner) return sock.destroy();
        switch (owner.kind) {
          case 'http':
            httpServer.emit('connection', sock);
            return;
          case 'https': {
            if (!tlsServer) {
              tlsServer = tls.createServer(certificate!, (s) => httpServer.emit('connection', s));
              tlsServer.on('tlsClientError', () => {});
            }
            tlsServer.emit('connection', sock);
            return;
          }
          case 'tcp':
            sock.setTimeout(300_000, () => sock.destroy());
            sock.resume();
            return;
        }
      });
      server.listen({ fd });
      this.extServers.push(server);
    }
  }

  /** Create the namespaces and veth pairs of every pod that asked in this tick, in one `ip -batch`. */
  private createPodNetwork(netns: string, link: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingCreates.push({ netns, link, resolve, reject });
      if (this.pendingCreates.length === 1) {
        setImmediate(() => {
          const batch = this.pendingCreates;
          this.pendingCreates = [];
          const lines = batch.flatMap((b) => [`netns add ${b.netns}`, `link add ${b.link} netns ${this.names.node} type veth peer name eth0 netns ${b.netns}`]);
          ipBatch(lines, { force: true }).then(
            () => {
              // With -force every line ran; a pod whose lines failed fails when it is configured.
              for (const b of batch) b.resolve();
            },
            (err: Error) => batch.forEach((b) => b.reject(err)),
          );
        });
      }
    });
  }

  startPod(pod: KubeObject): Promise<PodStarted> {
    const key = podKey(pod.metadata.namespace ?? 'default', pod.metadata.name);
    const existing = this.pods.get(key);
    if (existing && !existing.stopped) return Promise.resolve({ podIP: existing.ip, hostIP: POD_GATEWAY });
    const pending = this.starting.get(key);
    if (pending) return pending;
    const p = this.doStartPod(pod, key).finally(() => this.starting.delete(key));
    this.starting.set(key, p);
    return p;
  }

  private async doStartPod(pod: KubeObject, key: string): Promise<PodStarted> {
    if (this.disposed) throw new Error('cluster runtime disposed');
    const namespace = pod.metadata.namespace ?? 'default';
    const index = this.nextIndex++;
    const ip = this.pool.allocate();
    const state: PodState = {
      key,
      namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid ?? '',
      index,
      ip,
      netns: this.names.pod(index),
      link: this.names.podLink(index),
      files: writePodFiles(join(this.names.stateDir, 'pods', index.toString(36)), {
        namespace,
        name: pod.metadata.name,
        ip,
        dnsServiceIP: this.options.dnsServiceIP,
        clusterDomain: this.options.clusterDomain,
      }),
      servers: [],
      processes: new Map(),
      timers: [],
      sessions: new Set(),
      idle: new IdleAttaches(),
      stopped: false,
    };
    try {
      await this.createPodNetwork(state.netns, state.link);
      const addon = this.deps.addon;
      addon.configurePodInterface(nsPath(state.netns), 'eth0', ip, POD_GATEWAY);
      addon.attachPodRoute(nsPath(this.names.node), state.link, ip);
      // ping without CAP_NET_RAW uses ICMP datagram sockets, allowed per namespace by this range.
      addon.writeSysctl(nsPath(state.netns), 'net/ipv4/ping_group_range', '0 2147483647');
      const workload = podWorkload(pod);
      for (const l of workload.listeners) state.servers.push(await this.listen(state, l));
      this.pods.set(key, state);
      this.addresses.set(key, ip);
      this.sync.request();
      await this.sync.settled();
      for (const proc of workload.processes) {
        const ref: ContainerRef = { namespace, pod: state.name, container: proc.container };
        const session = launch(
          sandboxLaunch({
            hostname: state.name,
            files: state.files,
            command: proc.command,
            env: { ...proc.env },
            tty: proc.tty,
            stdin: proc.stdin,
            workingDir: proc.workingDir,
            netnsPath: nsPath(state.netns),
            cgroupProcs: this.cgroups?.procsFiles,
          }),
        );
        const cp = new ContainerProcess(ref, session, this.hooks, {
          tty: proc.tty,
          stdinOnce: proc.stdinOnce,
          onExit: (code) => {
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
      return { podIP: ip, hostIP: POD_GATEWAY };
    } catch (err) {
      state.stopped = true;
      closeAll(state.servers);
      this.pods.delete(key);
      this.addresses.delete(key);
      await deleteNamespaces([state.netns]).catch(() => {});
      this.pool.release(ip);
      rmSync(state.files.dir, { recursive: true, force: true });
      throw err;
    }
  }

  private async listen(state: PodState, l: ListenerSpec): Promise<Closeable> {
    const ns = nsPath(state.netns);
    const owner = { pod: state.name, namespace: state.namespace };
    const kind = l.protocol === 'UDP' ? 'udp' : 'tcp';
    const fd = this.deps.addon.socketInNetns(ns, 4, kind, l.port, '0.0.0.0');
    switch (l.kind) {
      case 'dns': {
        if (kind === 'udp') {
          const sock = dgram.createSocket('udp4');
          await new Promise<void>((resolve) => sock.bind({ fd }, () => resolve()));
          serveDnsUdp(sock, () => this.resolver);
          return sock;
        }
        const server = net.createServer();
        serveDnsTcp(server, () => this.resolver);
        server.listen({ fd });
        return server;
      }
      case 'http':
        return serveHttp(fd, l.flavour, owner);
      case 'tcp':
        return serveTcpAccept(fd);
      case 'udp-echo':
        return serveUdpEcho(fd);
    }
  }

  /** Recompute everything from the store and apply the node ruleset if it changed. */
  private async applyState(): Promise<void> {
    if (this.disposed) return;
    const plan = planCluster(this.view, this.addresses, this.options);
    this.plan = plan;
    this.resolver = plan.resolver;
    this.rejectedPolicies = plan.rejectedPolicies;
    const policies = new Map<string, PodPolicies>();
    for (const p of plan.pods) {
      const ingress = plan.engine.podPolicy(p.key, 'ingress');
      const egress = plan.engine.podPolicy(p.key, 'egress');
      if (ingress.isolated || egress.isolated) policies.set(p.key, { ingress, egress });
    }
    const routes = plan.services.filter((s) => s.clusterIP).flatMap((s) => s.ports);
    const script = compileRuleset({ pods: plan.pods, policies, routes, gateway: POD_GATEWAY });
    if (script === this.lastScript) return;
    await nftApply(this.names.node, script);
    this.lastScript = script;
  }

  /** The ruleset last applied to the node namespace (for tests and `kubelab` diagnostics). */
  get ruleset(): string {
    return this.lastScript;
  }

  podAddress(namespace: string, name: string): string | undefined {
    return this.addresses.get(podKey(namespace, name));
  }

  podNamespace(namespace: string, name: string): string | undefined {
    return this.pods.get(podKey(namespace, name))?.netns;
  }

  async stopPod(namespace: string, name: string): Promise<void> {
    const key = podKey(namespace, name);
    await this.starting.get(key)?.catch(() => {});
    const state = this.pods.get(key);
    if (!state || state.stopped) return;
    state.stopped = true;
    this.pods.delete(key);
    this.addresses.delete(key);
    closeAll(state.servers);
    for (const t of state.timers) clearTimeout(t);
    for (const s of state.sessions) s.kill();
    state.idle.end();
    for (const p of state.processes.values()) p.kill();
    await Promise.all([...state.processes.values()].map((p) => p.exited));
    this.sync.request();
    await this.sync.settled().catch(() => {});
    await deleteNamespaces([state.netns]);
    this.pool.release(state.ip);
    rmSync(state.files.dir, { recursive: true, force: true });
  }

  private runningPod(ref: ContainerRef): PodState {
    const state = this.pods.get(podKey(ref.namespace, ref.pod));
    if (!state || state.stopped) throw new Error(`pod "${ref.pod}" in namespace "${ref.namespace}" is not running`);
    const pod = this.view.get('pods', ref.namespace, ref.pod);
    const containers: Array<{ name?: string }> = Array.isArray(pod?.spec?.containers) ? pod!.spec.containers : [];
    if (pod && !containers.some((c) => c.name === ref.container)) {
      throw new Error(`container ${ref.container} is not valid for pod ${ref.pod}`);
    }
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
    const session = launch(
      sandboxLaunch({
        hostname: state.name,
        files: state.files,
        command: req.command,
        env,
        tty: req.tty,
        stdin: req.stdin,
        workingDir: container?.workingDir,
        size: req.size,
        netnsPath: nsPath(state.netns),
        cgroupProcs: this.cgroups?.procsFiles,
      }),
    );
    state.sessions.add(session);
    void session.exit.then(() => state.sessions.delete(session));
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
    await Promise.allSettled([...this.starting.values()]);
    const all = [...this.pods.values()];
    for (const s of all) {
      s.stopped = true;
      closeAll(s.servers);
      for (const t of s.timers) clearTimeout(t);
      for (const x of s.sessions) x.kill();
      s.idle.end();
      for (const p of s.processes.values()) p.kill();
    }
    closeAll(this.extServers);
    await this.cgroups?.destroy();
    await deleteNamespaces([...all.map((s) => s.netns), this.names.node, this.names.ext]);
    this.pods.clear();
    this.addresses.clear();
    releaseTag(this.names);
  }
}

function isInBlock(ip: string, p: ExternalPort): boolean {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((x) => !Number.isInteger(x))) return false;
  const n = ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
  return n >= p.block.network && n < p.block.network + 2 ** (32 - p.block.prefix);
}
