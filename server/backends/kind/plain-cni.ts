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

/**
 * Nodes' pod ranges and addresses. A node without a pod range yet is reported, not skipped; the
 * address is only needed (and only required) when there are other nodes to route to.
 */
export function nodeNetworks(nodes: KubeObject[]): { ready: NodeNetwork[]; missing: string[] } {
  const ready: NodeNetwork[] = [];
  const missing: string[] = [];
  for (const n of nodes) {
    const podCIDR = typeof n.spec?.podCIDR === 'string' ? (n.spec.podCIDR as string) : '';
    const addresses = Array.isArray(n.status?.addresses) ? (n.status.addresses as Array<{ type?: string; address?: string }>) : [];
    const internalIP = addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
    if (!podCIDR) missing.push(`node ${n.metadata.name} has no pod CIDR yet`);
    else if (!internalIP && nodes.length > 1) missing.push(`node ${n.metadata.name} has no InternalIP yet`);
    else ready.push({ name: n.metadata.name, podCIDR, internalIP });
  }
  return { ready, missing };
}

/**
 * The node container for each Kubernetes node. kind names nodes after their containers; a
 * one-node cluster is paired whatever the names, as there is nothing to confuse it with.
 */
export function nodeContainers(nodes: NodeNetwork[], containers: string[]): Map<string, string> | string {
  const out = new Map<string, string>();
  if (nodes.length === 1 && containers.length === 1) {
    out.set(nodes[0]!.name, containers[0]!);
    return out;
  }
  for (const n of nodes) {
    if (!containers.includes(n.name)) return `no node container named ${n.name} (kind get nodes: ${containers.join(', ') || 'none'})`;
    out.set(n.name, n.name);
  }
  return out;
}

/** `ip route replace` argv for each node to reach every other node's pods. */
export function interNodeRoutes(nodes: NodeNetwork[]): Array<{ node: string; command: string[] }> {
  const out: Array<{ node: string; command: string[] }> = [];
  for (const a of nodes) for (const b of nodes) if (a.name !== b.name) out.push({ node: a.name, command: ['ip', 'route', 'replace', b.podCIDR, 'via', b.internalIP] });
  return out;
}

/** A constant script: the config arrives on stdin and appears atomically under its final name. */
export const WRITE_CNI_COMMAND = ['sh', '-c', `cat > ${PLAIN_CNI_PATH}.tmp && mv ${PLAIN_CNI_PATH}.tmp ${PLAIN_CNI_PATH}`];
