// The resource verbs over HTTP: get, list, watch, create, update, patch, delete, deletecollection,
// and the status/scale/log subresources, with Table and metadata-only responses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkDecoded, decodeObjectBody, fieldValidationParam, parseJsonBody, warningHeader } from './body.ts';
import type { ClusterContext } from './context.ts';
import { ApiError, badRequest, methodNotAllowed, pathNotFound, successStatus, unsupportedMediaType } from './errors.ts';
import { groupResource, RETURNS_DELETED_OBJECT, type DeleteOptions } from './objects.ts';
import { includeObjectParam, mediaType, readBody, responseForm, type ResourceRequest, type ResponseForm } from './request.ts';
import { findResource, type ResourceType } from './resources.ts';
import { sendJson } from './respond.ts';
import type { KubeObject } from './runtime.ts';
import { compileFieldSelector, parseFieldSelector, parseLabelSelector, pinnedField } from './selectors.ts';
import { jsonMergePatch, jsonPatch, PatchError, strategicMergePatch } from './smp.ts';
import { thaw } from './store.ts';
import { toTable } from './tables.ts';
import { matchesFilter, serveWatch, type WatchFilter } from './watch.ts';
import { serveLog } from './podlog.ts';

type Json = any;

function listKindOf(r: ResourceType): string {
  return r.listKind;
}

function apiVersionOf(r: ResourceType): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

function dryRunParam(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`Invalid dryRun value: ${v}. Valid values are: All`);
  return values.length > 0;
}

function render(ctx: ClusterContext, r: ResourceType, form: ResponseForm, query: URLSearchParams, object: KubeObject): unknown {
  switch (form.as) {
    case 'object':
      return object;
    case 'table':
      return toTable(r.plural, [object], { now: ctx.now(), includeObject: includeObjectParam(query), apiVersion: form.apiVersion, resourceVersion: object.metadata.resourceVersion });
    case 'metadata':
      return { kind: 'PartialObjectMetadata', apiVersion: form.apiVersion, metadata: object.metadata };
  }
}

function warningHeaders(warnings: string[]): Record<string, string[]> {
  return warnings.length ? { Warning: warnings.map(warningHeader) } : {};
}

function buildFilter(r: ResourceType, namespace: string | undefined, query: URLSearchParams): WatchFilter {
  const labels = parseLabelSelector(query.get('labelSelector') ?? '');
  const fieldReqs = parseFieldSelector(query.get('fieldSelector') ?? '');
  const fields = compileFieldSelector(r.plural, fieldReqs);
  const pinnedNs = r.namespaced ? pinnedField(fieldReqs, 'metadata.namespace') : undefined;
  return { namespace: namespace ?? pinnedNs, labels, fields };
}

interface ContinueToken {
  rv: string;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(t.rv), start: t.start })).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (typeof v.start !== 'string') throw new Error('no start');
    return { rv: String(v.rv), start: v.start };
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

function keyOf(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

function list(ctx: ClusterContext, r: ResourceType, namespace: string | undefined, query: URLSearchParams, form: ResponseForm): unknown {
  const filter = buildFilter(r, namespace, query);
  let items = ctx.store.list(r.plural, filter.namespace).filter((o) => matchesFilter(o, filter));
  const rv = String(ctx.store.resourceVersion);
  const cont = query.get('continue');
  if (cont) {
    const { start } = decodeContinue(cont);
    items = items.filter((o) => keyOf(o) > start);
  }
  const limit = Number(query.get('limit') ?? 0);
  let next: string | undefined;
  let remaining: number | undefined;
  if (limit > 0 && items.length > limit) {
    remaining = items.length - limit;
    items = items.slice(0, limit);
    next = encodeContinue({ rv, start: keyOf(items[items.length - 1]) });
  }
  switch (form.as) {
    case 'table': {
      const t = toTable(r.plural, items, { now: ctx.now(), includeObject: includeObjectParam(query), apiVersion: form.apiVersion, resourceVersion: rv });
      if (next) t.metadata.continue = next;
      return t;
    }
    case 'metadata': {
      const metadata: Json = { resourceVersion: rv };
      if (next) metadata.continue = next;
      return { kind: 'PartialObjectMetadataList', apiVersion: form.apiVersion, metadata, items: items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: form.apiVersion, metadata: o.metadata })) };
    }
    case 'object': {
      const metadata: Json = { resourceVersion: rv };
      if (next) {
        metadata.continue = next;
        metadata.remainingItemCount = remaining;
      }
      return { kind: listKindOf(r), apiVersion: apiVersionOf(r), metadata, items };
    }
  }
}

function deleteOptionsFrom(body: Buffer, query: URLSearchParams): DeleteOptions {
  const opts: DeleteOptions = {};
  if (body.length > 0) {
    const o = parseJsonBody(body.toString('utf8')) as Json;
    if (o && typeof o === 'object') {
      if (typeof o.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = o.gracePeriodSeconds;
      if (o.propagationPolicy) opts.propagationPolicy = o.propagationPolicy;
      if (o.orphanDependents === true) opts.propagationPolicy = 'Orphan';
      if (o.preconditions) opts.preconditions = o.preconditions;
      if (Array.isArray(o.dryRun) && o.dryRun.length) opts.dryRun = true;
    }
  }
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null) opts.gracePeriodSeconds = Number(grace);
  const prop = query.get('propagationPolicy');
  if (prop) opts.propagationPolicy = prop as DeleteOptions['propagationPolicy'];
  if (query.get('orphanDependents') === 'true') opts.propagationPolicy = 'Orphan';
  if (dryRunParam(query)) opts.dryRun = true;
  if (opts.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
    throw badRequest(`DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  return opts;
}

const PATCH_TYPES = new Set(['application/strategic-merge-patch+json', 'application/merge-patch+json', 'application/json-patch+json']);

/** Apply a PATCH body to `original` by its Content-Type. */
export function applyPatch(r: ResourceType, original: KubeObject, body: Buffer, contentType: string): KubeObject {
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const base = thaw(original) as object;
  let patched: unknown;
  try {
    switch (contentType) {
      case 'application/strategic-merge-patch+json': {
        const patch = parseJsonBody(body.toString('utf8'));
        if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}');
        patched = strategicMergePatch(base, patch as object, gvk);
        break;
      }
      case 'application/merge-patch+json': {
        const patch = parseJsonBody(body.toString('utf8'));
        patched = jsonMergePatch(base, patch as object);
        break;
      }
      case 'application/json-patch+json': {
        const ops = parseJsonBody(body.toString('utf8'));
        if (!Array.isArray(ops)) throw badRequest('the server rejected our request due to an error in our request');
        patched = jsonPatch(base, ops);
        break;
      }
      case 'application/apply-patch+yaml':
        throw unsupportedMediaType(
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (server-side apply is not supported by this cluster; use kubectl apply without --server-side)',
        );
      default:
        throw unsupportedMediaType(
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json',
        );
    }
  } catch (e) {
    if (e instanceof PatchError) throw new ApiError(422, 'Invalid', e.message);
    throw e;
  }
  if (!patched || typeof patched !== 'object' || Array.isArray(patched)) throw badRequest('the patched object is not an object');
  const p = patched as Json;
  p.metadata ??= {};
  return p as KubeObject;
}

function scaleOf(r: ResourceType, o: Json): Json {
  const sel = o.spec?.selector;
  const selector = sel
    ? [
        ...Object.entries((sel.matchLabels ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`),
        ...((sel.matchExpressions ?? []) as Json[]).map((e) => `${e.key} ${String(e.operator).toLowerCase()} (${(e.values ?? []).join(',')})`),
      ].join(',')
    : '';
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, selector },
  };
}

async function serveSubresource(ctx: ClusterContext, req: IncomingMessage, res: ServerResponse, r: ResourceType, info: ResourceRequest, ns: string | undefined, query: URLSearchParams): Promise<void> {
  const name = info.name as string;
  const sub = info.subresource as string;
  const declared = r.subresources.find((s) => s.name === sub);
  if (!declared) throw pathNotFound();
  const gr = { group: r.group, resource: `${r.plural}/${sub}` };
  switch (sub) {
    case 'status': {
      if (info.verb === 'get') return sendJson(res, 200, ctx.objects.get(r, ns, name));
      const dryRun = dryRunParam(query);
      const body = await readBody(req);
      const validation = fieldValidationParam(query);
      let next: KubeObject;
      if (info.verb === 'update') next = decodeObjectBody(body, mediaType(req.headers['content-type']), r);
      else if (info.verb === 'patch') next = applyPatch(r, ctx.objects.get(r, ns, name), body, mediaType(req.headers['content-type']));
      else throw methodNotAllowed(gr, name);
      const warnings = checkDecoded(r, next, validation, info.verb === 'update');
      return sendJson(res, 200, ctx.objects.update(r, ns, name, next, { subresource: 'status', dryRun }), warningHeaders(warnings));
    }
    case 'scale': {
      const current = ctx.objects.get(r, ns, name) as Json;
      if (info.verb === 'get') return sendJson(res, 200, scaleOf(r, current));
      if (info.verb !== 'update' && info.verb !== 'patch') throw methodNotAllowed(gr, name);
      const body = await readBody(req);
      const type = mediaType(req.headers['content-type']);
      const scale: Json =
        info.verb === 'update'
          ? parseJsonBody(body.toString('utf8'))
          : applyPatch({ ...r, kind: 'Scale', group: 'autoscaling', version: 'v1' }, scaleOf(r, current), body, type === 'application/strategic-merge-patch+json' ? 'application/merge-patch+json' : type);
      const replicas = scale?.spec?.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        throw new ApiError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`, {
          name,
          group: 'autoscaling',
          kind: 'Scale',
          causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`, field: 'spec.replicas' }],
        });
      }
      if (scale?.metadata?.resourceVersion && scale.metadata.resourceVersion !== current.metadata.resourceVersion) {
        throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${r.plural}.${r.group} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
          name,
          group: r.group,
          kind: r.plural,
        });
      }
      const next = thaw(current);
      next.spec.replicas = replicas;
      const updated = ctx.objects.update(r, ns, name, next, { dryRun: dryRunParam(query) });
      return sendJson(res, 200, scaleOf(r, updated));
    }
    case 'log':
      if (info.verb !== 'get') throw methodNotAllowed(gr, name);
      return serveLog(ctx, req, res, ns as string, name, query);
    case 'exec':
    case 'attach':
      // a plain request without an Upgrade header
      throw badRequest('Upgrade request required');
    default:
      throw pathNotFound();
  }
}

/** Serve one resource request (everything below /api/v1 and /apis/<g>/<v>). */
export async function serveResource(ctx: ClusterContext, req: IncomingMessage, res: ServerResponse, info: ResourceRequest, query: URLSearchParams): Promise<void> {
  const r = findResource(info.group, info.version, info.resource);
  if (!r) throw pathNotFound();
  if (info.namespace !== undefined && !r.namespaced && r.plural !== 'namespaces') throw pathNotFound();
  const ns = r.namespaced ? info.namespace : undefined;
  const gr = groupResource(r);
  if (info.subresource) {
    if (!info.name) throw pathNotFound();
    return serveSubresource(ctx, req, res, r, info, ns, query);
  }
  if (!r.verbs.includes(info.verb)) throw methodNotAllowed(gr, info.name);
  const form = info.verb === 'get' || info.verb === 'list' || info.verb === 'watch' ? responseForm(req.headers.accept) : ({ as: 'object' } as const);
  switch (info.verb) {
    case 'get':
      return sendJson(res, 200, render(ctx, r, form, query, ctx.objects.get(r, ns, info.name as string)));
    case 'list':
      return sendJson(res, 200, list(ctx, r, ns, query, form));
    case 'watch': {
      const filter = buildFilter(r, ns, query);
      const timeout = query.get('timeoutSeconds');
      serveWatch(ctx, req, res, r, filter, {
        resourceVersion: query.get('resourceVersion'),
        timeoutSeconds: timeout !== null && timeout !== '' ? Math.max(0, Number(timeout)) : undefined,
        allowBookmarks: query.get('allowWatchBookmarks') === 'true',
        form,
        includeObject: includeObjectParam(query),
      });
      return;
    }
    case 'create': {
      if (r.namespaced && ns === undefined) throw methodNotAllowed(gr);
      const dryRun = dryRunParam(query);
      const validation = fieldValidationParam(query);
      const body = await readBody(req);
      const obj = decodeObjectBody(body, mediaType(req.headers['content-type']), r);
      const warnings = checkDecoded(r, obj, validation);
      const created = ctx.objects.create(r, ns, obj, { dryRun });
      return sendJson(res, 201, created, warningHeaders(warnings));
    }
    case 'update': {
      const dryRun = dryRunParam(query);
      const validation = fieldValidationParam(query);
      const body = await readBody(req);
      const obj = decodeObjectBody(body, mediaType(req.headers['content-type']), r);
      const warnings = checkDecoded(r, obj, validation);
      return sendJson(res, 200, ctx.objects.update(r, ns, info.name as string, obj, { dryRun }), warningHeaders(warnings));
    }
    case 'patch': {
      const dryRun = dryRunParam(query);
      const validation = fieldValidationParam(query);
      const type = mediaType(req.headers['content-type']);
      // the patch type decides before the object does: server-side apply is refused even for a new object
      if (!PATCH_TYPES.has(type)) applyPatch(r, { metadata: { name: info.name as string } }, Buffer.from('{}'), type);
      const body = await readBody(req);
      const current = ctx.objects.get(r, ns, info.name as string);
      const patched = applyPatch(r, current, body, type);
      const warnings = checkDecoded(r, patched, validation, false);
      return sendJson(res, 200, ctx.objects.update(r, ns, info.name as string, patched, { dryRun }), warningHeaders(warnings));
    }
    case 'delete': {
      const body = await readBody(req);
      const opts = deleteOptionsFrom(body, query);
      const result = ctx.objects.delete(r, ns, info.name as string, opts);
      if (opts.propagationPolicy && !opts.dryRun) ctx.rememberPropagation(result.object.metadata.uid as string, opts.propagationPolicy);
      if (!result.removed || RETURNS_DELETED_OBJECT.has(r.plural)) return sendJson(res, 200, result.object);
      const details: Json = { name: result.object.metadata.name, kind: r.plural, uid: result.object.metadata.uid };
      if (r.group) details.group = r.group;
      return sendJson(res, 200, successStatus(details));
    }
    case 'deletecollection': {
      const body = await readBody(req);
      const opts = deleteOptionsFrom(body, query);
      const filter = buildFilter(r, ns, query);
      const victims = ctx.store.list(r.plural, filter.namespace).filter((o) => matchesFilter(o, filter));
      const items: KubeObject[] = [];
      for (const v of victims) {
        try {
          const result = ctx.objects.delete(r, v.metadata.namespace, v.metadata.name, opts);
          if (opts.propagationPolicy && !opts.dryRun) ctx.rememberPropagation(result.object.metadata.uid as string, opts.propagationPolicy);
          items.push(result.object);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
      return sendJson(res, 200, { kind: r.listKind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(ctx.store.resourceVersion) }, items });
    }
  }
}
