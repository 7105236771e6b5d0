// How a process started "in a container" is contained: bubblewrap gives it its own mount, pid,
// ipc and uts namespaces with a read-only /usr, a few files of /etc, the pod's own resolv.conf,
// hosts and hostname, private /tmp and /root, and no capabilities. The server's files, the repo,
// /root, state directories and other clusters' kubeconfigs are simply not in its mount namespace.
// In the netns plane it runs inside the pod's network namespace (nsenter) and joins the cluster's
// pids and memory cgroups before anything of the learner's runs.
import { existsSync, lstatSync, writeFileSync, mkdirSync } from 'node:fs';
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
  resolvConf: string;
  hosts: string;
  hostname: string;
}

/** Write the files kubelet would give a pod: resolv.conf with the cluster search path, hosts, hostname. */
export function writePodFiles(dir: string, opts: { namespace: string; name: string; ip: string; dnsServiceIP: string; clusterDomain: string }): PodFiles {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const d = opts.clusterDomain;
  const files: PodFiles = { dir, resolvConf: join(dir, 'resolv.conf'), hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname') };
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

function rootBinds(): string[] {
  const args: string[] = ['--ro-bind', '/usr', '/usr'];
  for (const top of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const p = `/${top}`;
    if (!existsSync(p)) continue;
    const st = lstatSync(p);
    if (st.isSymbolicLink()) args.push('--symlink', `usr/${top}`, p);
    else args.push('--ro-bind', p, p);
  }
  for (const e of ETC_ENTRIES) {
    const p = `/etc/${e}`;
    if (existsSync(p)) args.push('--ro-bind', p, p);
  }
  return args;
}

let cachedRootBinds: string[] | undefined;

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
    ...(req.unprivileged ? ['--unshare-user'] : []),
    '--hostname', req.hostname,
    ...cachedRootBinds,
    '--ro-bind', req.files.resolvConf, '/etc/resolv.conf',
    '--ro-bind', req.files.hosts, '/etc/hosts',
    '--ro-bind', req.files.hostname, '/etc/hostname',
    '--proc', '/proc',
    '--dev', '/dev',
    '--tmpfs', '/tmp',
    '--tmpfs', '/root',
    '--tmpfs', '/run',
    '--tmpfs', '/var',
    '--dir', '/var/tmp',
  ];
  for (const b of req.binds ?? []) bwrap.push('--ro-bind', b.source, b.dest);
  // With a terminal, the program must lead its own session inside the pid namespace with the
  // terminal as its controlling tty, or a shell's job control fails on exit ("Cannot set tty
  // process group") and turns `exit 0` into status 2. Taking the tty needs CAP_SYS_ADMIN, which
  // setpriv then drops from the bounding set before the learner's program runs.
  // As root, setpriv also empties the bounding set (bubblewrap leaves it full), which needs
  // CAP_SETPCAP for that one step; no_new_privs keeps an exec from regaining anything.
  const privileged = !req.unprivileged;
  const ttyLeader = req.tty && privileged;
  const keep = privileged ? ['--cap-add', 'CAP_SETPCAP', ...(ttyLeader ? ['--cap-add', 'CAP_SYS_ADMIN'] : [])] : [];
  bwrap.push('--chdir', req.workingDir ?? '/root', '--cap-drop', 'ALL', ...keep, '--clearenv');
  for (const [k, v] of Object.entries(env)) bwrap.push('--setenv', k, v);
  // Without a terminal, a new session keeps the program from injecting input into ours.
  if (!req.tty) bwrap.push('--new-session');
  const drop = privileged ? ['setpriv', '--inh-caps=-all', '--bounding-set=-all', '--'] : [];
  bwrap.push('--', ...(ttyLeader ? ['setsid', '--ctty'] : []), ...drop, ...hostCommand(req.command));
  let argv = bwrap;
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
