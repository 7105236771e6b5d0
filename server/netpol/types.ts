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

/** The verdict on one connection, with the rules behind it. */
export interface Decision {
  verdict: Verdict;
  explanation: Explanation;
}

/**
 * Why a connection is allowed or denied. Both sides are always present: the source's egress and
 * the destination's ingress; a connection is allowed only when both sides allow it.
 */
export interface Explanation {
  /** one sentence, e.g. `blocked: payments/payment-api is isolated for ingress by default-deny-all; ...` */
  summary: string;
  /** source and destination are the same pod: always allowed, no policy consulted */
  samePod: boolean;
  egress: SideExplanation;
  ingress: SideExplanation;
}

export interface SideExplanation {
  direction: 'ingress' | 'egress';
  /** "namespace/name" of the pod whose policies decide this side; absent for an address outside any pod */
  pod?: string;
  /** the address of this side's endpoint, when it has one */
  ip?: string;
  /** why no policy can apply to this side, when none can */
  exempt?: 'external' | 'host-network' | 'same-pod';
  /** at least one policy selects the pod for this direction */
  isolated: boolean;
  /** "namespace/name" of each policy isolating the pod for this direction, in input order */
  policies: string[];
  verdict: Verdict;
  /** the first rule admitting the connection, in policy, rule, peer, port order */
  allowedBy?: RuleRef;
  /** for a deny: the rule/peer/port candidate with the fewest failed conditions (absent when the policies have no rules here) */
  nearestMiss?: NearestMiss;
  /** one sentence for this side */
  reason: string;
}

/** A place in a policy: spec.<direction>[rule].<from|to>[peer], ports[port]. */
export interface RuleRef {
  policy: string; // "namespace/name"
  rule: number;
  /** index in from/to; absent when the rule lists no peers (every source/destination) */
  peer?: number;
  /** index in ports; absent when the rule lists no ports (every port and protocol) */
  port?: number;
}

export interface NearestMiss extends RuleRef {
  /** the conditions of this candidate the connection fails, peer conditions first */
  failed: Mismatch[];
  /** e.g. `allow-payment-api-ingress ingress[0] from[0] wants pod label app=checkout-api; production/checkout has app=checkout` */
  text: string;
}

export type MismatchKind =
  | 'pod-label' // a podSelector requirement on the peer pod's labels
  | 'namespace' // a podSelector-only peer: the peer must be in the policy's namespace
  | 'namespace-label' // a namespaceSelector requirement on the peer's namespace labels
  | 'not-a-pod' // a selector peer, but the endpoint is an address outside any pod
  | 'host-network' // a selector peer, but the pod uses the host network (only ipBlock matches it)
  | 'ip-family' // an ipBlock of the other IP family
  | 'ip-outside' // an address outside the ipBlock's cidr
  | 'ip-except' // an address inside one of the ipBlock's except ranges
  | 'protocol' // the port entry's protocol differs
  | 'port' // the port (or port range) differs
  | 'named-port'; // the named port is absent on the destination pod, or resolves to another number

export interface Mismatch {
  kind: MismatchKind;
  /** what the rule wants, e.g. `app=checkout-api`, `TCP`, `8080`, `10.0.0.0/16` */
  want: string;
  /** what the connection has, e.g. `app=checkout`, `no label app`, `UDP`, `9090` */
  got: string;
  /** a phrase for people, e.g. `port 9090 matched, but protocol UDP ≠ TCP` */
  text: string;
}

/** Port and protocol of one reachability table. */
export interface PortProtocol {
  port: number;
  protocol: Protocol;
}

/** A reachability matrix: one table per port/protocol, rows = sources, columns = destinations. */
export interface ReachabilityGrid {
  /** "namespace/name" for pods, the address for endpoints outside any pod */
  sources: string[];
  destinations: string[];
  tables: Array<PortProtocol & { cells: Array<Array<Verdict | null>> }>;
}
