// What request handlers need from the cluster they serve.
import type { ContainerLogs } from './logs.ts';
import type { ObjectService } from './objects.ts';
import type { ContainerRef, ExecRequest, ExecSession } from './runtime.ts';
import type { ObjectStore } from './store.ts';

export interface ClusterContext {
  readonly id: string;
  readonly store: ObjectStore;
  readonly objects: ObjectService;
  readonly logs: ContainerLogs;
  now(): number;
  /** aborted when the cluster is disposed: watches and streams end */
  readonly closed: AbortSignal;
  /** the propagation policy a DELETE asked for, read by the garbage collector when the owner is gone */
  rememberPropagation(uid: string, policy: 'Orphan' | 'Background' | 'Foreground'): void;
  /** start an exec or attach session in a container through the cluster's runtime */
  openSession(mode: 'exec' | 'attach', ref: ContainerRef, req: ExecRequest): Promise<ExecSession>;
}
