// GET /openapi/v2: one Swagger 2.0 document for every served group/version, derived from the
// OpenAPI v3 documents (openapi.ts) so both describe the same schemas and operations. kubectl
// 1.27/1.28 fetch it as protobuf (gnostic's openapi_v2.Document) before `apply`/`create -f`:
// - to build the client-side validator (every $ref must resolve, arrays need items, or the parse
//   fails and apply stops); the validator then steps aside because the PATCH operations declare
//   `fieldValidation`, so the server's strict validation reports unknown fields;
// - for apply's patch: the PATCH `consumes` list decides strategic merge patch, and the
//   x-kubernetes-patch-strategy/-merge-key extensions on the schemas drive it.
// Served as JSON unless the client asks for protobuf, with an ETag, as kube-openapi's handler does.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import protobuf from 'protobufjs';
import { stringify as yamlStringify } from 'yaml';
import { openapiV3Document, openapiV3Paths } from './openapi.ts';

export const MEDIA_TYPE_JSON = 'application/json';
/** What kubectl asks for; kube-openapi answers it with MEDIA_TYPE_PROTOBUF. */
export const MEDIA_TYPE_PROTOBUF_DEPRECATED = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
export const MEDIA_TYPE_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** A JSON object of the Swagger document (or of its gnostic message form). */
export type Json = Record<string, unknown>;

export class OpenAPIV2Error extends Error {
  constructor(where: string, message: string) {
    super(`openapi v2: ${where}: ${message}`);
    this.name = 'OpenAPIV2Error';
  }
}

// ---- Swagger 2.0 from the v3 documents ----

const V3_REF = '#/components/schemas/';
const V2_REF = '#/definitions/';

/** The Swagger 2.0 document (built once per process). */
export function openapiV2Document(): Json {
  if (swagger) return swagger;
  const paths: Record<string, Json> = {};
  const definitions: Record<string, Json> = {};
  let version = '';
  for (const gv of Object.keys(openapiV3Paths()).sort()) {
    const doc = openapiV3Document(gv) as { info: { version: string }; paths: Record<string, Json>; components: { schemas: Record<string, Json> } };
    version = doc.info.version;
    for (const [path, item] of Object.entries(doc.paths)) paths[path] = pathItem(item, `paths.${path}`);
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      const converted = schemaV2(schema, `definitions.${name}`);
      const existing = definitions[name];
      // meta types (Status, DeleteOptions) are listed once per group/version in v3; v2 has one
      // definition naming every group/version it is served in
      if (existing) converted['x-kubernetes-group-version-kind'] = unionGvks(existing['x-kubernetes-group-version-kind'], converted['x-kubernetes-group-version-kind']);
      definitions[name] = converted;
    }
  }
  swagger = {
    swagger: '2.0',
    info: { title: 'Kubernetes', version },
    paths: sortedObject(paths),
    definitions: sortedObject(definitions),
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', type: 'apiKey', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
  return swagger;
}
let swagger: Json | undefined;

function sortedObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

function unionGvks(a: unknown, b: unknown): unknown {
  if (!Array.isArray(a) || !Array.isArray(b)) return b ?? a;
  const seen = new Map<string, unknown>();
  for (const g of [...a, ...b] as Array<{ group: string; version: string; kind: string }>) seen.set(`${g.group}/${g.version}/${g.kind}`, g);
  return [...seen.values()];
}

const OPERATIONS = ['get', 'put', 'post', 'delete', 'patch'] as const;

function pathItem(item: Json, where: string): Json {
  const out: Json = {};
  for (const key of Object.keys(item)) {
    if (key === 'parameters') out.parameters = (item.parameters as Json[]).map((p, i) => parameterV2(p, `${where}.parameters[${i}]`));
    else if (!(OPERATIONS as readonly string[]).includes(key)) throw new OpenAPIV2Error(where, `"${key}" has no Swagger 2.0 form`);
  }
  for (const op of OPERATIONS) if (item[op]) out[op] = operationV2(item[op] as Json, `${where}.${op}`);
  return out;
}

function operationV2(op: Json, where: string): Json {
  const out: Json = { description: op.description };
  const parameters = ((op.parameters as Json[] | undefined) ?? []).map((p, i) => parameterV2(p, `${where}.parameters[${i}]`));
  const body = op.requestBody as { content: Record<string, { schema: Json }>; required?: boolean } | undefined;
  out.consumes = body ? Object.keys(body.content) : ['*/*'];
  const responses: Json = {};
  let produces: string[] = [];
  for (const [code, response] of Object.entries(op.responses as Record<string, { description: string; content?: Record<string, { schema: Json }> }>)) {
    const content = response.content ?? {};
    const types = Object.keys(content);
    if (types.length && !produces.length) produces = types;
    responses[code] = types.length ? { description: response.description, schema: schemaV2(content[types[0]].schema, `${where}.responses.${code}`) } : { description: response.description };
  }
  out.produces = produces.length ? produces : [MEDIA_TYPE_JSON];
  out.schemes = ['https'];
  out.tags = op.tags;
  out.operationId = op.operationId;
  if (body) {
    const first = Object.values(body.content)[0];
    parameters.unshift({ name: 'body', in: 'body', required: body.required ?? true, schema: schemaV2(first.schema, `${where}.requestBody`) });
  }
  if (parameters.length) out.parameters = parameters;
  out.responses = responses;
  for (const [k, v] of Object.entries(op)) {
    if (k.startsWith('x-')) out[k] = v;
    else if (!['description', 'parameters', 'requestBody', 'responses', 'tags', 'operationId'].includes(k)) throw new OpenAPIV2Error(where, `"${k}" has no Swagger 2.0 form`);
  }
  return out;
}

function parameterV2(p: Json, where: string): Json {
  const schema = (p.schema ?? {}) as Json;
  for (const k of Object.keys(schema)) if (k !== 'type' && k !== 'uniqueItems') throw new OpenAPIV2Error(where, `parameter schema "${k}" has no Swagger 2.0 form`);
  if (p.in !== 'query' && p.in !== 'path') throw new OpenAPIV2Error(where, `parameters in "${String(p.in)}" are not served`);
  const out: Json = { uniqueItems: schema.uniqueItems, type: schema.type, description: p.description, name: p.name, in: p.in };
  if (p.required) out.required = true;
  return out;
}

/** A v3 schema in v2 form: refs under #/definitions/, kube-openapi's allOf wrapper undone. */
function schemaV2(node: Json, where: string): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    switch (k) {
      case '$ref':
        out.$ref = v3RefToV2(v, where);
        break;
      case 'allOf': {
        // v3 wraps a described $ref in allOf (its siblings would be ignored); v2 allows siblings
        const parts = v as Json[];
        if (parts.length !== 1 || typeof parts[0].$ref !== 'string' || Object.keys(parts[0]).length !== 1) throw new OpenAPIV2Error(where, 'allOf other than a single $ref has no Swagger 2.0 form');
        out.$ref = v3RefToV2(parts[0].$ref, where);
        break;
      }
      case 'default':
        // the {} kube-openapi adds beside wrapped refs; real defaults are kept
        if (!(node.allOf && isEmptyObject(v))) out.default = v;
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(v as Record<string, Json>).map(([name, s]) => [name, schemaV2(s, `${where}.properties.${name}`)]));
        break;
      case 'items':
        out.items = schemaV2(v as Json, `${where}.items`);
        break;
      case 'additionalProperties':
        out.additionalProperties = typeof v === 'boolean' ? v : schemaV2(v as Json, `${where}.additionalProperties`);
        break;
      case 'type':
      case 'format':
      case 'description':
      case 'required':
      case 'enum':
      case 'uniqueItems':
        out[k] = v;
        break;
      default:
        if (!k.startsWith('x-')) throw new OpenAPIV2Error(where, `"${k}" has no Swagger 2.0 form`);
        out[k] = v;
    }
  }
  return out;
}

function v3RefToV2(ref: unknown, where: string): string {
  if (typeof ref !== 'string' || !ref.startsWith(V3_REF)) throw new OpenAPIV2Error(where, `$ref ${JSON.stringify(ref)} is not a component schema`);
  return V2_REF + ref.slice(V3_REF.length);
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

// ---- gnostic openapi_v2 messages ----

let documentType: protobuf.Type | undefined;

/** gnostic's openapi.v2.Document message type, from openapi-v2.proto. */
export function gnosticDocumentType(): protobuf.Type {
  if (!documentType) {
    const root = protobuf.Root.fromJSON(protobuf.common.get('google/protobuf/any.proto') as protobuf.INamespace);
    protobuf.parse(readFileSync(new URL('./openapi-v2.proto', import.meta.url), 'utf8'), root, { keepCase: true });
    root.resolveAll();
    documentType = root.lookupType('openapi.v2.Document');
  }
  return documentType;
}

/**
 * The Swagger document as gnostic's ParseDocument builds it: vendor extensions, defaults and enum
 * values become Any messages holding YAML (kubectl reads them back with yaml.Unmarshal).
 */
export function gnosticDocument(doc: Json): Json {
  return {
    swagger: doc.swagger,
    info: doc.info,
    paths: { path: Object.entries(doc.paths as Record<string, Json>).map(([name, item]) => ({ name, value: gnosticPathItem(item) })) },
    definitions: { additional_properties: Object.entries(doc.definitions as Record<string, Json>).map(([name, s]) => ({ name, value: gnosticSchema(s) })) },
    security: (doc.security as Array<Record<string, string[]>>).map((req) => ({ additional_properties: Object.entries(req).map(([name, value]) => ({ name, value: { value } })) })),
    security_definitions: {
      additional_properties: Object.entries(doc.securityDefinitions as Record<string, Json>).map(([name, d]) => ({
        name,
        value: { api_key_security: { type: d.type, name: d.name, in: d.in, description: d.description } },
      })),
    },
  };
}

function gnosticPathItem(item: Json): Json {
  const out: Json = {};
  for (const op of OPERATIONS) if (item[op]) out[op] = gnosticOperation(item[op] as Json);
  if (item.parameters) out.parameters = (item.parameters as Json[]).map(gnosticParameter);
  return out;
}

function gnosticOperation(op: Json): Json {
  return {
    tags: op.tags,
    description: op.description,
    operation_id: op.operationId,
    produces: op.produces,
    consumes: op.consumes,
    parameters: ((op.parameters as Json[] | undefined) ?? []).map(gnosticParameter),
    responses: {
      response_code: Object.entries(op.responses as Record<string, Json>).map(([name, r]) => ({
        name,
        value: { response: { description: r.description, ...(r.schema ? { schema: { schema: gnosticSchema(r.schema as Json) } } : {}) } },
      })),
    },
    schemes: op.schemes,
    vendor_extension: vendorExtensions(op),
  };
}

function gnosticParameter(p: Json): Json {
  if (p.in === 'body') return { parameter: { body_parameter: { name: p.name, in: p.in, required: p.required === true, schema: gnosticSchema(p.schema as Json) } } };
  const sub = { required: p.required === true, in: p.in, description: p.description, name: p.name, type: p.type, unique_items: p.uniqueItems === true };
  return { parameter: { non_body_parameter: p.in === 'path' ? { path_parameter_sub_schema: sub } : { query_parameter_sub_schema: sub } } };
}

function gnosticSchema(s: Json): Json {
  const out: Json = {};
  if (s.$ref !== undefined) out._ref = s.$ref;
  if (s.format !== undefined) out.format = s.format;
  if (s.description !== undefined) out.description = s.description;
  if (s.default !== undefined) out.default = yamlAny(s.default);
  if (s.uniqueItems !== undefined) out.unique_items = s.uniqueItems;
  if (s.required !== undefined) out.required = s.required;
  if (s.enum !== undefined) out.enum = (s.enum as unknown[]).map(yamlAny);
  if (s.additionalProperties !== undefined) out.additional_properties = typeof s.additionalProperties === 'boolean' ? { boolean: s.additionalProperties } : { schema: gnosticSchema(s.additionalProperties as Json) };
  if (s.type !== undefined) out.type = { value: [s.type] };
  if (s.items !== undefined) out.items = { schema: [gnosticSchema(s.items as Json)] };
  if (s.properties !== undefined) out.properties = { additional_properties: Object.entries(s.properties as Record<string, Json>).map(([name, p]) => ({ name, value: gnosticSchema(p) })) };
  const ext = vendorExtensions(s);
  if (ext.length) out.vendor_extension = ext;
  return out;
}

function vendorExtensions(o: Json): Json[] {
  return Object.entries(o)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, value]) => ({ name, value: yamlAny(value) }));
}

function yamlAny(value: unknown): Json {
  return { yaml: yamlStringify(value) };
}

// ---- serving ----

interface Encoded {
  body: Buffer;
  etag: string;
}

let jsonEncoded: Encoded | undefined;
let protobufEncoded: Encoded | undefined;

function encoded(format: 'json' | 'protobuf'): Encoded {
  if (format === 'json') return (jsonEncoded ??= withEtag(Buffer.from(JSON.stringify(openapiV2Document()))));
  if (!protobufEncoded) {
    const type = gnosticDocumentType();
    const plain = gnosticDocument(openapiV2Document());
    const problem = type.verify(plain);
    if (problem) throw new OpenAPIV2Error('protobuf', problem);
    protobufEncoded = withEtag(Buffer.from(type.encode(type.fromObject(plain)).finish()));
  }
  return protobufEncoded;
}

function withEtag(body: Buffer): Encoded {
  return { body, etag: `"${createHash('sha512').update(body).digest('hex').toUpperCase()}"` };
}

/** The v2 document in the form an Accept header asks for (kubectl sends the protobuf type). */
export function openapiV2Encoded(format: 'json' | 'protobuf'): Readonly<Encoded> {
  return encoded(format);
}

const OFFERS: Array<{ type: string; subtype: string; format: 'json' | 'protobuf'; contentType: string }> = [
  { type: 'application', subtype: 'json', format: 'json', contentType: MEDIA_TYPE_JSON },
  { type: 'application', subtype: MEDIA_TYPE_PROTOBUF_DEPRECATED.split('/')[1], format: 'protobuf', contentType: MEDIA_TYPE_PROTOBUF },
  { type: 'application', subtype: MEDIA_TYPE_PROTOBUF.split('/')[1], format: 'protobuf', contentType: MEDIA_TYPE_PROTOBUF },
];

/**
 * The representation for an Accept header, as kube-openapi picks it: clauses by quality (the more
 * specific first among equals), the first offer each matches; undefined when none fits (406).
 */
export function negotiateOpenAPIV2(accept: string | undefined): { format: 'json' | 'protobuf'; contentType: string } | undefined {
  const clauses = (accept?.trim() ? accept : '*/*')
    .split(',')
    .map((part, index) => {
      const [range, ...params] = part.split(';').map((s) => s.trim());
      const [type = '', subtype = ''] = range.split('/');
      let q = 1;
      for (const p of params) {
        const [k, v] = p.split('=').map((s) => s.trim());
        if (k === 'q') q = Number(v);
      }
      return { type, subtype, q: Number.isFinite(q) ? q : 0, specificity: (type === '*' ? 0 : 1) + (subtype === '*' ? 0 : 1), index };
    })
    .filter((c) => c.type && c.subtype && c.q > 0)
    .sort((a, b) => b.q - a.q || b.specificity - a.specificity || a.index - b.index);
  for (const c of clauses) {
    for (const offer of OFFERS) {
      if ((c.type === offer.type || c.type === '*') && (c.subtype === offer.subtype || c.subtype === '*')) return { format: offer.format, contentType: offer.contentType };
    }
  }
  return undefined;
}

/** GET/HEAD /openapi/v2. */
export function serveOpenAPIV2(req: IncomingMessage, res: ServerResponse): void {
  const chosen = negotiateOpenAPIV2(req.headers.accept);
  if (!chosen) {
    res.writeHead(406, { Vary: 'Accept' });
    res.end();
    return;
  }
  const { body, etag } = encoded(chosen.format);
  const headers = { Vary: 'Accept', ETag: etag, 'Content-Type': chosen.contentType, 'Cache-Control': 'no-cache, private' };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
