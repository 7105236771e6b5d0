// Cluster DNS as CoreDNS's kubernetes plugin answers it: <svc>.<ns>.svc.<domain> (a ClusterIP, or
// the ready pod addresses of a headless service), <a-b-c-d>.<ns>.pod.<domain>, reverse lookups of
// service addresses, and the names a lab declares for hosts outside the cluster. Everything else
// is NXDOMAIN: the embedded cluster has no upstream resolver. Packets are encoded by dns-packet.
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { ExternalHost } from '../apiserver/runtime.ts';
import type { RunningPod, ServiceInfo } from './cluster-model.ts';
import { isIPv4, parseBlock, representativeAddress } from './ipv4.ts';

/** CoreDNS kubernetes plugin default TTL. */
export const RECORD_TTL = 5;

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'NOTIMP';

export interface LookupResult {
  rcode: Rcode;
  /** A (IPv4) addresses, or PTR names for reverse lookups */
  addresses: string[];
  ptr: string[];
  /** answered from cluster data (CoreDNS sets AA for its zone), not as a forwarded name */
  authoritative: boolean;
}

export interface DnsData {
  clusterDomain: string;
  services: ServiceInfo[];
  pods: RunningPod[];
  externalHosts: ExternalHost[];
}

const rcodeNumbers: Record<Rcode, number> = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

/** The answers of one cluster's DNS, rebuilt whenever services, pods or namespaces change. */
export class ClusterResolver {
  readonly domain: string;
  private readonly names = new Map<string, string[]>();
  private readonly external = new Map<string, string>();
  private readonly reverse = new Map<string, string>();
  /** names that exist without records of their own (the zone, svc., <ns>.svc., ...) */
  private readonly emptyNonTerminals = new Set<string>();
  private readonly namespaces = new Set<string>();

  constructor(data: DnsData) {
    this.domain = normalize(data.clusterDomain);
    const d = this.domain;
    this.emptyNonTerminals.add(d).add(`svc.${d}`).add(`pod.${d}`);
    for (const p of data.pods) this.namespaces.add(p.namespace);
    for (const s of data.services) {
      this.namespaces.add(s.namespace);
      const fqdn = `${s.name}.${s.namespace}.svc.${d}`;
      this.emptyNonTerminals.add(`${s.namespace}.svc.${d}`);
      const addrs = s.clusterIP ? [s.clusterIP] : [...s.podIPs].sort();
      this.names.set(fqdn, addrs);
      if (s.clusterIP && isIPv4(s.clusterIP)) this.reverse.set(s.clusterIP, fqdn);
    }
    for (const ns of this.namespaces) this.emptyNonTerminals.add(`${ns}.pod.${d}`);
    for (const h of data.externalHosts) {
      const address = representativeAddress(parseBlock(h.address));
      for (const n of h.names) this.external.set(normalize(n), address);
    }
  }

  lookup(rawName: string, type: string): LookupResult {
    const name = normalize(rawName);
    const none = (rcode: Rcode, authoritative = true): LookupResult => ({ rcode, addresses: [], ptr: [], authoritative });
    const d = this.domain;
    if (name.endsWith('.in-addr.arpa')) {
      const ip = name.slice(0, -'.in-addr.arpa'.length).split('.').reverse().join('.');
      const target = this.reverse.get(ip);
      if (!target) return none('NXDOMAIN');
      return type === 'PTR' || type === 'ANY' ? { rcode: 'NOERROR', addresses: [], ptr: [`${target}.`], authoritative: true } : none('NOERROR');
    }
    if (name === d || name.endsWith(`.${d}`)) {
      let addrs = this.names.get(name);
      if (!addrs) {
        const m = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.([^.]+)\.pod\./.exec(name);
        const ip = m ? `${m[1]}.${m[2]}.${m[3]}.${m[4]}` : '';
        // CoreDNS "pods insecure" (the kubeadm default) answers any well-formed address in a namespace it knows.
        if (m && isIPv4(ip) && name === `${m[1]}-${m[2]}-${m[3]}-${m[4]}.${m[5]}.pod.${d}` && this.namespaces.has(m[5])) addrs = [ip];
      }
      if (!addrs) return none(this.emptyNonTerminals.has(name) ? 'NOERROR' : 'NXDOMAIN');
      return type === 'A' || type === 'ANY' ? { rcode: 'NOERROR', addresses: addrs, ptr: [], authoritative: true } : none('NOERROR');
    }
    const ext = this.external.get(name);
    if (ext) return type === 'A' || type === 'ANY' ? { rcode: 'NOERROR', addresses: [ext], ptr: [], authoritative: false } : none('NOERROR', false);
    return none('NXDOMAIN', false);
  }

  private soa(): dnsPacket.Answer {
    return {
      name: this.domain,
      type: 'SOA',
      ttl: RECORD_TTL,
      data: { mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: RECORD_TTL },
    };
  }

  /** Build the response to one query packet. */
  respond(query: dnsPacket.DecodedPacket): dnsPacket.Packet {
    const questions = query.questions ?? [];
    const q = questions[0];
    const opt = (query.additionals ?? []).find((a) => a.type === 'OPT');
    const additionals: dnsPacket.Answer[] = opt ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as dnsPacket.Answer] : [];
    const rd = query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0;
    if (!q || questions.length !== 1 || query.type !== 'query') {
      return { type: 'response', id: query.id, flags: rd | rcodeNumbers.REFUSED, questions, additionals };
    }
    const result = this.lookup(q.name, q.type);
    const answers: dnsPacket.Answer[] = result.addresses.map((a) => ({ name: q.name, type: 'A', class: 'IN', ttl: RECORD_TTL, data: a }));
    for (const p of result.ptr) answers.push({ name: q.name, type: 'PTR', class: 'IN', ttl: RECORD_TTL, data: p.replace(/\.$/, '') });
    const inZone = result.authoritative;
    const authorities = answers.length === 0 && inZone ? [this.soa()] : [];
    // CoreDNS always sets RA; answers for the cluster zone are authoritative, names answered
    // "from upstream" are not (its log shows qr,aa,rd,ra and qr,rd,ra).
    const flags = rd | dnsPacket.RECURSION_AVAILABLE | (inZone ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcodeNumbers[result.rcode];
    return { type: 'response', id: query.id, flags, questions, answers, authorities, additionals };
  }

  /** Decode, answer and encode one message; undefined for garbage, which a server ignores. */
  answer(message: Buffer): Buffer | undefined {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return undefined;
    }
    return dnsPacket.encode(this.respond(query));
  }
}

/** Answer DNS over UDP on an already bound socket; `resolver()` is read per query so updates apply at once. */
export function serveDnsUdp(socket: dgram.Socket, resolver: () => ClusterResolver): void {
  socket.on('message', (msg, rinfo) => {
    const out = resolver().answer(msg);
    if (out) socket.send(out, rinfo.port, rinfo.address);
  });
  socket.on('error', () => {});
}

/** Answer DNS over TCP (two-byte length prefix per message) on a listening server. */
export function serveDnsTcp(server: net.Server, resolver: () => ClusterResolver): void {
  server.on('connection', (sock) => {
    let buf = Buffer.alloc(0);
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => {});
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const out = resolver().answer(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        if (!out) {
          sock.destroy();
          return;
        }
        const head = Buffer.alloc(2);
        head.writeUInt16BE(out.length);
        sock.write(Buffer.concat([head, out]));
      }
    });
  });
}
