// Turning an HTTP request into what the API is asked to do (kube-apiserver's RequestInfoFactory),
// content negotiation (JSON, Table, PartialObjectMetadata) and bounded body reading.
import type { IncomingMessage } from 'node:http';
import { badRequest, requestTooLarge, ApiError } from './errors.ts';
import type { IncludeObject } from './tables.ts';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceRequest {
  kind: 'resource';
  verb: Verb;
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** "api/v1" | "apis/apps/v1" */
  groupVersionPath: string;
}

export interface NonResourceRequest {
  kind: 'nonresource';
  verb: string;
  path: string;
}

export type RequestInfo = ResourceRequest | NonResourceRequest;

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** Classify a path (already stripped of the cluster prefix, starting with "/"). */
export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const nonResource = (): NonResourceRequest => ({ kind: 'nonresource', verb: method.toLowerCase(), path });
  const parts = path.split('/').filter((p) => p !== '');
  let group: string;
  let version: string;
  let rest: string[];
  let groupVersionPath: string;
  if (parts[0] === 'api') {
    if (parts.length < 3) return nonResource();
    group = '';
    version = parts[1];
    rest = parts.slice(2);
    groupVersionPath = `api/${version}`;
  } else if (parts[0] === 'apis') {
    if (parts.length < 4) return nonResource();
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
    groupVersionPath = `apis/${group}/${version}`;
  } else return nonResource();
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
  }
  const resource = rest[0];
  const name = rest[1];
  const subresource = rest[2];
  if (rest.length > 3) return nonResource();
  let verb: Verb;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = name ? 'get' : isTrue(query.get('watch')) ? 'watch' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      return nonResource();
  }
  const info: ResourceRequest = { kind: 'resource', verb, group, version, resource, groupVersionPath };
  if (namespace !== undefined) info.namespace = namespace;
  if (name !== undefined) info.name = decodeURIComponent(name);
  if (subresource !== undefined) info.subresource = subresource;
  if (resource === 'namespaces' && name !== undefined) info.namespace = info.name;
  return info;
}

export function isTrue(v: string | null): boolean {
  return v === 'true' || v === '1';
}

export type ResponseForm =
  | { as: 'object' }
  | { as: 'table'; apiVersion: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1' }
  | { as: 'metadata'; apiVersion: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1' };

/**
 * The representation an Accept header asks for. Clients list alternatives in preference order
 * (Table, then plain JSON); protobuf is answered with JSON, which every client also accepts.
 */
export function responseForm(accept: string | undefined): ResponseForm {
  if (!accept) return { as: 'object' };
  for (const part of accept.split(',')) {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    const params = new Map<string, string>();
    for (const p of rest) {
      const i = p.indexOf('=');
      if (i > 0) params.set(p.slice(0, i).trim(), p.slice(i + 1).trim());
    }
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*' && type !== 'application/vnd.kubernetes.protobuf') continue;
    const as = params.get('as');
    if (!as) return { as: 'object' };
    if (params.get('g') !== 'meta.k8s.io') continue;
    const v = params.get('v');
    if (v !== 'v1' && v !== 'v1beta1') continue;
    const apiVersion = v === 'v1' ? 'meta.k8s.io/v1' : 'meta.k8s.io/v1beta1';
    if (as === 'Table') return { as: 'table', apiVersion };
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { as: 'metadata', apiVersion };
  }
  if (/(^|,)\s*(application\/json|\*\/\*|application\/\*|application\/vnd\.kubernetes\.protobuf)\s*(;|,|$)/.test(accept)) return { as: 'object' };
  throw new ApiError(406, 'NotAcceptable', `only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch`);
}

export function includeObjectParam(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  if (v === null || v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'None' || v === 'Object') return v;
  throw badRequest(`unrecognized includeObject value: "${v}"`);
}

/** The request body limit kube-apiserver enforces (MaxRequestBodyBytes). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Read a request body, refusing more than `limit` bytes with 413 before buffering it all. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw requestTooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw requestTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}
