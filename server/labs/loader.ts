// Loading a lab directory: lab.yaml checked against the schema, then everything a schema cannot
// say (files exist, ids are unique and referenced ids exist, manifests would be accepted,
// templates render), every problem reported with its file, line, column and field path.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { parseCIDR, parseIP } from '../netpol/index.ts';
import { CommandError, parseKubectlCommand } from './commands.ts';
import { kindInfo, unknownKindMessage } from './kinds.ts';
import { LabFiles, isInsidePath, loadManifests } from './manifests.ts';
import { LabError, formatPath, sortProblems, type FieldPath, type Problem } from './problems.ts';
import { TemplateError, expandTemplate, sampleContext } from './render.ts';
import { validateAgainstSchema } from './schema.ts';
import type {
  BeforeSolution,
  Check,
  ExternalHostSpec,
  Lab,
  LoadedManifest,
  ObjectRef,
  ProbeCheck,
  ProbeSource,
  ProbeTarget,
  Question,
  QuizPod,
  QuizProbe,
  ResourceCheck,
  SourceRef,
  Step,
  WrongSolution,
} from './types.ts';
import { parseYaml, type YamlDocument } from './yaml.ts';

export interface LabCheck {
  /** the lab, when it loaded without problems */
  lab?: Lab;
  /** as much of the lab as could be read, even with problems (for further checks) */
  draft?: Lab;
  problems: Problem[];
}

/** Load one lab directory; throws LabError listing every problem. */
export function loadLab(dir: string): Lab {
  const { lab, problems } = checkLab(dir);
  if (!lab || problems.length > 0) throw new LabError(problems, `lab ${dir}`);
  return lab;
}

/** Load every lab under `root` (each a directory holding lab.yaml); labs with problems are left out. */
export function loadLabs(root: string): { labs: Lab[]; problems: Problem[] } {
  const labs: Lab[] = [];
  const problems: Problem[] = [];
  for (const dir of labDirectories(root)) {
    const r = checkLab(dir);
    problems.push(...r.problems);
    if (r.lab && r.problems.length === 0) labs.push(r.lab);
  }
  const byId = new Map<string, Lab>();
  for (const lab of labs) {
    const other = byId.get(lab.id);
    if (other) problems.push({ file: lab.file, line: 1, column: 1, path: 'id', message: `lab id "${lab.id}" is also used by ${other.file}` });
    else byId.set(lab.id, lab);
  }
  return { labs: [...byId.values()].sort((a, b) => a.id.localeCompare(b.id)), problems: sortProblems(problems) };
}

/** `root` itself when it holds lab.yaml, else its subdirectories that do. */
export function labDirectories(root: string): string[] {
  if (existsSync(join(root, 'lab.yaml'))) return [root];
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    return [];
  }
  return names.map((n) => join(root, n)).filter((d) => !d.split(/[\\/]/).pop()!.startsWith('.') && statSync(d).isDirectory() && existsSync(join(d, 'lab.yaml')));
}

const defaultNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const defaultTimeoutSeconds = 2;

/** Check one lab directory; never throws for bad input. */
export function checkLab(dir: string): LabCheck {
  let files: LabFiles;
  try {
    files = new LabFiles(dir);
  } catch {
    return { problems: [{ file: dir, message: 'no such lab directory' }] };
  }
  const labFile = files.display('lab.yaml');
  const text = files.read('lab.yaml');
  if ('error' in text) return { problems: [{ file: labFile, message: existsSync(resolve(dir, 'lab.yaml')) ? text.error : 'no lab.yaml in this directory' }] };
  const parsed = parseYaml(labFile, text.text);
  if (parsed.problems.length > 0) return { problems: sortProblems(parsed.problems) };
  if (parsed.docs.length !== 1) return { problems: [{ file: labFile, line: 1, column: 1, message: parsed.docs.length === 0 ? 'lab.yaml is empty' : 'lab.yaml must hold one YAML document' }] };
  const doc = parsed.docs[0];
  const problems: Problem[] = [];
  for (const sp of validateAgainstSchema(doc.value)) {
    problems.push({ file: labFile, ...doc.locate(sp.path, sp.at), path: formatPath(sp.path), message: sp.message });
  }
  const builder = new LabBuilder(files, doc, labFile, problems);
  const lab = builder.build(doc.value);
  return { lab: problems.length === 0 ? lab : undefined, draft: lab, problems: sortProblems(problems) };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const strMap = (v: unknown): Record<string, string> =>
  isObj(v) ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};

/** Builds the Lab from schema-checked data, defensively: the schema may have failed, and every other problem must still be found. */
class LabBuilder {
  private readonly namespaces = new Set(defaultNamespaces);

  constructor(
    private readonly files: LabFiles,
    private readonly doc: YamlDocument,
    private readonly labFile: string,
    private readonly problems: Problem[],
  ) {}

  private source(path: FieldPath): SourceRef {
    return { file: this.labFile, ...this.doc.locate(path) };
  }

  private problem(path: FieldPath, message: string, at: 'value' | 'key' = 'value'): void {
    this.problems.push({ file: this.labFile, ...this.doc.locate(path, at), path: formatPath(path), message });
  }

  build(value: unknown): Lab {
    const v = isObj(value) ? value : {};
    const env = isObj(v.environment) ? v.environment : {};
    const setup = this.manifests(env.setup, ['environment', 'setup']);
    const envNamespaces = arr(env.namespaces).map((n) => str(n));
    envNamespaces.forEach((n, i) => {
      if (!this.namespaces.has(n)) this.problem(['environment', 'namespaces', i], `namespace ${n} is not created by environment.setup`);
    });
    const lab: Lab = {
      dir: this.files.dir,
      file: this.labFile,
      id: str(v.id),
      title: str(v.title),
      summary: str(v.summary),
      estimatedMinutes: typeof v.estimatedMinutes === 'number' ? v.estimatedMinutes : 0,
      environment: {
        setup,
        namespaces: envNamespaces,
        externalHosts: this.externalHosts(env.externalHosts),
        images: arr(env.images).map((i) => str(i)),
      },
      steps: [],
      questions: [],
    };
    const stepIds = new Map<string, number>();
    arr(v.steps).forEach((s, i) => {
      const step = this.step(s, i, lab, stepIds);
      if (step) {
        if (stepIds.has(step.id)) this.problem(['steps', i, 'id'], `duplicate step id "${step.id}" (also steps[${stepIds.get(step.id)}])`);
        else stepIds.set(step.id, i);
        lab.steps.push(step);
      }
    });
    const questionIds = new Map<string, number>();
    arr(v.questions).forEach((q, i) => {
      const question = this.question(q, ['questions', i]);
      if (!question) return;
      if (questionIds.has(question.id)) this.problem(['questions', i, 'id'], `duplicate question id "${question.id}" (also questions[${questionIds.get(question.id)}])`);
      else questionIds.set(question.id, i);
      lab.questions.push(question);
    });
    return lab;
  }

  /** Load manifests and follow the namespaces they create, in apply order. */
  private manifests(sources: unknown, path: FieldPath): LoadedManifest[] {
    const loaded = loadManifests(this.files, this.doc, this.labFile, sources, path, this.problems);
    for (const m of loaded) {
      const { kind, metadata } = m.object;
      if (kind === 'Namespace') this.namespaces.add(metadata.name);
      else if (metadata.namespace && !this.namespaces.has(metadata.namespace)) {
        this.problems.push({
          ...m.locate(['metadata', 'namespace']),
          path: 'metadata.namespace',
          message: `namespace ${metadata.namespace} does not exist yet when this ${kind} is applied (create it earlier in the setup)`,
        });
      }
    }
    return loaded;
  }

  private externalHosts(v: unknown): ExternalHostSpec[] {
    const seen = new Map<string, number>();
    return arr(v).map((h, i) => {
      const o = isObj(h) ? h : {};
      const address = str(o.address);
      if (address && !parseIP(address) && !(address.includes('/') && parseCIDR(address))) {
        this.problem(['environment', 'externalHosts', i, 'address'], `must be an IP address or a CIDR, not "${address}"`);
      }
      const names = arr(o.names).map((n) => str(n));
      names.forEach((n, j) => {
        if (seen.has(n)) this.problem(['environment', 'externalHosts', i, 'names', j], `name ${n} is also given to externalHosts[${seen.get(n)}]`);
        else seen.set(n, i);
      });
      return {
        names,
        address,
        ports: arr(o.ports).map((p) => {
          const po = isObj(p) ? p : {};
          return {
            port: typeof po.port === 'number' ? po.port : 0,
            protocol: po.protocol === 'UDP' ? ('UDP' as const) : ('TCP' as const),
            kind: po.kind === 'http' || po.kind === 'https' ? po.kind : ('tcp' as const),
          };
        }),
        description: typeof o.description === 'string' ? o.description : undefined,
      };
    });
  }

  private step(value: unknown, i: number, lab: Lab, earlier: Map<string, number>): Step | undefined {
    if (!isObj(value)) return undefined;
    const path: FieldPath = ['steps', i];
    const id = str(value.id);
    const textFile = str(value.text);
    let markdown = '';
    if (textFile && isInsidePath(textFile)) {
      const r = this.files.read(textFile);
      if ('error' in r) this.problem([...path, 'text'], r.error);
      else markdown = r.text;
    }
    const setupObj = isObj(value.setup) ? value.setup : {};
    const setup = {
      apply: this.manifests(setupObj.apply, [...path, 'setup', 'apply']),
      delete: arr(setupObj.delete).map((r, j) => this.objectRef(r, [...path, 'setup', 'delete', j])),
    };
    const checkIds = new Map<string, number>();
    const checks: Check[] = [];
    arr(value.checks).forEach((c, j) => {
      const check = this.check(c, [...path, 'checks', j]);
      if (!check) return;
      if (checkIds.has(check.id)) this.problem([...path, 'checks', j, 'id'], `duplicate check id "${check.id}" (also checks[${checkIds.get(check.id)}])`);
      else checkIds.set(check.id, j);
      checks.push(check);
    });
    const keep = arr(value.keep).map((k) => str(k));
    const keptChecks = new Set<string>();
    keep.forEach((k, j) => {
      const stepIndex = earlier.get(k);
      if (stepIndex === undefined) {
        const later = arr((this.doc.value as Obj).steps).some((s, n) => n > i && isObj(s) && s.id === k);
        this.problem([...path, 'keep', j], later ? `step ${k} comes after this one; only earlier steps can be kept` : k === id ? 'a step cannot keep itself' : `no step "${k}"`);
        return;
      }
      for (const c of lab.steps.find((s) => s.id === k)?.checks ?? []) keptChecks.add(`${k}/${c.id}`);
    });
    const beforeSolution: BeforeSolution = value.beforeSolution === 'pass' ? 'pass' : 'fail';
    const solution = isObj(value.solution)
      ? {
          apply: this.manifests(value.solution.apply, [...path, 'solution', 'apply']),
          commands: this.commands(value.solution.commands, [...path, 'solution', 'commands']),
          explanation: typeof value.solution.explanation === 'string' ? value.solution.explanation : undefined,
        }
      : undefined;
    if (isObj(value.solution) && value.solution.apply === undefined && value.solution.commands === undefined) {
      this.problem([...path, 'solution'], 'a solution needs manifests to apply or commands to run');
    }
    if (!solution && beforeSolution === 'fail') {
      this.problem([...path], 'a step whose checks fail before the solution needs a solution (or beforeSolution: pass)');
    }
    const wrongIds = new Map<string, number>();
    const wrongSolutions: WrongSolution[] = arr(value.wrongSolutions).flatMap((w, j) => {
      if (!isObj(w)) return [];
      const wp: FieldPath = [...path, 'wrongSolutions', j];
      const ws: WrongSolution = {
        id: str(w.id),
        apply: this.manifests(w.apply, [...wp, 'apply']),
        commands: this.commands(w.commands, [...wp, 'commands']),
        undo: this.commands(w.undo, [...wp, 'undo']),
        fails: arr(w.fails).map((f) => str(f)),
        why: str(w.why),
      };
      if (wrongIds.has(ws.id)) this.problem([...wp, 'id'], `duplicate wrong solution id "${ws.id}" (also wrongSolutions[${wrongIds.get(ws.id)}])`);
      else wrongIds.set(ws.id, j);
      if (ws.apply.length === 0 && ws.commands.length === 0 && w.apply === undefined && w.commands === undefined) {
        this.problem(wp, 'a wrong solution needs manifests to apply or commands to run');
      }
      if (ws.commands.length > 0 && ws.undo.length === 0) this.problem([...wp, 'undo'], 'commands of a wrong solution need undo commands, so `kubelab test` can revert them');
      ws.fails.forEach((f, n) => {
        if (f.includes('/') ? !keptChecks.has(f) : !checkIds.has(f)) {
          const [s] = f.split('/');
          const hint = f.includes('/') ? (keep.includes(s) ? `step ${s} has no such check` : `step ${s} is not in this step's keep list`) : `this step has no check "${f}"`;
          this.problem([...wp, 'fails', n], `unknown check ${f}: ${hint}`);
        }
      });
      return [ws];
    });
    const step: Step = {
      id,
      source: this.source(path),
      title: str(value.title),
      textFile,
      markdown,
      setup,
      checks,
      keep,
      beforeSolution,
      hints: arr(value.hints).map((h) => str(h)),
      solution,
      wrongSolutions,
    };
    this.templates(step, lab, path);
    return step;
  }

  /** Every template renders with a full sample context, so learners never meet a template error. */
  private templates(step: Step, lab: Lab, path: FieldPath): void {
    const ctx = sampleContext(lab);
    const tryRender = (source: string, where: { file: string; line?: number; column?: number; path?: string }, fileRelative: boolean) => {
      try {
        expandTemplate(step, source, ctx);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        this.problems.push({ ...where, ...(fileRelative && err.line !== undefined ? { line: err.line, column: err.column ?? 1 } : {}), message: err.message });
      }
    };
    if (step.markdown) tryRender(step.markdown, { file: this.files.display(step.textFile), line: 1, column: 1 }, true);
    step.hints.forEach((h, j) => tryRender(h, { file: this.labFile, ...this.doc.locate([...path, 'hints', j]), path: formatPath([...path, 'hints', j]) }, false));
    if (step.solution?.explanation) {
      const p = [...path, 'solution', 'explanation'];
      tryRender(step.solution.explanation, { file: this.labFile, ...this.doc.locate(p), path: formatPath(p) }, false);
    }
  }

  private commands(v: unknown, path: FieldPath): string[] {
    return arr(v).map((c, i) => {
      const line = str(c);
      try {
        if (line) parseKubectlCommand(line);
      } catch (err) {
        if (err instanceof CommandError) this.problem([...path, i], err.message);
        else throw err;
      }
      return line;
    });
  }

  private objectRef(v: unknown, path: FieldPath): ObjectRef {
    const o = isObj(v) ? v : {};
    const ref: ObjectRef = { apiVersion: str(o.apiVersion), kind: str(o.kind), name: str(o.name), namespace: typeof o.namespace === 'string' ? o.namespace : undefined };
    if (ref.apiVersion && ref.kind) {
      const info = kindInfo(ref.apiVersion, ref.kind);
      if (!info) this.problem([...path, 'kind'], unknownKindMessage(ref.apiVersion, ref.kind));
      else if (info.namespaced && !ref.namespace) this.problem([...path, 'namespace'], `is required for a ${ref.kind}`);
      else if (!info.namespaced && ref.namespace) this.problem([...path, 'namespace'], `a ${ref.kind} has no namespace`);
    }
    return ref;
  }

  private knownNamespace(ns: string, path: FieldPath): void {
    if (ns && !this.namespaces.has(ns)) this.problem(path, `namespace ${ns} is not created by the lab's setup or an earlier step`);
  }

  private check(v: unknown, path: FieldPath): Check | undefined {
    if (!isObj(v)) return undefined;
    const beforeSolution = v.beforeSolution === 'pass' || v.beforeSolution === 'fail' ? v.beforeSolution : undefined;
    if (v.type === 'resource') return this.resourceCheck(v, path, beforeSolution);
    if (v.type !== 'probe') return undefined;
    const from = this.probeSource(v.from, [...path, 'from']);
    const to = this.probeTarget(v.to, [...path, 'to'], from?.namespace ?? '');
    const port = typeof v.port === 'number' ? v.port : undefined;
    const protocol = v.protocol === 'UDP' ? 'UDP' : 'TCP';
    const expect = v.expect === 'refused' || v.expect === 'timeout' || v.expect === 'dns-error' ? v.expect : 'connected';
    const httpObj = isObj(v.http) ? v.http : undefined;
    const http = httpObj ? { path: str(httpObj.path, '/'), status: typeof httpObj.status === 'number' ? httpObj.status : undefined, https: httpObj.https === true } : undefined;
    if (port === undefined) {
      if (to && !('service' in to) && !('host' in to)) this.problem([...path, 'port'], 'is required (only a service or host can be probed without a port: a DNS lookup)');
      if (v.protocol !== undefined) this.problem([...path, 'protocol'], 'a DNS-only probe (no port) has no protocol', 'key');
      if (http) this.problem([...path, 'http'], 'an HTTP probe needs a port', 'key');
      if (expect !== 'connected' && expect !== 'dns-error') this.problem([...path, 'expect'], 'a DNS-only probe (no port) can expect connected (the name resolves) or dns-error');
    }
    if (http && protocol !== 'TCP') this.problem([...path, 'http'], 'an HTTP probe uses TCP', 'key');
    if (http?.status !== undefined && expect !== 'connected') this.problem([...path, 'http', 'status'], 'a status can only be expected of a connection that is expected to succeed');
    if (protocol === 'UDP' && expect === 'refused' && port !== 53) this.problem([...path, 'expect'], 'a UDP probe cannot observe refused (nc -u does not see the ICMP reply); expect connected or timeout');
    if (!from || !to) return undefined;
    const check: ProbeCheck = {
      type: 'probe',
      id: str(v.id),
      source: this.source(path),
      title: str(v.title),
      from,
      to,
      port,
      protocol,
      expect,
      timeoutSeconds: typeof v.timeoutSeconds === 'number' ? v.timeoutSeconds : defaultTimeoutSeconds,
      http: http ? { path: http.path, status: http.status, https: http.https } : undefined,
      beforeSolution,
    };
    return check;
  }

  private probeSource(v: unknown, path: FieldPath): ProbeSource | undefined {
    if (!isObj(v)) return undefined;
    const namespace = str(v.namespace);
    this.knownNamespace(namespace, [...path, 'namespace']);
    const given = (['labels', 'pod', 'selector'] as const).filter((k) => v[k] !== undefined);
    if (given.length !== 1) {
      this.problem(path, given.length === 0 ? 'needs one of labels (a prober pod), pod or selector (an existing pod)' : `give only one of ${given.join(', ')}`);
      return undefined;
    }
    const container = typeof v.container === 'string' ? v.container : undefined;
    switch (given[0]) {
      case 'labels':
        if (container) this.problem([...path, 'container'], 'only for pod or selector: a prober pod has one container', 'key');
        return { namespace, labels: strMap(v.labels) };
      case 'pod':
        return { namespace, pod: str(v.pod), container };
      case 'selector':
        if (Object.keys(strMap(v.selector)).length === 0) this.problem([...path, 'selector'], 'must name at least one label');
        return { namespace, selector: strMap(v.selector), container };
    }
  }

  private probeTarget(v: unknown, path: FieldPath, sourceNamespace: string): ProbeTarget | undefined {
    if (!isObj(v)) return undefined;
    const given = (['service', 'host', 'pod', 'labels', 'ip'] as const).filter((k) => v[k] !== undefined);
    if (given.length !== 1) {
      this.problem(path, given.length === 0 ? 'needs one of service, host, pod, labels, ip' : `give only one of ${given.join(', ')}`);
      return undefined;
    }
    const namespace = typeof v.namespace === 'string' ? v.namespace : sourceNamespace;
    const kind = given[0];
    if ((kind === 'host' || kind === 'ip') && v.namespace !== undefined) this.problem([...path, 'namespace'], `a ${kind} target has no namespace`, 'key');
    else if (v.namespace !== undefined) this.knownNamespace(namespace, [...path, 'namespace']);
    switch (kind) {
      case 'service':
        return { service: str(v.service), namespace };
      case 'host':
        return { host: str(v.host) };
      case 'pod':
        return { pod: str(v.pod), namespace };
      case 'labels':
        if (Object.keys(strMap(v.labels)).length === 0) this.problem([...path, 'labels'], 'must name at least one label');
        return { labels: strMap(v.labels), namespace };
      case 'ip': {
        const ip = str(v.ip);
        if (!parseIP(ip)) this.problem([...path, 'ip'], `"${ip}" is not an IP address`);
        return { ip };
      }
    }
  }

  private resourceCheck(v: Obj, path: FieldPath, beforeSolution: BeforeSolution | undefined): ResourceCheck | undefined {
    const r = isObj(v.resource) ? v.resource : {};
    const apiVersion = str(r.apiVersion);
    const kind = str(r.kind);
    const info = apiVersion && kind ? kindInfo(apiVersion, kind) : undefined;
    if (apiVersion && kind && !info) this.problem([...path, 'resource', 'kind'], unknownKindMessage(apiVersion, kind));
    if (info && !info.namespaced && r.namespace !== undefined) this.problem([...path, 'resource', 'namespace'], `a ${kind} has no namespace`, 'key');
    if (typeof r.namespace === 'string') this.knownNamespace(r.namespace, [...path, 'resource', 'namespace']);
    if (v.match !== undefined) this.matchPattern(v.match, [...path, 'match']);
    return {
      type: 'resource',
      id: str(v.id),
      source: this.source(path),
      title: str(v.title),
      resource: {
        apiVersion,
        kind,
        namespace: typeof r.namespace === 'string' ? r.namespace : undefined,
        name: typeof r.name === 'string' ? r.name : undefined,
        labels: isObj(r.labels) ? strMap(r.labels) : undefined,
      },
      match: isObj(v.match) ? v.match : undefined,
      expect: v.expect === 'absent' ? 'absent' : 'present',
      describe: typeof v.describe === 'string' ? v.describe : undefined,
      beforeSolution,
    };
  }

  /** Operators in a match pattern are checked here: a typo there would silently match nothing. */
  private matchPattern(v: unknown, path: FieldPath): void {
    if (Array.isArray(v)) v.forEach((x, i) => this.matchPattern(x, [...path, i]));
    else if (isObj(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (!k.startsWith('$')) {
          this.matchPattern(x, [...path, k]);
          continue;
        }
        if (Object.keys(v).length !== 1) this.problem([...path, k], `${k} must be the only key of its map`, 'key');
        if (k === '$exists') {
          if (typeof x !== 'boolean') this.problem([...path, k], 'must be true or false');
        } else if (k === '$contains' || k === '$oneOf') {
          if (!Array.isArray(x)) this.problem([...path, k], 'must be a list');
          else x.forEach((y, i) => this.matchPattern(y, [...path, k, i]));
        } else this.problem([...path, k], `unknown operator ${k}; use $exists, $contains or $oneOf`, 'key');
      }
    }
  }

  private question(v: unknown, path: FieldPath): Question | undefined {
    if (!isObj(v)) return undefined;
    const id = str(v.id);
    const prompt = str(v.prompt);
    const explanation = str(v.explanation);
    switch (v.type) {
      case 'single':
      case 'multiple': {
        const ids = new Set<string>();
        const options = arr(v.options).map((o, i) => {
          const oo = isObj(o) ? o : {};
          const oid = str(oo.id);
          if (ids.has(oid)) this.problem([...path, 'options', i, 'id'], `duplicate option id "${oid}"`);
          ids.add(oid);
          return { id: oid, text: str(oo.text), correct: oo.correct === true, explanation: typeof oo.explanation === 'string' ? oo.explanation : undefined };
        });
        const correct = options.filter((o) => o.correct).length;
        if (v.type === 'single' && correct !== 1) this.problem([...path, 'options'], `exactly one option must be correct; ${correct} are`);
        if (v.type === 'multiple' && correct === 0) this.problem([...path, 'options'], 'at least one option must be correct');
        return { type: v.type, id, source: this.source(path), prompt, options, explanation };
      }
      case 'text': {
        const caseSensitive = v.caseSensitive === true;
        const patterns: RegExp[] = [];
        arr(v.accept).forEach((a, i) => {
          try {
            patterns.push(new RegExp(`^(?:${str(a)})$`, caseSensitive ? 'u' : 'iu'));
          } catch (err) {
            this.problem([...path, 'accept', i], `not a regular expression: ${err instanceof Error ? err.message : String(err)}`);
          }
        });
        const answer = str(v.answer);
        const wrongAnswers = arr(v.wrongAnswers).map((w) => str(w));
        const accepted = (s: string) => patterns.some((p) => p.test(s.trim()));
        if (patterns.length > 0 && answer && !accepted(answer)) this.problem([...path, 'answer'], 'is not accepted by any pattern in accept');
        wrongAnswers.forEach((w, i) => {
          if (patterns.length > 0 && accepted(w)) this.problem([...path, 'wrongAnswers', i], 'is accepted by a pattern in accept');
        });
        return { type: 'text', id, source: this.source(path), prompt, accept: arr(v.accept).map((a) => str(a)), caseSensitive, answer, wrongAnswers, explanation };
      }
      case 'manifest':
        return this.manifestQuestion(v, path, id, prompt, explanation);
      default:
        return undefined;
    }
  }

  private manifestQuestion(v: Obj, path: FieldPath, id: string, prompt: string, explanation: string): Question {
    const c = isObj(v.cluster) ? v.cluster : {};
    const nsNames = new Set<string>();
    const namespaces = arr(c.namespaces).map((n, i) => {
      const o = isObj(n) ? n : {};
      const name = str(o.name);
      if (nsNames.has(name)) this.problem([...path, 'cluster', 'namespaces', i, 'name'], `duplicate namespace ${name}`);
      nsNames.add(name);
      return { name, labels: { 'kubernetes.io/metadata.name': name, ...strMap(o.labels) } };
    });
    const podKeys = new Set<string>();
    const ips = new Map<string, string>();
    const pods: QuizPod[] = arr(c.pods).map((p, i) => {
      const o = isObj(p) ? p : {};
      const pp: FieldPath = [...path, 'cluster', 'pods', i];
      const pod: QuizPod = {
        namespace: str(o.namespace),
        name: str(o.name),
        labels: strMap(o.labels),
        ip: str(o.ip),
        ports: arr(o.ports).map((x) => {
          const xo = isObj(x) ? x : {};
          return { name: typeof xo.name === 'string' ? xo.name : undefined, port: typeof xo.port === 'number' ? xo.port : 0, protocol: xo.protocol === 'UDP' || xo.protocol === 'SCTP' ? xo.protocol : 'TCP' };
        }),
      };
      const key = `${pod.namespace}/${pod.name}`;
      if (pod.namespace && !nsNames.has(pod.namespace)) this.problem([...pp, 'namespace'], `namespace ${pod.namespace} is not in cluster.namespaces`);
      if (podKeys.has(key)) this.problem([...pp, 'name'], `duplicate pod ${key}`);
      podKeys.add(key);
      if (pod.ip && !parseIP(pod.ip)) this.problem([...pp, 'ip'], `"${pod.ip}" is not an IP address`);
      else if (ips.has(pod.ip)) this.problem([...pp, 'ip'], `${pod.ip} is also ${ips.get(pod.ip)}'s IP`);
      ips.set(pod.ip, key);
      return pod;
    });
    const probes: QuizProbe[] = arr(v.probes).map((p, i) => {
      const o = isObj(p) ? p : {};
      const probe: QuizProbe = {
        from: str(o.from),
        to: str(o.to),
        port: typeof o.port === 'number' ? o.port : 0,
        protocol: o.protocol === 'UDP' || o.protocol === 'SCTP' ? o.protocol : 'TCP',
        expect: o.expect === 'deny' ? 'deny' : 'allow',
        why: typeof o.why === 'string' ? o.why : undefined,
      };
      for (const end of ['from', 'to'] as const) {
        const ref = probe[end];
        if (!ref) continue;
        if (ref.includes('/')) {
          if (!podKeys.has(ref)) this.problem([...path, 'probes', i, end], `no pod ${ref} in cluster.pods`);
        } else if (!parseIP(ref)) this.problem([...path, 'probes', i, end], `must be namespace/pod or an IP address, not "${ref}"`);
      }
      if (!probe.from.includes('/') && !probe.to.includes('/')) this.problem([...path, 'probes', i], 'one end of a probe must be a pod');
      return probe;
    });
    const policies = this.manifests(v.policies, [...path, 'policies']);
    policies.forEach((m, i) => {
      if (m.object.kind !== 'NetworkPolicy') this.problem([...path, 'policies', i], `must be NetworkPolicies, not a ${m.object.kind}`);
    });
    const answerText = (src: unknown, p: FieldPath): string => {
      if (typeof src === 'string') {
        if (!isInsidePath(src)) return '';
        const r = this.files.read(src, 64 * 1024);
        if ('error' in r) {
          this.problem(p, r.error);
          return '';
        }
        return r.text;
      }
      return isObj(src) ? stringify(src) : '';
    };
    return {
      type: 'manifest',
      id,
      source: this.source(path),
      prompt,
      namespace: typeof v.namespace === 'string' ? v.namespace : undefined,
      cluster: { namespaces, pods },
      policies,
      probes,
      answer: answerText(v.answer, [...path, 'answer']),
      wrongAnswers: arr(v.wrongAnswers).map((w, i) => answerText(w, [...path, 'wrongAnswers', i])),
      explanation,
    };
  }
}
