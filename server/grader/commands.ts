// The commands a probe runs in its source pod, as argv (never a shell line built from input,
// except the one UDP form, whose parts are a checked IP and an integer port).
import type { ProbeTool } from './classify.ts';
import { parseIP } from '../netpol/index.ts';

export interface ToolCommand {
  tool: ProbeTool;
  argv: string[];
  /** what the tool was told to wait, so the classifier can tell instant failures from drops */
  timeoutMs: number;
  /** standard input for the command (the probe script, for a shell that reads it) */
  stdin?: string;
}

/** nc and dig take whole seconds. */
function wholeSeconds(t: number): number {
  return Math.max(1, Math.ceil(t));
}

/** A DNS lookup through the pod's own resolver settings (its resolv.conf), bounded in time. */
export function lookupCommand(name: string, timeoutSeconds: number): ToolCommand {
  const t = wholeSeconds(timeoutSeconds);
  // a name without dots is relative: let the pod's search path complete it, as nc or curl would
  const argv = ['dig', '+short', `+time=${t}`, '+tries=1'];
  if (!name.includes('.')) argv.push('+search');
  argv.push(name, 'A');
  return { tool: 'dig', argv, timeoutMs: t * 1000 };
}

/** A TCP connect, reported verbosely so refused and dropped can be told apart. */
export function tcpCommand(ip: string, port: number, timeoutSeconds: number): ToolCommand {
  const t = wholeSeconds(timeoutSeconds);
  return { tool: 'nc', argv: ['nc', '-vz', '-w', String(t), ip, String(port)], timeoutMs: t * 1000 };
}

/** An HTTP GET; `host` keeps the name in the request when the target was a name. */
export function httpCommand(ip: string, port: number, path: string, timeoutSeconds: number, options: { host?: string; https?: boolean }): ToolCommand {
  const scheme = options.https ? 'https' : 'http';
  const bracketed = ip.includes(':') ? `[${ip}]` : ip;
  const argv = ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', String(timeoutSeconds)];
  if (options.https) argv.push('-k');
  let url = `${scheme}://${bracketed}:${port}${path}`;
  if (options.host) {
    argv.push('--resolve', `${options.host}:${port}:${ip}`);
    url = `${scheme}://${options.host}:${port}${path}`;
  }
  argv.push(url);
  return { tool: 'curl', argv, timeoutMs: timeoutSeconds * 1000 };
}

/** A DNS query sent to a DNS server's address: any answer (even NXDOMAIN) means it was reached. */
export function dnsServerCommand(ip: string, port: number, timeoutSeconds: number): ToolCommand {
  const t = wholeSeconds(timeoutSeconds);
  return { tool: 'dig', argv: ['dig', `@${ip}`, '-p', String(port), '+short', `+time=${t}`, '+tries=1', 'kubernetes.default.svc.cluster.local.', 'A'], timeoutMs: t * 1000 };
}

/** A UDP datagram; only a reply proves something listens (silence and refusal look alike). */
export function udpCommand(ip: string, port: number, timeoutSeconds: number): ToolCommand {
  if (!parseIP(ip) || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`not an address and port: ${ip} ${port}`);
  const t = wholeSeconds(timeoutSeconds);
  return { tool: 'nc-udp', argv: ['sh', '-c', `echo kubelab | nc -u -w ${t} ${ip} ${port}`], timeoutMs: t * 1000 };
}
