// Resource checks: an object of some kind exists (or not) and matches a pattern, with a
// failure message that names what was found instead.
import type { ResourceCheck } from '../labs/types.ts';
import type { KubeClient, KubeObject } from './kube.ts';
import { matchPattern, show } from './match.ts';
import { proberLabel } from './probers.ts';

export interface ResourceVerdict {
  status: 'pass' | 'fail';
  message: string;
}

export async function checkResource(client: KubeClient, check: ResourceCheck, signal?: AbortSignal): Promise<ResourceVerdict> {
  const r = check.resource;
  const selector = r.labels ? Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(',') : undefined;
  let objects: KubeObject[];
  if (r.name !== undefined) {
    const one = await client.get({ apiVersion: r.apiVersion, kind: r.kind, namespace: r.namespace, name: r.name }, { signal });
    objects = one && (!r.labels || Object.entries(r.labels).every(([k, v]) => one.metadata.labels?.[k] === v)) ? [one] : [];
  } else {
    objects = await client.list(r.apiVersion, r.kind, r.namespace, selector, { signal });
  }
  // the grader's own objects are not the learner's work
  objects = objects.filter((o) => o.metadata.labels?.[proberLabel] !== 'true');
  return judgeResource(check, objects);
}

/** Pure part: given the candidate objects, pass or fail with the message. */
export function judgeResource(check: ResourceCheck, objects: KubeObject[]): ResourceVerdict {
  const r = check.resource;
  const where = r.namespace ? ` in ${r.namespace}` : '';
  const named = r.name ? ` named ${r.name}` : '';
  const wanted = check.describe ?? (check.match ? `a ${r.kind}${named}${where} with ${describePattern(check.match)}` : `a ${r.kind}${named}${where}`);
  const name = (o: KubeObject) => (o.metadata.namespace && !r.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);
  const results = objects.map((o) => ({ o, miss: check.match ? matchPattern(check.match, o) : undefined }));
  const matching = results.filter((x) => x.miss === undefined);
  if (check.expect === 'present') {
    if (matching.length > 0) return { status: 'pass', message: `found ${r.kind} ${name(matching[0].o)}${where}` };
    if (objects.length === 0) return { status: 'fail', message: `there is no ${r.kind}${named}${where} yet; wanted: ${wanted}` };
    const found = results
      .slice(0, 5)
      .map((x) => `${name(x.o)} (${x.miss!.path}: ${x.miss!.got}, wanted ${x.miss!.want})`)
      .join('; ');
    return { status: 'fail', message: `no ${r.kind}${where} is ${wanted.replace(/^an? /, 'a ')}; found: ${found}${results.length > 5 ? `, and ${results.length - 5} more` : ''}` };
  }
  if (matching.length === 0) return { status: 'pass', message: `no ${r.kind}${named}${where}${check.match ? ' matches' : ' exists'}, as wanted` };
  return { status: 'fail', message: `${r.kind} ${matching.map((x) => name(x.o)).join(', ')}${where} should not ${check.match ? `match (${describePattern(check.match)})` : 'exist'}` };
}

/** `spec.podSelector {} (every pod), spec.policyTypes ["Ingress","Egress"]` */
function describePattern(pattern: Record<string, unknown>, prefix = ''): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(pattern)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 && !Object.keys(v)[0].startsWith('$')) parts.push(describePattern(v as Record<string, unknown>, path));
    else parts.push(`${path} ${describeValue(v, path)}`);
  }
  return parts.join(', ');
}

function describeValue(v: unknown, path: string): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const [op, arg] = Object.entries(v)[0] ?? [];
    if (op === undefined) return show({}, path) === 'nothing' ? '{}' : show({}, path);
    if (op === '$exists') return arg ? 'set' : 'not set';
    if (op === '$contains') return `including ${(Array.isArray(arg) ? arg : [arg]).map((a) => show(a, path)).join(' and ')}`;
    if (op === '$oneOf') return `one of ${(Array.isArray(arg) ? arg : [arg]).map((a) => show(a, path)).join(', ')}`;
  }
  return show(v, path);
}
