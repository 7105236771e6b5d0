import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { parse as yamlParse } from 'yaml';
import {
  gnosticDocumentType,
  MEDIA_TYPE_PROTOBUF,
  MEDIA_TYPE_PROTOBUF_DEPRECATED,
  negotiateOpenAPIV2,
  openapiV2Document,
  openapiV2Encoded,
  serveOpenAPIV2,
} from './openapi-v2.ts';

type Obj = Record<string, any>;

/** The decoded protobuf document, as kubectl 1.27 holds it after proto.Unmarshal. */
function decoded(): Obj {
  const type = gnosticDocumentType();
  return type.toObject(type.decode(openapiV2Encoded('protobuf').body), { defaults: false, arrays: true }) as Obj;
}

function extensions(list: Obj[] | undefined): Map<string, unknown> {
  return new Map((list ?? []).map((e) => [e.name, yamlParse(e.value.yaml)]));
}

const accepts: Array<[string, string | undefined, string | undefined]> = [
  ['kubectl 1.27/1.28 (discovery OpenAPISchema)', MEDIA_TYPE_PROTOBUF_DEPRECATED, 'protobuf'],
  ['the current protobuf name', MEDIA_TYPE_PROTOBUF, 'protobuf'],
  ['no Accept', undefined, 'json'],
  ['anything', '*/*', 'json'],
  ['JSON', 'application/json', 'json'],
  ['protobuf preferred by quality', `application/json;q=0.5, ${MEDIA_TYPE_PROTOBUF_DEPRECATED}`, 'protobuf'],
  ['a specific type beats a wildcard of the same quality', `application/*, ${MEDIA_TYPE_PROTOBUF}`, 'protobuf'],
  ['q=0 is a refusal', 'application/json;q=0', undefined],
  ['HTML only', 'text/html', undefined],
];
for (const [who, accept, format] of accepts) {
  test(`negotiate: ${who}`, () => assert.equal(negotiateOpenAPIV2(accept)?.format, format));
}

test('every $ref resolves and every schema is one kube-openapi can parse (one type, arrays with items)', () => {
  const doc = openapiV2Document() as Obj;
  const names = new Set(Object.keys(doc.definitions));
  const problems: string[] = [];
  const walk = (s: Obj, where: string): void => {
    if (s.$ref) {
      if (!names.has(s.$ref.replace('#/definitions/', ''))) problems.push(`${where}: dangling ${s.$ref}`);
      return;
    }
    if (Array.isArray(s.type)) problems.push(`${where}: several types`);
    if (s.type === 'array' && !s.items) problems.push(`${where}: array without items`);
    for (const [k, p] of Object.entries((s.properties ?? {}) as Obj)) walk(p, `${where}.${k}`);
    if (s.items) walk(s.items, `${where}[]`);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${where}{}`);
  };
  for (const [name, s] of Object.entries(doc.definitions as Obj)) walk(s, name);
  for (const [path, item] of Object.entries(doc.paths as Obj)) {
    for (const [verb, op] of Object.entries(item as Obj)) {
      if (verb === 'parameters') continue;
      for (const p of op.parameters ?? []) if (p.schema) walk(p.schema, `${path} ${verb} body`);
      for (const [code, r] of Object.entries(op.responses as Obj)) if ((r as Obj).schema) walk((r as Obj).schema, `${path} ${verb} ${code}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(names.has('io.k8s.api.core.v1.Pod') && names.has('io.k8s.api.networking.v1.NetworkPolicy'));
});

test('v3 styling is undone: a wrapped $ref is a plain one again (no allOf, no default {}); descriptions stay beside refs', () => {
  const defs = (openapiV2Document() as Obj).definitions;
  const meta = defs['io.k8s.api.networking.v1.NetworkPolicy'].properties.metadata;
  assert.deepEqual(meta, { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' });
  const time = defs['io.k8s.api.apps.v1.DeploymentCondition'].properties.lastTransitionTime;
  assert.equal(time.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time');
  assert.match(time.description, /Last time the condition transitioned/);
});

test('meta types name every group/version they are served in', () => {
  const gvks = (openapiV2Document() as Obj).definitions['io.k8s.apimachinery.pkg.apis.meta.v1.Status']['x-kubernetes-group-version-kind'];
  const groups = new Set(gvks.map((g: Obj) => g.group));
  for (const g of ['', 'apps', 'networking.k8s.io', 'discovery.k8s.io']) assert.ok(groups.has(g), `Status in "${g}"`);
});

// kubectl 1.27's supportsQueryParam and document.GetConsumes, run on the decoded protobuf: the
// first path whose PATCH names the GVK (a map in YAML) must list fieldValidation and SMP.
const kinds: Array<[string, string]> = [
  ['', 'Pod'],
  ['', 'Service'],
  ['', 'Namespace'],
  ['networking.k8s.io', 'NetworkPolicy'],
  ['apps', 'Deployment'],
];
for (const [group, kind] of kinds) {
  test(`protobuf: ${kind}'s PATCH declares its GVK, fieldValidation and strategic merge patch`, () => {
    const doc = decoded();
    const path = doc.paths.path.find((p: Obj) => {
      const gvk = extensions(p.value.patch?.vendor_extension).get('x-kubernetes-group-version-kind') as Obj | undefined;
      return gvk?.group === group && gvk?.version === 'v1' && gvk?.kind === kind;
    });
    assert.ok(path, `a PATCH path for ${kind}`);
    const params = path.value.patch.parameters.map((p: Obj) => p.parameter.non_body_parameter?.query_parameter_sub_schema?.name).filter(Boolean);
    assert.ok(params.includes('fieldValidation'), params.join(','));
    assert.ok(path.value.patch.consumes.includes('application/strategic-merge-patch+json'));
  });
}

test('protobuf: definitions keep types, refs, required and the patch metadata apply reads', () => {
  const defs = new Map<string, Obj>(decoded().definitions.additional_properties.map((d: Obj) => [d.name, d.value]));
  assert.equal(defs.size, Object.keys((openapiV2Document() as Obj).definitions).length);
  const pod = defs.get('io.k8s.api.core.v1.Pod')!;
  assert.deepEqual(extensions(pod.vendor_extension).get('x-kubernetes-group-version-kind'), [{ group: '', kind: 'Pod', version: 'v1' }]);
  const spec = defs.get('io.k8s.api.core.v1.PodSpec')!;
  assert.deepEqual(spec.type.value, ['object']);
  assert.deepEqual(spec.required, ['containers']);
  const containers = spec.properties.additional_properties.find((p: Obj) => p.name === 'containers').value;
  assert.deepEqual(containers.type.value, ['array']);
  assert.equal(containers.items.schema[0]._ref, '#/definitions/io.k8s.api.core.v1.Container');
  const ext = extensions(containers.vendor_extension);
  assert.equal(ext.get('x-kubernetes-patch-strategy'), 'merge');
  assert.equal(ext.get('x-kubernetes-patch-merge-key'), 'name');
  const labels = defs.get('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')!.properties.additional_properties.find((p: Obj) => p.name === 'labels').value;
  assert.deepEqual(labels.additional_properties.schema.type.value, ['string']);
});

let server: Server;
let port: number;
before(async () => {
  server = createServer((req, res) => serveOpenAPIV2(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
after(() => server.close());

function get(headers: Record<string, string>): Promise<{ status: number; headers: Obj; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request({ port, path: '/openapi/v2', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

test('serving: protobuf as kube-openapi labels it, JSON otherwise, ETags per representation, 406 for neither', async () => {
  const pb = await get({ Accept: MEDIA_TYPE_PROTOBUF_DEPRECATED });
  assert.equal(pb.status, 200);
  assert.equal(pb.headers['content-type'], MEDIA_TYPE_PROTOBUF);
  assert.equal(pb.headers.vary, 'Accept');
  assert.ok(pb.body.equals(openapiV2Encoded('protobuf').body));
  const json = await get({ Accept: 'application/json' });
  assert.equal(json.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(json.body.toString()).swagger, '2.0');
  assert.notEqual(json.headers.etag, pb.headers.etag);
  assert.match(String(pb.headers.etag), /^"[0-9A-F]{128}"$/);
  const cached = await get({ Accept: MEDIA_TYPE_PROTOBUF_DEPRECATED, 'If-None-Match': String(pb.headers.etag) });
  assert.equal(cached.status, 304);
  assert.equal(cached.body.length, 0);
  const stale = await get({ Accept: MEDIA_TYPE_PROTOBUF_DEPRECATED, 'If-None-Match': String(json.headers.etag) });
  assert.equal(stale.status, 200);
  assert.equal((await get({ Accept: 'text/html' })).status, 406);
});
