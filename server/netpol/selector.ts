// Label selectors (metav1.LabelSelector) compiled once into requirement lists, so matching a pod
// is a handful of property reads and an explanation can say which requirement failed.
import type { LabelSelector, Labels } from './types.ts';

export type RequirementOperator = 'Equals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface Requirement {
  key: string;
  operator: RequirementOperator;
  values: string[];
  test: (labels: Labels) => boolean;
}

export interface CompiledSelector {
  requirements: Requirement[];
  /** true for `{}`: every object matches */
  empty: boolean;
  matches: (labels: Labels) => boolean;
}

const has = (labels: Labels, key: string) => Object.prototype.hasOwnProperty.call(labels, key);

function requirement(key: string, operator: RequirementOperator, values: string[]): Requirement {
  let test: (labels: Labels) => boolean;
  switch (operator) {
    case 'Equals': {
      const want = values[0];
      test = (l) => has(l, key) && l[key] === want;
      break;
    }
    case 'In': {
      const set = new Set(values);
      test = (l) => has(l, key) && set.has(l[key]);
      break;
    }
    case 'NotIn': {
      const set = new Set(values);
      test = (l) => !has(l, key) || !set.has(l[key]);
      break;
    }
    case 'Exists':
      test = (l) => has(l, key);
      break;
    case 'DoesNotExist':
      test = (l) => !has(l, key);
      break;
    default: {
      const never: never = operator;
      throw new Error(`unknown selector operator ${String(never)}`);
    }
  }
  return { key, operator, values, test };
}

function asOperator(op: string): RequirementOperator {
  switch (op) {
    case 'In':
    case 'NotIn':
    case 'Exists':
    case 'DoesNotExist':
      return op;
    default:
      throw new Error(`"${op}" is not a valid label selector operator`);
  }
}

/** LabelSelectorAsSelector: matchLabels as k=v requirements ANDed with every matchExpression. */
export function compileSelector(sel: LabelSelector): CompiledSelector {
  const requirements: Requirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) requirements.push(requirement(k, 'Equals', [v]));
  for (const e of sel.matchExpressions ?? []) requirements.push(requirement(e.key, asOperator(e.operator), [...(e.values ?? [])]));
  const tests = requirements.map((r) => r.test);
  const matches =
    tests.length === 0
      ? () => true
      : tests.length === 1
        ? tests[0]
        : (labels: Labels) => {
            for (const t of tests) if (!t(labels)) return false;
            return true;
          };
  return { requirements, empty: requirements.length === 0, matches };
}

/** Selector semantics: `{}` matches everything; In/Equals need the key; NotIn and DoesNotExist match objects lacking it. */
export function labelSelectorMatches(selector: LabelSelector, labels: Labels): boolean {
  return compileSelector(selector).matches(labels);
}

/** One requirement as kubectl prints it: `k=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`. */
export function formatRequirement(r: Pick<Requirement, 'key' | 'operator' | 'values'>): string {
  const values = [...r.values].sort().join(',');
  switch (r.operator) {
    case 'Equals':
      return `${r.key}=${r.values[0]}`;
    case 'In':
      return `${r.key} in (${values})`;
    case 'NotIn':
      return `${r.key} notin (${values})`;
    case 'Exists':
      return r.key;
    case 'DoesNotExist':
      return `!${r.key}`;
  }
}

/** metav1.FormatLabelSelector without the `<none>`: requirements sorted by key, comma-joined; '' for `{}`. */
export function formatLabelSelector(selector: LabelSelector): string {
  const reqs = compileSelector(selector).requirements;
  return reqs
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.key < b.r.key ? -1 : a.r.key > b.r.key ? 1 : a.i - b.i))
    .map(({ r }) => formatRequirement(r))
    .join(',');
}

/** What an object actually has for a requirement's key, for explanations: `k=v` or `no label k`. */
export function describeLabel(labels: Labels, key: string): string {
  return has(labels, key) ? `${key}=${labels[key]}` : `no label ${key}`;
}
