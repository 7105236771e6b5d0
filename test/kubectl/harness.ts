// Running the real kubectl against a fresh embedded cluster: an API host, a cluster, a kubeconfig
// file and a kubectl cache/home of its own per run, and a helper that runs kubectl and captures
// what a learner would see.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiHost, type ApiHost, type EmbeddedCluster } from '../../server/apiserver/index.ts';
import type { PodRuntime } from '../../server/apiserver/runtime.ts';
import { chooseRuntime } from '../../server/dataplane/index.ts';

export const NETWORK = {
  podCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/16',
  dnsServiceIP: '10.96.0.10',
  clusterDomain: 'cluster.local',
  nodeName: 'kubelab-control-plane',
  externalHosts: [],
};

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where kubectl is, or why these tests cannot run. */
export function findKubectl(): { path: string } | { skip: string } {
  const r = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status !== 0 || !path) return { skip: 'kubectl is not on PATH' };
  return { path };
}

/** The gcloud dispatcher ships one binary per minor version next to itself. */
export function versionedKubectl(minor: number): string | undefined {
  for (const dir of ['/usr/lib/google-cloud-sdk/bin', '/usr/local/google-cloud-sdk/bin']) {
    const p = join(dir, `kubectl.1.${minor}`);
    if (spawnSync(p, ['version', '--client'], { encoding: 'utf8' }).status === 0) return p;
  }
  return undefined;
}

/** The data plane kubelab would pick here (netns as root, else sim), so exec and attach are real. */
export async function testRuntime(): Promise<{ runtime: PodRuntime; note?: string }> {
  const runtime = await chooseRuntime();
  return { runtime, note: `data plane: ${runtime.reason}` };
}

export class KubectlSession {
  readonly dir: string;
  readonly kubeconfigPath: string;
  constructor(
    readonly host: ApiHost,
    readonly cluster: EmbeddedCluster,
    readonly binary: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'kubelab-kubectl-'));
    this.kubeconfigPath = join(this.dir, 'kubeconfig');
    writeFileSync(this.kubeconfigPath, cluster.kubeconfig(), { mode: 0o600 });
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.dir,
      KUBECONFIG: this.kubeconfigPath,
      KUBECACHEDIR: join(this.dir, 'cache'),
      ...extra,
    };
  }

  /**
   * Run kubectl in a terminal (node-pty), typing `script` lines as a learner would once `ready`
   * appears in the output; resolves with everything printed and the exit code.
   */
  async interactive(args: string[], script: Array<{ after: RegExp; type: string }>, timeoutMs = 60_000): Promise<{ code: number; output: string }> {
    const pty = await import('node-pty');
    return new Promise((resolve, reject) => {
      const term = pty.spawn(this.binary, args, { cwd: this.dir, env: this.env({ TERM: 'xterm' }), cols: 120, rows: 30 });
      let output = '';
      let step = 0;
      const timer = setTimeout(() => {
        term.kill('SIGKILL');
        reject(new Error(`kubectl ${args.join(' ')} timed out; output so far:\n${output}`));
      }, timeoutMs);
      term.onData((d) => {
        output += d;
        while (step < script.length && script[step].after.test(output)) term.write(script[step++].type);
      });
      term.onExit(({ exitCode }) => {
        clearTimeout(timer);
        resolve({ code: exitCode, output });
      });
    });
  }

  /** Run kubectl with these arguments (and optional stdin), as a learner's shell would. */
  run(args: string[], opts: { input?: string; binary?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<KubectlResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(opts.binary ?? this.binary, args, { cwd: this.dir, env: this.env(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`kubectl ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, opts.timeoutMs ?? 30_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 1, stdout, stderr });
      });
      child.stdin.end(opts.input ?? '');
    });
  }

  /** Run kubectl and fail with its output unless it exits 0. */
  async ok(args: string[], opts: Parameters<KubectlSession['run']>[1] = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  /** Write a file into the session's working directory; returns the name kubectl sees (relative, as a learner types it). */
  write(name: string, text: string): string {
    writeFileSync(join(this.dir, name), text);
    return name;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Harness {
  host: ApiHost;
  cluster: EmbeddedCluster;
  kubectl: KubectlSession;
  note?: string;
  close(): Promise<void>;
}

let sequence = 0;

/** A cluster id no other test process uses at the same time (data planes name kernel objects after it). */
export function uniqueClusterId(prefix: string): string {
  return `${prefix}-${process.pid.toString(36)}-${(sequence++).toString(36)}`;
}

export async function startHarness(binary: string): Promise<Harness> {
  const { runtime, note } = await testRuntime();
  const host = await createApiHost({ port: 0 });
  const cluster = await host.createCluster({ id: uniqueClusterId('k'), runtime, network: NETWORK });
  await cluster.settle();
  const kubectl = new KubectlSession(host, cluster, binary);
  return {
    host,
    cluster,
    kubectl,
    note,
    async close() {
      kubectl.cleanup();
      await host.close();
    },
  };
}
