// What the built-in controllers share: the cluster's store and write path, its event recorder,
// container logs, network options and (once attached) its runtime.
import type { ContainerLogs } from '../logs.ts';
import type { ObjectService } from '../objects.ts';
import type { ClusterNetworkOptions, ClusterRuntime, KubeObject } from '../runtime.ts';
import type { ObjectStore } from '../store.ts';
import type { EventRecorder } from './events.ts';

export interface ControllerHost {
  readonly store: ObjectStore;
  readonly objects: ObjectService;
  readonly recorder: EventRecorder;
  readonly logs: ContainerLogs;
  readonly network: ClusterNetworkOptions;
  now(): number;
  runtime(): ClusterRuntime | undefined;
  /** a controller failed on a key; logged, and the key is retried later */
  onError(controller: string, key: string, err: unknown): void;
  /** the node's address became known (the first started pod reports it) */
  onHostIP(ip: string): void;
}

export interface Controller {
  /** something is queued or in flight */
  readonly busy: boolean;
  /** resolves when the controller has nothing queued or in flight */
  idle(): Promise<void>;
  dispose(): void;
}

export function keyOf(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

export function splitKey(key: string): [string | undefined, string] {
  const i = key.indexOf('/');
  return i < 0 ? [undefined, key] : [key.slice(0, i), key.slice(i + 1)];
}

/** The controller owner reference of an object, if any. */
export function controllerOf(o: KubeObject): { kind: string; name: string; uid: string } | undefined {
  const refs = (o.metadata as { ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }> }).ownerReferences ?? [];
  return refs.find((r) => r.controller);
}
