// What a pod's containers "run" in the embedded cluster. Images are not pulled; instead a known
// image behaves like itself (nginx serves its welcome page on 80, http-echo answers its -text,
// postgres accepts on 5432, CoreDNS and any pod labelled k8s-app=kube-dns answer DNS, a `socat`
// listener accepts on its port), any other image serves its declared containerPorts, and a
// container whose command is a shell or a finite command runs that command for real as its main
// process. Pure: decisions only, no sockets.
import type { KubeObject } from '../apiserver/runtime.ts';
import type { Protocol } from '../netpol/index.ts';

export type HttpFlavour =
  /** a generic application: `/health` → {"status":"healthy"}, other paths a small JSON body */
  | { kind: 'app'; service: string }
  | { kind: 'nginx' }
  | { kind: 'echo'; text: string }
  /** Prometheus text on every path */
  | { kind: 'metrics'; service: string }
  /** CoreDNS health plugin: `/health` → OK */
  | { kind: 'coredns-health' };

export type ListenerKind =
  | { kind: 'http'; flavour: HttpFlavour }
  /** accepts and holds the connection (a database, an opaque service) */
  | { kind: 'tcp' }
  /** echoes each datagram back */
  | { kind: 'udp-echo' }
  | { kind: 'dns' };

export type ListenerSpec = ListenerKind & { container: string; port: number; protocol: Protocol };

export interface MainProcess {
  container: string;
  /** argv after image defaults are applied */
  command: string[];
  tty: boolean;
  stdin: boolean;
  stdinOnce: boolean;
  env: Record<string, string>;
  workingDir?: string;
}

/** A container that ends by itself after a while without needing a process (`sleep 30`). */
export interface TimedExit {
  container: string;
  seconds: number;
}

export interface PodWorkload {
  listeners: ListenerSpec[];
  processes: MainProcess[];
  timers: TimedExit[];
}

/** Ports commonly spoken HTTP by the images labs use; other declared TCP ports just accept. */
export const HTTP_PORTS: ReadonlySet<number> = new Set([80, 3000, 4000, 5000, 5678, 8000, 8080, 8081, 8088, 8888, 9000, 9090, 9091, 9153]);

const SHELLS = new Set(['sh', 'bash', 'zsh', 'ash', 'dash', 'fish']);
/** images that are toolboxes: their default command is an interactive shell */
const SHELL_IMAGES: Record<string, string[]> = {
  'nicolaka/netshoot': ['zsh'],
  busybox: ['sh'],
  alpine: ['/bin/sh'],
  ubuntu: ['bash'],
  debian: ['bash'],
  'curlimages/curl': ['sh'],
  'praqma/network-multitool': ['sh'],
  'wbitt/network-multitool': ['sh'],
};

interface ContainerSpec {
  name?: string;
  image?: string;
  command?: unknown;
  args?: unknown;
  ports?: Array<{ name?: string; containerPort?: number; protocol?: string }>;
  env?: Array<{ name?: string; value?: unknown }>;
  tty?: boolean;
  stdin?: boolean;
  stdinOnce?: boolean;
  workingDir?: string;
}

/** `docker.io/library/nginx:1.27-alpine` → `nginx`; `ghcr.io/x/y@sha256:…` → `x/y`. */
export function imageName(image: string): string {
  let s = image.trim().toLowerCase();
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) s = s.slice(0, colon);
  const parts = s.split('/');
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) parts.shift();
  if (parts[0] === 'library') parts.shift();
  return parts.join('/');
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.map((x) => String(x)) : undefined;
}

function base(argv0: string): string {
  return argv0.slice(argv0.lastIndexOf('/') + 1);
}

/** `sleep infinity`, `tail -f /dev/null` and friends: the container idles and needs no process. */
function idleSeconds(argv: string[]): number | undefined {
  let cmd = argv;
  if (cmd.length === 3 && SHELLS.has(base(cmd[0])) && cmd[1] === '-c') {
    const script = cmd[2].trim();
    if (/^(while (true|:); do .*sleep [0-9a-z.]+;? ?done;?|sleep (infinity|inf|\d+[smhd]?)|tail -f \/dev\/null|trap : TERM INT; sleep infinity & wait)$/.test(script)) {
      const m = /^sleep (\d+)([smhd]?)$/.exec(script);
      if (m) return Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]];
      return Infinity;
    }
    return undefined;
  }
  if (base(cmd[0]) === 'sleep' && cmd.length === 2) {
    const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(cmd[1]);
    if (cmd[1] === 'infinity' || cmd[1] === 'inf') return Infinity;
    if (m) return Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]];
  }
  if (base(cmd[0]) === 'tail' && cmd.slice(1).join(' ') === '-f /dev/null') return Infinity;
  return undefined;
}

function flagValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    for (const prefix of [`-${flag}=`, `--${flag}=`]) if (a.startsWith(prefix)) return a.slice(prefix.length);
    if ((a === `-${flag}` || a === `--${flag}`) && i + 1 < args.length) return args[i + 1];
  }
  return undefined;
}

function declaredListeners(c: ContainerSpec, container: string, service: string): ListenerSpec[] {
  const out: ListenerSpec[] = [];
  for (const p of c.ports ?? []) {
    const port = Number(p.containerPort);
    if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
    const protocol = (p.protocol ?? 'TCP') as Protocol;
    if (protocol === 'UDP') out.push({ kind: 'udp-echo', container, port, protocol });
    else if (protocol === 'TCP') {
      const name = (p.name ?? '').toLowerCase();
      if (port === 9090 || port === 9153 || name.includes('metrics')) out.push({ kind: 'http', flavour: { kind: 'metrics', service }, container, port, protocol });
      else if (HTTP_PORTS.has(port) || /http|web|api/.test(name)) out.push({ kind: 'http', flavour: { kind: 'app', service }, container, port, protocol });
      else out.push({ kind: 'tcp', container, port, protocol });
    }
    // SCTP: the kernels this runs on usually lack the sctp module; nothing listens.
  }
  return out;
}

function dedupe(listeners: ListenerSpec[]): ListenerSpec[] {
  const seen = new Set<string>();
  return listeners.filter((l) => {
    const k = `${l.protocol}/${l.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * `socat [-opts] TCP-LISTEN:443,fork ...`: what its first address listens on. A socat server is a
 * listener, not a process to run: the host's socat (if any) could not bind a low port in the
 * capability-less sandbox, and the embedded cluster answers the port itself.
 */
export function socatListener(argv: string[]): { kind: 'tcp' | 'udp-echo'; port: number; protocol: Protocol } | undefined {
  if (argv.length === 0 || base(argv[0]) !== 'socat') return undefined;
  const address = argv.slice(1).find((a) => !a.startsWith('-'));
  const m = /^(TCP4?-LISTEN|TCP4?-L|OPENSSL-LISTEN|SSL-L|OPENSSL-L|UDP4?-RECVFROM|UDP4?-LISTEN|UDP4?-RECV):(\d+)(,|$)/i.exec(address ?? '');
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return m[1].toUpperCase().startsWith('UDP') ? { kind: 'udp-echo', port, protocol: 'UDP' } : { kind: 'tcp', port, protocol: 'TCP' };
}

/** Decide listeners, main processes and timed exits for a pod. */
export function podWorkload(pod: KubeObject): PodWorkload {
  const labels = pod.metadata.labels ?? {};
  const service = labels.app ?? labels['app.kubernetes.io/name'] ?? labels['k8s-app'] ?? pod.metadata.name;
  const containers: ContainerSpec[] = Array.isArray(pod.spec?.containers) ? pod.spec.containers : [];
  const listeners: ListenerSpec[] = [];
  const processes: MainProcess[] = [];
  const timers: TimedExit[] = [];
  const isDns = labels['k8s-app'] === 'kube-dns';
  containers.forEach((c, i) => {
    const container = c.name ?? `container-${i}`;
    const image = imageName(c.image ?? '');
    const command = strings(c.command);
    const args = strings(c.args);
    if (isDns || image === 'coredns/coredns' || image === 'coredns') {
      listeners.push(
        { kind: 'dns', container, port: 53, protocol: 'UDP' },
        { kind: 'dns', container, port: 53, protocol: 'TCP' },
        { kind: 'http', flavour: { kind: 'metrics', service: 'coredns' }, container, port: 9153, protocol: 'TCP' },
        { kind: 'http', flavour: { kind: 'coredns-health' }, container, port: 8080, protocol: 'TCP' },
        { kind: 'http', flavour: { kind: 'coredns-health' }, container, port: 8181, protocol: 'TCP' },
      );
      return;
    }
    if (image === 'hashicorp/http-echo' && !command) {
      const a = args ?? [];
      const listen = flagValue(a, 'listen') ?? ':5678';
      const port = Number(listen.slice(listen.lastIndexOf(':') + 1)) || 5678;
      listeners.push({ kind: 'http', flavour: { kind: 'echo', text: flagValue(a, 'text') ?? '' }, container, port, protocol: 'TCP' });
      return;
    }
    const defaultArgv = SHELL_IMAGES[image];
    const argv = command ? [...command, ...(args ?? [])] : args ?? defaultArgv ?? [];
    const serverImage = !command && !args && !defaultArgv;
    if (serverImage) {
      if (image === 'nginx' || image === 'nginxinc/nginx-unprivileged' || image === 'bitnami/nginx') {
        const port = image === 'nginx' ? 80 : 8080;
        listeners.push({ kind: 'http', flavour: { kind: 'nginx' }, container, port, protocol: 'TCP' });
      } else if (image === 'postgres' || image === 'bitnami/postgresql') {
        listeners.push({ kind: 'tcp', container, port: 5432, protocol: 'TCP' });
      } else if (image === 'redis') {
        listeners.push({ kind: 'tcp', container, port: 6379, protocol: 'TCP' });
      } else if (image === 'mysql' || image === 'mariadb') {
        listeners.push({ kind: 'tcp', container, port: 3306, protocol: 'TCP' });
      }
      listeners.push(...declaredListeners(c, container, service));
      return;
    }
    const socat = socatListener(argv);
    if (socat) {
      listeners.push({ ...socat, container });
      return;
    }
    const idle = argv.length > 0 ? idleSeconds(argv) : undefined;
    if (idle !== undefined) {
      // An idle container with declared ports serves them, like the e2e agnhost pods do.
      listeners.push(...declaredListeners(c, container, service));
      if (Number.isFinite(idle)) timers.push({ container, seconds: idle });
      return;
    }
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) if (e.name && typeof e.value === 'string') env[e.name] = e.value;
    const proc: MainProcess = { container, command: argv, tty: c.tty === true, stdin: c.stdin === true, stdinOnce: c.stdinOnce === true, env };
    if (c.workingDir) proc.workingDir = c.workingDir;
    processes.push(proc);
  });
  return { listeners: dedupe(listeners), processes, timers };
}
