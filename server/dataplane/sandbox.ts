// How a process started "in a container" is contained: bubblewrap gives it its own mount, pid,
// ipc and uts namespaces with a read-only /usr, a few files of /etc, the pod's own resolv.conf,
// hosts and hostname, and no capabilities. Its root is the pod's own writable directory, shared by
// the main process and every exec of the pod and kept until the pod stops, as a container's
// writable layer is (so `kubectl cp` then `kubectl exec cat` finds the file). The server's files, the repo,
// /root, state directories and other clusters' kubeconfigs are simply not in its mount namespace.
// In the netns plane it runs inside the pod's network namespace (nsenter) and joins the cluster's
// pids and memory cgroups before anything of the learner's runs.
import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LaunchSpec } from './exec-session.ts';

export const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** /etc entries a container's tools need (name service, TLS roots, terminal and shell setup). */
const ETC_ENTRIES = [
  'passwd', 'group', 'nsswitch.conf', 'services', 'protocols', 'ssl', 'ca-certificates', 'ca-certificates.conf',
  'alternatives', 'localtime', 'profile', 'profile.d', 'bash.bashrc', 'inputrc', 'terminfo', 'ld.so.cache', 'ld.so.conf',
  'ld.so.conf.d', 'gai.conf', 'host.conf', 'mime.types', 'wgetrc', 'debian_version', 'os-release', 'environment', 'shells',
];

export interface PodFiles {
  dir: string;
  /** the container's writable root: /tmp, /root, /var, anything written outside the read-only binds */
  rootfs: string;
  resolvConf: string;
  hosts: string;
  hostname: string;
}

/** Write the files kubelet would give a pod: resolv.conf with the cluster search path, hosts, hostname. */
export function writePodFiles(dir: string, opts: { namespace: string; name: string; ip: string; dnsServiceIP: string; clusterDomain: string }): PodFiles {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const d = opts.clusterDomain;
  const files: PodFiles = { dir, rootfs: join(dir, 'rootfs'), resolvConf: join(dir, 'resolv.conf'), hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname') };
  mkdirSync(files.rootfs, { recursive: true, mode: 0o755 });
  // the modes an image's root has (mkdir's mode is masked by the umask, chmod is not)
  for (const [sub, mode] of [['tmp', 0o1777], ['root', 0o700], ['var', 0o755], ['var/tmp', 0o1777], ['run', 0o755], ['etc', 0o755]] as const) {
    const p = join(files.rootfs, sub);
    mkdirSync(p, { recursive: true });
    chmodSync(p, mode);
  }
  writeFileSync(files.resolvConf, `search ${opts.namespace}.svc.${d} svc.${d} ${d}\nnameserver ${opts.dnsServiceIP}\noptions ndots:5\n`);
  writeFileSync(
    files.hosts,
    [
      '# Kubernetes-managed hosts file.',
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'fe00::0\tip6-mcastprefix',
      'fe00::1\tip6-allnodes',
      'fe00::2\tip6-allrouters',
      `${opts.ip}\t${opts.name}`,
      '',
    ].join('\n'),
  );
  writeFileSync(files.hostname, `${opts.name}\n`);
  return files;
}

export interface SandboxRequest {
  hostname: string;
  files: PodFiles;
  command: string[];
  env: Record<string, string>;
  tty: boolean;
  stdin: boolean;
  workingDir?: string;
  size?: { cols: number; rows: number };
  /** a network namespace path to enter first (netns plane) */
  netnsPath?: string;
  /** cgroup.procs files to join before the sandbox starts */
  cgroupProcs?: string[];
  /** extra read-only binds (source → destination), e.g. the sim plane's tool shims */
  binds?: Array<{ source: string; dest: string }>;
  /** environment entries added after the container's (the sim plane's channel back to the server) */
  extraEnv?: Record<string, string>;
  /** directories to put before the standard PATH */
  pathPrefix?: string[];
  /** give the sandbox an empty network namespace (the sim plane: tools talk through a socket) */
  unshareNet?: boolean;
  /** not root: bubblewrap needs a user namespace to set up mounts */
  unprivileged?: boolean;
}

/** Merged-/usr hosts: /bin, /lib... are symlinks into usr, made in each pod's root (rootLinks). */
function usrSymlinks(): string[] {
  return ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'].filter((top) => existsSync(`/${top}`) && lstatSync(`/${top}`).isSymbolicLink());
}

function rootBinds(): string[] {
  const args: string[] = ['--ro-bind', '/usr', '/usr'];
  for (const top of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const p = `/${top}`;
    if (!existsSync(p) || lstatSync(p).isSymbolicLink()) continue;
    args.push('--ro-bind', p, p);
  }
  for (const e of ETC_ENTRIES) {
    const p = `/etc/${e}`;
    if (existsSync(p)) args.push('--ro-bind', p, p);
  }
  return args;
}

let cachedRootBinds: string[] | undefined;
let cachedSymlinks: string[] | undefined;

/**
 * The /bin → usr/bin style links in a pod's root, made again if the container removed them
 * (bubblewrap's --symlink refuses a link that is already there, and the root outlives one run).
 */
function rootLinks(rootfs: string): void {
  cachedSymlinks ??= usrSymlinks();
  for (const top of cachedSymlinks) {
    const p = join(rootfs, top);
    let ok = false;
    try {
      ok = readlinkSync(p) === `usr/${top}`;
    } catch {
      ok = false;
    }
    if (ok) continue;
    rmSync(p, { recursive: true, force: true });
    symlinkSync(`usr/${top}`, p);
  }
}

/** TIOCNOTTY where Linux numbers it 0x5422 (every architecture kubelab runs on but mips/ppc/sparc). */
const TIOCNOTTY: number | undefined = ['x64', 'ia32', 'arm', 'arm64', 'riscv64', 's390x', 'loong64'].includes(process.arch) ? 0x5422 : undefined;
let cachedPerl: string | null | undefined;

function perlPath(): string | undefined {
  if (cachedPerl === undefined) cachedPerl = ['/usr/bin/perl', '/bin/perl'].find((p) => existsSync(p)) ?? null;
  return cachedPerl ?? undefined;
}

/**
 * argv that makes the terminal's session leader (the pty's first process) give up its controlling
 * terminal, then become `argv`. Without it, only CAP_SYS_ADMIN can hand the terminal to a session
 * inside the sandbox. SIGHUP, which the kernel sends to the foreground group as the leader lets
 * go, is ignored for that moment only.
 */
function releaseTerminal(argv: string[]): string[] | undefined {
  const perl = perlPath();
  if (!perl || TIOCNOTTY === undefined) return undefined;
  const script = `$SIG{HUP}="IGNORE"; ioctl(STDIN, ${TIOCNOTTY}, 0); $SIG{HUP}="DEFAULT"; exec {$ARGV[0]} @ARGV or exit 127`;
  return [perl, '-e', script, ...argv];
}

/** The interactive shell to use for a container that asks for one this host lacks (netshoot's zsh). */
function hostCommand(command: string[]): string[] {
  if (command.length === 0) return ['/bin/sh'];
  const c = command[0];
  const name = c.slice(c.lastIndexOf('/') + 1);
  if (['zsh', 'ash', 'fish'].includes(name) && !existsSync(`/usr/bin/${name}`) && !existsSync(`/bin/${name}`)) {
    return [existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh', ...command.slice(1)];
  }
  return command;
}

/** The argv and environment that start `command` inside the sandbox. */
export function sandboxLaunch(req: SandboxRequest): LaunchSpec {
  cachedRootBinds ??= rootBinds();
  rootLinks(req.files.rootfs);
  const env: Record<string, string> = {
    PATH: [...(req.pathPrefix ?? []), CONTAINER_PATH].join(':'),
    HOSTNAME: req.hostname,
    HOME: '/root',
    ...req.env,
    ...(req.extraEnv ?? {}),
  };
  if (req.tty && !env.TERM) env.TERM = 'xterm';
  const bwrap: string[] = [
    'bwrap',
    '--die-with-parent',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(req.unshareNet ? ['--unshare-net'] : []),
    // unprivileged: root inside its own user namespace, as a container's process is by default
    ...(req.unprivileged ? ['--unshare-user', '--uid', '0', '--gid', '0'] : []),
    '--hostname', req.hostname,
    '--bind', req.files.rootfs, '/',
    ...cachedRootBinds,
    '--ro-bind', req.files.resolvConf, '/etc/resolv.conf',
    '--ro-bind', req.files.hosts, '/etc/hosts',
    '--ro-bind', req.files.hostname, '/etc/hostname',
    '--proc', '/proc',
    '--dev', '/dev',
  ];
  for (const b of req.binds ?? []) bwrap.push('--ro-bind', b.source, b.dest);
  // With a terminal, the program must lead its own session inside the pid namespace with the
  // terminal as its controlling tty, or a shell's job control fails on exit ("Cannot set tty
  // process group") and turns `exit 0` into status 2. Taking the tty from the outer session needs
  // CAP_SYS_ADMIN, which setpriv then drops from the bounding set before the learner's program
  // runs; without privileges the outer session releases the tty first (releaseTerminal), so it
  // is free to take.
  // As root, setpriv also empties the bounding set (bubblewrap leaves it full), which needs
  // CAP_SETPCAP for that one step; no_new_privs keeps an exec from regaining anything.
  const privileged = !req.unprivileged;
  const release = req.tty && !privileged && releaseTerminal([]) !== undefined;
  const ttyLeader = req.tty && (privileged || release);
  const keep = privileged ? ['--cap-add', 'CAP_SETPCAP', ...(req.tty ? ['--cap-add', 'CAP_SYS_ADMIN'] : [])] : [];
  bwrap.push('--chdir', req.workingDir ?? '/root', '--cap-drop', 'ALL', ...keep, '--clearenv');
  for (const [k, v] of Object.entries(env)) bwrap.push('--setenv', k, v);
  // Without a terminal, a new session keeps the program from injecting input into ours.
  if (!req.tty) bwrap.push('--new-session');
  const drop = privileged ? ['setpriv', '--inh-caps=-all', '--bounding-set=-all', '--'] : [];
  bwrap.push('--', ...(ttyLeader ? ['setsid', '--ctty'] : []), ...drop, ...hostCommand(req.command));
  let argv = (release && releaseTerminal(bwrap)) || bwrap;
  if (req.netnsPath) argv = ['nsenter', `--net=${req.netnsPath}`, '--', ...argv];
  const procs = req.cgroupProcs ?? [];
  if (procs.length > 0) {
    // Join the cgroups from a tiny shell that then becomes nsenter/bwrap, so nothing the learner
    // runs can fork before the limits apply.
    const script = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"';
    argv = ['/bin/sh', '-c', script, 'kubelab-exec', String(procs.length), ...procs, ...argv];
  }
  const spec: LaunchSpec = {
    file: argv[0] === 'bwrap' || argv[0] === 'nsenter' ? `/usr/bin/${argv[0]}` : argv[0],
    args: argv.slice(1),
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...(req.tty ? { TERM: env.TERM } : {}) },
    tty: req.tty,
    stdin: req.stdin,
  };
  if (req.size) spec.size = req.size;
  return spec;
}
