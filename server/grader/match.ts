// Matching an object against a check's pattern, and saying where it differs in words a learner
// can act on. Maps match when every key given matches; lists when they hold the same items in
// any order; `{}` when the value is empty; `$exists`, `$contains` and `$oneOf` for the rest.
import { formatLabelSelector, type LabelSelector } from '../netpol/index.ts';

export interface Mismatch {
  /** e.g. `spec.podSelector` */
  path: string;
  /** what the pattern wants, as people read it */
  want: string;
  /** what the object has */
  got: string;
}

/** The first place where `value` does not match `pattern`, or undefined when it matches. */
export function matchPattern(pattern: unknown, value: unknown, path = ''): Mismatch | undefined {
  if (isMap(pattern)) {
    const keys = Object.keys(pattern);
    if (keys.length === 1 && keys[0].startsWith('$')) return operator(keys[0], pattern[keys[0]], value, path);
    if (keys.length === 0) return isEmpty(value) ? undefined : { path, want: 'empty ({})', got: show(value, path) };
    if (!isMap(value)) return { path, want: 'a map', got: show(value, path) };
    for (const k of keys) {
      const m = matchPattern(pattern[k], value[k], join(path, k));
      if (m) return m;
    }
    return undefined;
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value)) return { path, want: show(pattern, path), got: show(value, path) };
    if (value.length !== pattern.length || !containsAll(pattern, value, path)) return { path, want: show(pattern, path), got: show(value, path) };
    return undefined;
  }
  if (value === pattern) return undefined;
  // YAML authors write numbers; APIs sometimes echo them as strings (and the reverse)
  if ((typeof value === 'number' || typeof value === 'string') && (typeof pattern === 'number' || typeof pattern === 'string') && String(value) === String(pattern)) return undefined;
  return { path, want: show(pattern, path), got: show(value, path) };
}

function operator(op: string, arg: unknown, value: unknown, path: string): Mismatch | undefined {
  switch (op) {
    case '$exists':
      if ((value !== undefined && value !== null) === arg) return undefined;
      return { path, want: arg ? 'present' : 'absent', got: show(value, path) };
    case '$contains': {
      const items = Array.isArray(arg) ? arg : [arg];
      if (Array.isArray(value) && containsAll(items, value, path)) return undefined;
      return { path, want: `a list including ${items.map((i) => show(i, path)).join(', ')}`, got: show(value, path) };
    }
    case '$oneOf': {
      const options = Array.isArray(arg) ? arg : [arg];
      if (options.some((o) => matchPattern(o, value, path) === undefined)) return undefined;
      return { path, want: `one of ${options.map((o) => show(o, path)).join(', ')}`, got: show(value, path) };
    }
    default:
      return { path, want: `(unknown operator ${op})`, got: show(value, path) };
  }
}

/** Every pattern item matches a different item of `value` (small lists: backtracking is fine). */
function containsAll(patterns: unknown[], value: unknown[], path: string): boolean {
  const used = new Array<boolean>(value.length).fill(false);
  const place = (i: number): boolean => {
    if (i === patterns.length) return true;
    for (let j = 0; j < value.length; j++) {
      if (used[j] || matchPattern(patterns[i], value[j], `${path}[${j}]`) !== undefined) continue;
      used[j] = true;
      if (place(i + 1)) return true;
      used[j] = false;
    }
    return false;
  };
  return patterns.length <= 50 && value.length <= 200 && place(0);
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isMap(v)) return Object.values(v).every(isEmpty);
  return false;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** A value as a learner reads it: selectors in kubectl's style, the rest as short JSON. */
export function show(v: unknown, path = ''): string {
  if (v === undefined || v === null) return 'nothing';
  if (/(podSelector|namespaceSelector|selector)$/.test(path) && isMap(v)) {
    const s = formatLabelSelector(v as LabelSelector);
    return s === '' ? '{} (every pod)' : s;
  }
  if (typeof v === 'string') return v;
  const json = JSON.stringify(v);
  return json.length > 80 ? json.slice(0, 77) + '...' : json;
}
