// A test fixture for the API server's own tests: a PodRuntime whose pods get addresses and whose
// exec runs the command as a local process. It has no network semantics at all; the real runtimes
// (process, netns, sim) live in server/dataplane.
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { ClusterNetworkOptions, ClusterRuntime, ClusterStateView, ContainerRef, ExecRequest, ExecSession, KubeObject, PodRuntime, RuntimeHooks } from '../../server/apiserver/runtime.ts';

export interface FixtureRuntime extends PodRuntime {
  /** pods started and not stopped, as "namespace/name" */
  readonly running: Set<string>;
  /** let a container's main process end with this code */
  exit(ref: ContainerRef, code: number): void;
}

export function createFixtureRuntime(): FixtureRuntime {
  const running = new Set<string>();
  const hooksByCluster: RuntimeHooks[] = [];
  return {
    name: 'process',
    reason: 'test fixture',
    running,
    exit(ref, code) {
      for (const h of hooksByCluster) h.containerExited(ref, code);
    },
    async reapLeftovers() {},
    async attach(_view: ClusterStateView, options: ClusterNetworkOptions, hooks: RuntimeHooks): Promise<ClusterRuntime> {
      hooksByCluster.push(hooks);
      const base = options.podCIDR.split('/')[0].split('.').map(Number);
      let next = 2;
      const ips = new Map<string, string>();
      const session = (ref: ContainerRef, req: ExecRequest): ExecSession => {
        const child = spawn('sh', ['-c', req.command.length ? req.command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ') : 'cat'], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTNAME: ref.pod } });
        const stdout = new PassThrough();
        child.stdout.pipe(stdout);
        if (req.tty) child.stderr.pipe(stdout, { end: false });
        return {
          stdin: req.stdin ? child.stdin : null,
          stdout,
          stderr: req.tty ? null : child.stderr,
          resize() {},
          exit: new Promise((resolve) => child.on('close', (code, signal) => resolve({ exitCode: code ?? 128, signal: signal ?? undefined }))),
          kill: () => child.kill('SIGKILL'),
        };
      };
      return {
        async startPod(pod: KubeObject) {
          const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
          let ip = ips.get(key);
          if (!ip) {
            ip = `${base[0]}.${base[1]}.${Math.floor(next / 256)}.${next % 256}`;
            next++;
            ips.set(key, ip);
          }
          running.add(key);
          return { podIP: ip, hostIP: '172.18.0.2' };
        },
        async stopPod(namespace: string, name: string) {
          running.delete(`${namespace}/${name}`);
        },
        async exec(ref, req) {
          return session(ref, req);
        },
        async attach(ref, req) {
          return session(ref, req);
        },
        async settle() {},
        async dispose() {
          running.clear();
        },
      };
    },
  };
}
