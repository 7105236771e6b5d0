// Discovery documents: /version, aggregated discovery (apidiscovery.k8s.io v2 and v2beta1) on /api
// and /apis, and the legacy APIVersions / APIGroupList / APIResourceList documents that
// @kubernetes/client-node and older clients read. Built once per process, shared by every cluster.
import { createHash } from 'node:crypto';
import { GROUP_VERSIONS, type GroupVersion, type ResourceType } from './resources.ts';

/** What /version reports; kubectl's version dispatcher picks its binary from the minor. */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.2',
  gitCommit: '67a30c0adcf52bd3f56ff0893ce19966be12991f',
  gitTreeState: 'clean',
  buildDate: '2025-02-12T21:19:47Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
} as const;

export type DiscoveryFormat = 'v2' | 'v2beta1' | 'legacy';

/** A prepared JSON document: serialized once, with its ETag. */
export interface PreparedDocument {
  body: string;
  contentType: string;
  etag: string;
}

function prepare(doc: unknown, contentType = 'application/json'): PreparedDocument {
  const body = JSON.stringify(doc);
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32).toUpperCase()}"` };
}

/**
 * The discovery format a request asks for, from its Accept header. client-go lists the
 * aggregated media types first and decides by the response Content-Type, so the first match wins.
 */
export function discoveryFormat(accept: string | undefined): DiscoveryFormat {
  if (!accept) return 'legacy';
  for (const part of accept.split(',')) {
    const params = new Map<string, string>();
    const [type, ...rest] = part.split(';');
    for (const p of rest) {
      const [k, v] = p.split('=');
      if (k && v !== undefined) params.set(k.trim(), v.trim());
    }
    const mediaType = type.trim();
    if (mediaType !== 'application/json' && mediaType !== '*/*') continue;
    if (params.get('g') === 'apidiscovery.k8s.io' && params.get('as') === 'APIGroupDiscoveryList') {
      const v = params.get('v');
      if (v === 'v2') return 'v2';
      if (v === 'v2beta1') return 'v2beta1';
      continue;
    }
    if (!params.has('as')) return 'legacy';
  }
  return 'legacy';
}

function aggregatedResource(r: ResourceType): Record<string, unknown> {
  const out: Record<string, unknown> = {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
  };
  if (r.shortNames.length) out.shortNames = r.shortNames;
  if (r.categories.length) out.categories = r.categories;
  if (r.subresources.length) {
    out.subresources = r.subresources.map((s) => ({ subresource: s.name, responseKind: s.kind, verbs: s.verbs }));
  }
  return out;
}

function aggregatedGroup(name: string, gvs: readonly GroupVersion[]): Record<string, unknown> {
  return {
    metadata: { name, creationTimestamp: null },
    versions: gvs.map((gv) => ({ version: gv.version, resources: gv.resources.map(aggregatedResource), freshness: 'Current' })),
  };
}

function aggregatedList(apiVersion: string, groups: Array<Record<string, unknown>>): Record<string, unknown> {
  return { kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items: groups };
}

function groupNames(): string[] {
  const names: string[] = [];
  for (const gv of GROUP_VERSIONS) if (gv.group && !names.includes(gv.group)) names.push(gv.group);
  return names;
}

function versionsOf(group: string): GroupVersion[] {
  return GROUP_VERSIONS.filter((gv) => gv.group === group);
}

function legacyGroup(name: string): Record<string, unknown> {
  const versions = versionsOf(name).map((gv) => ({ groupVersion: gv.groupVersion, version: gv.version }));
  return { name, versions, preferredVersion: versions[0] };
}

function legacyResourceList(gv: GroupVersion): Record<string, unknown> {
  const resources: Array<Record<string, unknown>> = [];
  for (const r of gv.resources) {
    const entry: Record<string, unknown> = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
    if (r.shortNames.length) entry.shortNames = r.shortNames;
    if (r.categories.length) entry.categories = r.categories;
    resources.push(entry);
    for (const s of r.subresources) {
      const sub: Record<string, unknown> = { name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind.kind, verbs: s.verbs };
      if (s.kind.group !== r.group || s.kind.version !== r.version) {
        sub.group = s.kind.group;
        sub.version = s.kind.version;
      }
      resources.push(sub);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv.groupVersion, resources };
}

const AGGREGATED_CONTENT_TYPE = {
  v2: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  v2beta1: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
} as const;

interface DiscoveryDocuments {
  version: PreparedDocument;
  coreAggregated: Record<'v2' | 'v2beta1', PreparedDocument>;
  groupsAggregated: Record<'v2' | 'v2beta1', PreparedDocument>;
  apis: PreparedDocument;
  groups: Map<string, PreparedDocument>;
  resourceLists: Map<string, PreparedDocument>;
}

let documents: DiscoveryDocuments | undefined;

function build(): DiscoveryDocuments {
  const core = versionsOf('');
  const coreGroup = aggregatedGroup('', core);
  const otherGroups = groupNames().map((g) => aggregatedGroup(g, versionsOf(g)));
  const aggregated = (format: 'v2' | 'v2beta1', groups: Array<Record<string, unknown>>) =>
    prepare(aggregatedList(`apidiscovery.k8s.io/${format}`, groups), AGGREGATED_CONTENT_TYPE[format]);
  const groups = new Map<string, PreparedDocument>();
  for (const g of groupNames()) groups.set(g, prepare({ kind: 'APIGroup', apiVersion: 'v1', ...legacyGroup(g) }));
  const resourceLists = new Map<string, PreparedDocument>();
  for (const gv of GROUP_VERSIONS) resourceLists.set(gv.path, prepare(legacyResourceList(gv)));
  return {
    version: prepare(SERVER_VERSION),
    coreAggregated: { v2: aggregated('v2', [coreGroup]), v2beta1: aggregated('v2beta1', [coreGroup]) },
    groupsAggregated: { v2: aggregated('v2', otherGroups), v2beta1: aggregated('v2beta1', otherGroups) },
    apis: prepare({ kind: 'APIGroupList', apiVersion: 'v1', groups: groupNames().map(legacyGroup) }),
    groups,
    resourceLists,
  };
}

function docs(): DiscoveryDocuments {
  documents ??= build();
  return documents;
}

export function versionDocument(): PreparedDocument {
  return docs().version;
}

/** GET /api: aggregated core group, or APIVersions (which names the address clients reached). */
export function coreDiscovery(format: DiscoveryFormat, serverAddress: string): PreparedDocument {
  if (format !== 'legacy') return docs().coreAggregated[format];
  return prepare({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] });
}

/** GET /apis */
export function groupsDiscovery(format: DiscoveryFormat): PreparedDocument {
  return format === 'legacy' ? docs().apis : docs().groupsAggregated[format];
}

/** GET /apis/<group> */
export function groupDocument(group: string): PreparedDocument | undefined {
  return docs().groups.get(group);
}

/** GET /api/v1 or /apis/<group>/<version>, keyed "api/v1" | "apis/apps/v1". */
export function resourceListDocument(path: string): PreparedDocument | undefined {
  return docs().resourceLists.get(path);
}
