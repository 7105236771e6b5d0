// A lab's external hosts (a payment gateway range, api.stripe.com, an attacker's collector) on a
// kind cluster, in three parts that are all undone when the cluster is reset:
//
// - each address block is made local on every node (`ip route replace local <cidr> dev lo table
//   local`, through docker exec), so a pod's packets to it stay on the node with their real
//   destination address: Calico applies the pod's egress policy (ipBlock rules included) before
//   they are delivered, exactly as for traffic leaving the cluster;
// - a host-network listener pod per node answers the declared ports (socat from the preloaded
//   netshoot image: TLS with a self-signed certificate for https, a small JSON answer for http,
//   echo for tcp and udp); undeclared ports are refused by the node's stack;
// - CoreDNS answers the hosts' names from a `hosts` block in its ConfigMap, rolled out.
//
// One listener socket answers a port on every external address, so a port must mean the same
// kind of service on every host that declares it, and must not be one the node itself uses.
import { createHash } from 'node:crypto';
import type { ExternalHost, KubeObject } from '../../apiserver/runtime.ts';
import { formatBlock, representativeAddress, tryParseBlock } from '../../dataplane/ipv4.ts';
import { KindError } from './errors.ts';

export const LISTENER_NAME = 'kubelab-external-hosts';
export const LISTENER_NAMESPACE = 'kube-system';
/** on the listener pods and their Secret; the CoreDNS rollout annotation has the same key */
export const EXTERNAL_LABEL = 'kubelab.dev/external-hosts';
export const LISTENER_SELECTOR = `${EXTERNAL_LABEL}=listener`;
const MOUNT = '/etc/kubelab-external-hosts';
const BLOCK_BEGIN = '# kubelab external hosts: begin (removed when the cluster is reset)';
const BLOCK_END = '# kubelab external hosts: end';

/** Ports a kind node's own processes hold on every address (kubelet, API server, etcd, Calico BGP...). */
const NODE_PORTS: ReadonlyMap<number, string> = new Map([
  [179, 'Calico BGP (bird)'],
  [2379, 'etcd'],
  [2380, 'etcd peers'],
  [6443, 'the API server'],
  [9099, 'calico-node health'],
  [10248, 'kubelet health'],
  [10249, 'kube-proxy metrics'],
  [10250, 'the kubelet'],
  [10256, 'kube-proxy health'],
  [10257, 'kube-controller-manager'],
  [10259, 'kube-scheduler'],
]);

export type ListenerKind = 'http' | 'https' | 'tcp';

export interface ListenerPort {
  port: number;
  protocol: 'TCP' | 'UDP';
  kind: ListenerKind;
}

export interface ExternalHostsPlan {
  /** address blocks made local on every node, as CIDRs */
  blocks: string[];
  ports: ListenerPort[];
  /** `address name` lines for CoreDNS */
  names: Array<{ address: string; name: string }>;
}

function bad(message: string): KindError {
  return new KindError('setup-failed', `the lab's external hosts cannot be provided on kind: ${message}`);
}

/** What the hosts need on a kind cluster; a KindError naming the field when they cannot be had. */
export function planExternalHosts(hosts: ExternalHost[]): ExternalHostsPlan {
  const blocks: string[] = [];
  const names: ExternalHostsPlan['names'] = [];
  const ports = new Map<string, ListenerPort & { owner: string }>();
  hosts.forEach((h, i) => {
    const block = tryParseBlock(h.address);
    if (!block) throw bad(`externalHosts[${i}].address: "${h.address}" is not an IPv4 address or CIDR`);
    const cidr = formatBlock(block);
    if (!blocks.includes(cidr)) blocks.push(cidr);
    h.names.forEach((name, j) => {
      if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(name)) throw bad(`externalHosts[${i}].names[${j}]: "${name}" is not a DNS name`);
      names.push({ address: representativeAddress(block), name: name.toLowerCase() });
    });
    h.ports.forEach((p, j) => {
      const where = `externalHosts[${i}].ports[${j}]`;
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw bad(`${where}.port: must be between 1 and 65535`);
      const protocol = p.protocol ?? 'TCP';
      const kind: ListenerKind = protocol === 'UDP' ? 'tcp' : (p.kind ?? 'tcp');
      const taken = NODE_PORTS.get(p.port);
      if (taken) throw bad(`${where}.port: ${p.port} is held by ${taken} on every kind node; choose another port`);
      const key = `${protocol}/${p.port}`;
      const seen = ports.get(key);
      if (seen && seen.kind !== kind) throw bad(`${where}: port ${p.port} is ${kind} here but ${seen.kind} for ${seen.owner}; on kind one listener answers a port for every external host`);
      if (!seen) ports.set(key, { port: p.port, protocol, kind, owner: `externalHosts[${i}]` });
    });
  });
  return { blocks, names, ports: [...ports.values()].map(({ port, protocol, kind }) => ({ port, protocol, kind })) };
}

/** `ip` argv run in each node container to make a block local, and to take it back. */
export function routeCommand(action: 'replace' | 'del', cidr: string): string[] {
  return ['ip', 'route', action, 'local', cidr, 'dev', 'lo', 'table', 'local'];
}

/** Reads one HTTP request's head and answers 200 with a small JSON body, as the embedded hosts do. */
export const HTTP_ANSWER = `#!/bin/sh
while IFS= read -r line; do
  case "$line" in ''|$(printf '\\r')) break ;; esac
done
body='{"status":"ok","from":"kubelab external host"}'
printf 'HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s' "\${#body}" "$body"
`;

/** socat's argv for one port: listen on every address (the blocks are local), answer by kind. */
export function socatCommand(p: ListenerPort): string[] {
  if (p.protocol === 'UDP') return ['socat', `UDP4-RECVFROM:${p.port},fork`, 'PIPE'];
  switch (p.kind) {
    case 'https':
      return ['socat', `OPENSSL-LISTEN:${p.port},pf=ip4,fork,reuseaddr,cert=${MOUNT}/tls.pem,verify=0`, `EXEC:${MOUNT}/answer-http`];
    case 'http':
      return ['socat', `TCP4-LISTEN:${p.port},fork,reuseaddr`, `EXEC:${MOUNT}/answer-http`];
    case 'tcp':
      return ['socat', `TCP4-LISTEN:${p.port},fork,reuseaddr`, 'PIPE'];
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The answer script and (for https) the certificate with its key, mounted into the listeners. */
export function listenerSecret(certificate: { cert: string; key: string } | undefined): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: LISTENER_NAME, namespace: LISTENER_NAMESPACE, labels: { [EXTERNAL_LABEL]: 'listener' } },
    type: 'Opaque',
    data: { 'answer-http': b64(HTTP_ANSWER), ...(certificate ? { 'tls.pem': b64(`${certificate.cert.trim()}\n${certificate.key.trim()}\n`) } : {}) },
  };
}

/** One listener pod, pinned to its node, one socat container per port. */
export function listenerPod(node: string, plan: ExternalHostsPlan, image: string): KubeObject {
  const suffix = createHash('sha256').update(node).digest('hex').slice(0, 8);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${LISTENER_NAME}-${suffix}`,
      namespace: LISTENER_NAMESPACE,
      labels: { [EXTERNAL_LABEL]: 'listener', 'app.kubernetes.io/name': LISTENER_NAME },
    },
    spec: {
      nodeName: node,
      hostNetwork: true,
      dnsPolicy: 'Default',
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      tolerations: [{ operator: 'Exists' }],
      volumes: [{ name: 'external-hosts', secret: { secretName: LISTENER_NAME, defaultMode: 0o555 } }],
      containers: plan.ports.map((p) => ({
        name: `${p.protocol === 'UDP' ? 'udp' : p.kind}-${p.port}`,
        image,
        imagePullPolicy: 'IfNotPresent',
        command: socatCommand(p),
        volumeMounts: [{ name: 'external-hosts', mountPath: MOUNT, readOnly: true }],
        resources: { requests: { cpu: '5m', memory: '8Mi' } },
        ...(p.protocol === 'TCP' ? { readinessProbe: { tcpSocket: { port: p.port }, periodSeconds: 2 } } : {}),
      })),
    },
  };
}

/** The marked `hosts` block CoreDNS answers the names from. */
export function hostsBlock(names: ExternalHostsPlan['names'], indent = '    '): string {
  const lines = [BLOCK_BEGIN, 'hosts {', ...names.map((n) => `    ${n.address} ${n.name}`), '    fallthrough', '}', BLOCK_END];
  return lines.map((l) => indent + l).join('\n');
}

/** The Corefile without our block (unchanged when it has none). */
export function withoutHostsBlock(corefile: string): string {
  const begin = corefile.indexOf(BLOCK_BEGIN);
  if (begin < 0) return corefile;
  const end = corefile.indexOf(BLOCK_END, begin);
  if (end < 0) throw bad(`the coredns ConfigMap has the start of kubelab's hosts block but not its end; fix it by hand`);
  const lineStart = corefile.lastIndexOf('\n', begin) + 1;
  const lineEnd = corefile.indexOf('\n', end);
  return corefile.slice(0, lineStart) + (lineEnd < 0 ? '' : corefile.slice(lineEnd + 1));
}

/** The Corefile with our block first in the `.:53` server block (replacing an earlier one of ours). */
export function withHostsBlock(corefile: string, names: ExternalHostsPlan['names']): string {
  const base = withoutHostsBlock(corefile);
  const open = /^([ \t]*)\.:53[ \t]*\{[ \t]*$/m.exec(base);
  if (!open) throw bad('the coredns ConfigMap has no ".:53 {" server block to add the names to');
  const after = open.index + open[0].length;
  const rest = base.slice(after);
  // the server block ends at the first line that is only "}" at the opening line's indentation
  const close = new RegExp(`^${open[1]}\\}[ \\t]*$`, 'm').exec(rest);
  const body = close ? rest.slice(0, close.index) : rest;
  if (/^\s*hosts(\s|\{|$)/m.test(body)) throw bad('the coredns ConfigMap already has a hosts plugin in its ".:53" block (CoreDNS allows one); remove it first');
  const indent = /^([ \t]+)\S/m.exec(body)?.[1] ?? '    ';
  return `${base.slice(0, after)}\n${hostsBlock(names, indent)}${rest}`;
}

/** A short, stable digest of the names, used as the CoreDNS rollout annotation. */
export function namesDigest(names: ExternalHostsPlan['names']): string {
  return createHash('sha256')
    .update(names.map((n) => `${n.address} ${n.name}`).join('\n'))
    .digest('hex')
    .slice(0, 12);
}
