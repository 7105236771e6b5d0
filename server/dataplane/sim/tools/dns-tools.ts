// nslookup and dig (BIND 9.18) as the sim plane answers them: the queries go to the cluster DNS
// service like real ones (so egress policy can make them time out), and the output keeps the
// real tools' layout: nslookup's Server/Address header and "** server can't find", dig's +short
// lines and full sections, ";; communications error … timed out" three times when nothing answers.
import * as dnsPacket from 'dns-packet';
import { DIG_TIMEOUT_MS, type QueryOutcome } from '../network.ts';
import type { Tool, ToolContext } from './common.ts';
import { isIPv4 } from '../../ipv4.ts';

export const BIND_VERSION = '9.18.49-1~deb12u1-Debian';

function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

async function commsFailure(ctx: ToolContext, server: string, tries: number, timeoutMs: number, how: 'timeout' | 'refused' = 'timeout', port = 53): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (how === 'timeout') await ctx.io.sleep(timeoutMs);
    ctx.io.stdout(`;; communications error to ${server}#${port}: ${how === 'timeout' ? 'timed out' : 'connection refused'}\n`);
  }
  ctx.io.stdout(';; no servers could be reached\n');
}

export const nslookup: Tool = async (args: string[], ctx: ToolContext): Promise<number> => {
  const { io, net, src } = ctx;
  let type = 'A';
  let timeoutS = 5;
  let retry = 2;
  const positional: string[] = [];
  for (const a of args) {
    const m = /^-(type|query|q|timeout|retry|port|debug|nodebug)(?:=(.*))?$/i.exec(a);
    if (m) {
      const k = m[1].toLowerCase();
      if (k === 'type' || k === 'query' || k === 'q') type = (m[2] ?? 'A').toUpperCase();
      if (k === 'timeout') timeoutS = Number(m[2]) || 5;
      if (k === 'retry') retry = Math.max(0, Number(m[2]) || 0);
      continue;
    }
    if (a.startsWith('-')) continue;
    positional.push(a);
  }
  const server = net.options.dnsServiceIP;
  if (positional.length === 0) {
    io.stderr('nslookup: interactive mode is not available in the simulated cluster\n');
    return 1;
  }
  const name = positional[0];
  if (positional[1] && positional[1] !== server) {
    io.stderr(`nslookup: only the cluster DNS (${server}) answers in the simulated cluster\n`);
    return 1;
  }
  const tries = retry + 1;
  if (isIPv4(name)) {
    const q = net.query(src, reverseName(name), 'PTR');
    if (q.kind !== 'answer') {
      await commsFailure(ctx, server, tries, timeoutS * 1000, q.kind);
      io.stdout('\n');
      return 1;
    }
    if (q.rcode === 'NXDOMAIN' || q.ptr.length === 0) {
      io.stdout(`** server can't find ${reverseName(name)}: NXDOMAIN\n\n`);
      return 1;
    }
    io.stdout(q.ptr.map((p) => `${reverseName(name)}\tname = ${p}\n`).join('') + '\n');
    return 0;
  }
  // nslookup applies the search list (ndots:5) and then the name as given.
  const dots = (name.match(/\./g) ?? []).length;
  const base = name.replace(/\.$/, '');
  const candidates = name.endsWith('.') ? [base] : dots >= 5 ? [base, ...net.searchList(src).map((s) => `${base}.${s}`)] : [...net.searchList(src).map((s) => `${base}.${s}`), base];
  let found: { name: string; q: Extract<QueryOutcome, { kind: 'answer' }> } | undefined;
  for (const c of candidates) {
    const q = net.query(src, c, type);
    if (q.kind !== 'answer') {
      await commsFailure(ctx, server, tries, timeoutS * 1000, q.kind);
      io.stdout('\n');
      return 1;
    }
    if (q.rcode === 'NOERROR' && (q.addresses.length > 0 || q.ptr.length > 0)) {
      found = { name: c, q };
      break;
    }
  }
  const header = `Server:\t\t${server}\nAddress:\t${server}#53\n\n`;
  if (!found) {
    io.stdout(`${header}** server can't find ${base}: NXDOMAIN\n\n`);
    return 1;
  }
  let out = header + (found.q.authoritative ? '' : 'Non-authoritative answer:\n');
  for (const a of found.q.addresses) out += `Name:\t${found.name}\nAddress: ${a}\n`;
  io.stdout(out + '\n');
  return 0;
};

export const dig: Tool = async (args: string[], ctx: ToolContext): Promise<number> => {
  const { io, net, src } = ctx;
  let short = false;
  let search = false;
  let type = 'A';
  let tries = 3;
  let timeoutS = 5;
  let reverse: string | undefined;
  const names: string[] = [];
  let server = net.options.dnsServiceIP;
  let port = 53;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-v') {
      io.stderr(`DiG ${BIND_VERSION}\n`);
      return 0;
    }
    if (a === '-x') {
      reverse = args[++i];
      continue;
    }
    if (a.startsWith('@')) {
      server = a.slice(1);
      if (!isIPv4(server)) {
        const r = net.resolve(src, server);
        if (r.kind !== 'ok') {
          io.stderr(`dig: couldn't get address for '${server}': not found\n`);
          return 10;
        }
        server = r.addresses[0];
      }
      continue;
    }
    if (a === '-p') {
      port = Number(args[++i]) || 53;
      continue;
    }
    if (a.startsWith('+')) {
      const [k, v] = a.slice(1).split('=');
      if (k === 'short') short = true;
      else if (k === 'search') search = true;
      else if (k === 'nosearch') search = false;
      else if (k === 'tries') tries = Math.max(1, Number(v) || 1);
      else if (k === 'retry') tries = Math.max(0, Number(v) || 0) + 1;
      else if (k === 'time' || k === 'timeout') timeoutS = Math.max(1, Number(v) || 1);
      continue;
    }
    if (/^-t$/.test(a)) {
      type = (args[++i] ?? 'A').toUpperCase();
      continue;
    }
    if (/^(A|AAAA|PTR|SRV|SOA|NS|TXT|MX|CNAME|ANY)$/i.test(a)) {
      type = a.toUpperCase();
      continue;
    }
    if (a.startsWith('-')) continue;
    names.push(a);
  }
  let qname = names[0] ?? '.';
  if (reverse) {
    qname = reverseName(reverse);
    type = 'PTR';
  }
  let candidates = [qname.replace(/\.$/, '')];
  if (search && !qname.endsWith('.') && (qname.match(/\./g) ?? []).length < 5) candidates = [...net.searchList(src).map((s) => `${candidates[0]}.${s}`), candidates[0]];
  let used = candidates[candidates.length - 1];
  let q: QueryOutcome = { kind: 'timeout' };
  for (const c of candidates) {
    used = c;
    q = net.query(src, c, type, { ip: server, port });
    if (q.kind !== 'answer' || (q.rcode === 'NOERROR' && (q.addresses.length || q.ptr.length))) break;
  }
  if (q.kind !== 'answer') {
    if (!short) io.stdout(`\n; <<>> DiG ${BIND_VERSION} <<>> ${args.join(' ')}\n;; global options: +cmd\n`);
    await commsFailure(ctx, server, tries, timeoutS * 1000, q.kind, port);
    return 9;
  }
  const values = type === 'PTR' ? q.ptr : q.addresses;
  if (short) {
    io.stdout(values.map((v) => `${v}\n`).join(''));
    return 0;
  }
  const fqdn = `${used}.`;
  const answers = values.map((v) => ({ name: used, type: type === 'PTR' ? 'PTR' : 'A', class: 'IN', ttl: 5, data: v.replace(/\.$/, '') }) as dnsPacket.Answer);
  const size = dnsPacket.encodingLength({
    type: 'response',
    questions: [{ name: used, type: type as dnsPacket.RecordType }],
    answers,
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer],
    authorities: values.length === 0 && q.authoritative ? [{ name: 'cluster.local', type: 'SOA', ttl: 5, data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 } }] : [],
  });
  const flags = `qr${q.authoritative ? ' aa' : ''} rd ra`;
  const mdns = /\.local\.?$/.test(used) ? ';; WARNING: .local is reserved for Multicast DNS\n;; You are currently testing what happens when an mDNS query is leaked to DNS\n' : '';
  const pad = (s: string) => s + '\t'.repeat(Math.max(1, 4 - Math.floor(s.length / 8)));
  let out = `\n; <<>> DiG ${BIND_VERSION} <<>> ${args.join(' ')}\n;; global options: +cmd\n;; Got answer:\n${mdns}`;
  out += `;; ->>HEADER<<- opcode: QUERY, status: ${q.rcode}, id: ${Math.floor(Math.random() * 65536)}\n`;
  out += `;; flags: ${flags}; QUERY: 1, ANSWER: ${values.length}, AUTHORITY: ${values.length === 0 && q.authoritative ? 1 : 0}, ADDITIONAL: 1\n\n`;
  out += ';; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n;; QUESTION SECTION:\n';
  out += fqdn.length >= 32 ? `;${fqdn} IN ${type}\n\n` : `${pad(`;${fqdn}`)}IN\t${type}\n\n`;
  if (values.length) {
    out += ';; ANSWER SECTION:\n';
    for (const v of values) out += fqdn.length >= 24 ? `${fqdn} 5 IN ${type === 'PTR' ? 'PTR' : 'A'} ${v}\n` : `${pad(fqdn)}5\tIN\t${type === 'PTR' ? 'PTR' : 'A'}\t${v}\n`;
    out += '\n';
  }
  const now = io.now();
  const when = now.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, (_m, d, day, mon, y, t) => `${d} ${mon} ${day} ${t} UTC ${y}`);
  out += `;; Query time: 0 msec\n;; SERVER: ${server}#${port}(${server}) (UDP)\n;; WHEN: ${when}\n;; MSG SIZE  rcvd: ${size}\n\n`;
  io.stdout(out);
  return 0;
};
