// GNU Wget 1.21 as the sim plane answers it: -q, -O, -T, -t/--tries with its retry back-off
// (a dropped connection is retried 20 times by default, waiting 1, 2, … 10 s in between),
// --spider, and the exit codes (4 network failure, 5 TLS verification, 8 server error).
import { httpAnswer } from '../../apps.ts';
import { GETADDRINFO_TIMEOUT_MS, TCP_CONNECT_TIMEOUT_MS } from '../network.ts';
import { parseOptions, seconds, unsupported, type Tool, type ToolContext } from './common.ts';
import { isIPv4 } from '../../ipv4.ts';

const WITH_VALUE = new Set(['O', 'T', 't', 'timeout', 'tries', 'output-document', 'U', 'user-agent', 'header', 'waitretry', 'connect-timeout', 'read-timeout', 'dns-timeout', 'o', 'output-file']);
const LONG: Record<string, string> = { quiet: 'q', 'output-document': 'O', timeout: 'T', tries: 't', 'server-response': 'S' };

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

export const wget: Tool = async (args: string[], ctx: ToolContext): Promise<number> => {
  const { io, net, src } = ctx;
  const { flags, positional } = parseOptions(args, WITH_VALUE, LONG);
  for (const f of ['r', 'recursive', 'b', 'background', 'i', 'input-file']) if (flags.has(f)) return unsupported('wget', `--${f}`, io);
  const quiet = flags.has('q');
  const log = (s: string) => {
    if (!quiet) io.stderr(s);
  };
  if (positional.length === 0) {
    io.stderr("wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n");
    return 1;
  }
  const text = /^[a-z]+:\/\//i.test(positional[0]) ? positional[0] : `http://${positional[0]}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    io.stderr(`${positional[0]}: Invalid URL\n`);
    return 1;
  }
  const https = u.protocol === 'https:';
  const port = u.port ? Number(u.port) : https ? 443 : 80;
  const timeout = seconds(flags.get('T'));
  const connectTimeout = seconds(flags.get('connect-timeout')) ?? timeout;
  const dnsTimeout = seconds(flags.get('dns-timeout')) ?? timeout;
  const triesText = flags.get('t');
  const tries = triesText === undefined || triesText === true ? 20 : Number(triesText) === 0 ? Infinity : Number(triesText);
  const waitRetry = seconds(flags.get('waitretry')) ?? 10;
  const output = flags.get('O');
  const spider = flags.has('spider');
  log(`--${stamp(io.now())}--  ${text}\n`);
  let ip = u.hostname;
  if (!isIPv4(u.hostname)) {
    log(`Resolving ${u.hostname} (${u.hostname})... `);
    const r = net.resolve(src, u.hostname);
    if (r.kind === 'timeout') {
      await io.sleep(Math.min(GETADDRINFO_TIMEOUT_MS, (dnsTimeout ?? Infinity) * 1000));
      log(`failed: ${dnsTimeout !== undefined && dnsTimeout * 1000 < GETADDRINFO_TIMEOUT_MS ? 'Connection timed out' : 'Temporary failure in name resolution'}.\nwget: unable to resolve host address '${u.hostname}'\n`);
      return 4;
    }
    if (r.kind === 'nxdomain') {
      log(`failed: Name or service not known.\nwget: unable to resolve host address '${u.hostname}'\n`);
      return 4;
    }
    ip = r.addresses[0];
    log(`${r.addresses.join(', ')}\n`);
  }
  const shown = isIPv4(u.hostname) ? `${ip}:${port}` : `${u.hostname} (${u.hostname})|${ip}|:${port}`;
  for (let attempt = 1; attempt <= tries; attempt++) {
    if (attempt > 1) {
      // --waitretry: linear back-off, 1 s after the first failure up to waitretry seconds.
      await io.sleep(Math.min(attempt - 1, waitRetry) * 1000);
      log(`--${stamp(io.now())}--  (try:${String(attempt).padStart(2)})  ${text}\n`);
    }
    log(`Connecting to ${shown}... `);
    const outcome = net.connect(src, ip, port, 'TCP');
    if (outcome.kind === 'refused') {
      log('failed: Connection refused.\n');
      return 4;
    }
    if (outcome.kind === 'timeout') {
      await io.sleep(Math.min(TCP_CONNECT_TIMEOUT_MS, (connectTimeout ?? Infinity) * 1000));
      log('failed: Connection timed out.\nRetrying.\n\n');
      continue;
    }
    log('connected.\n');
    const l = outcome.listener;
    if (l.kind === 'https' && !flags.has('no-check-certificate')) {
      log(`ERROR: cannot verify ${u.hostname}'s certificate, issued by 'CN=kubelab external host':\n  Self-signed certificate encountered.\nTo connect to ${u.hostname} insecurely, use \`--no-check-certificate'.\n`);
      return 5;
    }
    if ((l.kind === 'https' && !https) || (l.kind === 'http' && https) || (l.kind !== 'http' && l.kind !== 'https')) {
      // Nothing sensible comes back: wget waits out its read timeout (900 s by default) and retries.
      await io.sleep((timeout ?? 900) * 1000);
      log('Read error (Connection timed out) in headers.\nRetrying.\n\n');
      continue;
    }
    const method = spider ? 'HEAD' : 'GET';
    const a = httpAnswer(l.flavour, method, u.pathname + u.search, l.owner);
    const reason = a.status === 200 ? 'OK' : a.status === 404 ? 'Not Found' : '';
    log(`HTTP request sent, awaiting response... ${a.status} ${reason}\n`);
    if (a.status >= 400) {
      log(`${stamp(io.now())} ERROR ${a.status}: ${reason}.\n\n`);
      return 8;
    }
    if (spider) {
      log(`Length: ${a.headers['Content-Length'] ?? 'unspecified'} [${(a.headers['Content-Type'] ?? '').split(';')[0]}]\nRemote file exists.\n\n`);
      return 0;
    }
    const len = Buffer.byteLength(a.body);
    if (output === '-') {
      log(`Length: ${len} [${(a.headers['Content-Type'] ?? '').split(';')[0]}]\nSaving to: 'STDOUT'\n\n`);
      io.stdout(a.body);
      log(`\n${stamp(io.now())} - written to stdout [${len}/${len}]\n\n`);
      return 0;
    }
    return unsupported('wget', 'saving to a file', io);
  }
  log(`Giving up.\n\n`);
  return 4;
};
