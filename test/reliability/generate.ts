// A small seeded generator of broken Kubernetes manifests: valid NetworkPolicies, Pods, Services
// and Deployments with one to three mutations each (wrong types, missing required fields, huge
// strings, deep nesting, unicode, numbers out of range, unknown fields, bad enum values, bad
// names), plus bodies broken below the object level (not an object, truncated JSON, broken YAML,
// garbage protobuf). Every case says what kube-apiserver would name in its answer when the
// mutation is the only one, so a test can check that the error names the field.

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Kind = 'NetworkPolicy' | 'Pod' | 'Service' | 'Deployment';

export const collections: Record<Kind, string> = {
  NetworkPolicy: '/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies',
  Pod: '/api/v1/namespaces/{ns}/pods',
  Service: '/api/v1/namespaces/{ns}/services',
  Deployment: '/apis/apps/v1/namespaces/{ns}/deployments',
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = Array<string | number>;

export function base(kind: Kind, name: string): { [k: string]: Json } {
  switch (kind) {
    case 'NetworkPolicy':
      return {
        apiVersion: 'networking.k8s.io/v1',
        kind,
        metadata: { name, labels: { app: 'payments' } },
        spec: {
          podSelector: { matchLabels: { app: 'api' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend', 'cache'] }] },
          policyTypes: ['Ingress', 'Egress'],
          ingress: [
            {
              from: [{ podSelector: { matchLabels: { app: 'web' } } }, { namespaceSelector: { matchLabels: { team: 'shop' } } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
              ports: [{ protocol: 'TCP', port: 8080 }, { port: 'http' }, { port: 9000, endPort: 9010 }],
            },
          ],
          egress: [{ to: [{ podSelector: {} }], ports: [{ protocol: 'UDP', port: 53 }] }],
        },
      };
    case 'Pod':
      return {
        apiVersion: 'v1',
        kind,
        metadata: { name, labels: { app: 'api' }, annotations: { note: 'fuzz' } },
        spec: {
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: 'app',
              image: 'nginx:1.27',
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', 'sleep 3600'],
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              env: [{ name: 'MODE', value: 'fuzz' }],
              resources: { limits: { cpu: '100m', memory: '64Mi' } },
            },
          ],
        },
      };
    case 'Service':
      return {
        apiVersion: 'v1',
        kind,
        metadata: { name, labels: { app: 'api' } },
        spec: {
          type: 'ClusterIP',
          selector: { app: 'api' },
          ports: [
            { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
            { name: 'metrics', port: 9090, targetPort: 'metrics' },
          ],
        },
      };
    case 'Deployment':
      return {
        apiVersion: 'apps/v1',
        kind,
        metadata: { name, labels: { app: 'api' } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'api' } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } },
          template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
        },
      };
  }
}

/** Keys whose values are maps of free keys (so Go names the map, not the key, in a type error). */
const mapKeys = new Set(['labels', 'annotations', 'matchLabels', 'limits', 'requests']);

/** The field as a Go decode error names it: no indices, no map keys. */
export function goFieldPath(kind: Kind, path: Path): string {
  const out: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (typeof seg === 'number') continue;
    const parent = i > 0 ? path[i - 1] : undefined;
    const parentIsMap = typeof parent === 'string' && (mapKeys.has(parent) || (kind === 'Service' && parent === 'selector' && i === 2));
    if (parentIsMap) continue;
    out.push(seg);
  }
  return out.join('.');
}

/** The field as a validation cause names it: `spec.containers[0].image`. */
export function causeFieldPath(path: Path): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s;
}

function get(root: Json, path: Path): Json | undefined {
  let cur: Json | undefined = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, Json>)[seg];
  }
  return cur;
}

function set(root: Json, path: Path, value: Json | undefined): void {
  const parent = get(root, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object' || parent === undefined) return;
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
    else delete (parent as Record<string, Json>)[last as string];
  } else {
    (parent as Record<string | number, Json>)[last] = value;
  }
}

/** Every path in the object (containers and leaves), apiVersion/kind left out. */
function paths(root: Json, prefix: Path = []): Path[] {
  const out: Path[] = [];
  if (root === null || typeof root !== 'object') return out;
  const entries: Array<[string | number, Json]> = Array.isArray(root) ? root.map((v, i) => [i, v]) : Object.entries(root);
  for (const [k, v] of entries) {
    if (prefix.length === 0 && (k === 'apiVersion' || k === 'kind')) continue;
    const p = [...prefix, k];
    out.push(p);
    out.push(...paths(v, p));
  }
  return out;
}

function typeOf(v: Json | undefined): 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'undefined' {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as 'boolean' | 'number' | 'string' | 'object';
}

/** Fields that take a number or a string (Kubernetes IntOrString). */
function intOrString(path: Path): boolean {
  const last = path[path.length - 1];
  return last === 'port' || last === 'targetPort' || last === 'maxSurge' || last === 'maxUnavailable';
}

export type Mutation =
  | 'wrong-type'
  | 'missing-required'
  | 'huge-string'
  | 'deep-nesting'
  | 'unicode'
  | 'out-of-range'
  | 'unknown-field'
  | 'bad-enum'
  | 'bad-name';

export interface Applied {
  mutation: Mutation;
  path: string;
  /** what the answer must name when this is the only mutation and the request is refused */
  names?: { in: 'message' | 'cause'; field: string };
}

const required: Record<Kind, Path[]> = {
  Pod: [['metadata', 'name'], ['spec', 'containers'], ['spec', 'containers', 0, 'name'], ['spec', 'containers', 0, 'image'], ['spec', 'containers', 0, 'ports', 0, 'containerPort'], ['spec', 'containers', 0, 'env', 0, 'name']],
  Service: [['metadata', 'name'], ['spec', 'ports', 0, 'port'], ['spec', 'ports', 1, 'port']],
  Deployment: [['metadata', 'name'], ['spec', 'selector'], ['spec', 'template', 'spec', 'containers'], ['spec', 'template', 'spec', 'containers', 0, 'image'], ['spec', 'template', 'spec', 'containers', 0, 'name']],
  NetworkPolicy: [['metadata', 'name'], ['spec', 'ingress', 0, 'from', 2, 'ipBlock', 'cidr'], ['spec', 'podSelector', 'matchExpressions', 0, 'key'], ['spec', 'podSelector', 'matchExpressions', 0, 'values']],
};

const enums: Record<Kind, Array<[Path, Json[]]>> = {
  Pod: [
    [['spec', 'restartPolicy'], ['Sometimes', 'always', '']],
    [['spec', 'containers', 0, 'imagePullPolicy'], ['Maybe', 'always']],
    [['spec', 'containers', 0, 'ports', 0, 'protocol'], ['ICMP', 'tcp', 'HTTP']],
  ],
  Service: [
    [['spec', 'type'], ['Bogus', 'clusterip', 'Internal']],
    [['spec', 'ports', 0, 'protocol'], ['ICMP', 'tcp']],
  ],
  Deployment: [[['spec', 'strategy', 'type'], ['Bogus', 'rolling']]],
  NetworkPolicy: [
    [['spec', 'policyTypes', 0], ['egress', 'Both', '']],
    [['spec', 'ingress', 0, 'ports', 0, 'protocol'], ['ICMP', 'tcp']],
    [['spec', 'podSelector', 'matchExpressions', 0, 'operator'], ['Foo', 'in', 'Equals']],
  ],
};

const numberFields: Record<Kind, Path[]> = {
  Pod: [['spec', 'containers', 0, 'ports', 0, 'containerPort'], ['spec', 'terminationGracePeriodSeconds']],
  Service: [['spec', 'ports', 0, 'port'], ['spec', 'ports', 0, 'targetPort']],
  Deployment: [['spec', 'replicas'], ['spec', 'template', 'spec', 'containers', 0, 'ports', 0, 'containerPort'], ['spec', 'strategy', 'rollingUpdate', 'maxSurge']],
  NetworkPolicy: [['spec', 'ingress', 0, 'ports', 0, 'port'], ['spec', 'ingress', 0, 'ports', 2, 'endPort'], ['spec', 'egress', 0, 'ports', 0, 'port']],
};

const outOfRange: Json[] = [-1, 0, 65536, 70000, 2147483648, -2147483649, 9007199254740993, 1.5, 1e21, 1e308, -0.5];

const unicode = [
  '🙂', 'ａｐｉ', 'payments\u202e', 'a\u0000b', 'x\u200by', '\ud800', 'Ω≈ç√', 'e\u0301', '中文名字', ' ', '\t\n', '\u00a0', 'ß'.repeat(40),
];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

/** Deep values are spliced in as text: JSON.stringify of them would overflow this side's stack. */
const deepMarker = '\u0000deep:';

function nestedText(depth: number): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += i % 2 ? '[' : '{"n":';
    close = (i % 2 ? ']' : '}') + close;
  }
  return `${open}"bottom"${close}`;
}

function spliceDeep(text: string): string {
  return text.replace(/"\\u0000deep:(\d+)"/g, (_m, d: string) => nestedText(Number(d)));
}

/** Apply one mutation of the given sort to `obj` in place; undefined when it does not apply. */
function mutate(kind: Kind, obj: { [k: string]: Json }, m: Mutation, rnd: () => number): Applied | undefined {
  const all = paths(obj);
  switch (m) {
    case 'wrong-type': {
      const path = pick(rnd, all);
      const old = get(obj, path);
      const oldType = typeOf(old);
      const candidates: Json[] = [true, 42, 'text', ['a'], { a: 'b' }, 3.25];
      const value = pick(rnd, candidates.filter((c) => typeOf(c) !== oldType && !(oldType === 'number' && typeof c === 'number')));
      set(obj, path, value);
      // a number where a string or IntOrString is allowed (and vice versa) may be valid data
      const decodeError = !(intOrString(path) && (typeof value === 'number' || typeof value === 'string'));
      // a resource quantity's own decoder says what a quantity must look like, not where (as in kube-apiserver)
      const quantity = path.includes('limits') || path.includes('requests');
      return { mutation: m, path: causeFieldPath(path), names: decodeError && !quantity ? { in: 'message', field: goFieldPath(kind, path) } : undefined };
    }
    case 'missing-required': {
      const path = pick(rnd, required[kind]);
      set(obj, path, undefined);
      return { mutation: m, path: causeFieldPath(path), names: { in: 'cause', field: causeFieldPath(path) } };
    }
    case 'huge-string': {
      const strings = all.filter((p) => typeof get(obj, p) === 'string');
      const path = pick(rnd, strings);
      // mostly sizes a validator must cope with; now and then one past the 3 MiB body limit
      const size = rnd() < 0.03 ? 3_300_000 : pick(rnd, [300, 300, 5000, 5000, 70_000, 70_000, 300_000]);
      set(obj, path, pick(rnd, ['a', 'é', '🙂', 'x-']).repeat(size).slice(0, size));
      return { mutation: m, path: causeFieldPath(path) };
    }
    case 'deep-nesting': {
      const objects = all.filter((p) => typeOf(get(obj, p)) === 'object');
      const path = pick(rnd, objects.length ? objects : [['metadata']]);
      const key = `deep${Math.floor(rnd() * 1000)}`;
      set(obj, [...path, key], `${deepMarker}${pick(rnd, [20, 200, 999, 1500, 10_000])}`);
      return { mutation: m, path: causeFieldPath([...path, key]) };
    }
    case 'unicode': {
      const strings = all.filter((p) => typeof get(obj, p) === 'string');
      const path = pick(rnd, [...strings, ['metadata', 'name'], ['metadata', 'labels', 'app']]);
      const prefix = rnd() < 0.5 ? String(get(obj, path) ?? '') : '';
      set(obj, path, prefix + pick(rnd, unicode));
      return { mutation: m, path: causeFieldPath(path) };
    }
    case 'out-of-range': {
      const path = pick(rnd, numberFields[kind]);
      set(obj, path, pick(rnd, outOfRange));
      return { mutation: m, path: causeFieldPath(path) };
    }
    case 'unknown-field': {
      const objects = all.filter((p) => typeOf(get(obj, p)) === 'object' && !mapKeys.has(String(p[p.length - 1])) && !(kind === 'Service' && p.join('.') === 'spec.selector'));
      const path = pick(rnd, [...objects, []]);
      const key = pick(rnd, ['Egress', 'contianers', 'imagee', 'extra', 'spec', 'metdata', 'replica']);
      if (get(obj, [...path, key]) !== undefined) return undefined;
      set(obj, [...path, key], pick(rnd, ['x', 1, true, { a: 1 }] as Json[]));
      // strict decoding names the field with its indices: unknown field "spec.ports[0].extra"
      return { mutation: m, path: causeFieldPath([...path, key]), names: { in: 'message', field: `"${causeFieldPath([...path, key])}"` } };
    }
    case 'bad-enum': {
      const [path, values] = pick(rnd, enums[kind]);
      set(obj, path, pick(rnd, values));
      return { mutation: m, path: causeFieldPath(path), names: { in: 'cause', field: causeFieldPath(path) } };
    }
    case 'bad-name': {
      const bad = pick(rnd, ['UPPER', 'under_score', '-lead', 'trail-', 'dot..dot', 'a'.repeat(254), 'sp ace', 'slash/name', '..', '']);
      const where = pick(rnd, [['metadata', 'name'], ['metadata', 'labels', 'app'], ['metadata', 'labels', bad || 'k']] as Path[]);
      if (where[2] === 'app') set(obj, where, bad.length > 63 ? bad : `${bad}!`);
      else if (where.length === 3) set(obj, where, 'v');
      else set(obj, where, bad);
      return { mutation: m, path: causeFieldPath(where), names: where[1] === 'name' ? { in: 'cause', field: 'metadata.name' } : undefined };
    }
  }
}

const mutations: Mutation[] = ['wrong-type', 'missing-required', 'huge-string', 'deep-nesting', 'unicode', 'out-of-range', 'unknown-field', 'bad-enum', 'bad-name'];

export type Envelope = 'object' | 'not-an-object' | 'truncated-json' | 'broken-yaml' | 'garbage-protobuf' | 'yaml';

export interface Case {
  index: number;
  kind: Kind;
  /** collection path under the cluster prefix, namespace filled in */
  path: string;
  contentType: string;
  body: Buffer;
  envelope: Envelope;
  applied: Applied[];
  /** the name the object would be stored under if it were accepted */
  name: string;
  description: string;
}

function toYaml(v: Json, indent = ''): string {
  // flow style JSON is valid YAML; keep strings JSON-quoted so any unicode survives
  return indent + JSON.stringify(v);
}

/** The `index`-th case of the stream for `seed`. */
export function generateCase(seed: number, index: number, namespace: string): Case {
  const rnd = random(seed * 1_000_003 + index);
  const kind = pick(rnd, ['NetworkPolicy', 'Pod', 'Service', 'Deployment'] as const);
  const name = `fz-${seed}-${index}`;
  const path = collections[kind].replace('{ns}', namespace);
  const roll = rnd();
  const description = (s: string) => `#${index} ${kind}: ${s}`;
  if (roll < 0.03) {
    const value = pick(rnd, [['a'], 'text', 42, null, true, []] as Json[]);
    return { index, kind, path, contentType: 'application/json', body: Buffer.from(JSON.stringify(value)), envelope: 'not-an-object', applied: [], name, description: description(`body is ${JSON.stringify(value)}`) };
  }
  if (roll < 0.06) {
    const text = JSON.stringify(base(kind, name));
    const cut = Math.floor(rnd() * text.length);
    return { index, kind, path, contentType: 'application/json', body: Buffer.from(text.slice(0, cut)), envelope: 'truncated-json', applied: [], name, description: description(`JSON cut at ${cut}`) };
  }
  if (roll < 0.08) {
    const text = pick(rnd, [
      `apiVersion: v1\nkind: ${kind}\nmetadata:\n  name: ${name}\n\tlabels: {}\n`,
      `metadata: {name: ${name}\nspec: [`,
      `metadata:\n  name: ${name}\n  name: twice\n`,
      `a: &a [x, *a]\nmetadata: {name: ${name}}\n`,
      `metadata: !!binary "not base64"\n`,
      `- just\n- a list\n`,
      `metadata:\n  name: ${name}\n  labels:\n    <<: {__proto__: {polluted: yaml}}\n`,
    ]);
    return { index, kind, path, contentType: 'application/yaml', body: Buffer.from(text), envelope: 'broken-yaml', applied: [], name, description: description(`broken YAML ${JSON.stringify(text.slice(0, 40))}`) };
  }
  if (roll < 0.1) {
    const bytes = Buffer.alloc(Math.floor(rnd() * 200) + 1);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
    if (rnd() < 0.5) Buffer.from([0x6b, 0x38, 0x73, 0x00]).copy(bytes); // the protobuf envelope's magic, then garbage
    return { index, kind, path, contentType: 'application/vnd.kubernetes.protobuf', body: bytes, envelope: 'garbage-protobuf', applied: [], name, description: description(`${bytes.length} garbage protobuf bytes`) };
  }
  const obj = base(kind, name);
  const count = rnd() < 0.6 ? 1 : rnd() < 0.7 ? 2 : 3;
  const applied: Applied[] = [];
  for (let tries = 0; applied.length < count && tries < 10; tries++) {
    const a = mutate(kind, obj, pick(rnd, mutations), rnd);
    if (a) applied.push(a);
  }
  const asYaml = rnd() < 0.1;
  const text = spliceDeep(asYaml ? toYaml(obj) : JSON.stringify(obj));
  const finalName = typeof (obj.metadata as Record<string, Json> | undefined)?.name === 'string' ? ((obj.metadata as Record<string, Json>).name as string) : name;
  return {
    index,
    kind,
    path,
    contentType: asYaml ? 'application/yaml' : 'application/json',
    body: Buffer.from(text),
    envelope: asYaml ? 'yaml' : 'object',
    applied,
    name: finalName,
    description: description(applied.map((a) => `${a.mutation} at ${a.path}`).join(', ') + (asYaml ? ' (as YAML)' : '')),
  };
}
