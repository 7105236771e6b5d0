// What kube-apiserver's JSON decoding (sigs.k8s.io/json, a case-sensitive encoding/json) says
// about a request body, computed from the served schemas instead of Go structs:
// - unknown fields, reported with fieldValidation=Strict as `strict decoding error: unknown
//   field "spec.containers[0].imagee"` (paths carry list indices);
// - type mismatches, reported as `json: cannot unmarshal object into Go struct field
//   NetworkPolicyEgressRule.spec.egress.to of type []v1.NetworkPolicyPeer` (paths carry no
//   indices: encoding/json keeps a stack of field names only).
import {
  definitionNameFor,
  goNamedType,
  goStructName,
  goTypeName,
  INT_OR_STRING,
  MICRO_TIME,
  QUANTITY,
  refName,
  resolve,
  schemaDefinitions,
  TIME,
  type GroupVersionKind,
  type SchemaNode,
} from './schema.ts';

export interface DecodeFindings {
  /** paths of fields the schema does not know, in document order */
  unknown: string[];
  /** Go json unmarshal errors, in document order; kube-apiserver reports the first */
  typeErrors: string[];
}

/** Paths like `spec.Egress` or `spec.containers[0].imagePullPolcy` of fields `gvk`'s schema does not know. */
export function unknownFields(gvk: GroupVersionKind, obj: unknown): string[] {
  return checkDecode(gvk, obj).unknown;
}

/** Go json unmarshal errors for `obj` decoded as `gvk`, worded as kube-apiserver 1.32 words them. */
export function typeErrors(gvk: GroupVersionKind, obj: unknown): string[] {
  return checkDecode(gvk, obj).typeErrors;
}

/** Both checks in one walk over the object. */
export function checkDecode(gvk: GroupVersionKind, obj: unknown): DecodeFindings {
  const name = definitionNameFor(gvk);
  if (!name) throw new Error(`no schema for ${gvk.group || 'core'}/${gvk.version} ${gvk.kind}`);
  const findings: DecodeFindings = { unknown: [], typeErrors: [] };
  const walker = new DecodeWalk(findings);
  walker.value(obj, { $ref: `#/components/schemas/${name}` }, '', { struct: '', fields: [] }, undefined);
  return findings;
}

/** encoding/json's errorContext: the struct being decoded and the JSON field names down to here. */
interface GoContext {
  struct: string;
  fields: string[];
}

/** The Go named type that replaces the schema's own, for a field or a list/map element. */
type Named = string | undefined;

const QUANTITY_RE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const QUANTITY_SUFFIX_RE = /^(|[KMGTPE]i|[numkMGTPE]|[eE][-+]?[0-9]+)$/;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

class DecodeWalk {
  constructor(private readonly out: DecodeFindings) {}

  value(v: unknown, node: SchemaNode, path: string, ctx: GoContext, named: Named): void {
    if (v === null) return; // null leaves any Go value at its zero value
    const ref = refName(node);
    if (ref === QUANTITY) return this.quantity(v);
    if (ref === INT_OR_STRING) return this.intOrString(v, ctx);
    if (ref === TIME || ref === MICRO_TIME) return this.time(v, ctx, ref === MICRO_TIME);
    const def = resolve(node);
    if (def['x-kubernetes-preserve-unknown-fields']) return;
    switch (def.type) {
      case 'object':
        if (def.properties) return this.struct(v, def, ref!, path, ctx);
        if (def.additionalProperties) return this.map(v, def.additionalProperties, path, ctx, named);
        return; // free-form object (RawExtension, FieldsV1)
      case 'array':
        return this.array(v, def, path, ctx, named);
      case 'string':
        if (typeof v === 'string') {
          if (def.format === 'byte') this.base64(v);
          return;
        }
        return this.mismatch(v, ctx, named ?? (def.format === 'byte' ? '[]uint8' : 'string'));
      case 'integer':
        return this.integer(v, ctx, named ?? (def.format === 'int64' ? 'int64' : 'int32'));
      case 'number':
        if (typeof v !== 'number') this.mismatch(v, ctx, named ?? 'float64');
        return;
      case 'boolean':
        if (typeof v !== 'boolean') this.mismatch(v, ctx, named ?? 'bool');
        return;
      case undefined:
        return;
    }
  }

  private struct(v: unknown, def: SchemaNode, name: string, path: string, ctx: GoContext): void {
    if (typeof v !== 'object' || Array.isArray(v)) return this.mismatch(v, ctx, goTypeName(name));
    const props = def.properties!;
    for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
      const childPath = path ? `${path}.${key}` : key;
      const prop = Object.hasOwn(props, key) ? props[key] : undefined;
      if (!prop) {
        this.out.unknown.push(childPath);
        continue;
      }
      const childCtx = { struct: goStructName(name), fields: [...ctx.fields, key] };
      this.value(child, prop, childPath, childCtx, goNamedType(name, key));
    }
  }

  private map(v: unknown, elem: SchemaNode, path: string, ctx: GoContext, named: Named): void {
    if (typeof v !== 'object' || Array.isArray(v)) return this.mismatch(v, ctx, named ?? `map[string]${this.goType(elem, undefined)}`);
    for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
      // a named map type (v1.ResourceList) names the map, not its values
      this.value(child, elem, `${path}[${key}]`, ctx, undefined);
    }
  }

  private array(v: unknown, def: SchemaNode, path: string, ctx: GoContext, named: Named): void {
    const items = def.items ?? {};
    if (!Array.isArray(v)) return this.mismatch(v, ctx, `[]${this.goType(items, named)}`);
    v.forEach((el, i) => this.value(el, items, `${path}[${i}]`, ctx, named));
  }

  private integer(v: unknown, ctx: GoContext, goType: string): void {
    if (typeof v !== 'number') return this.mismatch(v, ctx, goType);
    const bits = goType === 'int64' ? 64 : 32;
    const limit = 2 ** (bits - 1);
    if (!Number.isInteger(v) || v < -limit || v >= limit) this.typeError(`number ${formatNumber(v)}`, ctx, goType);
  }

  private quantity(v: unknown): void {
    // resource.Quantity.UnmarshalJSON parses whatever it is given (quoted or not) as a quantity
    // and returns the parse error as is, without the field context
    const text = typeof v === 'string' ? v.trim() : typeof v === 'number' ? formatNumber(v) : JSON.stringify(v);
    const m = QUANTITY_RE.exec(text);
    if (!m || !/[0-9]/.test(m[1])) {
      this.out.typeErrors.push("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    } else if (!QUANTITY_SUFFIX_RE.test(m[2])) {
      this.out.typeErrors.push("unable to parse quantity's suffix");
    }
  }

  private intOrString(v: unknown, ctx: GoContext): void {
    // IntOrString.UnmarshalJSON decodes anything but a string into its int32
    if (typeof v === 'string') return;
    this.integer(v, ctx, 'int32');
  }

  private time(v: unknown, ctx: GoContext, micro: boolean): void {
    if (typeof v !== 'string') return this.mismatch(v, ctx, 'string');
    if (!RFC3339_RE.test(v)) {
      const layout = micro ? '2006-01-02T15:04:05.000000Z07:00' : '2006-01-02T15:04:05Z07:00';
      this.out.typeErrors.push(`parsing time ${JSON.stringify(v)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(v)} as "2006"`);
    }
  }

  private base64(v: string): void {
    const clean = v.replace(/[\r\n]/g, '');
    const bad = clean.search(/[^A-Za-z0-9+/=]/);
    if (bad >= 0) {
      this.out.typeErrors.push(`illegal base64 data at input byte ${bad}`);
    } else if (clean.length % 4 !== 0) {
      this.out.typeErrors.push(`illegal base64 data at input byte ${clean.length - (clean.length % 4)}`);
    }
  }

  private mismatch(v: unknown, ctx: GoContext, goType: string): void {
    this.typeError(jsonKind(v), ctx, goType);
  }

  private typeError(what: string, ctx: GoContext, goType: string): void {
    const where = ctx.fields.length ? `Go struct field ${ctx.struct}.${ctx.fields.join('.')}` : 'Go value';
    this.out.typeErrors.push(`json: cannot unmarshal ${what} into ${where} of type ${goType}`);
  }

  /** Go type of a list element or map value, as reflect prints it. */
  private goType(node: SchemaNode, named: Named): string {
    if (named) return named;
    const ref = refName(node);
    if (ref === QUANTITY) return 'resource.Quantity';
    if (ref === INT_OR_STRING) return 'intstr.IntOrString';
    if (ref) {
      const def = schemaDefinitions()[ref];
      if (def?.type === 'string') return `${goTypeName(ref)}`;
      return goTypeName(ref);
    }
    switch (node.type) {
      case 'string':
        return node.format === 'byte' ? '[]uint8' : 'string';
      case 'integer':
        return node.format === 'int64' ? 'int64' : 'int32';
      case 'number':
        return 'float64';
      case 'boolean':
        return 'bool';
      case 'array':
        return `[]${this.goType(node.items ?? {}, undefined)}`;
      case 'object':
        return node.additionalProperties ? `map[string]${this.goType(node.additionalProperties, undefined)}` : 'map[string]interface {}';
      case undefined:
        return 'interface {}';
    }
  }
}

/** encoding/json's word for a JSON value's kind in an UnmarshalTypeError. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'object';
  }
}

function formatNumber(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? BigInt(n).toString() : String(n);
}
