// How a learner's shell is contained. With bubblewrap the shell sees only a read-only /usr (and
// the /bin, /lib symlinks into it), a few files of /etc, its own tmpfs home holding its own
// kubeconfig, a private /tmp, its own pid/ipc/uts namespaces, and runs as an unprivileged uid
// picked for this session (so RLIMIT_NPROC and a pids cgroup cap what it can fork). It cannot
// see the server's files, the state directory or other learners' kubeconfigs: they are not in
// its mount namespace at all.
//
// The network namespace is shared on purpose: kubectl must reach the embedded API server on
// loopback. What keeps one learner out of another's cluster there is the per-cluster bearer
// token in the kubeconfig (a token is refused on any other cluster's path).
//
// Where bubblewrap can't run, the shell is a plain bash (still under its own uid when the
// server is root) and the server says so loudly at start and in every terminal.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, chownSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxMode } from '../../shared/terminal-protocol.ts';

export const SANDBOX_HOME = '/home/learner';
export const SHELL_PROMPT = 'learner@kubelab:\\w$ ';

export interface SandboxSupport {
  mode: SandboxMode;
  /** why, for the start-up banner */
  reason: string;
  /** shells run under per-session uids (only possible as root) */
  perSessionUid: boolean;
}

let cached: SandboxSupport | undefined;

/** Find out once whether bubblewrap works here, by running `true` inside the same sandbox shells get. */
export function detectSandbox(force?: SandboxMode): SandboxSupport {
  if (cached && !force) return cached;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (force === 'none' || process.env.KUBELAB_SANDBOX === 'none') {
    cached = { mode: 'none', reason: 'sandbox disabled by configuration: learner shells are NOT isolated from the server', perSessionUid: root };
    return cached;
  }
  const bwrap = findOnPath('bwrap');
  if (!bwrap) {
    cached = { mode: 'none', reason: 'bwrap (Debian package bubblewrap) not found: learner shells are NOT isolated from the server', perSessionUid: root };
    return cached;
  }
  const args = baseBwrapArgs();
  const probe = root
    ? spawnSync('setpriv', ['--reuid=61999', '--regid=61999', '--clear-groups', bwrap, ...args, '/bin/true'], { timeout: 5000 })
    : spawnSync(bwrap, [...args, '/bin/true'], { timeout: 5000 });
  if (probe.status === 0) {
    cached = { mode: 'bwrap', reason: `bwrap: shells get a private filesystem view${root ? ', per-session uids, pid limits' : ''}`, perSessionUid: root };
  } else {
    const why = (probe.stderr?.toString() || probe.error?.message || `exit ${probe.status}`).trim().split('\n')[0];
    cached = { mode: 'none', reason: `bwrap cannot run here (${why}): learner shells are NOT isolated from the server`, perSessionUid: root };
  }
  return cached;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

const etcFiles = [
  'alternatives', 'ssl', 'ca-certificates', 'ca-certificates.conf', 'resolv.conf', 'hosts', 'nsswitch.conf',
  'bash.bashrc', 'inputrc', 'profile', 'localtime', 'terminfo', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d',
];

function baseBwrapArgs(): string[] {
  const args = [
    '--unshare-user', '--uid', '1000', '--gid', '1000',
    '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--hostname', 'kubelab',
    '--die-with-parent',
    '--ro-bind', '/usr', '/usr',
    '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin',
    '--symlink', 'usr/lib', '/lib',
  ];
  if (existsSync('/usr/lib64')) args.push('--symlink', 'usr/lib64', '/lib64');
  for (const f of etcFiles) if (existsSync(`/etc/${f}`)) args.push('--ro-bind', `/etc/${f}`, `/etc/${f}`);
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', SANDBOX_HOME, '--chdir', SANDBOX_HOME);
  return args;
}

export interface ShellRequest {
  /** the learner's kubeconfig (YAML): the only credential the shell gets */
  kubeconfig: string;
  /** the environment's shellEnv; KUBECONFIG/HOME in it are replaced by the sandbox's own */
  env: Record<string, string>;
  /** a uid for this session (used when the server is root) */
  uid: number;
  /** max processes the session's uid may run */
  maxProcesses: number;
}

export interface ShellPlan {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  gid?: number;
  mode: SandboxMode;
  /** a private directory the plan wrote (kubeconfig, rc file); removed by `cleanup` */
  dir: string;
  cleanup(): void;
}

const hiddenEnv = new Set(['KUBECONFIG', 'HOME', 'KUBECACHEDIR', 'PS1', 'BASH_ENV', 'ENV', 'LD_PRELOAD', 'LD_LIBRARY_PATH']);

/** Everything needed to spawn one learner shell: argv, a clean environment, and its private files. */
export function planShell(req: ShellRequest, support: SandboxSupport = detectSandbox()): ShellPlan {
  const dir = mkdtempSync(join(tmpdir(), `kubelab-term-${process.pid}-`));
  const uid = support.perSessionUid ? req.uid : undefined;
  const own = (p: string) => {
    if (uid !== undefined) chownSync(p, uid, uid);
  };
  own(dir);
  const kubeconfigFile = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigFile, req.kubeconfig, { mode: 0o400 });
  own(kubeconfigFile);
  const rc = [
    `PS1='${SHELL_PROMPT}'`,
    'alias k=kubectl',
    'export HISTFILE=~/.bash_history',
    '',
  ].join('\n');
  const rcFile = join(dir, 'bashrc');
  writeFileSync(rcFile, rc, { mode: 0o444 });
  own(rcFile);

  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.env)) if (!hiddenEnv.has(k)) extra[k] = v;
  const path = extra.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  const cleanup = () => rmSync(dir, { recursive: true, force: true });

  if (support.mode === 'bwrap') {
    const home = SANDBOX_HOME;
    const env: Record<string, string> = {
      ...extra,
      PATH: path,
      HOME: home,
      USER: 'learner',
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
      KUBECONFIG: `${home}/.kube/config`,
      KUBECACHEDIR: `${home}/.kube/cache`,
    };
    const passwd = join(dir, 'passwd');
    writeFileSync(passwd, `root:x:0:0:root:/root:/usr/sbin/nologin\nlearner:x:1000:1000:Learner:${home}:/bin/bash\n`, { mode: 0o444 });
    const group = join(dir, 'group');
    writeFileSync(group, 'root:x:0:\nlearner:x:1000:\n', { mode: 0o444 });
    const args = [
      ...baseBwrapArgs(),
      '--ro-bind', passwd, '/etc/passwd',
      '--ro-bind', group, '/etc/group',
      '--dir', `${home}/.kube`,
      '--ro-bind', kubeconfigFile, `${home}/.kube/config`,
      '--ro-bind', rcFile, `${home}/.bashrc`,
      '--clearenv',
    ];
    for (const [k, v] of Object.entries(env)) args.push('--setenv', k, v);
    // PATH entries outside /usr (a data plane's tool directory) are shown read-only.
    for (const p of path.split(':')) {
      if (p && !p.startsWith('/usr/') && !['/bin', '/sbin'].includes(p) && existsSync(p)) args.push('--ro-bind', p, p);
    }
    args.push('/bin/bash', '--rcfile', `${home}/.bashrc`, '-i');
    const withLimits = ['--nproc=' + req.maxProcesses, '--core=0', '--', 'bwrap', ...args];
    return { file: 'prlimit', args: withLimits, env, cwd: dir, uid, gid: uid, mode: 'bwrap', dir, cleanup };
  }

  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  own(home);
  const env: Record<string, string> = {
    ...extra,
    PATH: path,
    HOME: home,
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    KUBECONFIG: kubeconfigFile,
    KUBECACHEDIR: join(home, '.kube', 'cache'),
  };
  return {
    file: 'prlimit',
    args: ['--nproc=' + req.maxProcesses, '--core=0', '--', 'bash', '--rcfile', rcFile, '-i'],
    env, cwd: home, uid, gid: uid, mode: 'none', dir, cleanup,
  };
}
