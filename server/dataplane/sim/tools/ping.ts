// iputils ping (20221126) as the sim plane answers it: -c count, -W reply timeout, -i interval,
// -w deadline, -q; replies come when policy lets ICMP through to a pod or a declared external host.
import { GETADDRINFO_TIMEOUT_MS } from '../network.ts';
import { parseOptions, seconds, type Tool, type ToolContext } from './common.ts';
import { isIPv4 } from '../../ipv4.ts';

const WITH_VALUE = new Set(['c', 'W', 'i', 'w', 's', 't', 'I', 'Q', 'M', 'l', 'p', 'S']);

export const ping: Tool = async (args: string[], ctx: ToolContext): Promise<number> => {
  const { io, net, src } = ctx;
  const { flags, positional } = parseOptions(args, WITH_VALUE);
  const target = positional[0];
  if (!target) {
    io.stderr('ping: usage error: Destination address required\n');
    return 1;
  }
  const count = flags.has('c') ? Math.max(1, Number(flags.get('c')) || 1) : Infinity;
  const replyTimeout = seconds(flags.get('W')) ?? 10;
  const interval = seconds(flags.get('i')) ?? 1;
  const deadline = seconds(flags.get('w'));
  const quiet = flags.has('q');
  let ip = target;
  if (!isIPv4(target)) {
    const r = net.resolve(src, target);
    if (r.kind === 'timeout') {
      await io.sleep(GETADDRINFO_TIMEOUT_MS);
      io.stderr(`ping: ${target}: Temporary failure in name resolution\n`);
      return 2;
    }
    if (r.kind === 'nxdomain') {
      io.stderr(`ping: ${target}: Name or service not known\n`);
      return 2;
    }
    ip = r.addresses[0];
  }
  const shownFrom = isIPv4(target) ? ip : `${ip} (${ip})`;
  io.stdout(`PING ${target} (${ip}) 56(84) bytes of data.\n`);
  const answers = net.ping(src, ip);
  const rtts: number[] = [];
  let sent = 0;
  const started = Date.now();
  const self = ip === '127.0.0.1' || net.pod(src)?.ip === ip;
  for (let seq = 1; seq <= count; seq++) {
    if (deadline !== undefined && Date.now() - started >= deadline * 1000) break;
    sent++;
    if (answers) {
      const rtt = self ? 0.03 + Math.random() * 0.02 : 0.05 + Math.random() * 0.1;
      rtts.push(rtt);
      if (!quiet) io.stdout(`64 bytes from ${shownFrom}: icmp_seq=${seq} ttl=${self ? 64 : 63} time=${rtt.toFixed(3)} ms\n`);
      if (seq < count) await io.sleep(interval * 1000);
    } else {
      await io.sleep(seq < count ? Math.max(interval, 0) * 1000 : replyTimeout * 1000);
    }
  }
  const elapsed = answers ? Math.round((sent - 1) * interval * 1000) : Math.round(Math.max(0, sent - 1) * interval * 1000);
  const lost = Math.round(((sent - rtts.length) / Math.max(sent, 1)) * 100);
  let out = `\n--- ${target} ping statistics ---\n${sent} packets transmitted, ${rtts.length} received, ${lost}% packet loss, time ${elapsed}ms\n`;
  if (rtts.length) {
    const min = Math.min(...rtts);
    const max = Math.max(...rtts);
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    const mdev = Math.sqrt(rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / rtts.length);
    out += `rtt min/avg/max/mdev = ${min.toFixed(3)}/${avg.toFixed(3)}/${max.toFixed(3)}/${mdev.toFixed(3)} ms\n`;
  } else out += '\n';
  io.stdout(out);
  return rtts.length ? 0 : 1;
};
