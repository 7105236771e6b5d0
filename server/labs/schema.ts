// lab.yaml against schema/lab.schema.json (the file shipped for editors and CI), with ajv's
// errors turned into one clear line each: the field path, and what it must be.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FieldPath } from './problems.ts';

export const labSchemaPath = new URL('../../schema/lab.schema.json', import.meta.url);

export interface SchemaProblem {
  path: FieldPath;
  /** point at the key itself (unknown keys) rather than its value */
  at: 'value' | 'key';
  message: string;
}

let compiled: { schema: Record<string, unknown>; validate: ValidateFunction } | undefined;

/** The lab JSON Schema, parsed. */
export function labSchema(): Record<string, unknown> {
  return compiledSchema().schema;
}

function compiledSchema(): { schema: Record<string, unknown>; validate: ValidateFunction } {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(labSchemaPath, 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, verbose: true, discriminator: true, strict: true, strictRequired: false, allowUnionTypes: true });
    // annotations that carry our error wording; ajv must know them to stay strict about typos
    ajv.addKeyword({ keyword: 'patternMessage', schemaType: 'string' });
    compiled = { schema, validate: ajv.compile(schema) };
  }
  return compiled;
}

/** Every schema violation in `value`, one per field, in document order of their paths. */
export function validateAgainstSchema(value: unknown): SchemaProblem[] {
  const { validate } = compiledSchema();
  if (validate(value)) return [];
  return describeErrors(validate.errors ?? [], value);
}

function describeErrors(errors: ErrorObject[], root: unknown): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const p = describe(e, root);
    if (!p) continue;
    const key = JSON.stringify(p.path);
    // one line per field: the first (most specific) reason is enough to fix it
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}

function describe(e: ErrorObject, root: unknown): SchemaProblem | undefined {
  const path = pointerToPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {});
      const near = nearest(key, known);
      return { path: [...path, key], at: 'key', message: `unknown key${near ? ` (did you mean "${near}"?)` : `; allowed: ${known.join(', ')}`}` };
    }
    case 'required':
      return { path: [...path, String(params.missingProperty)], at: 'value', message: 'is required' };
    case 'enum':
      return { path, at: 'value', message: `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'const':
      return { path, at: 'value', message: `must be ${String(params.allowedValue)}` };
    case 'type':
      return { path, at: 'value', message: `must be ${article(String(params.type))}, not ${jsonType(valueAt(root, path))}` };
    case 'pattern':
      return { path, at: 'value', message: typeof parent.patternMessage === 'string' ? parent.patternMessage : `must match ${String(params.pattern)}` };
    case 'minLength':
      return { path, at: 'value', message: params.limit === 1 ? 'must not be empty' : `must be at least ${params.limit} characters` };
    case 'maxLength':
      return { path, at: 'value', message: `must be at most ${params.limit} characters` };
    case 'minItems':
      return { path, at: 'value', message: `must have at least ${params.limit} item${params.limit === 1 ? '' : 's'}` };
    case 'maxItems':
      return { path, at: 'value', message: `must have at most ${params.limit} items` };
    case 'maxProperties':
      return { path, at: 'value', message: `must have at most ${params.limit} keys` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, at: 'value', message: `must be ${params.comparison} ${params.limit}` };
    case 'if':
      // the branch it chose reports the real reason
      return undefined;
    case 'discriminator': {
      const tag = String(params.tag);
      if (params.error === 'mapping') {
        const options = ((parent.oneOf as Array<Record<string, unknown>> | undefined) ?? [])
          .map((b) => discriminatorValue(b, tag))
          .filter((x): x is string => x !== undefined);
        return { path: [...path, tag], at: 'value', message: `must be one of ${options.join(', ')}` };
      }
      return { path: [...path, tag], at: 'value', message: 'must be a string' };
    }
    default:
      return { path, at: 'value', message: e.message ?? `fails ${e.keyword}` };
  }
}

let schemaRoot: Record<string, unknown> | undefined;
function discriminatorValue(branch: Record<string, unknown>, tag: string): string | undefined {
  schemaRoot ??= labSchema();
  let b = branch;
  if (typeof b.$ref === 'string') {
    const name = b.$ref.replace('#/definitions/', '');
    b = ((schemaRoot.definitions as Record<string, Record<string, unknown>>)[name] ?? {}) as Record<string, unknown>;
  }
  const prop = (b.properties as Record<string, Record<string, unknown>> | undefined)?.[tag];
  return typeof prop?.const === 'string' ? prop.const : undefined;
}

/** `/steps/1/checks/0` → `['steps', 1, 'checks', 0]` */
export function pointerToPath(pointer: string): FieldPath {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function valueAt(root: unknown, path: FieldPath): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `a string`;
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return `a ${typeof v}`;
}

function article(type: string): string {
  const words: Record<string, string> = { object: 'a map', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', null: 'empty' };
  return type
    .split(',')
    .map((t) => words[t] ?? t)
    .join(' or ');
}

function nearest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
