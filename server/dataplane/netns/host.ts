// The few external programs the netns plane runs: `ip -batch` (namespaces and veth pairs, many per
// call) and `nft -f` (one atomic transaction per ruleset), entered with nsenter where a namespace
// is meant. Each call is one process, whatever the number of pods it covers.
import { spawn } from 'node:child_process';
import { nsPath } from './names.ts';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCommand(file: string, args: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => resolve({ code: 127, stdout: '', stderr: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/**
 * Run `ip` batch lines, in the root context (namespace creation, veth pairs created directly
 * inside the cluster's namespaces) or inside `netns`. With `force`, later lines still run after
 * a failure and the failures are returned instead of thrown.
 */
export async function ipBatch(lines: string[], opts: { netns?: string; force?: boolean } = {}): Promise<string> {
  if (lines.length === 0) return '';
  const args = [...(opts.netns ? ['-n', opts.netns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  const r = await runCommand('ip', args, lines.join('\n') + '\n');
  if (r.code !== 0 && !opts.force) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.code === 0 ? '' : r.stderr.trim();
}

/** Apply an nft script inside a namespace as one transaction. */
export async function nftApply(netns: string, script: string): Promise<void> {
  const r = await runCommand('nsenter', [`--net=${nsPath(netns)}`, '--', 'nft', '-f', '-'], script);
  if (r.code !== 0) throw new Error(`nft -f in ${netns} failed: ${r.stderr.trim()}`);
}

export async function nftList(netns: string): Promise<string> {
  const r = await runCommand('nsenter', [`--net=${nsPath(netns)}`, '--', 'nft', 'list', 'ruleset']);
  if (r.code !== 0) throw new Error(`nft list ruleset in ${netns} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Delete namespaces (missing ones are ignored). */
export async function deleteNamespaces(names: string[]): Promise<void> {
  await ipBatch(names.map((n) => `netns del ${n}`), { force: true });
}
