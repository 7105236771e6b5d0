// The lab.yaml reference in docs/authoring.md, generated from schema/lab.schema.json so the two
// never disagree (a test compares them). Regenerate after a schema change:
//   node --import tsx server/labs/reference.ts --write
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labSchema } from './schema.ts';

type Schema = Record<string, unknown>;

export const referenceStart = '<!-- lab.yaml reference: generated from schema/lab.schema.json by server/labs/reference.ts; do not edit by hand -->';
export const referenceEnd = '<!-- end of the generated reference -->';
export const authoringDoc = new URL('../../docs/authoring.md', import.meta.url);

const order = [
  '(lab.yaml)',
  'environment',
  'externalHost',
  'step',
  'stepSetup',
  'solution',
  'wrongSolution',
  'check',
  'probeCheck',
  'probeSource',
  'probeTarget',
  'resourceCheck',
  'question',
  'singleQuestion',
  'multipleQuestion',
  'textQuestion',
  'manifestQuestion',
  'option',
  'quizCluster',
  'quizProbe',
  'objectRef',
  'manifest',
  'manifests',
  'command',
  'id',
  'relativePath',
  'labels',
];

/** The reference as Markdown: one section per schema definition, a table of fields each. */
export function labReference(schema: Schema = labSchema()): string {
  const defs = schema.definitions as Record<string, Schema>;
  const out: string[] = [];
  for (const name of order) {
    const s = name === '(lab.yaml)' ? schema : defs[name];
    if (!s) throw new Error(`the schema has no definition ${name}`);
    out.push(`### ${name === '(lab.yaml)' ? 'lab.yaml' : name}`, '');
    const description = (s.description as string | undefined) ?? '';
    if (description) out.push(description, '');
    const props = s.properties as Record<string, Schema> | undefined;
    if (props && !s.if) {
      const required = new Set((s.required as string[] | undefined) ?? []);
      out.push('| field | type | required | meaning |', '|---|---|---|---|');
      out.push(...rows(props, required, '', defs));
      out.push('');
    } else {
      out.push(`Type: ${typeOf(s)}.`, '');
    }
  }
  const missing = Object.keys(defs).filter((d) => !order.includes(d));
  if (missing.length > 0) throw new Error(`reference order lacks ${missing.join(', ')}`);
  return out.join('\n').trimEnd() + '\n';
}

/** Table rows for the fields, with inline objects' own fields under them (`ports[].port`). */
function rows(props: Record<string, Schema>, required: Set<string>, prefix: string, defs: Record<string, Schema>): string[] {
  const out: string[] = [];
  for (const [field, p] of Object.entries(props)) {
    const name = `${prefix}${field}`;
    out.push(`| \`${name}\` | ${typeOf(p)} | ${required.has(field) ? 'yes' : ''} | ${cell(describe(p, defs))} |`);
    const inner = p.type === 'array' ? (p.items as Schema) : p;
    if (inner?.type === 'object' && inner.properties && !inner.$ref) {
      const sub = new Set((inner.required as string[] | undefined) ?? []);
      out.push(...rows(inner.properties as Record<string, Schema>, sub, `${name}${p.type === 'array' ? '[]' : ''}.`, defs));
    }
  }
  return out;
}

function describe(p: Schema, defs: Record<string, Schema>): string {
  if (typeof p.description === 'string') return p.description;
  if (typeof p.$ref === 'string') return (defs[refName(p.$ref)]?.description as string | undefined) ?? '';
  const items = p.items as Schema | undefined;
  if (items?.$ref) return (defs[refName(items.$ref as string)]?.description as string | undefined) ?? '';
  return '';
}

function refName(ref: string): string {
  return ref.replace('#/definitions/', '');
}

function link(name: string): string {
  return `[${name}](#${name.toLowerCase()})`;
}

function typeOf(s: Schema): string {
  if (typeof s.$ref === 'string') return link(refName(s.$ref));
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  if (Array.isArray(s.enum)) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (Array.isArray(s.oneOf)) {
    const disc = (s.discriminator as { propertyName?: string } | undefined)?.propertyName;
    return `one of ${(s.oneOf as Schema[]).map(typeOf).join(', ')}${disc ? ` (by \`${disc}\`)` : ''}`;
  }
  if (s.if) return 'a file path or an inline manifest';
  const t = s.type;
  if (t === 'array') {
    const items = s.items as Schema;
    return `list of ${typeOf(items)}`;
  }
  if (t === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties as Schema)}`;
  if (Array.isArray(t)) return t.join(' or ');
  const bounds: string[] = [];
  if (typeof s.minimum === 'number') bounds.push(`≥ ${s.minimum}`);
  if (typeof s.maximum === 'number') bounds.push(`≤ ${s.maximum}`);
  return `${String(t ?? 'any')}${bounds.length ? ` (${bounds.join(', ')})` : ''}`;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The doc with its reference section replaced by a fresh one. */
export function withReference(doc: string, reference = labReference()): string {
  const start = doc.indexOf(referenceStart);
  const end = doc.indexOf(referenceEnd);
  if (start < 0 || end < start) throw new Error(`docs/authoring.md lacks the reference markers`);
  return doc.slice(0, start + referenceStart.length) + '\n\n' + reference + '\n' + doc.slice(end);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes('--write')) {
  writeFileSync(authoringDoc, withReference(readFileSync(authoringDoc, 'utf8')));
  process.stdout.write('docs/authoring.md: reference regenerated\n');
}
