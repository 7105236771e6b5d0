// The `none` choice: pods get a network and nothing enforces NetworkPolicy — the situation of a
// cluster whose plugin ignores policies (Flannel, say), where every policy a learner writes is
// accepted by the API and changes nothing. Built from the CNI reference plugins already in every
// kind node image, in the same shape kindnetd writes (ptp + host-local + portmap), plus static
// routes between nodes' pod ranges, which is all kindnetd adds on a Linux host.
import type { KubeObject } from '../../apiserver/runtime.ts';

export const PLAIN_CNI_PATH = '/etc/cni/net.d/10-kubelab-plain.conflist';

/** The conflist for one node, given the pod range the controller manager gave it. */
export function plainCniConfig(podCIDR: string): string {
  return (
    JSON.stringify(
      {
        cniVersion: '0.3.1',
        name: 'kubelab-plain',
        plugins: [
          {
            type: 'ptp',
            // masquerade traffic leaving the pod range so pods (and CoreDNS upstream) reach the outside
            ipMasq: true,
            ipam: { type: 'host-local', dataDir: '/run/cni-ipam-state', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: podCIDR }]] },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ) + '\n'
  );
}

export interface NodeNetwork {
  name: string;
  podCIDR: string;
  internalIP: string;
}

/** Nodes' pod ranges and addresses; a node without a pod range yet is reported, not skipped. */
export function nodeNetworks(nodes: KubeObject[]): { ready: NodeNetwork[]; missing: string[] } {
  const ready: NodeNetwork[] = [];
  const missing: string[] = [];
  for (const n of nodes) {
    const podCIDR = typeof n.spec?.podCIDR === 'string' ? (n.spec.podCIDR as string) : '';
    const addresses = Array.isArray(n.status?.addresses) ? (n.status.addresses as Array<{ type?: string; address?: string }>) : [];
    const internalIP = addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
    if (!podCIDR || !internalIP) missing.push(`node ${n.metadata.name} has no ${podCIDR ? 'InternalIP' : 'pod CIDR'} yet`);
    else ready.push({ name: n.metadata.name, podCIDR, internalIP });
  }
  return { ready, missing };
}

/** `ip route replace` argv for each node to reach every other node's pods. */
export function interNodeRoutes(nodes: NodeNetwork[]): Array<{ node: string; command: string[] }> {
  const out: Array<{ node: string; command: string[] }> = [];
  for (const a of nodes) for (const b of nodes) if (a.name !== b.name) out.push({ node: a.name, command: ['ip', 'route', 'replace', b.podCIDR, 'via', b.internalIP] });
  return out;
}

/** A constant script: the config arrives on stdin and appears atomically under its final name. */
export const WRITE_CNI_COMMAND = ['sh', '-c', `cat > ${PLAIN_CNI_PATH}.tmp && mv ${PLAIN_CNI_PATH}.tmp ${PLAIN_CNI_PATH}`];
