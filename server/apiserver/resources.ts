// The resources this API serves, described once: discovery, routing, storage keys and error
// messages all read this table. Shared by every cluster in the process.

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface Subresource {
  name: string;
  kind: GroupVersionKind;
  verbs: string[];
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** plural resource name; also the store key (unique across the groups served here) */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: Subresource[];
  /** the object carries a status that only the /status subresource (or a controller) may change */
  hasStatus: boolean;
  /** metadata.generation is set and bumped on spec changes */
  hasGeneration: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

function gvk(group: string, version: string, kind: string): GroupVersionKind {
  return { group, version, kind };
}

function resource(
  group: string,
  version: string,
  kind: string,
  plural: string,
  opts: Partial<Pick<ResourceType, 'namespaced' | 'shortNames' | 'categories' | 'verbs' | 'hasStatus' | 'hasGeneration'>> & { sub?: Array<[string, GroupVersionKind, string[]]> } = {},
): ResourceType {
  const hasStatus = opts.hasStatus ?? false;
  const subresources: Subresource[] = (opts.sub ?? []).map(([name, k, verbs]) => ({ name, kind: k, verbs }));
  if (hasStatus) subresources.push({ name: 'status', kind: gvk(group, version, kind), verbs: STATUS_VERBS });
  subresources.sort((a, b) => a.name.localeCompare(b.name));
  return {
    group,
    version,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    namespaced: opts.namespaced ?? true,
    shortNames: opts.shortNames ?? [],
    categories: opts.categories ?? [],
    verbs: opts.verbs ?? ALL_VERBS,
    subresources,
    hasStatus,
    hasGeneration: opts.hasGeneration ?? false,
  };
}

const scaleKind = gvk('autoscaling', 'v1', 'Scale');

export const RESOURCES: readonly ResourceType[] = [
  resource('', 'v1', 'ConfigMap', 'configmaps', { shortNames: ['cm'] }),
  resource('', 'v1', 'Endpoints', 'endpoints', { shortNames: ['ep'] }),
  resource('', 'v1', 'Event', 'events', { shortNames: ['ev'] }),
  resource('', 'v1', 'LimitRange', 'limitranges', { shortNames: ['limits'] }),
  resource('', 'v1', 'Namespace', 'namespaces', {
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    hasStatus: true,
  }),
  resource('', 'v1', 'Node', 'nodes', { namespaced: false, shortNames: ['no'], hasStatus: true }),
  resource('', 'v1', 'Pod', 'pods', {
    shortNames: ['po'],
    categories: ['all'],
    hasStatus: true,
    sub: [
      ['attach', gvk('', 'v1', 'PodAttachOptions'), ['create', 'get']],
      ['exec', gvk('', 'v1', 'PodExecOptions'), ['create', 'get']],
      ['log', gvk('', 'v1', 'Pod'), ['get']],
    ],
  }),
  resource('', 'v1', 'ResourceQuota', 'resourcequotas', { shortNames: ['quota'], hasStatus: true }),
  resource('', 'v1', 'Secret', 'secrets'),
  resource('', 'v1', 'ServiceAccount', 'serviceaccounts', { shortNames: ['sa'] }),
  resource('', 'v1', 'Service', 'services', { shortNames: ['svc'], categories: ['all'], hasStatus: true }),
  resource('apps', 'v1', 'Deployment', 'deployments', {
    shortNames: ['deploy'],
    categories: ['all'],
    hasStatus: true,
    hasGeneration: true,
    sub: [['scale', scaleKind, ['get', 'patch', 'update']]],
  }),
  resource('apps', 'v1', 'ReplicaSet', 'replicasets', {
    shortNames: ['rs'],
    categories: ['all'],
    hasStatus: true,
    hasGeneration: true,
    sub: [['scale', scaleKind, ['get', 'patch', 'update']]],
  }),
  resource('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', { shortNames: ['netpol'], hasGeneration: true }),
  resource('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', { hasGeneration: true }),
];

export interface GroupVersion {
  group: string;
  version: string;
  /** "v1" for the core group, "apps/v1" otherwise */
  groupVersion: string;
  /** the URL path under the server root: "api/v1" | "apis/apps/v1" */
  path: string;
  resources: ResourceType[];
}

function buildGroupVersions(): GroupVersion[] {
  const out = new Map<string, GroupVersion>();
  for (const r of RESOURCES) {
    const groupVersion = r.group ? `${r.group}/${r.version}` : r.version;
    let gv = out.get(groupVersion);
    if (!gv) {
      gv = { group: r.group, version: r.version, groupVersion, path: r.group ? `apis/${groupVersion}` : `api/${r.version}`, resources: [] };
      out.set(groupVersion, gv);
    }
    gv.resources.push(r);
  }
  return [...out.values()];
}

/** Served group/versions in the order discovery lists them (core first, then in kube-apiserver's group priority order). */
export const GROUP_VERSIONS: readonly GroupVersion[] = buildGroupVersions();

const byGroupVersionPlural = new Map<string, ResourceType>();
const byPlural = new Map<string, ResourceType>();
const byKind = new Map<string, ResourceType>();
for (const r of RESOURCES) {
  byGroupVersionPlural.set(`${r.group}/${r.version}/${r.plural}`, r);
  byPlural.set(r.plural, r);
  byKind.set(`${r.group}/${r.kind}`, r);
}

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return byGroupVersionPlural.get(`${group}/${version}/${plural}`);
}

/** The resource stored under a plural name (store keys and ClusterStateView use plurals). */
export function resourceByPlural(plural: string): ResourceType | undefined {
  return byPlural.get(plural);
}

export function resourceByKind(group: string, kind: string): ResourceType | undefined {
  return byKind.get(`${group}/${kind}`);
}

export function mustResource(plural: string): ResourceType {
  const r = byPlural.get(plural);
  if (!r) throw new Error(`unknown resource ${plural}`);
  return r;
}

export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** Split "apps/v1" → {group: "apps", version: "v1"}; "v1" → core. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}
