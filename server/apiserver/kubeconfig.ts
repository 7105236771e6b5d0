// Kubeconfig files for one cluster: the server URL with the cluster's path prefix, the host's
// certificate as the trusted CA, and the cluster's bearer token.
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  server: string;
  caCertificate: string;
  token: string;
  user?: string;
  cluster?: string;
  namespace?: string;
}

export function renderKubeconfig(o: KubeconfigOptions): string {
  const cluster = o.cluster ?? 'kubelab';
  const user = o.user ?? 'learner';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: o.server, 'certificate-authority-data': Buffer.from(o.caCertificate).toString('base64') } }],
    users: [{ name: user, user: { token: o.token } }],
    contexts: [{ name: cluster, context: { cluster, user, namespace: o.namespace ?? 'default' } }],
    'current-context': cluster,
    preferences: {},
  });
}
