// The kinds a lab may create: what the embedded cluster serves (so a lab runs on every backend),
// whether each is namespaced, and how each names its objects.
import { nameIsDNSLabel, nameIsDNSSubdomain, type NameValidator } from '../netpol/index.ts';

export interface KindInfo {
  apiVersion: string;
  kind: string;
  /** plural resource name, as in API paths */
  resource: string;
  namespaced: boolean;
  nameRule: NameValidator;
}

/** Service names are DNS-1035 labels: they must start with a letter. */
const nameIsDNS1035Label: NameValidator = (name, prefix) => {
  const errs = nameIsDNSLabel(name, prefix);
  if (errs.length === 0 && !/^[a-z]/.test(name)) {
    return ["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"];
  }
  return errs;
};

export const servedKinds: readonly KindInfo[] = [
  { apiVersion: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, nameRule: nameIsDNSLabel },
  { apiVersion: 'v1', kind: 'Pod', resource: 'pods', namespaced: true, nameRule: nameIsDNSSubdomain },
  { apiVersion: 'v1', kind: 'Service', resource: 'services', namespaced: true, nameRule: nameIsDNS1035Label },
  { apiVersion: 'v1', kind: 'Endpoints', resource: 'endpoints', namespaced: true, nameRule: nameIsDNSSubdomain },
  { apiVersion: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true, nameRule: nameIsDNSSubdomain },
  { apiVersion: 'v1', kind: 'Secret', resource: 'secrets', namespaced: true, nameRule: nameIsDNSSubdomain },
  { apiVersion: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts', namespaced: true, nameRule: nameIsDNSSubdomain },
  { apiVersion: 'apps/v1', kind: 'Deployment', resource: 'deployments', namespaced: true, nameRule: nameIsDNSSubdomain },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', resource: 'replicasets', namespaced: true, nameRule: nameIsDNSSubdomain },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', resource: 'networkpolicies', namespaced: true, nameRule: nameIsDNSSubdomain },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', resource: 'endpointslices', namespaced: true, nameRule: nameIsDNSSubdomain },
];

export function kindInfo(apiVersion: string, kind: string): KindInfo | undefined {
  return servedKinds.find((k) => k.apiVersion === apiVersion && k.kind === kind);
}

/** A sentence for an unknown kind that says what would work instead. */
export function unknownKindMessage(apiVersion: string, kind: string): string {
  const sameKind = servedKinds.find((k) => k.kind === kind);
  if (sameKind) return `${kind} is served as apiVersion ${sameKind.apiVersion}, not ${apiVersion}`;
  return `kind ${kind} (${apiVersion}) is not served by the embedded cluster; use one of ${servedKinds.map((k) => k.kind).join(', ')}`;
}
