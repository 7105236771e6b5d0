// The one contract every cluster backend (embedded, kind) keeps: provision a cluster for a
// learner and a lab, hand back a kubeconfig and what a terminal needs, dispose it later.
import type { ExternalHost, KubeObject } from '../apiserver/runtime.ts';

export interface LearnerRef {
  id: string;
  name: string;
}

/** What a lab asks of a cluster: objects applied at provision and the outside world it needs. */
export interface LabEnvironmentSpec {
  labId: string;
  setup: KubeObject[];
  externalHosts: ExternalHost[];
  images: string[];
}

export interface ProvisionProgress {
  /** short machine name: creating-cluster | installing-cni | waiting-ready | applying-setup | ready */
  phase: string;
  /** what the learner reads */
  message: string;
  /** 0..1 when known */
  fraction?: number;
}

export interface ProvisionRequest {
  learner: LearnerRef;
  lab: LabEnvironmentSpec;
  onProgress?: (progress: ProvisionProgress) => void;
  signal?: AbortSignal;
}

export interface Environment {
  id: string;
  backend: 'embedded' | 'kind';
  /** how pods get their network: netns | sim | process | calico | kindnet | none */
  dataPlane: string;
  /** kubeconfig YAML for this cluster only */
  kubeconfig: string;
  /** a file holding `kubeconfig`, owned by this environment */
  kubeconfigPath: string;
  /** API server URL */
  server: string;
  /** environment variables a learner's shell needs (KUBECONFIG, PATH with kubectl, ...) */
  shellEnv: Record<string, string>;
  /** remove the cluster and everything it made */
  dispose(): Promise<void>;
  /**
   * Resolves once everything committed to the cluster so far is in force (controllers idle, the
   * data plane enforcing). Embedded clusters have it; others may not.
   */
  settle?(): Promise<void>;
  /**
   * Calls `listener` (with the resource's plural name) whenever an object in the cluster changes,
   * so the learner's work can be saved as they make it rather than only now and then. Returns a
   * function that stops the calls. Embedded clusters have it; others may not.
   */
  onChange?(listener: (resource: string) => void): () => void;
}

export interface WarmStats {
  labId: string;
  idle: number;
  building: number;
  /** background builds that failed (the backend waits longer after each) */
  failed: number;
}

export interface ClusterBackend {
  readonly name: 'embedded' | 'kind';
  provision(request: ProvisionRequest): Promise<Environment>;
  /**
   * The labs learners may start (called again whenever the catalogue changes): a backend that can
   * get environments ready ahead of learners does so for these.
   */
  prepare?(labs: LabEnvironmentSpec[]): void;
  /** per prepared lab: environments ready to hand out, builds in flight, background builds failed */
  warmStats?(): WarmStats[];
  /** dispose every environment and release shared resources */
  close(): Promise<void>;
}
