// netcat-openbsd (Debian 1.219) as the sim plane answers it: -z port scans, -v messages, -w
// connect timeouts, -u datagrams, a request piped to an HTTP port. Messages and exit codes are
// the real tool's (see docs/dataplane.md for the comparison against the netns plane).
import { httpAnswer } from '../../apps.ts';
import { TCP_CONNECT_TIMEOUT_MS, GETADDRINFO_TIMEOUT_MS } from '../network.ts';
import { parseOptions, portNumber, responseHead, seconds, serviceName, unsupported, type Tool, type ToolContext } from './common.ts';
import { isIPv4 } from '../../ipv4.ts';

const USAGE = `usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]
	  [-m minttl] [-O length] [-P proxy_username] [-p source_port]
	  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]
	  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]
	  [destination] [port]
`;

const WITH_VALUE = new Set(['I', 'i', 'M', 'm', 'O', 'P', 'p', 'q', 's', 'T', 'V', 'W', 'w', 'X', 'x']);

function expandPorts(spec: string, proto: 'tcp' | 'udp'): number[] | undefined {
  const range = /^(\d+)-(\d+)$/.exec(spec);
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (lo < 1 || hi > 65535) return undefined;
    const out: number[] = [];
    for (let p = Math.min(lo, hi); p <= Math.max(lo, hi); p++) out.push(p);
    return out;
  }
  const n = portNumber(spec, proto);
  return n === undefined || n < 1 ? undefined : [n];
}

export const nc: Tool = async (args: string[], ctx: ToolContext): Promise<number> => {
  const { io, net, src } = ctx;
  const { flags, positional } = parseOptions(args, WITH_VALUE);
  for (const f of ['l', 'k', 'U', 'x', 'X', 'P']) if (flags.has(f)) return unsupported('nc', `-${f}`, io);
  if (flags.has('h')) {
    io.stderr(USAGE);
    return 1;
  }
  const [host, ...portSpecs] = positional;
  if (!host || portSpecs.length === 0) {
    io.stderr(USAGE);
    return 1;
  }
  const udp = flags.has('u');
  const proto: 'tcp' | 'udp' = udp ? 'udp' : 'tcp';
  const zero = flags.has('z');
  const verbose = flags.has('v');
  const wait = seconds(flags.get('w'));
  const numeric = flags.has('n');
  const ports: number[] = [];
  for (const spec of portSpecs) {
    const p = expandPorts(spec, proto);
    if (!p) {
      io.stderr(`nc: port range not valid\n`);
      return 1;
    }
    ports.push(...p);
  }
  let ret = 1;
  for (const port of ports) {
    // openbsd nc resolves for every port, and gives up on the first resolver error.
    let addresses: string[];
    if (isIPv4(host)) addresses = [host];
    else if (numeric) {
      io.stderr(`nc: getaddrinfo for host "${host}" port ${port}: Name or service not known\n`);
      return 1;
    } else {
      const r = net.resolve(src, host);
      if (r.kind === 'timeout') {
        await io.sleep(GETADDRINFO_TIMEOUT_MS);
        io.stderr(`nc: getaddrinfo for host "${host}" port ${port}: Temporary failure in name resolution\n`);
        return 1;
      }
      if (r.kind === 'nxdomain') {
        io.stderr(`nc: getaddrinfo for host "${host}" port ${port}: Name or service not known\n`);
        return 1;
      }
      addresses = r.addresses;
    }
    for (const ip of addresses) {
      const shown = host === ip ? host : `${host} (${ip})`;
      const outcome = net.connect(src, ip, port, udp ? 'UDP' : 'TCP');
      const success = () => {
        if (verbose) io.stderr(`Connection to ${shown} ${port} port [${proto}/${serviceName(port, proto) ?? '*'}] succeeded!\n`);
      };
      if (udp) {
        if (zero) {
          // A UDP "connect" always works; nc then writes probes and only an ICMP error fails it.
          if (outcome.kind === 'refused') continue;
          if (outcome.kind === 'timeout') await io.sleep(1000);
          success();
          ret = 0;
          break;
        }
        const data = await io.readStdin();
        if (outcome.kind === 'refused') return 0;
        if (outcome.kind === 'connected' && outcome.listener.kind === 'udp-echo' && data.length) io.stdout(data);
        await io.sleep((wait ?? 86400) * 1000);
        return 0;
      }
      if (outcome.kind === 'refused') {
        if (verbose) io.stderr(`nc: connect to ${shown} port ${port} (tcp) failed: Connection refused\n`);
        continue;
      }
      if (outcome.kind === 'timeout') {
        if (wait !== undefined) {
          await io.sleep(wait * 1000);
          if (verbose) io.stderr(`nc: connect to ${shown} port ${port} (tcp) timed out: Operation now in progress\n`);
        } else {
          await io.sleep(TCP_CONNECT_TIMEOUT_MS);
          if (verbose) io.stderr(`nc: connect to ${shown} port ${port} (tcp) failed: Connection timed out\n`);
        }
        continue;
      }
      success();
      ret = 0;
      if (zero) break;
      // Data mode: send stdin; an HTTP listener answers a request, anything else stays silent.
      const data = (await io.readStdin()).toString('latin1');
      const listener = outcome.listener;
      if (listener.kind === 'http' && data.length) {
        const m = /^([A-Z]+) (\S+) HTTP\/(1\.[01])/.exec(data);
        if (m) {
          const a = httpAnswer(listener.flavour, m[1], m[2], listener.owner);
          const keepAlive = m[3] === '1.1' && !/\r?\nconnection: *close/i.test(data);
          io.stdout(responseHead(a, io.now(), keepAlive, m[1] === 'HEAD') + (m[1] === 'HEAD' ? '' : a.body));
          if (!keepAlive) return 0;
        } else {
          // The listeners drop a connection that does not speak HTTP.
          return 0;
        }
      }
      await io.sleep((wait ?? 86400) * 1000);
      return 0;
    }
  }
  return ret;
};
