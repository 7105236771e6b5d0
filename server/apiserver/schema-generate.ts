// Regenerates the schema data under server/apiserver/schema/ (run by hand, output committed):
//
//   node --import tsx server/apiserver/schema-generate.ts [/usr/lib/google-cloud-sdk/bin/kubectl.1.32]
//
// Two sources, both already on a development machine, so nothing is downloaded:
// - the protobuf descriptors compiled into a kubectl binary (go-to-protobuf registers each
//   generated.proto as a gzipped FileDescriptorProto): exact field numbers and Go field types
//   (Quantity, IntOrString, Time, pointers to messages, maps) -> schema/proto.json;
// - the @kubernetes/client-node models (attributeTypeMap + the doc comments in their .d.ts):
//   JSON field names with embedded structs inlined, descriptions and required fields
//   -> schema/definitions.json, in the OpenAPI v3 shape kube-apiserver publishes.
// Patch strategies and list types are not in either source; schema.ts keeps them as a table.
import { readFileSync, readdirSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import descriptorExt from 'protobufjs/ext/descriptor/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'schema');

/** Root kinds served by the embedded API: Go package, kind, client-node model. */
const ROOTS: Array<{ pkg: string; group: string; version: string; kind: string; model: string; list?: string }> = [
  ...['Namespace', 'Pod', 'Service', 'Endpoints', 'ConfigMap', 'ServiceAccount', 'Secret', 'Node', 'ResourceQuota', 'LimitRange'].map(
    (kind) => ({ pkg: 'io.k8s.api.core.v1', group: '', version: 'v1', kind, model: `V1${kind}`, list: `V1${kind}List` }),
  ),
  { pkg: 'io.k8s.api.core.v1', group: '', version: 'v1', kind: 'Event', model: 'CoreV1Event', list: 'CoreV1EventList' },
  { pkg: 'io.k8s.api.core.v1', group: '', version: 'v1', kind: 'PodExecOptions', model: '' },
  { pkg: 'io.k8s.api.core.v1', group: '', version: 'v1', kind: 'PodAttachOptions', model: '' },
  { pkg: 'io.k8s.api.core.v1', group: '', version: 'v1', kind: 'PodLogOptions', model: '' },
  { pkg: 'io.k8s.api.networking.v1', group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', model: 'V1NetworkPolicy', list: 'V1NetworkPolicyList' },
  { pkg: 'io.k8s.api.apps.v1', group: 'apps', version: 'v1', kind: 'Deployment', model: 'V1Deployment', list: 'V1DeploymentList' },
  { pkg: 'io.k8s.api.apps.v1', group: 'apps', version: 'v1', kind: 'ReplicaSet', model: 'V1ReplicaSet', list: 'V1ReplicaSetList' },
  { pkg: 'io.k8s.api.autoscaling.v1', group: 'autoscaling', version: 'v1', kind: 'Scale', model: 'V1Scale' },
  { pkg: 'io.k8s.api.discovery.v1', group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', model: 'V1EndpointSlice', list: 'V1EndpointSliceList' },
  { pkg: 'io.k8s.api.events.v1', group: 'events.k8s.io', version: 'v1', kind: 'Event', model: 'EventsV1Event', list: 'EventsV1EventList' },
  { pkg: 'io.k8s.apimachinery.pkg.apis.meta.v1', group: '', version: 'v1', kind: 'Status', model: 'V1Status' },
  { pkg: 'io.k8s.apimachinery.pkg.apis.meta.v1', group: '', version: 'v1', kind: 'DeleteOptions', model: 'V1DeleteOptions' },
  { pkg: 'io.k8s.apimachinery.pkg.apis.meta.v1', group: '', version: 'v1', kind: 'WatchEvent', model: 'V1WatchEvent' },
  { pkg: 'io.k8s.apimachinery.pkg.apis.meta.v1', group: '', version: 'v1', kind: 'Patch', model: '' },
];

const PROTO_FILES = [
  'k8s.io/api/core/v1/generated.proto',
  'k8s.io/api/apps/v1/generated.proto',
  'k8s.io/api/networking/v1/generated.proto',
  'k8s.io/api/discovery/v1/generated.proto',
  'k8s.io/api/events/v1/generated.proto',
  'k8s.io/api/autoscaling/v1/generated.proto',
  'k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto',
  'k8s.io/apimachinery/pkg/runtime/generated.proto',
  'k8s.io/apimachinery/pkg/runtime/schema/generated.proto',
  'k8s.io/apimachinery/pkg/util/intstr/generated.proto',
  'k8s.io/apimachinery/pkg/api/resource/generated.proto',
];

/** Go types with their own JSON form: the OpenAPI schema kube-apiserver publishes for each. */
const SPECIAL: Record<string, object> = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string', description: 'Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.' },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string', description: 'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time', description: 'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time', description: 'MicroTime is version of Time with microsecond level precision.' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Duration': { type: 'string', description: 'Duration is a wrapper around time.Duration which supports correct marshaling to YAML and JSON.' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': { type: 'object', description: 'FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.' },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': { type: 'object', description: 'RawExtension is used to hold extensions in external versions.' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' },
};

function protoToGoName(full: string): string {
  // .k8s.io.api.core.v1.Pod -> io.k8s.api.core.v1.Pod
  return full.replace(/^\./, '').replace(/^k8s\.io\./, 'io.k8s.');
}

function findKubectl(): string {
  const arg = process.argv[2];
  if (arg) return arg;
  for (const dir of ['/usr/lib/google-cloud-sdk/bin', '/usr/local/bin', '/usr/bin']) {
    if (!existsSync(dir)) continue;
    // the release the embedded API reports in /version
    if (existsSync(join(dir, 'kubectl.1.32'))) return join(dir, 'kubectl.1.32');
  }
  throw new Error('no kubectl.1.XX binary found; pass its path as the first argument');
}

/** Finds the gzipped FileDescriptorProtos that go-to-protobuf compiles into a Go binary. */
function extractDescriptors(binary: Buffer, wanted: Set<string>): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  let at = 0;
  while (found.size < wanted.size) {
    at = binary.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), at);
    if (at < 0) break;
    const start = at;
    at += 3;
    let raw: Buffer;
    try {
      raw = gunzipSync(binary.subarray(start, start + 400_000), { finishFlush: 2 /* Z_SYNC_FLUSH */ });
    } catch {
      continue;
    }
    if (raw[0] !== 0x0a) continue;
    const name = raw.subarray(2, 2 + raw[1]).toString('latin1');
    if (wanted.has(name) && !found.has(name)) found.set(name, raw);
  }
  return found;
}

// --- protobuf side ---------------------------------------------------------------------------

interface ProtoFieldJson { type: string; id: number; rule?: string; keyType?: string }

const kubectl = findKubectl();
console.log(`reading protobuf descriptors from ${kubectl}`);
const raws = extractDescriptors(readFileSync(kubectl), new Set(PROTO_FILES));
const missing = PROTO_FILES.filter((f) => !raws.has(f));
if (missing.length) throw new Error(`descriptors not found in ${kubectl}: ${missing.join(', ')}`);
const ext = descriptorExt as unknown as {
  FileDescriptorProto: { decode(b: Buffer): unknown };
  FileDescriptorSet: { create(o: { file: unknown[] }): unknown };
};
const set = ext.FileDescriptorSet.create({ file: PROTO_FILES.map((f) => ext.FileDescriptorProto.decode(raws.get(f)!)) });
const root = (protobuf.Root as unknown as { fromDescriptor(s: unknown): protobuf.Root }).fromDescriptor(set);
root.resolveAll();

/** proto messages by Go-qualified name */
const protoMessages = new Map<string, protobuf.Type>();
(function walk(ns: protobuf.NamespaceBase) {
  for (const obj of ns.nestedArray) {
    if (obj instanceof protobuf.Type) protoMessages.set(protoToGoName(obj.fullName), obj);
    if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type) walk(obj);
  }
})(root);

// --- client-node side ------------------------------------------------------------------------

const require = createRequire(import.meta.url);
const modelsDir = join(dirname(require.resolve('@kubernetes/client-node/package.json')), 'dist/gen/models');

interface Attr { name: string; baseName: string; type: string; format: string }
interface Model { description?: string; attrs: Attr[]; docs: Map<string, string>; required: Set<string> }

const modelCache = new Map<string, Model | null>();
function loadModel(name: string): Model | null {
  if (modelCache.has(name)) return modelCache.get(name)!;
  const js = join(modelsDir, `${name}.js`);
  if (!existsSync(js)) {
    modelCache.set(name, null);
    return null;
  }
  const src = readFileSync(js, 'utf8');
  const m = /attributeTypeMap = (\[[\s\S]*?\]);/.exec(src);
  const attrs: Attr[] = m ? (JSON.parse(m[1]) as Attr[]) : [];
  const dts = readFileSync(join(modelsDir, `${name}.d.ts`), 'utf8');
  const docs = new Map<string, string>();
  const required = new Set<string>();
  let description: string | undefined;
  const classDoc = /\/\*\*\s*\n((?:\*[^\n]*\n)+?)\s*\*\/\s*\nexport declare class/.exec(dts);
  if (classDoc) description = cleanDoc(classDoc[1]);
  const propRe = /(?:\/\*\*\s*\n((?:\s*\*[^\n]*\n)+?)\s*\*\/\s*\n)?\s*'([^']+)'(\??):/g;
  for (let p = propRe.exec(dts); p; p = propRe.exec(dts)) {
    if (p[1]) docs.set(p[2], cleanDoc(p[1]));
    if (p[3] !== '?') required.add(p[2]);
  }
  const model = { description, attrs, docs, required };
  modelCache.set(name, model);
  return model;
}

function cleanDoc(block: string): string {
  return block
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, ''))
    .join('\n')
    .trim()
    .replace(/\\(["'])/g, '$1');
}

// --- building definitions ------------------------------------------------------------------

type Schema = Record<string, unknown>;
const definitions: Record<string, Schema> = {};
const protoOut: Record<string, { fields: Array<[number, string, string, number?, string?]> }> = {};
const warnings: string[] = [];
const dropped: string[] = [];

const VERSION_PREFIX = /^(Core|Apps|Networking|Discovery|Events|Autoscaling)?(V\d+(?:alpha\d+|beta\d+)?)(.+)$/;

/** Go name of a client-node model referenced from a definition in package `fromPkg`. */
function goNameOf(model: string, fromPkg: string): string | undefined {
  const m = VERSION_PREFIX.exec(model);
  if (!m) return undefined;
  const [, prefix, version, kind] = m;
  const v = version.toLowerCase();
  const candidates = [...protoMessages.keys()].filter((n) => n.endsWith(`.${v}.${kind}`));
  if (prefix) {
    const pkg = `io.k8s.api.${prefix.toLowerCase()}.${v}`;
    return candidates.find((c) => c.startsWith(pkg + '.'));
  }
  return (
    candidates.find((c) => c.startsWith(fromPkg + '.')) ??
    candidates.find((c) => c.startsWith('io.k8s.apimachinery.pkg.apis.meta.v1.')) ??
    candidates.find((c) => c.startsWith('io.k8s.api.core.v1.')) ??
    (candidates.length === 1 ? candidates[0] : undefined)
  );
}

function pkgOf(goName: string): string {
  return goName.slice(0, goName.lastIndexOf('.'));
}

/** The proto field behind a JSON property, looking through embedded (inlined) structs. */
function protoField(msg: protobuf.Type | undefined, jsonName: string): protobuf.Field | undefined {
  if (!msg) return undefined;
  const direct = msg.fields[jsonName];
  if (direct) return direct;
  for (const f of msg.fieldsArray) {
    if (f.resolvedType instanceof protobuf.Type) {
      const inner = f.resolvedType.fields[jsonName];
      if (inner && isInline(msg, f)) return inner;
    }
  }
  return undefined;
}

/**
 * Embedded Go structs that JSON inlines appear in proto as an ordinary message field whose name
 * is no JSON property (Volume.volumeSource, ConfigMapKeySelector.localObjectReference, ...).
 * Found while building definitions: a message field the client-node model does not list.
 */
const inlineFields = new Set<string>();
function isInline(msg: protobuf.Type, f: protobuf.Field): boolean {
  return inlineFields.has(`${protoToGoName(msg.fullName)}.${f.name}`);
}
function noteInlineFields(goName: string, msg: protobuf.Type | undefined, m: Model): void {
  if (!msg) return;
  const props = new Set(m.attrs.map((a) => a.baseName));
  for (const f of msg.fieldsArray) {
    if (!props.has(f.name) && f.resolvedType instanceof protobuf.Type && !f.repeated && !(f instanceof protobuf.MapField)) {
      const inner = f.resolvedType.fieldsArray.map((x) => x.name);
      if (inner.some((n) => props.has(n))) inlineFields.add(`${goName}.${f.name}`);
    }
  }
}

function refTo(goName: string): Schema {
  return { $ref: `#/components/schemas/${goName}` };
}

function scalarSchema(tsType: string, format: string): Schema | undefined {
  switch (tsType) {
    case 'string':
      return format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
    case 'number':
      return format === 'double' ? { type: 'number', format: 'double' } : { type: 'integer', format: format || 'int32' };
    case 'boolean':
      return { type: 'boolean' };
    case 'any':
    case 'object':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    default:
      return undefined;
  }
}

/** Schema for a TS type from attributeTypeMap, with the Go type of the proto field when special. */
function typeSchema(tsType: string, format: string, fromPkg: string, pf: protobuf.Field | undefined, queue: string[]): Schema {
  const special = pf && pf.resolvedType ? protoToGoName(pf.resolvedType.fullName) : undefined;
  if (tsType.startsWith('Array<')) {
    const inner = tsType.slice(6, -1);
    return { type: 'array', items: typeSchema(inner, format, fromPkg, pf, queue) };
  }
  if (tsType.startsWith('{ [key: string]: ')) {
    const inner = tsType.slice('{ [key: string]: '.length, -3);
    return { type: 'object', additionalProperties: typeSchema(inner, format, fromPkg, pf, queue) };
  }
  if (special && special in SPECIAL) {
    queue.push(special);
    return refTo(special);
  }
  if (tsType === 'IntOrString') {
    queue.push('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    return refTo('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
  }
  if (tsType === 'Date') {
    queue.push('io.k8s.apimachinery.pkg.apis.meta.v1.Time');
    return refTo('io.k8s.apimachinery.pkg.apis.meta.v1.Time');
  }
  const scalar = scalarSchema(tsType, pf && !pf.resolvedType ? protoFormat(pf.type) ?? format : format);
  if (scalar) return scalar;
  const goName = goNameOf(tsType, fromPkg);
  if (!goName) {
    warnings.push(`no Go type for model ${tsType}`);
    return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  }
  queue.push(`${goName}|${tsType}`);
  return refTo(goName);
}

function protoFormat(protoType: string): string | undefined {
  switch (protoType) {
    case 'int32':
      return 'int32';
    case 'int64':
      return 'int64';
    case 'double':
      return 'double';
    case 'bytes':
      return 'byte';
    default:
      return undefined;
  }
}

/** A definition built from protobuf alone, for the few types client-node lacks. */
function schemaFromProto(goName: string, queue: string[]): Schema {
  const msg = protoMessages.get(goName);
  if (!msg) throw new Error(`no proto message ${goName}`);
  const properties: Record<string, Schema> = {};
  for (const f of msg.fieldsArray) {
    let s: Schema;
    if (f.resolvedType instanceof protobuf.Type) {
      const n = protoToGoName(f.resolvedType.fullName);
      queue.push(n);
      s = refTo(n);
    } else {
      s = scalarSchema(f.type === 'bool' ? 'boolean' : f.type === 'string' || f.type === 'bytes' ? 'string' : 'number', protoFormat(f.type) ?? '') ?? {};
    }
    if (f instanceof protobuf.MapField) s = { type: 'object', additionalProperties: s };
    else if (f.repeated) s = { type: 'array', items: s };
    properties[f.name] = s;
  }
  return { type: 'object', properties };
}

function build(goName: string, model: string | undefined, queue: string[]): void {
  if (definitions[goName]) return;
  if (goName in SPECIAL) {
    definitions[goName] = { ...SPECIAL[goName] };
    return;
  }
  const m = model ? loadModel(model) : null;
  if (!m) {
    definitions[goName] = schemaFromProto(goName, queue);
    return;
  }
  const msg = protoMessages.get(goName);
  if (!msg) warnings.push(`no proto message for ${goName} (${model})`);
  const properties: Record<string, Schema> = {};
  definitions[goName] = { type: 'object' }; // placeholder against cycles (JSONSchemaProps)
  noteInlineFields(goName, msg, m);
  for (const a of m.attrs) {
    const pf = protoField(msg, a.baseName);
    if (msg && !pf && a.baseName !== 'apiVersion' && a.baseName !== 'kind') {
      // a field newer than the Kubernetes release the descriptors come from: the served
      // release would reject it as unknown, so the schema leaves it out too
      dropped.push(`${goName}.${a.baseName}`);
      continue;
    }
    const s = typeSchema(a.type, a.format, pkgOf(goName), pf, queue);
    const doc = m.docs.get(a.name);
    if (doc) s.description = doc;
    properties[a.baseName] = s;
  }
  const def: Schema = {};
  if (m.description) def.description = m.description;
  def.type = 'object';
  def.properties = properties;
  const required = m.attrs.filter((a) => m.required.has(a.name) && a.baseName in properties).map((a) => a.baseName);
  if (required.length) def.required = required;
  definitions[goName] = def;
}

const queue: string[] = [];
for (const r of ROOTS) {
  const goName = `${r.pkg}.${r.kind}`;
  build(goName, r.model || undefined, queue);
  definitions[goName]['x-kubernetes-group-version-kind'] = [{ group: r.group, kind: r.kind, version: r.version }];
  if (r.list) {
    const listName = `${r.pkg}.${r.kind}List`;
    build(listName, r.list, queue);
    definitions[listName]['x-kubernetes-group-version-kind'] = [{ group: r.group, kind: `${r.kind}List`, version: r.version }];
  }
}
while (queue.length) {
  const item = queue.shift()!;
  const [goName, model] = item.split('|');
  build(goName, model, queue);
}

// Every protobuf message reachable from the served kinds, in a compact form protobuf.ts reads.
const protoQueue = [
  ...ROOTS.map((r) => `${r.pkg}.${r.kind}`),
  ...ROOTS.filter((r) => r.list).map((r) => `${r.pkg}.${r.kind}List`),
  'io.k8s.apimachinery.pkg.runtime.Unknown',
];
while (protoQueue.length) {
  const name = protoQueue.shift()!;
  if (protoOut[name]) continue;
  const msg = protoMessages.get(name);
  if (!msg) continue;
  const fields: Array<[number, string, string, number?, string?]> = [];
  for (const f of msg.fieldsArray) {
    const type = f.resolvedType ? protoToGoName(f.resolvedType.fullName) : f.type;
    if (f.resolvedType) protoQueue.push(type);
    // flags: 1 repeated, 2 map, 4 inline (embedded struct)
    const flags = (f.repeated ? 1 : 0) | (f instanceof protobuf.MapField ? 2 : 0) | (isInline(msg, f) ? 4 : 0);
    const entry: [number, string, string, number?, string?] = [f.id, f.name, type];
    if (flags) entry.push(flags);
    if (f instanceof protobuf.MapField) {
      if (!flags) entry.push(0);
      entry.push(f.keyType);
    }
    fields.push(entry);
  }
  protoOut[name] = { fields };
}

mkdirSync(outDir, { recursive: true });
const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
writeFileSync(join(outDir, 'definitions.json'), JSON.stringify(sorted(definitions)) + '\n');
writeFileSync(join(outDir, 'proto.json'), JSON.stringify(sorted(protoOut)) + '\n');
console.log(`${Object.keys(definitions).length} definitions, ${Object.keys(protoOut).length} protobuf messages`);
for (const w of [...new Set(warnings)]) console.log(`note: ${w}`);
console.log(`left out (newer than the descriptors' release): ${dropped.join(', ')}`);
