// YAML for lab files and learner answers, read defensively: a size cap, an alias cap against
// "billion laughs" documents, no `__proto__` keys, and every value traceable back to its line
// and column so a problem can point at the exact spot.
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node } from 'yaml';
import type { FieldPath, Problem } from './problems.ts';
import { formatPath } from './problems.ts';

export interface Position {
  line: number;
  column: number;
}

export interface YamlDocument {
  /** the document as plain JSON-like data */
  value: unknown;
  /** where the value at `path` starts (its key with `at: 'key'`), or its closest existing ancestor */
  locate(path: FieldPath, at?: 'value' | 'key'): Position;
}

export interface YamlFile {
  file: string;
  docs: YamlDocument[];
  problems: Problem[];
}

export interface YamlLimits {
  /** bytes; larger input is refused before parsing */
  maxBytes?: number;
  /** alias nodes one document may expand; a bomb needs thousands */
  maxAliasCount?: number;
  /** documents in one file */
  maxDocuments?: number;
}

const defaults: Required<YamlLimits> = { maxBytes: 1024 * 1024, maxAliasCount: 100, maxDocuments: 200 };
const forbiddenKeys = new Set(['__proto__']);

/** Parse one or more YAML documents; never throws for bad input, reports problems instead. */
export function parseYaml(file: string, text: string, limits: YamlLimits = {}): YamlFile {
  const lim = { ...defaults, ...limits };
  const problems: Problem[] = [];
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > lim.maxBytes) {
    return { file, docs: [], problems: [{ file, message: `file is ${bytes} bytes; the limit is ${lim.maxBytes}` }] };
  }
  const lineCounter = new LineCounter();
  let parsed: Document.Parsed[];
  try {
    parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false, strict: true }) as Document.Parsed[];
  } catch (err) {
    // the parser recurses on nesting; absurd depth ends here rather than in a crash
    return { file, docs: [], problems: [{ file, message: `cannot parse YAML: ${errorText(err)}` }] };
  }
  if (!Array.isArray(parsed)) parsed = [parsed as unknown as Document.Parsed];
  const pos = (offset: number): Position => {
    const lp = lineCounter.linePos(offset);
    return { line: lp.line, column: lp.col };
  };
  if (parsed.length > lim.maxDocuments) {
    return { file, docs: [], problems: [{ file, message: `file has ${parsed.length} YAML documents; the limit is ${lim.maxDocuments}` }] };
  }
  const docs: YamlDocument[] = [];
  for (const doc of parsed) {
    let bad = false;
    for (const e of doc.errors) {
      bad = true;
      problems.push({ file, ...pos(e.pos[0]), message: yamlMessage(e.message) });
    }
    for (const w of doc.warnings) problems.push({ file, ...pos(w.pos[0]), message: yamlMessage(w.message) });
    if (bad) continue;
    // an empty document between `---` separators is not an object anyone wrote
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: lim.maxAliasCount });
    } catch (err) {
      problems.push({ file, ...pos(doc.range[0]), message: `cannot expand YAML: ${errorText(err)}` });
      continue;
    }
    const locate = (path: FieldPath, at: 'value' | 'key' = 'value'): Position => pos(locateOffset(doc, path, at));
    for (const p of forbiddenKeyPaths(value)) {
      problems.push({ file, ...locate(p, 'key'), path: formatPath(p), message: 'this key is not allowed' });
      bad = true;
    }
    if (bad) continue;
    docs.push({ value, locate });
  }
  return { file, docs, problems };
}

function locateOffset(doc: Document.Parsed, path: FieldPath, at: 'value' | 'key'): number {
  let node: unknown = doc.contents;
  let offset = doc.contents && hasRange(doc.contents) ? doc.contents.range[0] : doc.range[0];
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) return offset;
      const last = i === path.length - 1;
      if (last && at === 'key' && hasRange(pair.key)) return pair.key.range[0];
      if (hasRange(pair.value)) offset = pair.value.range[0];
      else if (hasRange(pair.key)) offset = pair.key.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return offset;
      if (hasRange(item)) offset = item.range[0];
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}

function hasRange(n: unknown): n is Node & { range: [number, number, number] } {
  return typeof n === 'object' && n !== null && Array.isArray((n as { range?: unknown }).range);
}

function forbiddenKeyPaths(value: unknown): FieldPath[] {
  const out: FieldPath[] = [];
  // iterative walk: aliases may make the tree wide, and recursion depth is the input's to choose
  const stack: Array<{ v: unknown; path: FieldPath }> = [{ v: value, path: [] }];
  let visited = 0;
  while (stack.length > 0 && visited < 1_000_000) {
    const { v, path } = stack.pop()!;
    visited++;
    if (Array.isArray(v)) v.forEach((item, i) => stack.push({ v: item, path: [...path, i] }));
    else if (v !== null && typeof v === 'object') {
      for (const key of Object.keys(v)) {
        if (forbiddenKeys.has(key)) out.push([...path, key]);
        else stack.push({ v: (v as Record<string, unknown>)[key], path: [...path, key] });
      }
    }
  }
  return out;
}

function yamlMessage(message: string): string {
  // the parser appends " at line L, column C"; the position is already in front of the message
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
