// Policy cases ({cluster, policies, probes}) read from untrusted JSON: every field is checked for
// shape before the engine sees it, and every problem names its path (`probes[2].from: ...`).
// Policies are decoded strictly, like kube-apiserver with kubectl's default strict field
// validation: an unknown field under spec is an error, not silently ignored.
import type { ClusterSnapshot, Endpoint, NetworkPolicy, Protocol, Verdict } from './types.ts';
import { parseIP } from './cidr.ts';

export interface Probe {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: Protocol;
  expect?: Verdict;
}

export interface PolicyCase {
  name?: string;
  cluster: ClusterSnapshot;
  policies: NetworkPolicy[];
  probes: Probe[];
}

/** A case that cannot be read; `path` is relative to the case (`probes[2].from`). */
export class CaseError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(path ? `${path}: ${detail}` : detail);
    this.name = 'CaseError';
  }
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`);

function object(v: Json, path: string): Record<string, Json> {
  if (!isObject(v)) throw new CaseError(path, `must be an object, got ${describe(v)}`);
  return v;
}

function array(v: Json, path: string): Json[] {
  if (!Array.isArray(v)) throw new CaseError(path, `must be an array, got ${describe(v)}`);
  return v;
}

function string(v: Json, path: string): string {
  if (typeof v !== 'string') throw new CaseError(path, `must be a string, got ${describe(v)}`);
  return v;
}

function integer(v: Json, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new CaseError(path, `must be an integer, got ${describe(v)}`);
  return v;
}

function stringMap(v: Json, path: string): Record<string, string> {
  const o = object(v, path);
  for (const [k, x] of Object.entries(o)) string(x, `${path}.${k}`);
  return o as Record<string, string>;
}

function optional<T>(o: Record<string, Json>, key: string, path: string, read: (v: Json, p: string) => T): T | undefined {
  return o[key] === undefined || o[key] === null ? undefined : read(o[key], path ? `${path}.${key}` : key);
}

function protocol(v: Json, path: string): Protocol {
  const s = string(v, path);
  if (s !== 'TCP' && s !== 'UDP' && s !== 'SCTP') throw new CaseError(path, `must be "TCP", "UDP" or "SCTP", got ${JSON.stringify(s)}`);
  return s;
}

function known(o: Record<string, Json>, keys: string[], path: string): void {
  for (const k of Object.keys(o)) {
    // Like the API server's strict decoding: the message carries the path, the error has none of its own.
    if (!keys.includes(k)) throw new CaseError('', `strict decoding error: unknown field "${path ? `${path}.${k}` : k}"`);
  }
}

function selector(v: Json, path: string): void {
  const o = object(v, path);
  known(o, ['matchLabels', 'matchExpressions'], path);
  optional(o, 'matchLabels', path, stringMap);
  const exprs = optional(o, 'matchExpressions', path, array) ?? [];
  exprs.forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const r = object(e, p);
    known(r, ['key', 'operator', 'values'], p);
    string(r.key ?? '', `${p}.key`);
    string(r.operator ?? '', `${p}.operator`);
    (optional(r, 'values', p, array) ?? []).forEach((x, j) => string(x, `${p}.values[${j}]`));
  });
}

function peer(v: Json, path: string): void {
  const o = object(v, path);
  known(o, ['podSelector', 'namespaceSelector', 'ipBlock'], path);
  optional(o, 'podSelector', path, selector);
  optional(o, 'namespaceSelector', path, selector);
  optional(o, 'ipBlock', path, (b, p) => {
    const ob = object(b, p);
    known(ob, ['cidr', 'except'], p);
    string(ob.cidr ?? '', `${p}.cidr`);
    (optional(ob, 'except', p, array) ?? []).forEach((x, j) => string(x, `${p}.except[${j}]`));
  });
}

function port(v: Json, path: string): void {
  const o = object(v, path);
  known(o, ['protocol', 'port', 'endPort'], path);
  optional(o, 'protocol', path, string);
  optional(o, 'port', path, (x, p) => {
    if (typeof x !== 'string' && !(typeof x === 'number' && Number.isInteger(x))) throw new CaseError(p, `must be an integer or a string, got ${describe(x)}`);
  });
  optional(o, 'endPort', path, integer);
}

function rules(v: Json, path: string, peersKey: 'from' | 'to'): void {
  array(v, path).forEach((r, i) => {
    const p = `${path}[${i}]`;
    const o = object(r, p);
    known(o, [peersKey, 'ports'], p);
    (optional(o, peersKey, p, array) ?? []).forEach((x, j) => peer(x, `${p}.${peersKey}[${j}]`));
    (optional(o, 'ports', p, array) ?? []).forEach((x, j) => port(x, `${p}.ports[${j}]`));
  });
}

/** Shape of a NetworkPolicy as submitted (before validation): types everywhere, no unknown fields in spec; paths relative to the object. */
export function readPolicy(v: Json, path = ''): NetworkPolicy {
  const o = object(v, path);
  known(o, ['apiVersion', 'kind', 'metadata', 'spec', 'status'], path);
  const at = (k: string) => (path ? `${path}.${k}` : k);
  optional(o, 'apiVersion', path, string);
  const kind = optional(o, 'kind', path, string);
  if (kind !== undefined && kind !== 'NetworkPolicy') throw new CaseError(at('kind'), `must be "NetworkPolicy", got ${JSON.stringify(kind)}`);
  const meta = object(o.metadata ?? {}, at('metadata'));
  for (const k of ['name', 'namespace', 'generateName']) optional(meta, k, at('metadata'), string);
  optional(meta, 'labels', at('metadata'), stringMap);
  optional(meta, 'annotations', at('metadata'), stringMap);
  const spec = object(o.spec ?? {}, at('spec'));
  const sp = at('spec');
  known(spec, ['podSelector', 'policyTypes', 'ingress', 'egress'], sp);
  optional(spec, 'podSelector', sp, selector);
  (optional(spec, 'policyTypes', sp, array) ?? []).forEach((x, i) => string(x, `${sp}.policyTypes[${i}]`));
  optional(spec, 'ingress', sp, (x, p) => rules(x, p, 'from'));
  optional(spec, 'egress', sp, (x, p) => rules(x, p, 'to'));
  return { ...o, metadata: meta, spec: { ...spec, podSelector: (spec.podSelector as object | undefined) ?? {} } } as NetworkPolicy;
}

function readCluster(v: Json): ClusterSnapshot {
  const o = object(v, 'cluster');
  const namespaces = (optional(o, 'namespaces', 'cluster', array) ?? []).map((n, i) => {
    const p = `cluster.namespaces[${i}]`;
    const ns = object(n, p);
    return { name: string(ns.name, `${p}.name`), labels: optional(ns, 'labels', p, stringMap) ?? {} };
  });
  const nodes = (optional(o, 'nodes', 'cluster', array) ?? []).map((n, i) => {
    const p = `cluster.nodes[${i}]`;
    const node = object(n, p);
    const ip = string(node.ip, `${p}.ip`);
    if (!parseIP(ip)) throw new CaseError(`${p}.ip`, `"${ip}" is not an IP address`);
    return { name: string(node.name, `${p}.name`), ip };
  });
  const seen = new Set<string>();
  const pods = array(o.pods ?? [], 'cluster.pods').map((x, i) => {
    const p = `cluster.pods[${i}]`;
    const pod = object(x, p);
    const namespace = string(pod.namespace, `${p}.namespace`);
    const name = string(pod.name, `${p}.name`);
    if (seen.has(`${namespace}/${name}`)) throw new CaseError(p, `pod "${namespace}/${name}" appears twice`);
    seen.add(`${namespace}/${name}`);
    const hostNetwork = optional(pod, 'hostNetwork', p, (b, q) => {
      if (typeof b !== 'boolean') throw new CaseError(q, `must be a boolean, got ${describe(b)}`);
      return b;
    });
    const node = optional(pod, 'node', p, string);
    let ip = optional(pod, 'ip', p, string) ?? '';
    if (!ip && hostNetwork && node) ip = nodes.find((n) => n.name === node)?.ip ?? '';
    if (!ip) throw new CaseError(`${p}.ip`, hostNetwork ? 'required (or a node listed in cluster.nodes)' : 'required');
    if (!parseIP(ip)) throw new CaseError(`${p}.ip`, `"${ip}" is not an IP address`);
    const containerPorts = (optional(pod, 'containerPorts', p, array) ?? []).map((c, j) => {
      const q = `${p}.containerPorts[${j}]`;
      const cp = object(c, q);
      const num = integer(cp.port, `${q}.port`);
      if (num < 1 || num > 65535) throw new CaseError(`${q}.port`, `must be between 1 and 65535, got ${num}`);
      const portName = optional(cp, 'name', q, string);
      const proto = optional(cp, 'protocol', q, protocol);
      return { port: num, ...(portName !== undefined ? { name: portName } : {}), ...(proto ? { protocol: proto } : {}) };
    });
    return {
      namespace,
      name,
      labels: optional(pod, 'labels', p, stringMap) ?? {},
      ip,
      ...(node !== undefined ? { node } : {}),
      ...(hostNetwork !== undefined ? { hostNetwork } : {}),
      containerPorts,
    };
  });
  return { namespaces, pods, ...(nodes.length ? { nodes } : {}) };
}

function endpoint(v: Json, path: string, cluster: ClusterSnapshot): Endpoint {
  let e: Endpoint;
  // A bare address is accepted too: a pod reference always contains a '/'.
  if (typeof v === 'string') e = !v.includes('/') && parseIP(v) ? { ip: v } : { pod: v };
  else if (isObject(v) && typeof v.ip === 'string') e = { ip: v.ip };
  else if (isObject(v) && typeof v.pod === 'string') e = { pod: v.pod };
  else throw new CaseError(path, `must be "namespace/pod" or {"ip": "..."}, got ${describe(v)}`);
  if ('pod' in e) {
    const [ns, name] = e.pod.split('/');
    if (!cluster.pods.some((p) => p.namespace === ns && p.name === name) || e.pod.split('/').length !== 2) {
      throw new CaseError(path, `pod "${e.pod}" not found`);
    }
  } else if (!parseIP(e.ip)) {
    throw new CaseError(path, `"${e.ip}" is not an IP address`);
  }
  return e;
}

/** A case object: cluster, policies (shape only: validation is the engine's) and probes. */
export function readCase(v: Json): PolicyCase {
  const o = object(v, '');
  if (o.cluster === undefined) throw new CaseError('cluster', 'required');
  if (o.policies === undefined) throw new CaseError('policies', 'required');
  if (o.probes === undefined) throw new CaseError('probes', 'required');
  const cluster = readCluster(o.cluster);
  const policies = array(o.policies, 'policies').map((p, i) => {
    try {
      return readPolicy(p);
    } catch (err) {
      if (err instanceof CaseError) throw new CaseError(err.path ? `policies[${i}]: ${err.path}` : `policies[${i}]`, err.detail);
      throw err;
    }
  });
  const probes = array(o.probes, 'probes').map((x, i): Probe => {
    const p = `probes[${i}]`;
    const probe = object(x, p);
    if (probe.from === undefined) throw new CaseError(`${p}.from`, 'required');
    if (probe.to === undefined) throw new CaseError(`${p}.to`, 'required');
    if (probe.port === undefined) throw new CaseError(`${p}.port`, 'required');
    const from = endpoint(probe.from, `${p}.from`, cluster);
    const to = endpoint(probe.to, `${p}.to`, cluster);
    const num = integer(probe.port, `${p}.port`);
    if (num < 1 || num > 65535) throw new CaseError(`${p}.port`, `must be between 1 and 65535, got ${num}`);
    // A probe without a protocol is TCP, like a port entry without one.
    const proto = optional(probe, 'protocol', p, protocol) ?? 'TCP';
    const expect = optional(probe, 'expect', p, (e, q) => {
      if (e !== 'allow' && e !== 'deny') throw new CaseError(q, `must be "allow" or "deny", got ${describe(e)}`);
      return e;
    });
    return { from, to, port: num, protocol: proto, ...(expect ? { expect } : {}) };
  });
  const name = typeof o.name === 'string' ? o.name : undefined;
  return { ...(name !== undefined ? { name } : {}), cluster, policies, probes };
}
