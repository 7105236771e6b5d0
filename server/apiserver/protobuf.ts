// Decodes the protobuf request bodies typed clients send (kubectl 1.32's `create namespace|
// deployment|configmap|service|secret|serviceaccount` POST application/vnd.kubernetes.protobuf):
// the `k8s\0` magic, a runtime.Unknown envelope naming apiVersion/kind, then the gogo-protobuf
// object. The result is the JSON a JSON client would have sent for the same Go object.
//
// Field numbers and Go types come from schema/proto.json (extracted from kubectl's compiled-in
// descriptors by schema-generate.ts). Which fields Go's JSON encoder omits when zero comes from
// the schemas: gogo writes every non-pointer scalar, zero or not, so a zero on the wire is only
// kept where the JSON field has no omitempty (a required field) or the Go field is a pointer.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import type { KubeObject } from './runtime.ts';
import { INT_OR_STRING, MICRO_TIME, QUANTITY, schemaDefinitions, TIME } from './schema.ts';

export class ProtobufDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufDecodeError';
  }
}

/** [field number, name, type, flags (1 repeated, 2 map, 4 inlined embedded struct), map key type] */
type FieldEntry = [number, string, string, number?, string?];
type MessageTable = Record<string, { fields: FieldEntry[] }>;

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"
const UNKNOWN = 'io.k8s.apimachinery.pkg.runtime.Unknown';
const FIELDS_V1 = 'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1';
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
const FLAG_REPEATED = 1;
const FLAG_MAP = 2;
const FLAG_INLINE = 4;

/** Go package of each served API group/version. */
const PACKAGES: Record<string, string> = {
  v1: 'io.k8s.api.core.v1',
  'apps/v1': 'io.k8s.api.apps.v1',
  'networking.k8s.io/v1': 'io.k8s.api.networking.v1',
  'discovery.k8s.io/v1': 'io.k8s.api.discovery.v1',
  'events.k8s.io/v1': 'io.k8s.api.events.v1',
  'autoscaling/v1': 'io.k8s.api.autoscaling.v1',
};

/**
 * Go pointer fields of scalar type (`Replicas *int32`): present on the wire only when set, and
 * then kept even when zero (`replicas: 0`, `automountServiceAccountToken: false`).
 */
const POINTER_SCALARS = new Set(
  [
    'core.v1.PodSpec.terminationGracePeriodSeconds',
    'core.v1.PodSpec.activeDeadlineSeconds',
    'core.v1.PodSpec.automountServiceAccountToken',
    'core.v1.PodSpec.shareProcessNamespace',
    'core.v1.PodSpec.priority',
    'core.v1.PodSpec.enableServiceLinks',
    'core.v1.PodSpec.setHostnameAsFQDN',
    'core.v1.PodSpec.hostUsers',
    'core.v1.PodSpec.runtimeClassName',
    'core.v1.PodSpec.preemptionPolicy',
    'core.v1.SecurityContext.privileged',
    'core.v1.SecurityContext.runAsUser',
    'core.v1.SecurityContext.runAsGroup',
    'core.v1.SecurityContext.runAsNonRoot',
    'core.v1.SecurityContext.readOnlyRootFilesystem',
    'core.v1.SecurityContext.allowPrivilegeEscalation',
    'core.v1.SecurityContext.procMount',
    'core.v1.PodSecurityContext.runAsUser',
    'core.v1.PodSecurityContext.runAsGroup',
    'core.v1.PodSecurityContext.runAsNonRoot',
    'core.v1.PodSecurityContext.fsGroup',
    'core.v1.PodSecurityContext.fsGroupChangePolicy',
    'core.v1.PodSecurityContext.supplementalGroupsPolicy',
    'core.v1.Probe.terminationGracePeriodSeconds',
    'core.v1.ConfigMap.immutable',
    'core.v1.Secret.immutable',
    'core.v1.ServiceAccount.automountServiceAccountToken',
    'core.v1.ServiceSpec.allocateLoadBalancerNodePorts',
    'core.v1.ServiceSpec.ipFamilyPolicy',
    'core.v1.ServiceSpec.loadBalancerClass',
    'core.v1.ServiceSpec.internalTrafficPolicy',
    'core.v1.ServiceSpec.trafficDistribution',
    'core.v1.ClientIPConfig.timeoutSeconds',
    'core.v1.ContainerStatus.started',
    'core.v1.KeyToPath.mode',
    'core.v1.ConfigMapVolumeSource.defaultMode',
    'core.v1.ConfigMapVolumeSource.optional',
    'core.v1.SecretVolumeSource.defaultMode',
    'core.v1.SecretVolumeSource.optional',
    'core.v1.ConfigMapKeySelector.optional',
    'core.v1.SecretKeySelector.optional',
    'core.v1.ConfigMapEnvSource.optional',
    'core.v1.SecretEnvSource.optional',
    'core.v1.HostPathVolumeSource.type',
    'core.v1.EndpointPort.appProtocol',
    'core.v1.ServicePort.appProtocol',
    'apps.v1.DeploymentSpec.replicas',
    'apps.v1.DeploymentSpec.revisionHistoryLimit',
    'apps.v1.DeploymentSpec.progressDeadlineSeconds',
    'apps.v1.ReplicaSetSpec.replicas',
    'apps.v1.DeploymentStatus.collisionCount',
    'networking.v1.NetworkPolicyPort.protocol',
    'networking.v1.NetworkPolicyPort.endPort',
    'discovery.v1.Endpoint.hostname',
    'discovery.v1.Endpoint.nodeName',
    'discovery.v1.Endpoint.zone',
    'discovery.v1.EndpointConditions.ready',
    'discovery.v1.EndpointConditions.serving',
    'discovery.v1.EndpointConditions.terminating',
    'discovery.v1.EndpointPort.name',
    'discovery.v1.EndpointPort.protocol',
    'discovery.v1.EndpointPort.port',
    'discovery.v1.EndpointPort.appProtocol',
    'autoscaling.v1.ScaleSpec.replicas',
  ].map((f) => `io.k8s.api.${f}`),
);
for (const f of ['ObjectMeta.deletionGracePeriodSeconds', 'DeleteOptions.gracePeriodSeconds', 'DeleteOptions.orphanDependents', 'DeleteOptions.propagationPolicy', 'OwnerReference.controller', 'OwnerReference.blockOwnerDeletion', 'ListMeta.remainingItemCount']) {
  POINTER_SCALARS.add(`io.k8s.apimachinery.pkg.apis.meta.v1.${f}`);
}

interface Decoder {
  table: MessageTable;
  root: protobuf.Root;
}

let decoder: Decoder | undefined;

function loadDecoder(): Decoder {
  if (decoder) return decoder;
  const table = JSON.parse(readFileSync(new URL('./schema/proto.json', import.meta.url), 'utf8')) as MessageTable;
  const root = new protobuf.Root();
  for (const [name, { fields }] of Object.entries(table)) {
    const dot = name.lastIndexOf('.');
    const type = new protobuf.Type(name.slice(dot + 1));
    for (const [id, fieldName, fieldType, flags = 0, keyType] of fields) {
      const t = table[fieldType] ? `.${fieldType}` : fieldType;
      if (flags & FLAG_MAP) type.add(new protobuf.MapField(fieldName, id, keyType ?? 'string', t));
      else type.add(new protobuf.Field(fieldName, id, t, flags & FLAG_REPEATED ? 'repeated' : 'optional'));
    }
    root.define(name.slice(0, dot)).add(type);
  }
  root.resolveAll();
  decoder = { table, root };
  return decoder;
}

/** Decodes a `k8s\0`-framed protobuf body into the JSON object a JSON client would send. */
export function decodeProtobufObject(body: Buffer): KubeObject {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ProtobufDecodeError('protobuf body does not start with the k8s\\0 magic prefix');
  }
  const d = loadDecoder();
  let envelope: Record<string, unknown>;
  try {
    envelope = d.root.lookupType(UNKNOWN).decode(body.subarray(MAGIC.length)) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new ProtobufDecodeError(`protobuf envelope (runtime.Unknown) is malformed: ${(err as Error).message}`);
  }
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  if (!apiVersion || !kind) throw new ProtobufDecodeError('protobuf envelope (runtime.Unknown) has no typeMeta apiVersion/kind');
  const contentEncoding = (envelope.contentEncoding as string | undefined) ?? '';
  if (contentEncoding) throw new ProtobufDecodeError(`protobuf content encoding ${JSON.stringify(contentEncoding)} is not supported`);
  const contentType = (envelope.contentType as string | undefined) ?? '';
  if (contentType && contentType !== 'application/vnd.kubernetes.protobuf') {
    throw new ProtobufDecodeError(`protobuf envelope content type ${JSON.stringify(contentType)} is not supported`);
  }
  const pkg = Object.hasOwn(PACKAGES, apiVersion) ? PACKAGES[apiVersion] : undefined;
  const message = pkg ? `${pkg}.${kind}` : undefined;
  if (!message || !d.table[message]) throw new ProtobufDecodeError(`no protobuf decoder for ${kind} in ${apiVersion}`);
  const raw = (envelope.raw as Uint8Array | undefined) ?? new Uint8Array();
  let decoded: Record<string, unknown>;
  try {
    decoded = d.root.lookupType(message).decode(raw) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new ProtobufDecodeError(`protobuf ${kind} is malformed: ${(err as Error).message}`);
  }
  const json = toJson(d.table, message, decoded) as Record<string, unknown>;
  return { apiVersion, kind, ...json } as KubeObject;
}

function toJson(table: MessageTable, message: string, value: Record<string, unknown>): unknown {
  switch (message) {
    case QUANTITY:
      return (value.string as string | undefined) ?? '0';
    case INT_OR_STRING:
      return num(value.type) === 1 ? ((value.strVal as string | undefined) ?? '') : num(value.intVal);
    case TIME:
    case MICRO_TIME:
      return formatTime(num(value.seconds), num(value.nanos), message === MICRO_TIME);
    case FIELDS_V1:
      return parseRaw(value.Raw);
    case RAW_EXTENSION:
      return parseRaw(value.raw);
  }
  const required = new Set(schemaDefinitions()[message]?.required ?? []);
  const out: Record<string, unknown> = {};
  for (const [, name, type, flags = 0] of table[message].fields) {
    if (!Object.hasOwn(value, name)) continue; // not on the wire
    const v = value[name];
    if (flags & FLAG_MAP) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length) out[name] = Object.fromEntries(entries.map(([k, x]) => [k, fieldValue(table, type, x)]));
    } else if (flags & FLAG_REPEATED) {
      const list = v as unknown[];
      if (list.length) out[name] = list.map((x) => fieldValue(table, type, x));
    } else if (table[type]) {
      const nested = toJson(table, type, v as Record<string, unknown>);
      // a zero metav1.Time is null, and Go's encoder writes it so (`"creationTimestamp": null`)
      if (flags & FLAG_INLINE) Object.assign(out, nested);
      else out[name] = nested;
    } else {
      const scalar = fieldValue(table, type, v);
      if (!isZero(scalar) || required.has(name) || POINTER_SCALARS.has(`${message}.${name}`)) out[name] = scalar;
    }
  }
  return out;
}

function fieldValue(table: MessageTable, type: string, v: unknown): unknown {
  if (table[type]) return toJson(table, type, v as Record<string, unknown>);
  if (type === 'bytes') return Buffer.from(v as Uint8Array).toString('base64');
  if (type === 'int64' || type === 'uint64' || type === 'sint64' || type === 'fixed64' || type === 'sfixed64') return num(v);
  return v;
}

function num(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  return Number(String(v)); // protobufjs Long
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function parseRaw(raw: unknown): unknown {
  if (!raw || (raw as Uint8Array).length === 0) return null;
  const text = Buffer.from(raw as Uint8Array).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtobufDecodeError('embedded raw JSON in protobuf body is malformed');
  }
}

/** metav1.Time marshals as RFC 3339 in UTC with whole seconds; MicroTime keeps six digits. */
function formatTime(seconds: number, nanos: number, micro: boolean): string | null {
  if (seconds === 0 && nanos === 0) return null; // Go's zero time marshals as null
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (!micro) return `${iso}Z`;
  return `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}
