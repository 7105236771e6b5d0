// Request bodies into objects: JSON, YAML (bounded aliases) and the protobuf envelope `kubectl
// create <subcommand>` posts; then the decode-stage checks kube-apiserver makes before validation
// (type errors always, unknown fields per fieldValidation).
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest, unsupportedMediaType } from './errors.ts';
import { checkDecode } from './fields.ts';
import { decodeProtobufObject, ProtobufDecodeError } from './protobuf.ts';
import type { ResourceType } from './resources.ts';
import type { KubeObject } from './runtime.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidationParam(query: URLSearchParams): FieldValidation {
  const v = query.get('fieldValidation');
  if (v === null || v === '') return 'Strict';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation parameter unsupported: ${v}`);
}

const GO_ENVELOPE = 'json: cannot unmarshal %s into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'object';
  }
}

/**
 * How deeply a body may nest. Kubernetes objects stay far below this; the bound keeps every
 * recursive walk (schema checks, freezing, copying) within the stack.
 */
export const MAX_DEPTH = 1000;

/** Refuse values nested deeper than MAX_DEPTH (checked without recursion). */
export function checkDepth(value: unknown): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_DEPTH) throw badRequest(`couldn't get version/kind; json parse error: exceeded max depth ${MAX_DEPTH}`);
    for (const child of Object.values(v as object)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
}

/** Parse JSON text, answering a syntax error the way the apiserver's version/kind sniffing does. */
export function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
  checkDepth(value);
  return value;
}

export function parseYamlBody(text: string): unknown {
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true, prettyErrors: false });
  } catch (e) {
    throw badRequest(`error converting YAML to JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  checkDepth(value);
  // a JSON round trip leaves plain data only (no aliases shared between branches, no class instances)
  return JSON.parse(JSON.stringify(value ?? null));
}

/** Decode a create/update body into an object of the request's resource. */
export function decodeObjectBody(body: Buffer, contentType: string, r: ResourceType): KubeObject {
  let value: unknown;
  switch (contentType) {
    case 'application/json':
    case '':
      value = parseJsonBody(body.toString('utf8'));
      break;
    case 'application/yaml':
    case 'application/x-yaml':
      value = parseYamlBody(body.toString('utf8'));
      break;
    case 'application/vnd.kubernetes.protobuf':
      try {
        value = decodeProtobufObject(body);
        checkDepth(value);
      } catch (e) {
        if (e instanceof ProtobufDecodeError) throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ${e.message}`);
        throw e;
      }
      break;
    default:
      throw unsupportedMediaType(
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
      );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`couldn't get version/kind; json parse error: ${GO_ENVELOPE.replace('%s', jsonKind(value))}`);
  }
  const o = value as Record<string, unknown>;
  const expected = r.group ? `${r.group}/${r.version}` : r.version;
  if (o.apiVersion !== undefined && o.apiVersion !== expected) {
    if (typeof o.kind === 'string' && o.kind !== r.kind) {
      throw badRequest(`the object provided is unrecognized (must be of type ${r.kind}): ${o.kind} in version "${o.apiVersion}" cannot be handled as a ${r.kind}`);
    }
    throw badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${expected})`);
  }
  if (o.kind !== undefined && o.kind !== r.kind) {
    throw badRequest(`the object provided is unrecognized (must be of type ${r.kind}): ${String(o.kind)} in version "${String(o.apiVersion ?? expected)}" cannot be handled as a ${r.kind}`);
  }
  if (o.metadata !== undefined && (o.metadata === null || typeof o.metadata !== 'object' || Array.isArray(o.metadata))) {
    throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: json: cannot unmarshal ${jsonKind(o.metadata)} into Go struct field ${r.kind}.metadata of type v1.ObjectMeta`);
  }
  if (o.metadata === undefined) o.metadata = {};
  return o as KubeObject;
}

/** `spec.containers[0].imagee` → ["spec", "containers", 0, "imagee"]. */
export function fieldPathSegments(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

/** Remove the fields at these paths, as decoding into Go structs drops what they do not declare. */
export function pruneFields(obj: unknown, paths: readonly string[]): void {
  for (const path of paths) {
    const segs = fieldPathSegments(path);
    let parent: unknown = obj;
    for (const seg of segs.slice(0, -1)) {
      if (parent === null || typeof parent !== 'object') break;
      parent = (parent as Record<string | number, unknown>)[seg];
    }
    const last = segs[segs.length - 1];
    if (parent && typeof parent === 'object' && !Array.isArray(parent) && typeof last === 'string') delete (parent as Record<string, unknown>)[last];
  }
}

/**
 * The decode-stage checks: Go unmarshal type errors always fail (400); unknown fields fail under
 * Strict, become warnings under Warn, and pass under Ignore. Unknown fields that pass are dropped
 * from `obj`, as the typed decode would. Returns the warnings to send.
 */
export function checkDecoded(r: ResourceType, obj: unknown, validation: FieldValidation, prefix = true): string[] {
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const lead = prefix ? `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ` : '';
  const findings = checkDecode(gvk, obj);
  if (findings.typeErrors.length) throw badRequest(`${lead}${findings.typeErrors[0]}`);
  const unknown = findings.unknown;
  if (unknown.length === 0) return [];
  if (validation === 'Strict') throw new ApiError(400, 'BadRequest', `${lead}strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  pruneFields(obj, unknown);
  return validation === 'Warn' ? unknown.map((f) => `unknown field "${f}"`) : [];
}

/** A Warning header value (RFC 7234 warn-code 299, as kube-apiserver sends them). */
export function warningHeader(text: string): string {
  return `299 - ${JSON.stringify(text)}`;
}
