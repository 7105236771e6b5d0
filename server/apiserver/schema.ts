// The schemas of the served kinds, loaded once per process and shared by every cluster:
// OpenAPI v3 component schemas (definitions.json, built by schema-generate.ts from the
// client-node models and kubectl's compiled-in protobuf descriptors), plus what neither source
// carries: patch strategies and merge keys (the Go struct tags kube-apiserver's strategic merge
// patch reads) and the names of Go's named types (for json unmarshal error messages).
import { readFileSync } from 'node:fs';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** The subset of an OpenAPI v3 schema object the definitions use. */
export interface SchemaNode {
  $ref?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode;
  items?: SchemaNode;
  required?: string[];
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  [extension: `x-${string}`]: unknown;
}

export type PatchStrategy = 'merge' | 'retainKeys' | 'replace';

/** How strategic merge patch treats one field (Go struct tags patchStrategy / patchMergeKey). */
export interface PatchMeta {
  strategies: PatchStrategy[];
  mergeKey?: string;
}

const CORE = 'io.k8s.api.core.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const APPS = 'io.k8s.api.apps.v1';

/**
 * patchStrategy/patchMergeKey struct tags of the served types, as compiled into kube-apiserver
 * and kubectl 1.32 (read from the tag strings in the kubectl binary). Every field not listed
 * here has no strategy: its lists are replaced whole (NetworkPolicy's ingress/egress/ports...).
 */
const PATCH_TAGS: Record<string, string> = {
  [`${META}.ObjectMeta.ownerReferences`]: 'merge:uid',
  [`${META}.ObjectMeta.finalizers`]: 'merge',
  [`${CORE}.PodSpec.volumes`]: 'merge,retainKeys:name',
  [`${CORE}.PodSpec.initContainers`]: 'merge:name',
  [`${CORE}.PodSpec.containers`]: 'merge:name',
  [`${CORE}.PodSpec.ephemeralContainers`]: 'merge:name',
  [`${CORE}.PodSpec.imagePullSecrets`]: 'merge:name',
  [`${CORE}.PodSpec.hostAliases`]: 'merge:ip',
  [`${CORE}.PodSpec.topologySpreadConstraints`]: 'merge:topologyKey',
  [`${CORE}.PodSpec.schedulingGates`]: 'merge:name',
  [`${CORE}.PodSpec.resourceClaims`]: 'merge,retainKeys:name',
  [`${CORE}.Container.ports`]: 'merge:containerPort',
  [`${CORE}.Container.env`]: 'merge:name',
  [`${CORE}.Container.volumeMounts`]: 'merge:mountPath',
  [`${CORE}.Container.volumeDevices`]: 'merge:devicePath',
  [`${CORE}.EphemeralContainer.ports`]: 'merge:containerPort',
  [`${CORE}.EphemeralContainer.env`]: 'merge:name',
  [`${CORE}.EphemeralContainer.volumeMounts`]: 'merge:mountPath',
  [`${CORE}.EphemeralContainer.volumeDevices`]: 'merge:devicePath',
  [`${CORE}.ContainerStatus.volumeMounts`]: 'merge:mountPath',
  [`${CORE}.ContainerStatus.allocatedResourcesStatus`]: 'merge:name',
  [`${CORE}.PodStatus.conditions`]: 'merge:type',
  [`${CORE}.PodStatus.podIPs`]: 'merge:ip',
  [`${CORE}.PodStatus.hostIPs`]: 'merge:ip',
  [`${CORE}.PodStatus.resourceClaimStatuses`]: 'merge,retainKeys:name',
  [`${CORE}.ServiceSpec.ports`]: 'merge:port',
  [`${CORE}.ServiceStatus.conditions`]: 'merge:type',
  [`${CORE}.ServiceAccount.secrets`]: 'merge:name',
  [`${CORE}.NamespaceStatus.conditions`]: 'merge:type',
  [`${CORE}.NodeSpec.podCIDRs`]: 'merge',
  [`${CORE}.NodeStatus.conditions`]: 'merge:type',
  [`${CORE}.NodeStatus.addresses`]: 'merge:type',
  [`${APPS}.DeploymentSpec.strategy`]: 'retainKeys',
  [`${APPS}.DeploymentStatus.conditions`]: 'merge:type',
  [`${APPS}.ReplicaSetStatus.conditions`]: 'merge:type',
};

/** +listType / +listMapKey markers published in the OpenAPI documents (server-side apply metadata). */
const LIST_TYPES: Record<string, { type: 'atomic' | 'map' | 'set'; keys?: string[] }> = {
  [`${CORE}.Container.ports`]: { type: 'map', keys: ['containerPort', 'protocol'] },
  [`${CORE}.ServiceSpec.ports`]: { type: 'map', keys: ['port', 'protocol'] },
  [`${CORE}.PodStatus.podIPs`]: { type: 'map', keys: ['ip'] },
  [`${CORE}.PodStatus.hostIPs`]: { type: 'atomic' },
  [`${META}.ObjectMeta.finalizers`]: { type: 'set' },
  [`${META}.ObjectMeta.managedFields`]: { type: 'atomic' },
  ['io.k8s.api.networking.v1.NetworkPolicySpec.ingress']: { type: 'atomic' },
  ['io.k8s.api.networking.v1.NetworkPolicySpec.egress']: { type: 'atomic' },
  ['io.k8s.api.networking.v1.NetworkPolicySpec.policyTypes']: { type: 'atomic' },
  ['io.k8s.api.networking.v1.NetworkPolicyIngressRule.ports']: { type: 'atomic' },
  ['io.k8s.api.networking.v1.NetworkPolicyIngressRule.from']: { type: 'atomic' },
  ['io.k8s.api.networking.v1.NetworkPolicyEgressRule.ports']: { type: 'atomic' },
  ['io.k8s.api.networking.v1.NetworkPolicyEgressRule.to']: { type: 'atomic' },
  ['io.k8s.api.networking.v1.IPBlock.except']: { type: 'atomic' },
};

/**
 * Go named types behind string/map fields (`type Protocol string`): json unmarshal errors name
 * them (`of type v1.Protocol`), and neither schema source records them.
 */
const GO_NAMED: Record<string, string> = {
  [`${CORE}.Container.imagePullPolicy`]: 'v1.PullPolicy',
  [`${CORE}.Container.terminationMessagePolicy`]: 'v1.TerminationMessagePolicy',
  [`${CORE}.ContainerPort.protocol`]: 'v1.Protocol',
  [`${CORE}.ServicePort.protocol`]: 'v1.Protocol',
  [`${CORE}.EndpointPort.protocol`]: 'v1.Protocol',
  [`${CORE}.PodSpec.restartPolicy`]: 'v1.RestartPolicy',
  [`${CORE}.PodSpec.dnsPolicy`]: 'v1.DNSPolicy',
  [`${CORE}.PodSpec.preemptionPolicy`]: 'v1.PreemptionPolicy',
  [`${CORE}.PodStatus.phase`]: 'v1.PodPhase',
  [`${CORE}.PodStatus.qosClass`]: 'v1.PodQOSClass',
  [`${CORE}.PodCondition.type`]: 'v1.PodConditionType',
  [`${CORE}.PodCondition.status`]: 'v1.ConditionStatus',
  [`${CORE}.ServiceSpec.type`]: 'v1.ServiceType',
  [`${CORE}.ServiceSpec.sessionAffinity`]: 'v1.ServiceAffinity',
  [`${CORE}.ServiceSpec.externalTrafficPolicy`]: 'v1.ServiceExternalTrafficPolicy',
  [`${CORE}.ServiceSpec.internalTrafficPolicy`]: 'v1.ServiceInternalTrafficPolicy',
  [`${CORE}.ServiceSpec.ipFamilies`]: 'v1.IPFamily',
  [`${CORE}.ServiceSpec.ipFamilyPolicy`]: 'v1.IPFamilyPolicy',
  [`${CORE}.Secret.type`]: 'v1.SecretType',
  [`${CORE}.NamespaceStatus.phase`]: 'v1.NamespacePhase',
  [`${CORE}.NamespaceSpec.finalizers`]: 'v1.FinalizerName',
  [`${CORE}.ResourceRequirements.limits`]: 'v1.ResourceList',
  [`${CORE}.ResourceRequirements.requests`]: 'v1.ResourceList',
  [`${CORE}.Capabilities.add`]: 'v1.Capability',
  [`${CORE}.Capabilities.drop`]: 'v1.Capability',
  [`${CORE}.Toleration.operator`]: 'v1.TolerationOperator',
  [`${CORE}.Toleration.effect`]: 'v1.TaintEffect',
  [`${CORE}.HTTPGetAction.scheme`]: 'v1.URIScheme',
  [`${CORE}.VolumeMount.mountPropagation`]: 'v1.MountPropagationMode',
  ['io.k8s.api.networking.v1.NetworkPolicySpec.policyTypes']: 'v1.PolicyType',
  ['io.k8s.api.networking.v1.NetworkPolicyPort.protocol']: 'v1.Protocol',
  ['io.k8s.api.discovery.v1.EndpointSlice.addressType']: 'v1.AddressType',
  ['io.k8s.api.discovery.v1.EndpointPort.protocol']: 'v1.Protocol',
  [`${APPS}.DeploymentStrategy.type`]: 'v1.DeploymentStrategyType',
  [`${APPS}.DeploymentCondition.type`]: 'v1.DeploymentConditionType',
  [`${APPS}.DeploymentCondition.status`]: 'v1.ConditionStatus',
  [`${APPS}.ReplicaSetCondition.type`]: 'v1.ReplicaSetConditionType',
  [`${APPS}.ReplicaSetCondition.status`]: 'v1.ConditionStatus',
};

export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.Time';
export const MICRO_TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime';

let definitionsCache: Record<string, SchemaNode> | undefined;

/** Every served definition by Go-qualified name (io.k8s.api.core.v1.Pod); loaded on first use. */
export function schemaDefinitions(): Readonly<Record<string, SchemaNode>> {
  if (!definitionsCache) {
    const url = new URL('./schema/definitions.json', import.meta.url);
    definitionsCache = JSON.parse(readFileSync(url, 'utf8')) as Record<string, SchemaNode>;
    decorate(definitionsCache);
  }
  return definitionsCache;
}

/** Adds the patch and list metadata tables to the loaded definitions, in OpenAPI extension form. */
function decorate(defs: Record<string, SchemaNode>): void {
  for (const [key, tag] of Object.entries(PATCH_TAGS)) {
    const prop = propertyAt(defs, key);
    if (!prop) continue;
    const [strategy, mergeKey] = tag.split(':');
    prop['x-kubernetes-patch-strategy'] = strategy;
    if (mergeKey) prop['x-kubernetes-patch-merge-key'] = mergeKey;
  }
  for (const [key, lt] of Object.entries(LIST_TYPES)) {
    const prop = propertyAt(defs, key);
    if (!prop) continue;
    prop['x-kubernetes-list-type'] = lt.type;
    if (lt.keys) prop['x-kubernetes-list-map-keys'] = lt.keys;
  }
}

function propertyAt(defs: Record<string, SchemaNode>, key: string): SchemaNode | undefined {
  const dot = key.lastIndexOf('.');
  return defs[key.slice(0, dot)]?.properties?.[key.slice(dot + 1)];
}

const byGvk = new Map<string, string>();

/** The definition name of a served kind, e.g. {"", v1, Pod} → io.k8s.api.core.v1.Pod. */
export function definitionNameFor(gvk: GroupVersionKind): string | undefined {
  if (byGvk.size === 0) {
    for (const [name, def] of Object.entries(schemaDefinitions())) {
      for (const g of def['x-kubernetes-group-version-kind'] ?? []) byGvk.set(gvkKey(g), name);
    }
  }
  return byGvk.get(gvkKey(gvk));
}

function gvkKey(g: GroupVersionKind): string {
  return `${g.group}/${g.version}/${g.kind}`;
}

/** The definition a `$ref` points at (or undefined for an inline schema). */
export function refName(node: SchemaNode): string | undefined {
  return node.$ref?.slice('#/components/schemas/'.length);
}

/** Follows a `$ref` to its definition; returns inline schemas as they are. */
export function resolve(node: SchemaNode): SchemaNode {
  const name = refName(node);
  if (!name) return node;
  const def = schemaDefinitions()[name];
  if (!def) throw new Error(`schema: no definition ${name}`);
  return def;
}

/** Patch strategy and merge key of `definition.field`, from the Go struct tags. */
export function patchMetaFor(definition: string, field: string): PatchMeta | undefined {
  const tag = PATCH_TAGS[`${definition}.${field}`];
  if (!tag) return undefined;
  const [strategy, mergeKey] = tag.split(':');
  return { strategies: strategy.split(',') as PatchStrategy[], mergeKey: mergeKey || undefined };
}

/** Go named type of a string/map field (`v1.Protocol`), if it has one. */
export function goNamedType(definition: string, field: string): string | undefined {
  return GO_NAMED[`${definition}.${field}`];
}

/** Short Go type name of a definition, as reflect prints it: io.k8s.api.core.v1.Pod → v1.Pod. */
export function goTypeName(definition: string): string {
  const parts = definition.split('.');
  return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
}

/** Go struct name of a definition (no package), as in "Go struct field PodSpec.spec.containers". */
export function goStructName(definition: string): string {
  return definition.slice(definition.lastIndexOf('.') + 1);
}
