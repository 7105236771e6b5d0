// Errors as kube-apiserver reports them: a metav1.Status body with the reason and code kubectl
// switches on (`Error from server (NotFound): pods "x" not found`). Handlers throw ApiError;
// the host turns it into the Status response.
import type { FieldError } from '../netpol/types.ts';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'NonZeroExitCode';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** A group/resource pair as apimachinery's schema.GroupResource prints it: `pods`, `deployments.apps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export class ApiError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details?: StatusDetails;
  /** extra response headers (e.g. Retry-After) */
  readonly headers?: Record<string, string>;
  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails, headers?: Record<string, string>) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.headers = headers;
  }

  toStatus(): Status {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) s.details = this.details;
    return s;
  }
}

function detailsFor(gr: GroupResource, name?: string): StatusDetails {
  const d: StatusDetails = {};
  if (name !== undefined && name !== '') d.name = name;
  if (gr.group) d.group = gr.group;
  d.kind = gr.resource;
  return d;
}

export function notFound(gr: GroupResource, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, detailsFor(gr, name));
}

/** The 404 for a path the server does not serve (no such resource in a known group/version). */
export function pathNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(gr: GroupResource, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, detailsFor(gr, name));
}

export function conflict(gr: GroupResource, name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`, detailsFor(gr, name));
}

export const OPTIMISTIC_LOCK_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function methodNotAllowed(gr: GroupResource, name?: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', detailsFor(gr, name));
}

export function unsupportedMediaType(message: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', message);
}

export function requestTooLarge(limit: number): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(gr: GroupResource, name: string, why: string, causes?: StatusCause[]): ApiError {
  const subject = gr.resource === '' ? 'forbidden' : name ? `${qualifiedResource(gr)} "${name}" is forbidden` : `${qualifiedResource(gr)} is forbidden`;
  const details: StatusDetails = gr.resource === '' ? {} : detailsFor(gr, name);
  if (causes && causes.length) details.causes = causes;
  return new ApiError(403, 'Forbidden', `${subject}: ${why}`, details);
}

export function internalError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: '', message }] });
}

/** One field error as `field.Error.Error()` prints it: `spec.x: Invalid value: "y": reason`. */
export function formatCause(e: FieldError): string {
  return e.field ? `${e.field}: ${e.message}` : e.message;
}

/**
 * 422 Invalid, as apierrors.NewInvalid builds it: `NetworkPolicy.networking.k8s.io "np" is invalid: <errs>`
 * where one error prints bare and several as `[e1, e2]` (utilerrors.Aggregate).
 */
export function invalid(kind: { group: string; kind: string }, name: string, errors: FieldError[]): ApiError {
  const qualifiedKind = kind.group ? `${kind.kind}.${kind.group}` : kind.kind;
  const seen = new Set<string>();
  const messages: string[] = [];
  for (const e of errors) {
    const m = formatCause(e);
    if (!seen.has(m)) {
      seen.add(m);
      messages.push(m);
    }
  }
  const aggregate = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
  const details: StatusDetails = { name, kind: kind.kind, causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })) };
  if (kind.group) details.group = kind.group;
  return new ApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${aggregate}`, details);
}

export function successStatus(details?: StatusDetails): Record<string, unknown> {
  const s: Record<string, unknown> = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
  if (details) s.details = details;
  return s;
}
