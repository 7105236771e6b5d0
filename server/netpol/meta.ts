// Object-level validators shared by every kind: names, labels, annotations, label selectors and
// ObjectMeta, as in apimachinery pkg/api/validation and pkg/apis/meta/v1/validation (1.32).
import type { FieldError, LabelSelector } from './types.ts';
import { child, forbidden, index, invalid, required, tooLong } from './fielderror.ts';
import { byteLength, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from './names.ts';

/** NameIsDNSSubdomain: every problem of a DNS-1123 subdomain as Invalid at `fieldPath`. */
export function validateDNS1123Subdomain(value: string, fieldPath: string): FieldError[] {
  return isDNS1123Subdomain(value).map((m) => invalid(fieldPath, value, m));
}

/** NameIsDNSLabel (namespace names and most DNS-bound names). */
export function validateDNS1123Label(value: string, fieldPath: string): FieldError[] {
  return isDNS1123Label(value).map((m) => invalid(fieldPath, value, m));
}

/** ValidateLabelName: a label key must be a qualified name. */
export function validateQualifiedName(value: string, fieldPath: string): FieldError[] {
  return isQualifiedName(value).map((m) => invalid(fieldPath, value, m));
}

/** IsValidLabelValue as field errors. */
export function validateLabelValue(value: string, fieldPath: string): FieldError[] {
  return isValidLabelValue(value).map((m) => invalid(fieldPath, value, m));
}

/** ValidateLabels: keys qualified names, values label values; every error sits on the map's own path. */
export function validateLabels(labels: Record<string, unknown> | undefined, fieldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    errs.push(...validateQualifiedName(k, fieldPath));
    errs.push(...validateLabelValue(String(v), fieldPath));
  }
  return errs;
}

/** Total size of all annotation keys and values (TotalAnnotationSizeLimitB). */
export const totalAnnotationSizeLimit = 256 * 1024;

/** ValidateAnnotations: keys qualified names (case-insensitive), keys+values at most 256 KiB in total. */
export function validateAnnotations(annotations: Record<string, unknown> | undefined, fieldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid(fieldPath, k, m));
    total += byteLength(k) + byteLength(String(v));
  }
  if (total > totalAnnotationSizeLimit) errs.push(tooLong(fieldPath, totalAnnotationSizeLimit));
  return errs;
}

/** ValidateLabelSelector: matchLabels as labels; each requirement's operator, values and key. */
export function validateLabelSelector(sel: LabelSelector | undefined, fieldPath: string): FieldError[] {
  if (!sel) return [];
  const errs = validateLabels(sel.matchLabels, child(fieldPath, 'matchLabels'));
  (sel.matchExpressions ?? []).forEach((req, i) => {
    const path = index(child(fieldPath, 'matchExpressions'), i);
    const values = req.values ?? [];
    // an absent key or operator decodes to "" in Go, and is reported as such
    const key = req.key ?? '';
    const operator = req.operator ?? '';
    switch (operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(child(path, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(child(path, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(child(path, 'operator'), operator, 'not a valid selector operator'));
    }
    errs.push(...validateQualifiedName(key, child(path, 'key')));
    values.forEach((v, j) => errs.push(...validateLabelValue(v, index(child(path, 'values'), j))));
  });
  return errs;
}

export interface ObjectMetaLike {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  generation?: number;
  [key: string]: unknown;
}

/** How a kind validates its names: NameIsDNSSubdomain, NameIsDNSLabel, ... (prefix = generateName). */
export type NameValidator = (name: string, prefix: boolean) => string[];

/** NameIsDNSSubdomain (a generateName prefix may end in '-': it is masked before the check). */
export const nameIsDNSSubdomain: NameValidator = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);

/** NameIsDNSLabel */
export const nameIsDNSLabel: NameValidator = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);

function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? name.slice(0, -2) + 'a' : name;
}

/**
 * ValidateObjectMeta: generateName and name by the kind's rule, name required, namespace required
 * (a DNS-1123 label) for namespaced kinds and forbidden otherwise, generation, labels, annotations.
 * Like kube-apiserver, it runs after a generateName has been turned into a name.
 */
export function validateObjectMeta(meta: ObjectMetaLike, namespaced: boolean, nameFn: NameValidator, fieldPath = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  if (meta.generateName) {
    for (const m of nameFn(meta.generateName, true)) errs.push(invalid(child(fieldPath, 'generateName'), meta.generateName, m));
  }
  if (!meta.name) errs.push(required(child(fieldPath, 'name'), 'name or generateName is required'));
  else for (const m of nameFn(meta.name, false)) errs.push(invalid(child(fieldPath, 'name'), meta.name, m));
  if (namespaced) {
    if (!meta.namespace) errs.push(required(child(fieldPath, 'namespace')));
    else for (const m of nameIsDNSLabel(meta.namespace, false)) errs.push(invalid(child(fieldPath, 'namespace'), meta.namespace, m));
  } else if (meta.namespace) {
    errs.push(forbidden(child(fieldPath, 'namespace'), 'not allowed on this type'));
  }
  if (typeof meta.generation === 'number' && meta.generation < 0) {
    errs.push(invalid(child(fieldPath, 'generation'), meta.generation, 'must be greater than or equal to 0'));
  }
  errs.push(...validateLabels(meta.labels, child(fieldPath, 'labels')));
  errs.push(...validateAnnotations(meta.annotations, child(fieldPath, 'annotations')));
  return errs;
}
