// Validation per kind, as kube-apiserver 1.32 runs it after defaulting (pkg/apis/*/validation):
// the field errors become a 422 Invalid Status. NetworkPolicy and the shared ObjectMeta,
// name, label and selector rules come from the engine so both report the same messages.
import {
  goQuote,
  isDNS1123Label,
  isValidPortName,
  isValidPortNum,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  validateLabels,
  validateLabelSelector,
  validateNetworkPolicy,
  validateObjectMeta,
  type FieldError,
  type FieldErrorType,
  type NameValidator,
  type NetworkPolicy,
} from '../netpol/index.ts';
import type { KubeObject } from './runtime.ts';
import { selectorRequirements, labelsMatch } from './selectors.ts';

type Json = any;

type Bad = string | number | { go: string };

function render(v: Bad): string {
  return typeof v === 'string' ? goQuote(v) : typeof v === 'number' ? String(v) : v.go;
}

function fe(type: FieldErrorType, field: string, text: string): FieldError {
  return { field, type, message: text };
}

const required = (field: string, detail = ''): FieldError => fe('FieldValueRequired', field, detail ? `Required value: ${detail}` : 'Required value');
const invalid = (field: string, value: Bad, detail: string): FieldError => fe('FieldValueInvalid', field, `Invalid value: ${render(value)}${detail ? `: ${detail}` : ''}`);
const notSupported = (field: string, value: Bad, supported: string[]): FieldError =>
  fe('FieldValueNotSupported', field, `Unsupported value: ${render(value)}: supported values: ${supported.map(goQuote).join(', ')}`);
const duplicate = (field: string, value: Bad): FieldError => fe('FieldValueDuplicate', field, `Duplicate value: ${render(value)}`);
const forbidden = (field: string, detail: string): FieldError => fe('FieldValueForbidden', field, `Forbidden: ${detail}`);

const DNS1035_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1035_RE = new RegExp(`^${DNS1035_FMT}$`);

/** IsDNS1035Label (service names). */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1035_RE.test(value)) {
    errs.push(
      `a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '${DNS1035_FMT}')`,
    );
  }
  return errs;
}

const nameIsDNS1035Label: NameValidator = (name, prefix) => isDNS1035Label(prefix && name.endsWith('-') && name.length > 1 ? name.slice(0, -2) + 'a' : name);

/** Go's %#v of a map[string]string, as Invalid values print label maps. */
function goStringMap(m: Record<string, string> | undefined): { go: string } {
  const keys = Object.keys(m ?? {}).sort();
  return { go: `map[string]string{${keys.map((k) => `${goQuote(k)}:${goQuote((m as Record<string, string>)[k])}`).join(', ')}}` };
}

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validatePort(value: unknown, field: string): FieldError[] {
  if (typeof value === 'number') return isValidPortNum(value).map((m) => invalid(field, value, m));
  if (typeof value === 'string') return isValidPortName(value).map((m) => invalid(field, value, m));
  return [required(field)];
}

function validateContainers(containers: Json[] | undefined, path: string, kind: 'containers' | 'initContainers'): FieldError[] {
  const errs: FieldError[] = [];
  if (kind === 'containers' && (!Array.isArray(containers) || containers.length === 0)) return [required(path)];
  const names = new Set<string>();
  (containers ?? []).forEach((c: Json, i: number) => {
    const p = `${path}[${i}]`;
    if (!c.name) errs.push(required(`${p}.name`));
    else {
      for (const m of isDNS1123Label(c.name)) errs.push(invalid(`${p}.name`, c.name, m));
      if (names.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
      names.add(c.name);
    }
    if (!c.image || String(c.image).trim() === '') errs.push(required(`${p}.image`));
    const portNames = new Set<string>();
    (c.ports ?? []).forEach((port: Json, j: number) => {
      const pp = `${p}.ports[${j}]`;
      if (port.name !== undefined && port.name !== '') {
        for (const m of isValidPortName(port.name)) errs.push(invalid(`${pp}.name`, port.name, m));
        if (portNames.has(port.name)) errs.push(duplicate(`${pp}.name`, port.name));
        portNames.add(port.name);
      }
      if (port.containerPort === undefined || port.containerPort === 0) errs.push(required(`${pp}.containerPort`));
      else for (const m of isValidPortNum(port.containerPort)) errs.push(invalid(`${pp}.containerPort`, port.containerPort, m));
      if (port.hostPort) for (const m of isValidPortNum(port.hostPort)) errs.push(invalid(`${pp}.hostPort`, port.hostPort, m));
      if (!port.protocol) errs.push(required(`${pp}.protocol`));
      else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(`${pp}.protocol`, port.protocol, PROTOCOLS));
    });
    (c.env ?? []).forEach((e: Json, j: number) => {
      if (!e.name) errs.push(required(`${p}.env[${j}].name`));
    });
    if (c.imagePullPolicy && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) {
      errs.push(notSupported(`${p}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']));
    }
  });
  return errs;
}

/** ValidatePodSpec essentials: containers, restart and DNS policies, volumes' names. */
export function validatePodSpec(podSpec: unknown, path: string, allowedRestartPolicies = ['Always', 'OnFailure', 'Never']): FieldError[] {
  if (!podSpec || typeof podSpec !== 'object') return [required(path)];
  const spec = podSpec as Json;
  const errs: FieldError[] = [];
  const volumeNames = new Set<string>();
  (spec.volumes ?? []).forEach((v: Json, i: number) => {
    const p = `${path}.volumes[${i}]`;
    if (!v.name) errs.push(required(`${p}.name`));
    else {
      for (const m of isDNS1123Label(v.name)) errs.push(invalid(`${p}.name`, v.name, m));
      if (volumeNames.has(v.name)) errs.push(duplicate(`${p}.name`, v.name));
      volumeNames.add(v.name);
    }
  });
  errs.push(...validateContainers(spec.containers, `${path}.containers`, 'containers'));
  errs.push(...validateContainers(spec.initContainers, `${path}.initContainers`, 'initContainers'));
  (spec.containers ?? []).forEach((c: Json, i: number) => {
    (c.volumeMounts ?? []).forEach((m: Json, j: number) => {
      if (m.name && !volumeNames.has(m.name)) errs.push(fe('FieldValueInvalid', `${path}.containers[${i}].volumeMounts[${j}].name`, `Not found: ${goQuote(m.name)}`));
    });
  });
  if (spec.restartPolicy !== undefined && !allowedRestartPolicies.includes(spec.restartPolicy)) {
    errs.push(notSupported(`${path}.restartPolicy`, spec.restartPolicy, allowedRestartPolicies));
  }
  const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
  if (spec.dnsPolicy !== undefined && !dnsPolicies.includes(spec.dnsPolicy)) errs.push(notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, dnsPolicies));
  if (spec.nodeSelector) errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds < 0) {
    errs.push(invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  return errs;
}

function validateService(svc: Json): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, true, nameIsDNS1035Label);
  const spec = svc.spec ?? {};
  const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
  if (!types.includes(spec.type)) errs.push(notSupported('spec.type', spec.type ?? '', types));
  const ports: Json[] = spec.ports ?? [];
  const headless = spec.clusterIP === 'None';
  if (ports.length === 0 && spec.type !== 'ExternalName' && !headless) errs.push(required('spec.ports'));
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((p: Json, i: number) => {
    const path = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) errs.push(required(`${path}.name`));
    if (p.name) {
      for (const m of isDNS1123Label(p.name)) errs.push(invalid(`${path}.name`, p.name, m));
      if (names.has(p.name)) errs.push(duplicate(`${path}.name`, p.name));
      names.add(p.name);
    }
    for (const m of isValidPortNum(p.port)) errs.push(invalid(`${path}.port`, p.port ?? 0, m));
    if (!PROTOCOLS.includes(p.protocol)) errs.push(notSupported(`${path}.protocol`, p.protocol ?? '', PROTOCOLS));
    errs.push(...validatePort(p.targetPort, `${path}.targetPort`));
    const key = `${p.port}/${p.protocol}`;
    if (keys.has(key)) errs.push(duplicate(path, { go: `core.ServicePort{Name:${goQuote(p.name ?? '')}, Protocol:${goQuote(p.protocol)}, Port:${p.port}}` }));
    keys.add(key);
    if (p.nodePort !== undefined && spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') {
      errs.push(forbidden(`${path}.nodePort`, 'may not be used when `type` is \'ClusterIP\''));
    }
  });
  if (spec.selector) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  if (spec.sessionAffinity && !['ClientIP', 'None'].includes(spec.sessionAffinity)) errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
  return errs;
}

function validateWorkload(o: Json, restartPolicies: string[]): FieldError[] {
  const errs = validateObjectMeta(o.metadata, true, nameIsDNSSubdomain);
  const spec = o.spec ?? {};
  if (typeof spec.replicas === 'number' && spec.replicas < 0) errs.push(invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  if (!spec.selector) errs.push(required('spec.selector'));
  else {
    errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    const reqs = safeRequirements(spec.selector);
    if (reqs && reqs.length === 0) errs.push(invalid('spec.selector', { go: goSelector(spec.selector) }, 'empty selector is invalid for deployment'));
    const labels = spec.template?.metadata?.labels;
    if (reqs && reqs.length > 0 && !labelsMatch(reqs, labels)) {
      errs.push(invalid('spec.template.metadata.labels', goStringMap(labels), '`selector` does not match template `labels`'));
    }
  }
  if (!spec.template) errs.push(required('spec.template'));
  else {
    errs.push(...validateLabels(spec.template.metadata?.labels, 'spec.template.metadata.labels'));
    errs.push(...validatePodSpec(spec.template.spec, 'spec.template.spec', restartPolicies));
  }
  return errs;
}

function safeRequirements(sel: Json) {
  try {
    return selectorRequirements(sel);
  } catch {
    return undefined;
  }
}

function goSelector(sel: Json): string {
  const ml = sel?.matchLabels ? goStringMap(sel.matchLabels).go : 'map[string]string(nil)';
  return `&v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`;
}

/** Field errors for an object about to be stored (plural resource name), empty when valid. */
export function validateObject(resource: string, o: KubeObject): FieldError[] {
  const obj = o as Json;
  switch (resource) {
    case 'namespaces':
      return validateObjectMeta(obj.metadata, false, nameIsDNSLabel);
    case 'nodes':
      return validateObjectMeta(obj.metadata, false, nameIsDNSSubdomain);
    case 'pods': {
      const errs = validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain);
      errs.push(...validatePodSpec(obj.spec, 'spec'));
      return errs;
    }
    case 'services':
      return validateService(obj);
    case 'networkpolicies':
      return validateNetworkPolicy(obj as NetworkPolicy);
    case 'deployments': {
      const errs = validateWorkload(obj, ['Always']);
      const strategy = obj.spec?.strategy?.type;
      if (strategy && !['Recreate', 'RollingUpdate'].includes(strategy)) errs.push(notSupported('spec.strategy.type', strategy, ['Recreate', 'RollingUpdate']));
      return errs;
    }
    case 'replicasets':
      return validateWorkload(obj, ['Always']);
    case 'configmaps': {
      const errs = validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain);
      for (const key of [...Object.keys(obj.data ?? {}), ...Object.keys(obj.binaryData ?? {})]) {
        if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253) {
          errs.push(invalid(`data[${key}]`, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
        }
      }
      return errs;
    }
    case 'events':
      return validateObjectMeta(obj.metadata, true, () => []);
    default:
      return validateObjectMeta(obj.metadata, resourceIsNamespaced(resource), nameIsDNSSubdomain);
  }
}

function resourceIsNamespaced(resource: string): boolean {
  return resource !== 'namespaces' && resource !== 'nodes';
}

const POD_MUTABLE_NOTE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** Update rules beyond validateObject: immutable fields per kind. */
export function validateUpdate(resource: string, next: KubeObject, prev: KubeObject): FieldError[] {
  const n = next as Json;
  const p = prev as Json;
  switch (resource) {
    case 'pods': {
      const strip = (spec: Json) => {
        const s = structuredClone(spec ?? {});
        for (const c of s.containers ?? []) delete c.image;
        for (const c of s.initContainers ?? []) delete c.image;
        delete s.activeDeadlineSeconds;
        delete s.tolerations;
        delete s.terminationGracePeriodSeconds;
        return JSON.stringify(s);
      };
      if (strip(n.spec) !== strip(p.spec)) return [forbidden('spec', POD_MUTABLE_NOTE)];
      return [];
    }
    case 'services': {
      const errs: FieldError[] = [];
      if (p.spec?.clusterIP && n.spec?.clusterIP !== p.spec.clusterIP && p.spec.type !== 'ExternalName') {
        errs.push(invalid('spec.clusterIPs[0]', n.spec?.clusterIP ?? '', 'may not change once set'));
      }
      return errs;
    }
    case 'deployments':
    case 'replicasets':
      if (JSON.stringify(n.spec?.selector ?? null) !== JSON.stringify(p.spec?.selector ?? null)) {
        return [invalid('spec.selector', { go: goSelector(n.spec?.selector) }, 'field is immutable')];
      }
      return [];
    default:
      return [];
  }
}
