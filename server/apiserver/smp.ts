// The three PATCH body formats kube-apiserver accepts for built-in kinds:
// - strategic merge patch (kubectl apply/edit, client-node's default), following
//   k8s.io/apimachinery/pkg/util/strategicpatch: maps merge, null deletes, lists merge by their
//   merge key only where the Go struct tag says so, directives $patch, $retainKeys,
//   $setElementOrder/<f>, $deleteFromPrimitiveList/<f>;
// - JSON merge patch (RFC 7386; kubectl label/annotate);
// - JSON patch (RFC 6902; client-node typed APIs, kubectl patch --type=json).
// None of them mutates its arguments.
import {
  definitionNameFor,
  patchMetaFor,
  refName,
  resolve,
  type GroupVersionKind,
  type PatchMeta,
  type SchemaNode,
} from './schema.ts';

/** A patch kube-apiserver would refuse; `code` is the HTTP status it answers with. */
export class PatchError extends Error {
  constructor(
    message: string,
    readonly code: 400 | 422 = 400,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonMap = { [key: string]: Json };

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER_PREFIX = '$setElementOrder';
const DELETE_PRIMITIVE_PREFIX = '$deleteFromPrimitiveList';

const ERR_BAD_JSON_DOC = 'invalid JSON document';
const ERR_NO_LIST_OF_LISTS = 'lists of lists are not supported';
const ERR_BAD_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const ERR_BAD_RETAIN_KEYS = 'invalid patch format of retainKeys';
const ERR_BAD_SET_ORDER = 'invalid patch format of setElementOrder list';
const ERR_RETAIN_KEYS_MISMATCH = "patch content doesn't match retainKeys list";

// --- strategic merge patch -----------------------------------------------------------------

/** Where the merge is in the schema: a struct definition, or the value type of a map or list. */
interface Cursor {
  /** definition name when the value is a struct */
  name?: string;
  node?: SchemaNode;
}

interface FieldLookup {
  meta?: PatchMeta;
  /** schema of the field's value (for a list: the list itself) */
  cursor: Cursor;
}

function lookupField(cur: Cursor, key: string): FieldLookup {
  const node = cur.node ? resolve(cur.node) : undefined;
  if (!node) return { cursor: {} };
  if (node.properties) {
    const prop = Object.hasOwn(node.properties, key) ? node.properties[key] : undefined;
    if (!prop) return { cursor: {} };
    return { meta: cur.name ? patchMetaFor(cur.name, key) : undefined, cursor: cursorOf(prop) };
  }
  if (node.additionalProperties) return { cursor: cursorOf(node.additionalProperties) };
  return { cursor: {} };
}

function cursorOf(node: SchemaNode): Cursor {
  return { name: refName(node), node };
}

function elementCursor(list: Cursor): Cursor {
  const node = list.node ? resolve(list.node) : undefined;
  return node?.items ? cursorOf(node.items) : {};
}

/** The list strategy after splitting off retainKeys (extractRetainKeysPatchStrategy). */
function listStrategy(meta: PatchMeta | undefined): string {
  return meta?.strategies.find((s) => s !== 'retainKeys') ?? '';
}

/**
 * Applies a strategic merge patch to `original` as kube-apiserver does for a built-in kind
 * (StrategicMergeMapPatch with MergeParallelList and IgnoreUnmatchedNulls).
 */
export function strategicMergePatch(original: object, patch: object, gvk: GroupVersionKind): object {
  const name = definitionNameFor(gvk);
  if (!name) throw new PatchError(`strategic merge patch format is not supported for ${gvk.kind}`, 400);
  if (!isMap(original as Json) || !isMap(patch as Json)) throw new PatchError(ERR_BAD_JSON_DOC);
  const cursor: Cursor = { name, node: { $ref: `#/components/schemas/${name}` } };
  return mergeMap(clone(original as JsonMap), clone(patch as JsonMap), cursor);
}

function mergeMap(original: JsonMap | null, patch: JsonMap, cur: Cursor): JsonMap {
  if (Object.hasOwn(patch, DIRECTIVE)) return directiveInMap(patch[DIRECTIVE], patch);
  const target: JsonMap = original ?? {};
  applyRetainKeys(target, patch);
  mergeSetElementOrder(target, patch, cur);

  for (const rawKey of Object.keys(patch)) {
    const patchV = patch[rawKey];
    let key = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(DELETE_PRIMITIVE_PREFIX)) {
      key = extractKey(rawKey, DELETE_PRIMITIVE_PREFIX, ERR_BAD_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    if (patchV === null) {
      delete target[key];
      continue; // IgnoreUnmatchedNulls
    }
    if (!Object.hasOwn(target, key) || kindOf(target[key]) !== kindOf(patchV)) {
      if (!isDeleteList) {
        discardNulls(patchV);
        const [value, keep] = removeDirectives(patchV);
        if (keep) target[key] = value;
        else delete target[key];
      }
      continue;
    }
    const { meta, cursor } = lookupField(cur, key);
    const strategy = listStrategy(meta);
    const current = target[key];
    if (isMap(current) && isMap(patchV)) {
      target[key] = strategy === 'replace' ? patchV : mergeMap(current, patchV, cursor);
    } else if (Array.isArray(current) && Array.isArray(patchV)) {
      target[key] = mergeSliceHandler(current, patchV, cursor, strategy, meta?.mergeKey ?? '', isDeleteList);
    } else {
      const [value, keep] = removeDirectives(patchV);
      if (keep) target[key] = value;
      else delete target[key];
    }
  }
  return target;
}

function directiveInMap(directive: Json, patch: JsonMap): JsonMap {
  if (directive === 'replace') {
    const rest = { ...patch };
    delete rest[DIRECTIVE];
    return rest;
  }
  if (directive === 'delete') return {};
  throw new PatchError(`unknown patch type: ${String(directive)} in map: ${goMap(patch)}`);
}

function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw new PatchError(ERR_BAD_RETAIN_KEYS);
  const keep = new Set(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_PRIMITIVE_PREFIX) || k.startsWith(SET_ORDER_PREFIX)) continue;
    if (!keep.has(k)) throw new PatchError(ERR_RETAIN_KEYS_MISMATCH, 422);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** $setElementOrder/<field>: merge that list now and order it by the directive (mergePatchIntoOriginal). */
function mergeSetElementOrder(original: JsonMap, patch: JsonMap, cur: Cursor): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER_PREFIX)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw new PatchError(ERR_BAD_SET_ORDER);
    const field = extractKey(key, SET_ORDER_PREFIX, ERR_BAD_SET_ORDER);
    const foundOriginal = Object.hasOwn(original, field);
    const foundPatch = Object.hasOwn(patch, field);
    const originalList = foundOriginal ? asList(original[field]) : [];
    const patchList = foundPatch ? asList(patch[field]) : [];
    const { meta, cursor } = lookupField(cur, field);
    const mergeKey = meta?.mergeKey ?? '';
    validatePatchWithSetOrder(patchList, order, mergeKey);
    let merged: Json[];
    if (foundOriginal && foundPatch) merged = mergeSliceHandler(originalList, patchList, cursor, listStrategy(meta), mergeKey, false);
    else if (foundOriginal) merged = originalList;
    else if (foundPatch) merged = patchList;
    else continue;
    const [patchItems, serverOnly] = mergeKey ? partitionMaps(merged, order, mergeKey) : partitionPrimitives(merged, order);
    const kind = elementKind(originalList, patchList);
    original[field] = normalizeElementOrder(patchItems, serverOnly, order, originalList, mergeKey, kind);
    delete patch[field];
  }
}

function validatePatchWithSetOrder(patchList: Json[], order: Json[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? patchList.filter((v) => !(isMap(v) && v[DIRECTIVE] === 'delete')) : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < order.length) {
    const item = nonDelete[p];
    if (isMap(item) && Object.hasOwn(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(item, order[s], mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= order.length) {
    throw new PatchError(`The order in patch list:\n${goValue(patchList)}\n doesn't match ${SET_ORDER_PREFIX} list:\n${goValue(order)}\n`);
  }
}

function mergeKeyValueEqual(left: Json, right: Json, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isMap(left) || !isMap(right)) throw new PatchError(`expected a map[string]interface {}, but received a ${goTypeOf(isMap(left) ? right : left)}`);
  if (!Object.hasOwn(left, mergeKey)) throw noMergeKey(left, mergeKey);
  if (!Object.hasOwn(right, mergeKey)) throw noMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

function mergeSliceHandler(original: Json[], patch: Json[], list: Cursor, strategy: string, mergeKey: string, isDeleteList: boolean): Json[] {
  if (strategy === 'merge') return mergeSlice(original, patch, elementCursor(list), mergeKey, isDeleteList);
  return patch;
}

function mergeSlice(original: Json[], patch: Json[], elem: Cursor, mergeKey: string, isDeleteList: boolean): Json[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  let merged: Json[];
  if (kind !== 'map') {
    if (isDeleteList) return deleteFromSlice(original, patch);
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (!mergeKey) throw new PatchError('cannot merge lists without merge key for type map');
    [original, patch] = withSpecialElements(original, patch, mergeKey);
    merged = withoutSpecialElements(original, patch, mergeKey, elem);
  }
  const [patchItems, serverOnly] = mergeKey ? partitionMaps(merged, patch, mergeKey) : partitionPrimitives(merged, patch);
  return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
}

/** Handles `{$patch: delete|replace}` list elements; returns the new original and the plain patch. */
function withSpecialElements(original: Json[], patch: Json[], mergeKey: string): [Json[], Json[]] {
  const plain: Json[] = [];
  let replace = false;
  for (const v of patch) {
    const m = v as JsonMap;
    if (!Object.hasOwn(m, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    switch (m[DIRECTIVE]) {
      case 'delete':
        if (!Object.hasOwn(m, mergeKey)) throw noMergeKey(m, mergeKey);
        original = original.filter((o) => !(isMap(o) && Object.hasOwn(o, mergeKey) && o[mergeKey] === m[mergeKey]));
        break;
      case 'replace':
        replace = true;
        break;
      case 'merge':
        throw new PatchError('merging lists cannot yet be specified in the patch');
      default:
        throw new PatchError(`unknown patch type: ${String(m[DIRECTIVE])} in map: ${goMap(m)}`);
    }
  }
  return replace ? [plain, []] : [original, plain];
}

function withoutSpecialElements(original: Json[], patch: Json[], mergeKey: string, elem: Cursor): Json[] {
  for (const v of patch) {
    const m = v as JsonMap;
    if (!Object.hasOwn(m, mergeKey)) throw noMergeKey(m, mergeKey);
    const at = findByKey(original, mergeKey, m[mergeKey]);
    if (at >= 0) original[at] = mergeMap(original[at] as JsonMap, m, elem);
    else original.push(v);
  }
  return original;
}

function findByKey(list: Json[], key: string, value: Json): number {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (!isMap(v)) throw new PatchError(`value for key ${i} is not a map.`);
    if (Object.hasOwn(v, key) && v[key] === value) return i;
  }
  return -1;
}

function deleteFromSlice(current: Json[], toDelete: Json[]): Json[] {
  const gone = new Set(toDelete);
  return current.filter((v) => !gone.has(v));
}

/** apimachinery's deduplicateScalars, order changes included (normalizeElementOrder sorts after). */
function deduplicateScalars(s: Json[]): Json[] {
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (s[i] === s[j]) {
        s[j] = s[length];
        s = s.slice(0, length);
        length--;
        j--;
      }
    }
  }
  return s;
}

type ElementKind = 'map' | 'scalar';

function elementKind(...lists: Json[][]): ElementKind {
  let prev: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = kindOf(v);
      if (prev === undefined) {
        prev = k;
        if (k === 'array') throw new PatchError(ERR_NO_LIST_OF_LISTS, 422);
      } else if (prev !== k) {
        throw new PatchError(`list element types are not identical: ${lists.map(goValue).join(' ')}`);
      }
    }
  }
  if (prev === undefined) throw new PatchError('no elements in any of the given slices');
  return prev === 'map' ? 'map' : 'scalar';
}

function partitionPrimitives(list: Json[], by: Json[]): [Json[], Json[]] {
  const inPatch = new Set(by);
  const patch: Json[] = [];
  const serverOnly: Json[] = [];
  for (const v of list) (inPatch.has(v) ? patch : serverOnly).push(v);
  return [patch, serverOnly];
}

function partitionMaps(list: Json[], by: Json[], mergeKey: string): [Json[], Json[]] {
  const patch: Json[] = [];
  const serverOnly: Json[] = [];
  for (const v of list) {
    if (!isMap(v)) throw new PatchError(`expected a map[string]interface {}, but received a ${goTypeOf(v)}`);
    if (!Object.hasOwn(v, mergeKey)) throw noMergeKey(v, mergeKey);
    (findByKey(by, mergeKey, v[mergeKey]) >= 0 ? patch : serverOnly).push(v);
  }
  return [patch, serverOnly];
}

function indexIn(list: Json[], item: Json, mergeKey: string, kind: ElementKind): number {
  const val = (x: Json): Json | undefined => (kind === 'map' ? (isMap(x) ? x[mergeKey] : undefined) : x);
  const want = val(item);
  for (let i = 0; i < list.length; i++) if (val(list[i]) === want) return i;
  return -1;
}

/** Patch items in patch order, server-only items in live order, interleaved by live order. */
function normalizeElementOrder(patch: Json[], serverOnly: Json[], patchOrder: Json[], serverOrder: Json[], mergeKey: string, kind: ElementKind): Json[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

function normalizeSliceOrder(toSort: Json[], order: Json[], mergeKey: string, kind: ElementKind): Json[] {
  let toDelete: Json[] = [];
  if (kind === 'map') {
    for (const list of [toSort, order]) {
      for (const item of list) {
        if (!isMap(item)) throw new PatchError(`expected a map[string]interface {}, but received a ${goTypeOf(item)}`);
        if (!Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      }
    }
    toDelete = toSort.filter((v) => (v as JsonMap)[DIRECTIVE] === 'delete');
    toSort = toSort.filter((v) => (v as JsonMap)[DIRECTIVE] !== 'delete');
  }
  // sort.SliceStable's insertion sort with apimachinery's comparator (items not in `order` sort first)
  const out = [...toSort];
  const less = (a: Json, b: Json): boolean => {
    const ia = indexIn(order, a, mergeKey, kind);
    if (ia >= 0) {
      const ib = indexIn(order, b, mergeKey, kind);
      if (ib >= 0) return ia < ib;
    }
    return true;
  };
  for (let i = 1; i < out.length; i++) {
    for (let j = i; j > 0 && less(out[j], out[j - 1]); j--) [out[j], out[j - 1]] = [out[j - 1], out[j]];
  }
  return [...out, ...toDelete];
}

function mergeSortedSlice(left: Json[], right: Json[], serverOrder: Json[], mergeKey: string, kind: ElementKind): Json[] {
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function extractKey(key: string, prefix: string, err: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) throw new PatchError(err);
  return key.slice(slash + 1);
}

function discardNulls(v: Json): void {
  if (Array.isArray(v)) v.forEach(discardNulls);
  else if (isMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNulls(v[k]);
    }
  }
}

/** Strips patch directives from a value that is taken whole; [value, keep]. */
function removeDirectives(v: Json): [Json, boolean] {
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (const el of v) {
      const [x, keep] = removeDirectives(el);
      if (keep) out.push(x);
    }
    return [out, true];
  }
  if (!isMap(v)) return [v, true];
  if (v[DIRECTIVE] === 'delete') return [null, false];
  const out: JsonMap = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER_PREFIX) || k.startsWith(DELETE_PRIMITIVE_PREFIX)) continue;
    const [y, keep] = removeDirectives(x);
    if (keep) out[k] = y;
  }
  return [out, true];
}

function asList(v: Json): Json[] {
  if (!Array.isArray(v)) throw new PatchError(`expected a []interface {}, but received a ${goTypeOf(v)}`);
  return v;
}

function noMergeKey(m: JsonMap, key: string): PatchError {
  return new PatchError(`map: ${goMap(m)} does not contain declared merge key: ${key}`);
}

// --- JSON merge patch (RFC 7386) -------------------------------------------------------------

/** RFC 7386: objects merge recursively, null removes, anything else replaces. */
export function jsonMergePatch(original: object, patch: object): object {
  return mergePatchValue(clone(original as Json), clone(patch as Json)) as object;
}

function mergePatchValue(target: Json, patch: Json): Json {
  if (!isMap(patch)) return patch;
  const out: JsonMap = isMap(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatchValue(Object.hasOwn(out, k) ? out[k] : null, v);
  }
  return out;
}

// --- JSON patch (RFC 6902) -------------------------------------------------------------------

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

/** RFC 6902, with RFC 6901 pointers (`~0` `~1`, `-` for the end of a list). */
export function jsonPatch(original: object, ops: readonly JsonPatchOperation[] | unknown): object {
  if (!Array.isArray(ops)) throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(original as Json);
  ops.forEach((raw: unknown, i: number) => {
    if (!isMap(raw as Json)) throw new PatchError(`invalid JSON patch operation at index ${i}: not an object`);
    const op = raw as JsonMap;
    const path = op.path;
    if (typeof path !== 'string') throw new PatchError(`missing path in JSON patch operation ${i}`);
    switch (op.op) {
      case 'add':
        requireValue(op, 'add');
        doc = addAt(doc, path, clone(op.value), 'add');
        break;
      case 'remove':
        doc = removeAt(doc, path, 'remove')[0];
        break;
      case 'replace': {
        requireValue(op, 'replace');
        const [without] = removeAt(doc, path, 'replace');
        doc = addAt(without, path, clone(op.value), 'replace');
        break;
      }
      case 'move': {
        const from = requireFrom(op, 'move');
        if (path !== from && path.startsWith(from + '/')) throw new PatchError(`move operation does not apply: "from" is a parent of "path": ${from}`);
        const [without, value] = removeAt(doc, from, 'move');
        doc = addAt(without, path, value, 'move');
        break;
      }
      case 'copy': {
        const from = requireFrom(op, 'copy');
        doc = addAt(doc, path, clone(getAt(doc, from, 'copy')), 'copy');
        break;
      }
      case 'test': {
        requireValue(op, 'test');
        const actual = tryGet(doc, path);
        if (actual === undefined || !deepEqual(actual, op.value)) throw new PatchError(`testing value ${path} failed: test failed`, 422);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${String(op.op)}`);
    }
  });
  return doc as object;
}

function requireValue(op: JsonMap, name: string): void {
  if (!Object.hasOwn(op, 'value')) throw new PatchError(`${name} operation is missing value`);
}

function requireFrom(op: JsonMap, name: string): string {
  if (typeof op.from !== 'string') throw new PatchError(`${name} operation is missing from`);
  return op.from;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function listIndex(token: string, length: number, allowEnd: boolean, op: string, path: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`${op} operation does not apply: invalid index ${JSON.stringify(token)} in path ${JSON.stringify(path)}`, 422);
  const i = Number(token);
  if (i > length || (!allowEnd && i === length)) throw new PatchError(`${op} operation does not apply: index out of range in path ${JSON.stringify(path)}`, 422);
  return i;
}

function parentOf(doc: Json, tokens: string[], op: string, path: string): Json {
  let at: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(at)) at = at[listIndex(t, at.length, false, op, path)];
    else if (isMap(at) && Object.hasOwn(at, t)) at = at[t];
    else throw new PatchError(`${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`, 422);
  }
  return at;
}

function addAt(doc: Json, path: string, value: Json, op: string): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, op, path);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(listIndex(last, parent.length, true, op, path), 0, value);
  else if (isMap(parent)) parent[last] = value;
  else throw new PatchError(`${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`, 422);
  return doc;
}

function removeAt(doc: Json, path: string, op: string): [Json, Json] {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return [null, doc];
  const parent = parentOf(doc, tokens, op, path);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const i = listIndex(last, parent.length, false, op, path);
    return [doc, parent.splice(i, 1)[0]];
  }
  if (isMap(parent) && Object.hasOwn(parent, last)) {
    const value = parent[last];
    delete parent[last];
    return [doc, value];
  }
  throw new PatchError(`${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`, 422);
}

function getAt(doc: Json, path: string, op: string): Json {
  const v = tryGet(doc, path);
  if (v === undefined) throw new PatchError(`${op} operation does not apply: doc is missing from path: ${JSON.stringify(path)}: missing value`, 422);
  return v;
}

function tryGet(doc: Json, path: string): Json | undefined {
  let at: Json = doc;
  for (const t of parsePointer(path)) {
    if (Array.isArray(at)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t) || Number(t) >= at.length) return undefined;
      at = at[Number(t)];
    } else if (isMap(at) && Object.hasOwn(at, t)) at = at[t];
    else return undefined;
  }
  return at;
}

// --- shared helpers --------------------------------------------------------------------------

function isMap(v: Json | undefined): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'map' : typeof v;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Go's %v of a map[string]interface{} (keys sorted), for error messages kubectl prints. */
function goMap(m: JsonMap): string {
  return goValue(m);
}

function goValue(v: Json): string {
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goValue(v[k])}`).join(' ')}]`;
  return String(v);
}

function goTypeOf(v: Json): string {
  switch (kindOf(v)) {
    case 'map':
      return 'map[string]interface {}';
    case 'array':
      return '[]interface {}';
    case 'string':
      return 'string';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    default:
      return '<nil>';
  }
}
