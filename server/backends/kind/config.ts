// The kind cluster config each learner's cluster is created from, piped to `kind create cluster
// --config -`. Calico needs kind's own CNI switched off and a pod range it can own; kindnet and
// "none" keep kind's default CNI setting so the comparison between them is honest.
import { stringify } from 'yaml';
import { isIPv4 } from 'node:net';

/** Which network plugin enforces NetworkPolicy in the learner's cluster. */
export type CniChoice =
  /** Calico in manifest mode: the standard, complete NetworkPolicy implementation */
  | 'calico'
  /** kind's own kindnetd: enforces standard NetworkPolicy since kind v0.24, fails open for new pods */
  | 'kindnet'
  /** no plugin that enforces NetworkPolicy: pods get a network, policies are stored and ignored */
  | 'none';

export const CNI_CHOICES: readonly CniChoice[] = ['calico', 'kindnet', 'none'];

export interface KindConfigInput {
  cni: CniChoice;
  podSubnet: string;
  /** extra worker nodes besides the control plane (0 = one node that runs everything) */
  workers: number;
  /** node labels; the owner marker goes here so a cluster can be traced to the server that made it */
  nodeLabels: Record<string, string>;
  /** raw TOML patches for each node's containerd (a registry mirror for offline classes) */
  containerdConfigPatches: string[];
}

/**
 * The YAML for one cluster. With `cni: none` kind's default CNI is disabled too: the backend then
 * writes a plain point-to-point CNI config on each node (see plain-cni.ts), which connects pods
 * and enforces nothing.
 */
export function kindClusterConfig(input: KindConfigInput): string {
  const nodes: Array<Record<string, unknown>> = [{ role: 'control-plane', ...(Object.keys(input.nodeLabels).length ? { labels: { ...input.nodeLabels } } : {}) }];
  for (let i = 0; i < input.workers; i++) nodes.push({ role: 'worker', ...(Object.keys(input.nodeLabels).length ? { labels: { ...input.nodeLabels } } : {}) });
  const networking: Record<string, unknown> = { podSubnet: input.podSubnet };
  if (input.cni !== 'kindnet') networking.disableDefaultCNI = true;
  const config: Record<string, unknown> = {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    nodes,
    networking,
  };
  if (input.containerdConfigPatches.length > 0) config.containerdConfigPatches = [...input.containerdConfigPatches];
  return stringify(config, { lineWidth: 0 });
}

/** Problems with an IPv4 pod subnet, as "field: message" lines (empty when fine). */
export function checkPodSubnet(field: string, value: string): string[] {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(value);
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) return [`${field}: ${JSON.stringify(value)} is not an IPv4 CIDR like 192.168.0.0/16`];
  const bits = Number(m[2]);
  if (bits < 8 || bits > 24) return [`${field}: ${JSON.stringify(value)} must have a prefix between /8 and /24 (each node takes a /24 of it)`];
  return [];
}
