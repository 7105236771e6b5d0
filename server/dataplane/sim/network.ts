// The sim plane's network: the same decisions the netns plane's packets meet, taken by asking.
// Names resolve like glibc with the pod's resolv.conf (search path, ndots:5) against the cluster
// DNS, which is itself reached through the kube-dns service and subject to policy; connections go
// through ClusterIP → endpoint (random, as kube-proxy), then the policy engine, then whatever
// listens on the destination (or refused), exactly as in docs/dataplane.md.
import type { ClusterNetworkOptions } from '../../apiserver/runtime.ts';
import type { PodPolicyView, Protocol } from '../../netpol/index.ts';
import type { ClusterPlan } from '../plan.ts';
import type { RunningPod, ServicePortRoute } from '../cluster-model.ts';
import type { ListenerSpec } from '../workload.ts';
import type { ExternalPort } from '../netns/nft.ts';
import { blockContains, isIPv4, tryParseBlock } from '../ipv4.ts';
import type { HttpFlavour } from '../workload.ts';

/** What answers on a connected destination. */
export type SimListener =
  | { kind: 'http'; flavour: HttpFlavour; owner: { pod: string; namespace: string } }
  | { kind: 'https'; flavour: HttpFlavour; owner: { pod: string; namespace: string } }
  | { kind: 'tcp' }
  | { kind: 'udp-echo' }
  | { kind: 'dns' };

export type ConnectOutcome =
  | { kind: 'connected'; listener: SimListener }
  /** nothing listens (TCP RST / ICMP port unreachable), or a service port without endpoints */
  | { kind: 'refused' }
  /** dropped by policy, or nowhere to route */
  | { kind: 'timeout' };

export type QueryOutcome =
  | { kind: 'answer'; rcode: 'NOERROR' | 'NXDOMAIN'; addresses: string[]; authoritative: boolean; ptr: string[] }
  | { kind: 'timeout' }
  | { kind: 'refused' };

export type ResolveOutcome =
  | { kind: 'ok'; addresses: string[]; canonical: string }
  | { kind: 'nxdomain' }
  /** the resolver got no answer at all (DNS blocked): glibc's EAI_AGAIN */
  | { kind: 'timeout' };

/** glibc resolver defaults with the kubelet's resolv.conf: 5 s per try, 2 attempts, A then AAAA. */
export const GETADDRINFO_TIMEOUT_MS = 20_000;
/** dig/nslookup: 5 s per try, 3 tries */
export const DIG_TIMEOUT_MS = 15_000;
/** Linux default tcp_syn_retries=6: a dropped connect gives up after about 127 s */
export const TCP_CONNECT_TIMEOUT_MS = 127_000;

export class SimNetwork {
  private readonly podsByIP = new Map<string, RunningPod>();
  private readonly podsByKey = new Map<string, RunningPod>();
  private readonly routes = new Map<string, ServicePortRoute>();
  private readonly clusterIPs = new Set<string>();
  private readonly views = new Map<string, { ingress: PodPolicyView; egress: PodPolicyView }>();

  constructor(
    readonly plan: ClusterPlan,
    private readonly listeners: ReadonlyMap<string, ListenerSpec[]>,
    private readonly external: ExternalPort[],
    readonly options: ClusterNetworkOptions,
  ) {
    for (const p of plan.pods) {
      this.podsByIP.set(p.ip, p);
      this.podsByKey.set(p.key, p);
    }
    for (const s of plan.services) {
      if (!s.clusterIP) continue;
      this.clusterIPs.add(s.clusterIP);
      for (const r of s.ports) this.routes.set(`${s.clusterIP}/${r.protocol}/${r.port}`, r);
    }
  }

  pod(key: string): RunningPod | undefined {
    return this.podsByKey.get(key);
  }

  /** The search list a pod's resolv.conf carries. */
  searchList(src: string): string[] {
    const ns = this.podsByKey.get(src)?.namespace ?? 'default';
    const d = this.options.clusterDomain;
    return [`${ns}.svc.${d}`, `svc.${d}`, d];
  }

  /** One DNS query from a pod to a DNS server (the cluster DNS service by default), policy applied on the way. */
  query(src: string, name: string, type: string, server: { ip: string; port: number } = { ip: this.options.dnsServiceIP, port: 53 }): QueryOutcome {
    const path = this.connect(src, server.ip, server.port, 'UDP');
    if (path.kind !== 'connected' || path.listener.kind !== 'dns') return path.kind === 'refused' ? { kind: 'refused' } : { kind: 'timeout' };
    const r = this.plan.resolver.lookup(name, type);
    return { kind: 'answer', rcode: r.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : 'NOERROR', addresses: r.addresses, authoritative: r.authoritative, ptr: r.ptr };
  }

  /** getaddrinfo with the pod's /etc/hosts and resolv.conf (ndots:5, search list, then the name as is). */
  resolve(src: string, host: string): ResolveOutcome {
    if (isIPv4(host)) return { kind: 'ok', addresses: [host], canonical: host };
    const self = this.podsByKey.get(src);
    const lower = host.toLowerCase().replace(/\.$/, '');
    if (lower === 'localhost') return { kind: 'ok', addresses: ['127.0.0.1'], canonical: 'localhost' };
    if (self && lower === self.name.toLowerCase()) return { kind: 'ok', addresses: [self.ip], canonical: self.name };
    const absolute = host.endsWith('.');
    const dots = (host.match(/\./g) ?? []).length;
    const candidates = absolute ? [lower] : dots >= 5 ? [lower, ...this.searchList(src).map((s) => `${lower}.${s}`)] : [...this.searchList(src).map((s) => `${lower}.${s}`), lower];
    for (const name of candidates) {
      const q = this.query(src, name, 'A');
      // glibc stops searching when a server does not answer at all.
      if (q.kind !== 'answer') return { kind: 'timeout' };
      if (q.rcode === 'NOERROR' && q.addresses.length) return { kind: 'ok', addresses: q.addresses, canonical: name };
    }
    return { kind: 'nxdomain' };
  }

  private view(key: string): { ingress: PodPolicyView; egress: PodPolicyView } {
    let v = this.views.get(key);
    if (!v) {
      v = { ingress: this.plan.engine.podPolicy(key, 'ingress'), egress: this.plan.engine.podPolicy(key, 'egress') };
      this.views.set(key, v);
    }
    return v;
  }

  private allowed(src: string, to: { pod: string } | { ip: string }, port: number, protocol: Protocol): boolean {
    return this.plan.engine.evaluate({ from: { pod: src }, to, port, protocol }).verdict === 'allow';
  }

  private podListener(pod: RunningPod, port: number, protocol: Protocol): SimListener | undefined {
    const l = (this.listeners.get(pod.key) ?? []).find((x) => x.port === port && x.protocol === protocol);
    if (!l) return undefined;
    switch (l.kind) {
      case 'http':
        return { kind: 'http', flavour: l.flavour, owner: { pod: pod.name, namespace: pod.namespace } };
      case 'tcp':
        return { kind: 'tcp' };
      case 'udp-echo':
        return { kind: 'udp-echo' };
      case 'dns':
        return { kind: 'dns' };
    }
  }

  private toPod(src: string, dst: RunningPod, port: number, protocol: Protocol): ConnectOutcome {
    if (dst.key !== src && !this.allowed(src, { pod: dst.key }, port, protocol)) return { kind: 'timeout' };
    const l = this.podListener(dst, port, protocol);
    return l ? { kind: 'connected', listener: l } : { kind: 'refused' };
  }

  /** A TCP connect or a UDP exchange from pod `src` to ip:port. */
  connect(src: string, ip: string, port: number, protocol: Protocol): ConnectOutcome {
    const self = this.podsByKey.get(src);
    if (ip === '127.0.0.1' || ip === '0.0.0.0' || (self && ip === self.ip)) {
      if (!self) return { kind: 'refused' };
      const l = this.podListener(self, port, protocol);
      return l ? { kind: 'connected', listener: l } : { kind: 'refused' };
    }
    if (this.clusterIPs.has(ip)) {
      const route = this.routes.get(`${ip}/${protocol}/${port}`);
      // A port the service does not define matches no rule and is routed nowhere: dropped.
      if (!route) return { kind: 'timeout' };
      if (route.endpoints.length === 0) return { kind: 'refused' };
      const ep = route.endpoints[Math.floor(Math.random() * route.endpoints.length)];
      const dst = this.podsByIP.get(ep.ip);
      if (!dst) return { kind: 'timeout' };
      return this.toPod(src, dst, ep.port, protocol);
    }
    const dst = this.podsByIP.get(ip);
    if (dst) return this.toPod(src, dst, port, protocol);
    const ext = this.external.filter((p) => blockContains(p.block, ip));
    if (ext.length > 0) {
      if (!this.allowed(src, { ip }, port, protocol)) return { kind: 'timeout' };
      const p = ext.find((x) => x.port === port && x.protocol === protocol);
      if (!p) return { kind: 'refused' };
      const owner = { pod: p.host.names[0] ?? p.host.address, namespace: 'external' };
      const flavour: HttpFlavour = { kind: 'app', service: owner.pod };
      switch (p.kind) {
        case 'http':
          return { kind: 'connected', listener: { kind: 'http', flavour, owner } };
        case 'https':
          return { kind: 'connected', listener: { kind: 'https', flavour, owner } };
        case 'tcp':
          return { kind: 'connected', listener: protocol === 'UDP' ? { kind: 'udp-echo' } : { kind: 'tcp' } };
      }
    }
    return { kind: 'timeout' };
  }

  /** An ICMP echo: pods and external hosts answer when policy lets ICMP through; ClusterIPs never do. */
  ping(src: string, ip: string): boolean {
    const self = this.podsByKey.get(src);
    if (ip === '127.0.0.1' || (self && ip === self.ip)) return true;
    if (this.clusterIPs.has(ip)) return false;
    const dst = this.podsByIP.get(ip);
    const external = !dst && this.external.some((p) => blockContains(p.block, ip));
    if (!dst && !external) return false;
    if (!this.icmpAllowed(this.view(src).egress, ip)) return false;
    if (dst && !this.icmpAllowed(this.view(dst.key).ingress, this.podsByKey.get(src)?.ip ?? '')) return false;
    return true;
  }

  /** ICMP is matched only by rules without ports (a rule with ports names TCP/UDP/SCTP). */
  private icmpAllowed(view: PodPolicyView, peerIP: string): boolean {
    if (!view.isolated) return true;
    return view.rules.some((r) => r.ports === 'any' && (r.peers === 'any' || r.peers.some((p) => (p.kind === 'pods' ? p.pods.some((x) => x.ip === peerIP) : peerInBlock(peerIP, p.cidr, p.except)))));
  }
}

function peerInBlock(ip: string, cidr: string, except: string[]): boolean {
  const b = tryParseBlock(cidr);
  if (!b || !isIPv4(ip) || !blockContains(b, ip)) return false;
  return !except.some((e) => {
    const x = tryParseBlock(e);
    return x !== undefined && blockContains(x, ip);
  });
}
