// The /openapi/v3 documents, in the shape kube-apiserver publishes (kube-openapi handler3):
// an index of group/versions, and per group/version the paths of its resources plus the
// component schemas they reach. kubectl reads them for three things:
// - `apply`/`create -f` validation: a PATCH operation carrying x-kubernetes-group-version-kind
//   and a `fieldValidation` query parameter means "the server validates" (so kubectl sends
//   fieldValidation=Strict and the server must report unknown fields itself);
// - `apply` patch computation: x-kubernetes-patch-strategy/-merge-key on the schemas, used when
//   the PATCH operation accepts application/strategic-merge-patch+json;
// - `explain`: descriptions and field types.
// Documents are built once per process, lazily, and shared by every cluster.
import { createHash } from 'node:crypto';
import { refName, schemaDefinitions, type GroupVersionKind, type SchemaNode } from './schema.ts';

/** The release the documents describe (matches the /version the embedded API reports). */
const RELEASE = 'v1.32.5';

interface ServedResource {
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Go definition of the kind */
  definition: string;
  subresources?: Array<{ name: 'status' | 'scale'; definition: string; kind: string; group: string }>;
  /** kinds the API serves read-only (events.k8s.io mirrors core events) */
  verbs?: Verb[];
}

type Verb = 'list' | 'create' | 'deletecollection' | 'get' | 'update' | 'patch' | 'delete';
const ALL: Verb[] = ['list', 'create', 'deletecollection', 'get', 'update', 'patch', 'delete'];

interface GroupVersionDoc {
  group: string;
  version: string;
  resources: ServedResource[];
}

const CORE = 'io.k8s.api.core.v1';
const status = (def: string, kind: string, group = '') => ({ name: 'status' as const, definition: def, kind, group });
const scale = { name: 'scale' as const, definition: 'io.k8s.api.autoscaling.v1.Scale', kind: 'Scale', group: 'autoscaling' };

const GROUP_VERSIONS: Record<string, GroupVersionDoc> = {
  'api/v1': {
    group: '',
    version: 'v1',
    resources: [
      { kind: 'ConfigMap', plural: 'configmaps', namespaced: true, definition: `${CORE}.ConfigMap` },
      { kind: 'Endpoints', plural: 'endpoints', namespaced: true, definition: `${CORE}.Endpoints` },
      { kind: 'Event', plural: 'events', namespaced: true, definition: `${CORE}.Event` },
      { kind: 'LimitRange', plural: 'limitranges', namespaced: true, definition: `${CORE}.LimitRange` },
      { kind: 'Namespace', plural: 'namespaces', namespaced: false, definition: `${CORE}.Namespace`, subresources: [status(`${CORE}.Namespace`, 'Namespace')] },
      { kind: 'Node', plural: 'nodes', namespaced: false, definition: `${CORE}.Node`, subresources: [status(`${CORE}.Node`, 'Node')] },
      { kind: 'Pod', plural: 'pods', namespaced: true, definition: `${CORE}.Pod`, subresources: [status(`${CORE}.Pod`, 'Pod')] },
      { kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, definition: `${CORE}.ResourceQuota`, subresources: [status(`${CORE}.ResourceQuota`, 'ResourceQuota')] },
      { kind: 'Secret', plural: 'secrets', namespaced: true, definition: `${CORE}.Secret` },
      { kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, definition: `${CORE}.ServiceAccount` },
      { kind: 'Service', plural: 'services', namespaced: true, definition: `${CORE}.Service`, subresources: [status(`${CORE}.Service`, 'Service')] },
    ],
  },
  'apis/apps/v1': {
    group: 'apps',
    version: 'v1',
    resources: [
      { kind: 'Deployment', plural: 'deployments', namespaced: true, definition: 'io.k8s.api.apps.v1.Deployment', subresources: [status('io.k8s.api.apps.v1.Deployment', 'Deployment', 'apps'), scale] },
      { kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, definition: 'io.k8s.api.apps.v1.ReplicaSet', subresources: [status('io.k8s.api.apps.v1.ReplicaSet', 'ReplicaSet', 'apps'), scale] },
    ],
  },
  'apis/networking.k8s.io/v1': {
    group: 'networking.k8s.io',
    version: 'v1',
    resources: [{ kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, definition: 'io.k8s.api.networking.v1.NetworkPolicy' }],
  },
  'apis/discovery.k8s.io/v1': {
    group: 'discovery.k8s.io',
    version: 'v1',
    resources: [{ kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true, definition: 'io.k8s.api.discovery.v1.EndpointSlice' }],
  },
  'apis/events.k8s.io/v1': {
    group: 'events.k8s.io',
    version: 'v1',
    resources: [{ kind: 'Event', plural: 'events', namespaced: true, definition: 'io.k8s.api.events.v1.Event' }],
  },
};

const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];
const RESPONSE_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

const documents = new Map<string, object>();
let index: Record<string, { serverRelativeURL: string }> | undefined;

/** The `/openapi/v3` index: group/version path → URL of its document (hash busts kubectl's cache). */
export function openapiV3Paths(): Record<string, { serverRelativeURL: string }> {
  if (!index) {
    index = {};
    for (const gvPath of Object.keys(GROUP_VERSIONS)) {
      const body = JSON.stringify(openapiV3Document(gvPath));
      const hash = createHash('sha512').update(body).digest('hex').slice(0, 128).toUpperCase();
      index[gvPath] = { serverRelativeURL: `/openapi/v3/${gvPath}?hash=${hash}` };
    }
  }
  return index;
}

/** The document of one group/version ("api/v1", "apis/networking.k8s.io/v1", ...), or undefined. */
export function openapiV3Document(groupVersionPath: string): object | undefined {
  const key = groupVersionPath.replace(/^\/+|\/+$/g, '');
  const cached = documents.get(key);
  if (cached) return cached;
  const gv = Object.hasOwn(GROUP_VERSIONS, key) ? GROUP_VERSIONS[key] : undefined;
  if (!gv) return undefined;
  const doc = buildDocument(key, gv);
  documents.set(key, doc);
  return doc;
}

function buildDocument(gvPath: string, gv: GroupVersionDoc): object {
  const roots = new Set<string>(['io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch']);
  const paths: Record<string, object> = {};
  const prefix = `/${gvPath}`;
  for (const r of gv.resources) {
    roots.add(r.definition);
    roots.add(`${r.definition}List`);
    const gvk = { group: gv.group, version: gv.version, kind: r.kind };
    const verbs = r.verbs ?? ALL;
    const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
    paths[collection] = collectionPath(r, gvk, verbs);
    paths[`${collection}/{name}`] = itemPath(r.definition, gvk, verbs, r.kind, r.namespaced);
    if (r.namespaced) paths[`${prefix}/${r.plural}`] = listAllPath(r, gvk);
    for (const sub of r.subresources ?? []) {
      roots.add(sub.definition);
      const subGvk = { group: sub.group, version: sub.name === 'scale' ? 'v1' : gv.version, kind: sub.kind };
      paths[`${collection}/{name}/${sub.name}`] = itemPath(sub.definition, subGvk, ['get', 'update', 'patch'], `${r.kind} ${sub.name}`, r.namespaced);
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: RELEASE },
    paths,
    components: {
      schemas: componentSchemas(roots, gv),
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  };
}

function queryParam(name: string, description: string, type: 'string' | 'boolean' | 'integer' = 'string'): object {
  return { name, in: 'query', description, schema: { type, uniqueItems: true } };
}

const DRY_RUN = queryParam('dryRun', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed');
const FIELD_MANAGER = queryParam('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.');
const FIELD_VALIDATION = queryParam('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.');
const FORCE = queryParam('force', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.', 'boolean');
const PRETTY = queryParam('pretty', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).");
const LIST_PARAMS = [
  queryParam('allowWatchBookmarks', 'allowWatchBookmarks requests watch events with type "BOOKMARK".', 'boolean'),
  queryParam('continue', 'The continue option should be set when retrieving more results from the server.'),
  queryParam('fieldSelector', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  queryParam('labelSelector', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  queryParam('limit', 'limit is a maximum number of responses to return for a list call.', 'integer'),
  queryParam('resourceVersion', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  queryParam('resourceVersionMatch', 'resourceVersionMatch determines how resourceVersion is applied to list calls.'),
  queryParam('sendInitialEvents', '`sendInitialEvents=true` may be set together with `watch=true`.', 'boolean'),
  queryParam('timeoutSeconds', 'Timeout for the list/watch call.', 'integer'),
  queryParam('watch', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.', 'boolean'),
];
const NAMESPACE_PARAM = { name: 'namespace', in: 'path', description: 'object name and auth scope, such as for teams and projects', required: true, schema: { type: 'string', uniqueItems: true } };

function nameParam(what: string): object {
  return { name: 'name', in: 'path', description: `name of the ${what}`, required: true, schema: { type: 'string', uniqueItems: true } };
}

function ref(definition: string): object {
  return { $ref: `#/components/schemas/${definition}` };
}

function body(definition: string, types = ['*/*']): object {
  return { content: Object.fromEntries(types.map((t) => [t, { schema: ref(definition) }])), required: true };
}

function okResponse(definition: string, code = '200'): object {
  return { [code]: { description: code === '201' ? 'Created' : code === '202' ? 'Accepted' : 'OK', content: Object.fromEntries(RESPONSE_TYPES.map((t) => [t, { schema: ref(definition) }])) }, '401': { description: 'Unauthorized' } };
}

function operation(action: string, verb: string, gvk: GroupVersionKind, description: string, extra: object): object {
  const opName = `${verb}${gvk.group ? groupCamel(gvk.group) : 'Core'}${gvk.version[0].toUpperCase()}${gvk.version.slice(1)}`;
  return { tags: [gvk.group ? `${gvk.group}_${gvk.version}` : `core_${gvk.version}`], description, operationId: opName, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, ...extra };
}

function groupCamel(group: string): string {
  return group
    .replace(/\.k8s\.io$/, '')
    .split(/[.-]/)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
}

function collectionPath(r: ServedResource, gvk: GroupVersionKind, verbs: Verb[]): object {
  const path: Record<string, object | object[]> = { parameters: r.namespaced ? [NAMESPACE_PARAM, PRETTY] : [PRETTY] };
  const scope = r.namespaced ? 'Namespaced' : '';
  if (verbs.includes('list')) path.get = operation('list', `list${scope}${r.kind}`, gvk, `list or watch objects of kind ${r.kind}`, { parameters: LIST_PARAMS, responses: okResponse(`${r.definition}List`) });
  if (verbs.includes('create')) path.post = operation('post', `create${scope}${r.kind}`, gvk, `create a ${r.kind}`, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], requestBody: body(r.definition), responses: { ...okResponse(r.definition), ...okResponse(r.definition, '201'), ...okResponse(r.definition, '202') } });
  if (verbs.includes('deletecollection')) path.delete = operation('deletecollection', `deleteCollection${scope}${r.kind}`, gvk, `delete collection of ${r.kind}`, { parameters: [DRY_RUN, ...LIST_PARAMS], requestBody: body('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions'), responses: okResponse('io.k8s.apimachinery.pkg.apis.meta.v1.Status') });
  return path;
}

function listAllPath(r: ServedResource, gvk: GroupVersionKind): object {
  return {
    get: operation('list', `list${r.kind}ForAllNamespaces`, gvk, `list or watch objects of kind ${r.kind}`, { responses: okResponse(`${r.definition}List`) }),
    parameters: [...LIST_PARAMS, PRETTY],
  };
}

function itemPath(definition: string, gvk: GroupVersionKind, verbs: Verb[], what: string, namespaced: boolean): object {
  const path: Record<string, object | object[]> = { parameters: namespaced ? [nameParam(what), NAMESPACE_PARAM, PRETTY] : [nameParam(what), PRETTY] };
  const scope = namespaced ? 'Namespaced' : '';
  const kind = gvk.kind;
  if (verbs.includes('get')) path.get = operation('get', `read${scope}${kind}`, gvk, `read the specified ${what}`, { responses: okResponse(definition) });
  if (verbs.includes('update')) path.put = operation('put', `replace${scope}${kind}`, gvk, `replace the specified ${what}`, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], requestBody: body(definition), responses: { ...okResponse(definition), ...okResponse(definition, '201') } });
  if (verbs.includes('patch')) path.patch = operation('patch', `patch${scope}${kind}`, gvk, `partially update the specified ${what}`, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE], requestBody: body('io.k8s.apimachinery.pkg.apis.meta.v1.Patch', PATCH_TYPES), responses: { ...okResponse(definition), ...okResponse(definition, '201') } });
  if (verbs.includes('delete')) path.delete = operation('delete', `delete${scope}${kind}`, gvk, `delete a ${what}`, { parameters: [DRY_RUN, queryParam('gracePeriodSeconds', 'The duration in seconds before the object should be deleted.', 'integer'), queryParam('propagationPolicy', 'Whether and how garbage collection will be performed.')], requestBody: body('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions'), responses: { ...okResponse(definition), ...okResponse(definition, '202') } });
  return path;
}

/** Every definition reachable from `roots`, rewritten in kube-openapi's v3 style. */
function componentSchemas(roots: Set<string>, gv: GroupVersionDoc): Record<string, object> {
  const defs = schemaDefinitions();
  const out: Record<string, object> = {};
  const queue = [...roots];
  while (queue.length) {
    const name = queue.pop()!;
    if (out[name] || !defs[name]) continue;
    const def = defs[name];
    const collect = (node: SchemaNode) => {
      const n = refName(node);
      if (n) queue.push(n);
      if (node.items) collect(node.items);
      if (node.additionalProperties) collect(node.additionalProperties);
      for (const p of Object.values(node.properties ?? {})) collect(p);
    };
    collect(def);
    out[name] = styled(def, gv, name);
  }
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
}

/**
 * kube-openapi v3 wraps a described `$ref` in allOf (OpenAPI 3.0 ignores siblings of $ref),
 * which kubectl explain and kubectl's patch metadata lookup both expect.
 */
function styled(node: SchemaNode, gv: GroupVersionDoc, name?: string): object {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties') {
      out.properties = Object.fromEntries(Object.entries(v as Record<string, SchemaNode>).map(([pk, pv]) => [pk, styledProperty(pv, gv)]));
    } else if (k === 'items' || k === 'additionalProperties') {
      out[k] = styledProperty(v as SchemaNode, gv);
    } else if (k === 'x-kubernetes-group-version-kind' && name?.startsWith('io.k8s.apimachinery.pkg.apis.meta.v1.')) {
      // meta types (Status, DeleteOptions) are served in every group/version
      out[k] = [{ group: gv.group, kind: (v as GroupVersionKind[])[0].kind, version: gv.version }];
    } else {
      out[k] = v;
    }
  }
  return out;
}

function styledProperty(node: SchemaNode, gv: GroupVersionDoc): object {
  if (!node.$ref) return styled(node, gv);
  const { $ref, ...rest } = node;
  const def = schemaDefinitions()[refName(node)!];
  // scalar-like definitions (Quantity, Time, IntOrString) stay plain refs, as upstream does
  if (def && def.type !== 'object') return { $ref, ...rest };
  return { allOf: [{ $ref }], ...styled(rest as SchemaNode, gv), default: {} };
}
