// What every simulated network tool shares: its I/O channel back to the learner's process, the
// network it asks, option parsing in getopt style, /etc/services names, and the exact bytes a
// Node HTTP server (the netns plane's listeners) puts on the wire.
import { readFileSync } from 'node:fs';
import type { SimNetwork } from '../network.ts';
import type { HttpAnswer } from '../../apps.ts';

export interface ToolIO {
  stdout(data: string | Buffer): void;
  stderr(data: string): void;
  /** waits, or resolves early when the learner interrupts the tool */
  sleep(ms: number): Promise<void>;
  /** everything written to the tool's stdin (empty when it is a terminal) */
  readStdin(): Promise<Buffer>;
  stdoutIsTTY: boolean;
  now(): Date;
}

export interface ToolContext {
  net: SimNetwork;
  /** the pod the tool runs in, "namespace/name" */
  src: string;
  io: ToolIO;
}

export type Tool = (args: string[], ctx: ToolContext) => Promise<number>;

let serviceNames: Map<string, string> | undefined;

/** getservbyport: the /etc/services name of a port, or undefined. */
export function serviceName(port: number, proto: 'tcp' | 'udp'): string | undefined {
  if (!serviceNames) {
    serviceNames = new Map();
    try {
      for (const line of readFileSync('/etc/services', 'utf8').split('\n')) {
        const m = /^([A-Za-z0-9][\w.+-]*)\s+(\d+)\/(tcp|udp)/.exec(line);
        if (m && !serviceNames.has(`${m[2]}/${m[3]}`)) serviceNames.set(`${m[2]}/${m[3]}`, m[1]);
      }
    } catch {
      for (const [k, v] of Object.entries({ '53/tcp': 'domain', '53/udp': 'domain', '80/tcp': 'http', '443/tcp': 'https', '5432/tcp': 'postgresql', '8080/tcp': 'http-alt', '3306/tcp': 'mysql', '6379/tcp': 'redis' })) serviceNames.set(k, v);
    }
  }
  return serviceNames.get(`${port}/${proto}`);
}

/** getservbyname: a port given by name ("http") or number. */
export function portNumber(text: string, proto: 'tcp' | 'udp'): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 0 && n <= 65535 ? n : undefined;
  }
  serviceName(0, proto);
  for (const [k, v] of serviceNames!) if (v === text && k.endsWith(`/${proto}`)) return Number(k.split('/')[0]);
  return undefined;
}

export interface ParsedOptions {
  flags: Map<string, string | true>;
  positional: string[];
}

/**
 * Short options getopt-style ("-zvw 1", "-w1", "-qO-"), long options as --name / --name=value /
 * --name value. `withValue` lists options that take an argument (short letters and long names).
 */
export function parseOptions(args: string[], withValue: ReadonlySet<string>, longAliases: Record<string, string> = {}): ParsedOptions {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      let name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      name = longAliases[name] ?? name;
      if (eq > 0) flags.set(name, a.slice(eq + 1));
      else if (withValue.has(name)) flags.set(name, args[++i] ?? '');
      else flags.set(name, true);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        if (withValue.has(c)) {
          const rest = a.slice(j + 1);
          flags.set(c, rest.length ? rest : (args[++i] ?? ''));
          break;
        }
        flags.set(c, true);
      }
      continue;
    }
    positional.push(a);
  }
  return { flags, positional };
}

/** A number of seconds as curl/nc/wget read it (fractions allowed). */
export function seconds(v: string | true | undefined): number | undefined {
  if (v === undefined || v === true) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function httpDate(d: Date): string {
  return d.toUTCString();
}

/**
 * The response head a Node HTTP server writes for this answer: the handler's headers first,
 * then Date, Connection and (for keep-alive) Keep-Alive, as the netns plane's servers send them.
 */
export function responseHead(a: HttpAnswer, now: Date, keepAlive: boolean, head: boolean): string {
  const reason: Record<number, string> = { 200: 'OK', 404: 'Not Found', 500: 'Internal Server Error' };
  const lines = [`HTTP/1.1 ${a.status} ${reason[a.status] ?? ''}`.trimEnd()];
  for (const [k, v] of Object.entries(a.headers)) lines.push(`${k}: ${v}`);
  lines.push(`Date: ${httpDate(now)}`);
  lines.push(`Connection: ${keepAlive ? 'keep-alive' : 'close'}`);
  if (keepAlive) lines.push('Keep-Alive: timeout=5');
  void head;
  return lines.join('\r\n') + '\r\n\r\n';
}

export function unsupported(tool: string, what: string, io: ToolIO): number {
  io.stderr(`${tool}: ${what} is not available in the simulated cluster (the sim data plane answers probes, not arbitrary traffic)\n`);
  return 2;
}
