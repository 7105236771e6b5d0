// Label and field selectors as list/watch query parameters (apimachinery labels.Parse and
// fields.ParseSelector), and the object form of a LabelSelector used by services and workloads.
import { badRequest } from './errors.ts';
import type { KubeObject } from './runtime.ts';

export type LabelOperator = 'in' | 'notin' | 'exists' | '!' | '=' | '==' | '!=' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export type Labels = Record<string, string>;

const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

class SelectorLexer {
  private i = 0;
  constructor(private readonly s: string) {}

  private skipSpace(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  peek(): string {
    this.skipSpace();
    return this.s.slice(this.i);
  }

  atEnd(): boolean {
    return this.peek() === '';
  }

  /** an identifier-like token: key or value characters */
  word(): string {
    this.skipSpace();
    const start = this.i;
    while (this.i < this.s.length && !/[\s,=!()<>]/.test(this.s[this.i])) this.i++;
    return this.s.slice(start, this.i);
  }

  take(token: string): boolean {
    this.skipSpace();
    if (this.s.startsWith(token, this.i)) {
      this.i += token.length;
      return true;
    }
    return false;
  }

  takeKeyword(word: string): boolean {
    this.skipSpace();
    const rest = this.s.slice(this.i);
    if (rest.startsWith(word) && (rest.length === word.length || /[\s(]/.test(rest[word.length]))) {
      this.i += word.length;
      return true;
    }
    return false;
  }
}

function parseError(why: string): never {
  throw badRequest(`unable to parse requirement: ${why}`);
}

function checkKey(key: string): void {
  if (!key) parseError('found \'\', expected: identifier');
  if (key.length > 317 || !QUALIFIED_NAME.test(key)) {
    parseError(`key: Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`);
  }
}

function checkValue(v: string, index: number): void {
  if (v.length > 63 || !LABEL_VALUE.test(v)) {
    parseError(`values[${index}][${v}]: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`);
  }
}

/** Parse a `labelSelector` query value: `a=b,c!=d,e in (f,g),!h,i`. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  const lx = new SelectorLexer(selector);
  const out: LabelRequirement[] = [];
  if (lx.atEnd()) return out;
  for (;;) {
    if (lx.take('!')) {
      const key = lx.word();
      checkKey(key);
      out.push({ key, operator: '!', values: [] });
    } else {
      const key = lx.word();
      checkKey(key);
      if (lx.take('==')) out.push(valueRequirement(lx, key, '=='));
      else if (lx.take('!=')) out.push(valueRequirement(lx, key, '!='));
      else if (lx.take('=')) out.push(valueRequirement(lx, key, '='));
      else if (lx.take('>')) out.push(numberRequirement(lx, key, 'gt'));
      else if (lx.take('<')) out.push(numberRequirement(lx, key, 'lt'));
      else if (lx.takeKeyword('notin')) out.push(setRequirement(lx, key, 'notin'));
      else if (lx.takeKeyword('in')) out.push(setRequirement(lx, key, 'in'));
      else {
        const next = lx.peek();
        if (next !== '' && !next.startsWith(',')) parseError(`found '${next.split(/[\s,]/)[0]}', expected: in, notin, =, ==, !=, gt, lt`);
        out.push({ key, operator: 'exists', values: [] });
      }
    }
    if (lx.atEnd()) break;
    if (!lx.take(',')) parseError(`found '${lx.peek()}', expected: ',' or 'end of string'`);
  }
  return out;
}

function valueRequirement(lx: SelectorLexer, key: string, operator: LabelOperator): LabelRequirement {
  const v = lx.word();
  checkValue(v, 0);
  return { key, operator, values: [v] };
}

function numberRequirement(lx: SelectorLexer, key: string, operator: LabelOperator): LabelRequirement {
  const v = lx.word();
  if (!/^-?\d+$/.test(v)) parseError(`for 'Gt', 'Lt' operators, the value must be an integer`);
  return { key, operator, values: [v] };
}

function setRequirement(lx: SelectorLexer, key: string, operator: LabelOperator): LabelRequirement {
  if (!lx.take('(')) parseError(`found '${lx.peek()}', expected: '('`);
  const values: string[] = [];
  if (!lx.take(')')) {
    for (;;) {
      const v = lx.word();
      checkValue(v, values.length);
      values.push(v);
      if (lx.take(')')) break;
      if (!lx.take(',')) parseError(`found '${lx.peek()}', expected: ',', ')' or identifier`);
    }
  }
  if (values.length === 0) parseError('for \'in\', \'notin\' operators, values set can\'t be empty');
  return { key, operator, values };
}

export function requirementMatches(r: LabelRequirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case '=':
    case '==':
    case 'in':
      return has && r.values.includes(v as string);
    case '!=':
    case 'notin':
      return !has || !r.values.includes(v as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(v as string)) return false;
      const n = Number(v);
      const bound = Number(r.values[0]);
      return r.operator === 'gt' ? n > bound : n < bound;
    }
  }
}

export function labelsMatch(reqs: readonly LabelRequirement[], labels: Labels | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) if (!requirementMatches(r, l)) return false;
  return true;
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** metav1.LabelSelectorAsSelector: an object selector as requirements (an empty selector matches everything). */
export function selectorRequirements(sel: LabelSelectorObject | undefined | null): LabelRequirement[] {
  const out: LabelRequirement[] = [];
  if (!sel) return out;
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) out.push({ key, operator: '=', values: [value] });
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator;
    if (op === 'In') out.push({ key: e.key, operator: 'in', values: e.values ?? [] });
    else if (op === 'NotIn') out.push({ key: e.key, operator: 'notin', values: e.values ?? [] });
    else if (op === 'Exists') out.push({ key: e.key, operator: 'exists', values: [] });
    else if (op === 'DoesNotExist') out.push({ key: e.key, operator: '!', values: [] });
    else throw badRequest(`"${op}" is not a valid label selector operator`);
  }
  return out;
}

/** A service's plain map selector matches when every pair is present (an empty map matches nothing, as services treat it). */
export function mapSelectorMatches(selector: Record<string, string> | undefined, labels: Labels | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector)) if (l[k] !== v) return false;
  return true;
}

/** labels.FormatLabels: sorted `k=v,k2=v2`, or `<none>`. */
export function formatLabels(labels: Labels | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${(labels as Labels)[k]}`).join(',');
}

/** metav1.FormatLabelSelector: `app=web,tier in (a,b)`; `<none>` for an empty selector. */
export function formatLabelSelector(sel: LabelSelectorObject | undefined | null): string {
  if (!sel) return '<none>';
  const parts: string[] = [];
  for (const k of Object.keys(sel.matchLabels ?? {}).sort()) parts.push(`${k}=${sel.matchLabels![k]}`);
  for (const e of sel.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${[...(e.values ?? [])].sort().join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${[...(e.values ?? [])].sort().join(',')})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
      default:
        parts.push(`${e.key} ${e.operator} (${(e.values ?? []).join(',')})`);
    }
  }
  const s = parts.join(',');
  return s === '' ? '<none>' : s;
}

// ---- field selectors ----

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

/** fields.ParseSelector: comma-separated `field=value` / `field==value` / `field!=value`, `\,` escapes. */
export function parseFieldSelector(selector: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (selector.trim() === '') return out;
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '\\' && i + 1 < selector.length) {
      cur += selector[++i];
    } else if (c === ',') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  for (const p of parts) {
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([^=!]+)!=(.*)$/))) out.push({ field: m[1].trim(), operator: '!=', value: m[2] });
    else if ((m = p.match(/^([^=!]+)==?(.*)$/))) out.push({ field: m[1].trim(), operator: '=', value: m[2] });
    else throw badRequest(`invalid selector: '${selector}'; can't understand '${p}'`);
  }
  return out;
}

type FieldGetter = (o: KubeObject) => string;

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

const COMMON_FIELDS: Record<string, FieldGetter> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => str(o.metadata.namespace),
};

const RESOURCE_FIELDS: Record<string, Record<string, FieldGetter>> = {
  pods: {
    'spec.nodeName': (o) => str(o.spec?.nodeName),
    'spec.restartPolicy': (o) => str(o.spec?.restartPolicy),
    'spec.schedulerName': (o) => str(o.spec?.schedulerName),
    'spec.serviceAccountName': (o) => str(o.spec?.serviceAccountName),
    'spec.hostNetwork': (o) => String(Boolean(o.spec?.hostNetwork)),
    'status.phase': (o) => str(o.status?.phase),
    'status.podIP': (o) => str(o.status?.podIP),
    'status.nominatedNodeName': (o) => str(o.status?.nominatedNodeName),
  },
  events: {
    'involvedObject.kind': (o) => str((o.involvedObject as Record<string, unknown> | undefined)?.kind),
    'involvedObject.namespace': (o) => str((o.involvedObject as Record<string, unknown> | undefined)?.namespace),
    'involvedObject.name': (o) => str((o.involvedObject as Record<string, unknown> | undefined)?.name),
    'involvedObject.uid': (o) => str((o.involvedObject as Record<string, unknown> | undefined)?.uid),
    'involvedObject.apiVersion': (o) => str((o.involvedObject as Record<string, unknown> | undefined)?.apiVersion),
    'involvedObject.resourceVersion': (o) => str((o.involvedObject as Record<string, unknown> | undefined)?.resourceVersion),
    'involvedObject.fieldPath': (o) => str((o.involvedObject as Record<string, unknown> | undefined)?.fieldPath),
    reason: (o) => str(o.reason),
    reportingComponent: (o) => str(o.reportingComponent),
    source: (o) => str((o.source as Record<string, unknown> | undefined)?.component),
    type: (o) => str(o.type),
  },
  namespaces: { 'status.phase': (o) => str(o.status?.phase) },
  nodes: { 'spec.unschedulable': (o) => String(Boolean(o.spec?.unschedulable)) },
  secrets: { type: (o) => str(o.type) },
  services: { 'spec.clusterIP': (o) => str(o.spec?.clusterIP), 'spec.type': (o) => str(o.spec?.type) },
  replicasets: { 'status.replicas': (o) => str(o.status?.replicas ?? 0) },
};

export interface CompiledFieldSelector {
  requirements: FieldRequirement[];
  matches(o: KubeObject): boolean;
}

/** Check a field selector against the fields a resource supports (`field label not supported: x` otherwise). */
export function compileFieldSelector(resource: string, reqs: FieldRequirement[]): CompiledFieldSelector {
  const getters: Array<[FieldGetter, FieldRequirement]> = reqs.map((r) => {
    const g = COMMON_FIELDS[r.field] ?? RESOURCE_FIELDS[resource]?.[r.field];
    if (!g) throw badRequest(`field label not supported: ${r.field}`);
    return [g, r];
  });
  return {
    requirements: reqs,
    matches(o) {
      for (const [g, r] of getters) {
        const v = g(o);
        if (r.operator === '=' ? v !== r.value : v === r.value) return false;
      }
      return true;
    },
  };
}

/** The single metadata.name / metadata.namespace a selector pins, if any (to avoid scanning). */
export function pinnedField(reqs: readonly FieldRequirement[], field: string): string | undefined {
  for (const r of reqs) if (r.field === field && r.operator === '=') return r.value;
  return undefined;
}
