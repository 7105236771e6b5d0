// The contract between the embedded Kubernetes API and whatever makes its pods real.
// The API server owns objects and their lifecycle (Pending → Running → Succeeded/Failed);
// a PodRuntime owns what a kubelet, a CNI and kube-proxy would: sandboxes, IPs, processes,
// packet filtering, service VIPs and cluster DNS.
import type { Duplex, Readable, Writable } from 'node:stream';

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    [key: string]: unknown;
  };
  spec?: any;
  status?: any;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A change in one cluster's store, delivered in-process (the equivalent of a watch). */
export interface ObjectEvent {
  type: WatchEventType;
  /** plural resource name: pods, services, endpoints, networkpolicies, namespaces, ... */
  resource: string;
  object: KubeObject;
}

/** Read access to one cluster's objects, for the runtime's controllers. Objects are frozen snapshots: copy before changing. */
export interface ClusterStateView {
  readonly clusterId: string;
  list(resource: string, namespace?: string): KubeObject[];
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Called after every committed change; returns an unsubscribe function. */
  subscribe(listener: (event: ObjectEvent) => void): () => void;
}

/** A host outside the cluster that a lab declares (a payment gateway range, api.stripe.com, ...). */
export interface ExternalHost {
  /** DNS names that resolve to `ip` (may be empty) */
  names: string[];
  /** a single address, or a CIDR whose every address answers */
  address: string;
  ports: Array<{ port: number; protocol?: 'TCP' | 'UDP'; kind?: 'http' | 'https' | 'tcp' }>;
  description?: string;
}

export interface ClusterNetworkOptions {
  podCIDR: string; // e.g. 10.244.0.0/16
  serviceCIDR: string; // e.g. 10.96.0.0/12
  dnsServiceIP: string; // 10.96.0.10
  clusterDomain: string; // cluster.local
  nodeName: string;
  externalHosts: ExternalHost[];
}

export interface ContainerRef {
  namespace: string;
  pod: string;
  container: string;
}

export interface ExecRequest {
  command: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  env?: Record<string, string>;
  /** initial terminal size when tty */
  size?: { cols: number; rows: number };
}

/** A running exec/attach session. Streams are raw bytes; with tty, stderr is merged into stdout. */
export interface ExecSession {
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable | null;
  resize(cols: number, rows: number): void;
  /** resolves once the process ends; exitCode 0 = success */
  readonly exit: Promise<{ exitCode: number; signal?: string }>;
  kill(): void;
  /**
   * An attach's client went away: stop delivering output to this session and let go of it, the
   * container's process keeps running. Sessions that hold nothing when unread may leave it out.
   */
  detach?(): void;
}

export interface PodStarted {
  podIP: string;
  hostIP: string;
}

/** Told by the runtime when a container's main process ends (for `kubectl run --rm -it`, Jobs...). */
export interface RuntimeHooks {
  containerExited(ref: ContainerRef, exitCode: number): void;
  /** a line of container output for `kubectl logs` */
  log(ref: ContainerRef, line: string): void;
}

/** The per-cluster half of a runtime. */
export interface ClusterRuntime {
  /** Create the sandbox, network and the container's main process (if any). */
  startPod(pod: KubeObject): Promise<PodStarted>;
  stopPod(namespace: string, name: string): Promise<void>;
  /** Run a command inside a container, as `kubectl exec` does. */
  exec(ref: ContainerRef, req: ExecRequest): Promise<ExecSession>;
  /** Attach to the container's main process (`kubectl run -it`, `kubectl attach`). */
  attach(ref: ContainerRef, req: ExecRequest): Promise<ExecSession>;
  /** Wait until policy/service/pod changes made so far are enforced. */
  settle(): Promise<void>;
  dispose(): Promise<void>;
  /**
   * Start a container's main process again after it exited (restartPolicy Always/OnFailure), keeping
   * the pod's sandbox and IP. Optional: without it the API server leaves the container in
   * CrashLoopBackOff instead of restarting it.
   */
  restartContainer?(ref: ContainerRef): Promise<void>;
}

export interface PodRuntime {
  /** which runtime this is, for the server banner */
  readonly name: 'netns' | 'sim' | 'process';
  /** why this runtime was chosen (e.g. "netns: running as root with ip and nft") */
  readonly reason: string;
  /** Start serving one cluster. */
  attach(cluster: ClusterStateView, options: ClusterNetworkOptions, hooks: RuntimeHooks): Promise<ClusterRuntime>;
  /** Remove what an earlier crashed process left (namespaces, links, processes). */
  reapLeftovers(): Promise<void>;
}

export type { Duplex };
