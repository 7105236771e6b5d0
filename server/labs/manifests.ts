// Manifests a lab applies: read from files or written inline, and checked the way the embedded
// API server would check them, so `kubelab validate` finds what provisioning would reject.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { validateLabelSelector, validateNetworkPolicy, validateObjectMeta, type FieldError, type NetworkPolicy } from '../netpol/index.ts';
import { kindInfo, unknownKindMessage } from './kinds.ts';
import type { FieldPath, Problem } from './problems.ts';
import { formatPath } from './problems.ts';
import type { LoadedManifest, Manifest } from './types.ts';
import { parseYaml, type YamlDocument, type YamlFile } from './yaml.ts';

/** Reading files of one lab: its directory, and how to name files in problems. */
export class LabFiles {
  readonly dir: string;
  readonly displayDir: string;
  private readonly realDir: string;
  private readonly yamlCache = new Map<string, YamlFile>();

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.realDir = realpathSync(this.dir);
    const rel = relative(process.cwd(), this.dir);
    this.displayDir = rel && !rel.startsWith('..') ? rel : this.dir;
  }

  display(relPath: string): string {
    return this.displayDir === '' ? relPath : `${this.displayDir}/${relPath}`;
  }

  /** A file's text, or a reason it cannot be read. Refuses anything outside the lab directory (symlinks too). */
  read(relPath: string, maxBytes = 1024 * 1024): { text: string } | { error: string } {
    const abs = resolve(this.dir, relPath);
    let real: string;
    try {
      real = realpathSync(abs);
    } catch {
      return { error: `file ${relPath} does not exist` };
    }
    if (real !== this.realDir && !real.startsWith(this.realDir + sep)) return { error: `file ${relPath} is outside the lab directory` };
    const st = statSync(real);
    if (!st.isFile()) return { error: `${relPath} is not a file` };
    if (st.size > maxBytes) return { error: `file ${relPath} is ${st.size} bytes; the limit is ${maxBytes}` };
    return { text: readFileSync(real, 'utf8') };
  }

  yaml(relPath: string): YamlFile | { error: string } {
    const cached = this.yamlCache.get(relPath);
    if (cached) return cached;
    const r = this.read(relPath);
    if ('error' in r) return r;
    const parsed = parseYaml(this.display(relPath), r.text);
    this.yamlCache.set(relPath, parsed);
    return parsed;
  }
}

/**
 * Load a list of manifest sources (file paths or inline objects) written at `path` in lab.yaml.
 * Problems go to `problems`; objects that could not be read are left out.
 */
export function loadManifests(files: LabFiles, labDoc: YamlDocument, labFile: string, sources: unknown, path: FieldPath, problems: Problem[]): LoadedManifest[] {
  if (!Array.isArray(sources)) return [];
  const out: LoadedManifest[] = [];
  sources.forEach((src, i) => out.push(...loadManifest(files, labDoc, labFile, src, [...path, i], problems)));
  return out;
}

export function loadManifest(files: LabFiles, labDoc: YamlDocument, labFile: string, src: unknown, path: FieldPath, problems: Problem[]): LoadedManifest[] {
  if (typeof src === 'string') {
    // the schema reports paths that leave the lab directory
    if (!isInsidePath(src)) return [];
    const y = files.yaml(src);
    if ('error' in y) {
      problems.push({ file: labFile, ...labDoc.locate(path), path: formatPath(path), message: y.error });
      return [];
    }
    problems.push(...y.problems);
    if (y.docs.length === 0 && y.problems.length === 0) {
      problems.push({ file: labFile, ...labDoc.locate(path), path: formatPath(path), message: `${src} holds no manifest` });
    }
    const out: LoadedManifest[] = [];
    for (const doc of y.docs) {
      const m = checkManifest(doc.value, (fp, message, at) => problems.push({ file: y.file, ...doc.locate(fp, at), path: formatPath(fp), message }));
      if (m) out.push({ object: m, source: { file: y.file, ...doc.locate([]) }, locate: (fp) => ({ file: y.file, ...doc.locate(fp) }) });
    }
    return out;
  }
  if (src !== null && typeof src === 'object' && !Array.isArray(src)) {
    const m = checkManifest(src, (fp, message, at) => problems.push({ file: labFile, ...labDoc.locate([...path, ...fp], at), path: formatPath([...path, ...fp]), message }));
    return m ? [{ object: m, source: { file: labFile, ...labDoc.locate(path) }, locate: (fp) => ({ file: labFile, ...labDoc.locate([...path, ...fp]) }) }] : [];
  }
  // the schema reports the wrong type
  return [];
}

export type Report = (path: FieldPath, message: string, at?: 'value' | 'key') => void;

/** Check one object as the embedded API would on create; returns it typed when it is usable. */
export function checkManifest(value: unknown, report: Report): Manifest | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    report([], 'a manifest must be a map with apiVersion, kind and metadata');
    return undefined;
  }
  const obj = value as Record<string, unknown>;
  let ok = true;
  for (const key of ['apiVersion', 'kind'] as const) {
    if (typeof obj[key] !== 'string' || obj[key] === '') {
      report([key], obj[key] === undefined ? 'is required' : 'must be a string');
      ok = false;
    }
  }
  const meta = obj.metadata;
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    report(['metadata'], meta === undefined ? 'is required' : 'must be a map');
    return undefined;
  }
  if (!ok) return undefined;
  const apiVersion = obj.apiVersion as string;
  const kind = obj.kind as string;
  const info = kindInfo(apiVersion, kind);
  if (!info) {
    report(['kind'], unknownKindMessage(apiVersion, kind));
    return undefined;
  }
  const errs: FieldError[] = [];
  const shapeErrors: Array<{ path: FieldPath; message: string; at?: 'key' }> = [];
  const m = meta as Record<string, unknown>;
  for (const key of ['name', 'namespace'] as const) {
    if (m[key] !== undefined && typeof m[key] !== 'string') shapeErrors.push({ path: ['metadata', key], message: 'must be a string' });
  }
  if (m.labels !== undefined && !isStringMap(m.labels)) shapeErrors.push({ path: ['metadata', 'labels'], message: 'must be a map of strings to strings' });
  if (m.generateName !== undefined) shapeErrors.push({ path: ['metadata', 'generateName'], at: 'key', message: 'a lab object needs a fixed name (generateName makes a new object on every apply)' });
  if (shapeErrors.length === 0) {
    switch (kind) {
      case 'NetworkPolicy': {
        const shape = networkPolicyShape(obj);
        if (shape.length > 0) shapeErrors.push(...shape);
        else errs.push(...validateNetworkPolicy(obj as unknown as NetworkPolicy));
        break;
      }
      default:
        errs.push(...validateObjectMeta(m, info.namespaced, info.nameRule));
        errs.push(...kindRules(kind, obj, shapeErrors));
    }
  }
  for (const s of shapeErrors) report(s.path, s.message, s.at);
  for (const e of errs) report(parseFieldPath(e.field), e.message);
  if (shapeErrors.length > 0 || errs.length > 0) return undefined;
  return obj as Manifest;
}

function kindRules(kind: string, obj: Record<string, unknown>, shape: Array<{ path: FieldPath; message: string }>): FieldError[] {
  const spec = obj.spec as Record<string, unknown> | undefined;
  const errs: FieldError[] = [];
  const req = (field: string): FieldError => ({ field, type: 'FieldValueRequired', message: 'Required value' });
  switch (kind) {
    case 'Pod':
      if (!isMap(spec)) errs.push(req('spec'));
      else podSpecRules(spec, 'spec', errs, shape);
      break;
    case 'Deployment':
    case 'ReplicaSet': {
      if (!isMap(spec)) {
        errs.push(req('spec'));
        break;
      }
      const selector = spec.selector as Record<string, unknown> | undefined;
      const template = spec.template as Record<string, unknown> | undefined;
      if (!isMap(selector)) errs.push(req('spec.selector'));
      else errs.push(...validateLabelSelector(selector, 'spec.selector'));
      if (!isMap(template)) {
        errs.push(req('spec.template'));
        break;
      }
      const tmeta = (template.metadata ?? {}) as Record<string, unknown>;
      const tlabels = isStringMap(tmeta.labels) ? tmeta.labels : {};
      const wanted = isMap(selector) && isStringMap(selector.matchLabels) ? selector.matchLabels : {};
      if (isMap(selector) && Object.entries(wanted).some(([k, v]) => tlabels[k] !== v)) {
        errs.push({ field: 'spec.template.metadata.labels', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(tlabels)}: \`selector\` does not match template \`labels\`` });
      }
      if (!isMap(template.spec)) errs.push(req('spec.template.spec'));
      else podSpecRules(template.spec as Record<string, unknown>, 'spec.template.spec', errs, shape);
      break;
    }
    case 'Service': {
      if (!isMap(spec)) break;
      const ports = spec.ports;
      if (ports === undefined || (Array.isArray(ports) && ports.length === 0)) {
        if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None') errs.push(req('spec.ports'));
      } else if (!Array.isArray(ports)) shape.push({ path: ['spec', 'ports'], message: 'must be a list' });
      else
        ports.forEach((p, i) => {
          const port = (p as Record<string, unknown>)?.port;
          if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
            errs.push({ field: `spec.ports[${i}].port`, type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(port ?? null)}: must be between 1 and 65535, inclusive` });
          }
        });
      if (spec.selector !== undefined && !isStringMap(spec.selector)) shape.push({ path: ['spec', 'selector'], message: 'must be a map of strings to strings' });
      break;
    }
    default:
      break;
  }
  return errs;
}

function podSpecRules(spec: Record<string, unknown>, at: string, errs: FieldError[], shape: Array<{ path: FieldPath; message: string }>): void {
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    if (containers !== undefined && !Array.isArray(containers)) shape.push({ path: [...parseFieldPath(at), 'containers'], message: 'must be a list' });
    else errs.push({ field: `${at}.containers`, type: 'FieldValueRequired', message: 'Required value' });
    return;
  }
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const path = `${at}.containers[${i}]`;
    if (!isMap(c)) {
      shape.push({ path: parseFieldPath(path), message: 'must be a map' });
      return;
    }
    if (typeof c.name !== 'string' || c.name === '') errs.push({ field: `${path}.name`, type: 'FieldValueRequired', message: 'Required value' });
    else if (names.has(c.name)) errs.push({ field: `${path}.name`, type: 'FieldValueDuplicate', message: `Duplicate value: "${c.name}"` });
    else names.add(c.name);
    if (typeof c.image !== 'string' || c.image === '') errs.push({ field: `${path}.image`, type: 'FieldValueRequired', message: 'Required value' });
    if (c.ports !== undefined) {
      if (!Array.isArray(c.ports)) shape.push({ path: [...parseFieldPath(path), 'ports'], message: 'must be a list' });
      else
        c.ports.forEach((p, j) => {
          const port = isMap(p) ? p.containerPort : undefined;
          if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
            errs.push({ field: `${path}.ports[${j}].containerPort`, type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(port ?? null)}: must be between 1 and 65535, inclusive` });
          }
        });
    }
  });
}

// A NetworkPolicy's fields and their JSON types, so a typo (`spec.Egress`) or a wrong type is
// reported like strict decoding would, before the validator assumes the shape.
type Shape = 'string' | 'int-or-string' | 'integer' | 'stringList' | 'stringMap' | { map: Record<string, Shape> } | { list: Shape };
const selector: Shape = {
  map: { matchLabels: 'stringMap', matchExpressions: { list: { map: { key: 'string', operator: 'string', values: 'stringList' } } } },
};
const peer: Shape = { map: { podSelector: selector, namespaceSelector: selector, ipBlock: { map: { cidr: 'string', except: 'stringList' } } } };
const ports: Shape = { list: { map: { protocol: 'string', port: 'int-or-string', endPort: 'integer' } } };
const networkPolicy: Shape = {
  map: {
    apiVersion: 'string',
    kind: 'string',
    metadata: { map: { name: 'string', namespace: 'string', labels: 'stringMap', annotations: 'stringMap' } },
    spec: {
      map: {
        podSelector: selector,
        policyTypes: 'stringList',
        ingress: { list: { map: { from: { list: peer }, ports } } },
        egress: { list: { map: { to: { list: peer }, ports } } },
      },
    },
  },
};

function networkPolicyShape(obj: Record<string, unknown>): Array<{ path: FieldPath; message: string; at?: 'key' }> {
  const out: Array<{ path: FieldPath; message: string; at?: 'key' }> = [];
  const walk = (v: unknown, shape: Shape, path: FieldPath): void => {
    if (v === null || v === undefined) return;
    if (shape === 'string') {
      if (typeof v !== 'string') out.push({ path, message: 'must be a string' });
    } else if (shape === 'integer') {
      if (typeof v !== 'number' || !Number.isInteger(v)) out.push({ path, message: 'must be an integer' });
    } else if (shape === 'int-or-string') {
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) out.push({ path, message: 'must be an integer or a port name' });
    } else if (shape === 'stringList') {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) out.push({ path, message: 'must be a list of strings' });
    } else if (shape === 'stringMap') {
      if (!isStringMap(v)) out.push({ path, message: 'must be a map of strings to strings' });
    } else if ('list' in shape) {
      if (!Array.isArray(v)) out.push({ path, message: 'must be a list' });
      else v.forEach((item, i) => walk(item, shape.list, [...path, i]));
    } else {
      if (!isMap(v)) {
        out.push({ path, message: 'must be a map' });
        return;
      }
      for (const [key, child] of Object.entries(v)) {
        const s = shape.map[key];
        // metadata carries server-set fields (uid, resourceVersion...) that a copied manifest may include
        if (!s) {
          if (path.length === 1 && path[0] === 'metadata') continue;
          out.push({ path: [...path, key], at: 'key', message: `unknown field "${formatPath([...path, key])}"` });
        } else walk(child, s, [...path, key]);
      }
    }
  };
  walk(obj, networkPolicy, []);
  if (obj.spec === undefined) out.push({ path: ['spec'], message: 'is required' });
  return out;
}

/** `spec.ingress[0].from[1].ipBlock` → `['spec', 'ingress', 0, 'from', 1, 'ipBlock']` */
export function parseFieldPath(field: string): FieldPath {
  const out: FieldPath = [];
  for (const part of field.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (part.startsWith('[')) out.push(Number(part.slice(1, -1)));
    else out.push(part);
  }
  return out;
}

/** A relative path that stays inside its directory (no absolute paths, no `..` segments). */
export function isInsidePath(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !p.split(/[\\/]/).includes('..');
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isStringMap(v: unknown): v is Record<string, string> {
  return isMap(v) && Object.values(v).every((x) => typeof x === 'string');
}
