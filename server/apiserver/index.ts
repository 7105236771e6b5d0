// The embedded Kubernetes API: one HTTPS host serving many clusters that kubectl and
// @kubernetes/client-node use like any other cluster.
export { createApiHost } from './host.ts';
export type { ApiHost, ApiHostOptions, CreateClusterOptions } from './host.ts';
export type { EmbeddedCluster } from './cluster.ts';
export { SERVER_VERSION } from './discovery.ts';
export type * from './runtime.ts';
