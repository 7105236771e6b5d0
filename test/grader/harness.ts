// Shared by the grader's cluster tests: whether this machine can run an embedded cluster with a
// real network (the netns data plane needs root), and a way to run the kubelab CLI.
import { spawn } from 'node:child_process';
import process from 'node:process';

/** Why cluster tests cannot run here, or undefined when they can. */
export function clusterSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'the netns data plane runs on Linux only';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the netns data plane needs root';
  return undefined;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function kubelab(args: string[], timeoutMs = 600_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
