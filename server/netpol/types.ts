// Types of the NetworkPolicy engine: the cluster it reasons about, the policies as submitted
// (networking.k8s.io/v1, before API-server defaulting), and the verdicts it returns.
// Everything here is plain JSON so verdicts can cross the CLI and the browser unchanged.

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type Labels = Record<string, string>;

export interface LabelSelectorRequirement {
  key: string;
  operator: string; // In | NotIn | Exists | DoesNotExist (validated, not trusted)
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface IPBlock {
  cidr: string;
  except?: string[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

export interface NetworkPolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface NetworkPolicyIngressRule {
  from?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  to?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: NetworkPolicyIngressRule[];
  egress?: NetworkPolicyEgressRule[];
}

export interface NetworkPolicy {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; labels?: Labels; [key: string]: unknown };
  spec: NetworkPolicySpec;
}

export interface ContainerPort {
  name?: string;
  port: number;
  protocol?: Protocol;
}

export interface PodInfo {
  namespace: string;
  name: string;
  labels: Labels;
  ip: string;
  node?: string;
  hostNetwork?: boolean;
  containerPorts?: ContainerPort[];
}

export interface NamespaceInfo {
  name: string;
  labels: Labels;
}

export interface NodeInfo {
  name: string;
  ip: string;
}

/** What the engine knows of a cluster: a snapshot, read once, never fetched by the engine itself. */
export interface ClusterSnapshot {
  namespaces: NamespaceInfo[];
  pods: PodInfo[];
  nodes?: NodeInfo[];
}

/** One end of a connection: a pod as "namespace/name", or an address outside any pod. */
export type Endpoint = { pod: string } | { ip: string };

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: Protocol;
}

export type Verdict = 'allow' | 'deny';

/** A field-level validation error, shaped like apimachinery's field.Error. */
export interface FieldError {
  /** e.g. "spec.ingress[0].from[1].ipBlock.except[0]" */
  field: string;
  /** Status cause reason: FieldValueRequired | FieldValueInvalid | FieldValueNotSupported | FieldValueForbidden | FieldValueTooLong | FieldValueDuplicate | FieldValueTypeInvalid */
  type: FieldErrorType;
  /** The message without the field path, as in a Status cause: `Invalid value: "10.0.0.0/8": must be a strict subset of \`cidr\`` */
  message: string;
}

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate'
  | 'FieldValueTypeInvalid';

/**
 * A pod's effective policy for one direction, resolved against a snapshot: what a data plane
 * compiles into packet filters. Rules are ORed; within a rule, a connection must match one
 * peer AND one port.
 */
export interface PodPolicyView {
  pod: string; // "namespace/name"
  direction: 'ingress' | 'egress';
  /** true when at least one policy selects the pod for this direction */
  isolated: boolean;
  /** "namespace/name" of each policy that selects the pod for this direction */
  policies: string[];
  rules: ResolvedRule[];
}

export interface ResolvedRule {
  policy: string; // "namespace/name"
  index: number; // index in spec.ingress / spec.egress
  /** 'any' when the rule has no from/to (every source/destination, pods and external alike) */
  peers: 'any' | ResolvedPeer[];
  /** 'any' when the rule has no ports (all ports, all protocols) */
  ports: 'any' | ResolvedPort[];
}

export type ResolvedPeer =
  /** pods matched by a podSelector/namespaceSelector peer, as "namespace/name" with their IPs */
  | { kind: 'pods'; peer: number; pods: Array<{ pod: string; ip: string }> }
  /** an ipBlock peer; matches pod IPs and external addresses alike */
  | { kind: 'ipBlock'; peer: number; cidr: string; except: string[] };

export type ResolvedPort =
  | { protocol: Protocol; port?: number; endPort?: number } // port absent = every port of that protocol
  /** a named port that must be resolved on the destination pod (egress rules: per destination) */
  | { protocol: Protocol; name: string };
