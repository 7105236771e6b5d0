// Broken lab files through `kubelab validate`: the shipped labs' lab.yaml (labs/example and
// labs/network-policies) mutated by a seeded generator (required fields removed, wrong types,
// unknown keys, bad enums and ids, missing or escaping files, YAML syntax errors, alias bombs,
// prototype keys, over-long strings). Every broken file must give problems that say
// file:line:column and the field, never a stack trace, and never a clean bill of health.
//
// KUBELAB_RELIABILITY_LABS (default 240) cases in-process through the validator the command
// uses, and a handful through the real `kubelab validate` command for the exit code and output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { validateLabs } from '../../server/cli/validate.ts';
import { formatProblem, type Problem } from '../../server/labs/problems.ts';
import { random } from './generate.ts';
import { repoRoot } from './server.ts';

const COUNT = Number(process.env.KUBELAB_RELIABILITY_LABS ?? 240);
const SEED = Number(process.env.KUBELAB_RELIABILITY_SEED ?? 1);
const LABS = ['example', 'network-policies'];

type Path = Array<string | number>;

interface Mutant {
  description: string;
  text: string;
  /** the field a problem must name (or sit above / below), when the mutation is about one field */
  field?: string;
}

function fieldName(path: Path): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s;
}

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

/** Paths of the lab's own objects (not free-form maps such as labels): where a key can be unknown. */
function objectPaths(lab: Record<string, unknown>): Path[] {
  const out: Path[] = [[]];
  if (lab.environment) out.push(['environment']);
  const steps = (lab.steps ?? []) as Array<Record<string, unknown>>;
  steps.forEach((s, i) => {
    out.push(['steps', i]);
    if (s.solution) out.push(['steps', i, 'solution']);
    ((s.checks ?? []) as Array<Record<string, unknown>>).forEach((c, j) => {
      out.push(['steps', i, 'checks', j]);
      if (c.from) out.push(['steps', i, 'checks', j, 'from']);
      if (c.to) out.push(['steps', i, 'checks', j, 'to']);
    });
  });
  ((lab.questions ?? []) as Array<Record<string, unknown>>).forEach((q, k) => {
    out.push(['questions', k]);
    ((q.options ?? []) as unknown[]).forEach((_o, m) => out.push(['questions', k, 'options', m]));
  });
  return out;
}

function requiredPaths(lab: Record<string, unknown>): Path[] {
  const out: Path[] = ['apiVersion', 'kind', 'id', 'title', 'summary', 'estimatedMinutes', 'steps'].map((k) => [k]);
  const steps = (lab.steps ?? []) as Array<Record<string, unknown>>;
  steps.forEach((s, i) => {
    for (const k of ['id', 'title', 'text', 'checks']) out.push(['steps', i, k]);
    ((s.checks ?? []) as Array<Record<string, unknown>>).forEach((c, j) => {
      const keys = c.type === 'probe' ? ['id', 'type', 'title', 'from', 'to', 'expect'] : ['id', 'type', 'title', 'resource'];
      for (const k of keys) out.push(['steps', i, 'checks', j, k]);
      if (c.type === 'probe') out.push(['steps', i, 'checks', j, 'from', 'namespace']);
    });
  });
  ((lab.questions ?? []) as Array<Record<string, unknown>>).forEach((q, k) => {
    for (const key of ['id', 'type', 'prompt', 'explanation']) out.push(['questions', k, key]);
  });
  return out;
}

function enumPaths(lab: Record<string, unknown>): Array<[Path, string[]]> {
  const out: Array<[Path, string[]]> = [];
  ((lab.steps ?? []) as Array<Record<string, unknown>>).forEach((s, i) => {
    out.push([['steps', i, 'beforeSolution'], ['maybe', 'Pass', 'skip']]);
    ((s.checks ?? []) as Array<Record<string, unknown>>).forEach((c, j) => {
      out.push([['steps', i, 'checks', j, 'type'], ['probes', 'network', 'Probe']]);
      if (c.type === 'probe') {
        out.push([['steps', i, 'checks', j, 'expect'], ['maybe', 'allowed', 'Connected', 'drop']]);
        out.push([['steps', i, 'checks', j, 'protocol'], ['ICMP', 'tcp', 'SCTP']]);
      }
    });
  });
  ((lab.questions ?? []) as unknown[]).forEach((_q, k) => out.push([['questions', k, 'type'], ['essay', 'Single', 'choice']]));
  return out;
}

function filePaths(lab: Record<string, unknown>): Path[] {
  const out: Path[] = [];
  const env = lab.environment as { setup?: unknown[] } | undefined;
  (env?.setup ?? []).forEach((_f, i) => out.push(['environment', 'setup', i]));
  ((lab.steps ?? []) as Array<Record<string, unknown>>).forEach((s, i) => {
    out.push(['steps', i, 'text']);
    const apply = (s.solution as { apply?: unknown[] } | undefined)?.apply ?? [];
    apply.forEach((a, j) => {
      if (typeof a === 'string') out.push(['steps', i, 'solution', 'apply', j]);
    });
  });
  return out;
}

function scalarPaths(doc: Document, lab: Record<string, unknown>): Path[] {
  const out: Path[] = [];
  const walk = (v: unknown, path: Path) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    else out.push(path);
  };
  walk(lab, []);
  return out.filter((p) => doc.getIn(p, true) !== undefined && !p.includes('labels') && !p.includes('selector') && !p.includes('match'));
}

/** The `index`-th broken version of `original` (a lab.yaml text). */
function mutant(original: string, seed: number, index: number): Mutant {
  const rnd = random(seed * 7919 + index);
  const doc = parseDocument(original);
  const lab = doc.toJS() as Record<string, unknown>;
  const kind = pick(rnd, ['delete-required', 'wrong-type', 'unknown-key', 'bad-enum', 'bad-id', 'duplicate-id', 'missing-file', 'escaping-file', 'syntax', 'alias-bomb', 'proto-key', 'huge-string', 'version'] as const);
  const done = (description: string, field?: Path): Mutant => ({ description: `#${index} ${kind}: ${description}`, text: doc.toString(), field: field ? fieldName(field) : undefined });
  switch (kind) {
    case 'delete-required': {
      const path = pick(rnd, requiredPaths(lab));
      doc.deleteIn(path);
      return done(`removed ${fieldName(path)}`, path);
    }
    case 'wrong-type': {
      const path = pick(rnd, scalarPaths(doc, lab));
      doc.setIn(path, doc.createNode(pick(rnd, [{ bogus: 1 }, ['a', 'b']])));
      return done(`${fieldName(path)} is a map or list`, path);
    }
    case 'unknown-key': {
      const path = pick(rnd, objectPaths(lab));
      const key = pick(rnd, ['titel', 'checkz', 'Expect', 'namespace_', 'x-extra', 'steps2']);
      doc.setIn([...path, key], 'surprise');
      return done(`unknown key ${fieldName([...path, key])}`, [...path, key]);
    }
    case 'bad-enum': {
      const [path, values] = pick(rnd, enumPaths(lab));
      const value = pick(rnd, values);
      doc.setIn(path, value);
      return done(`${fieldName(path)}: ${value}`, path);
    }
    case 'bad-id': {
      const steps = (lab.steps as unknown[]).length;
      const path = pick(rnd, [['id'], ['steps', Math.floor(rnd() * steps), 'id']] as Path[]);
      const value = pick(rnd, ['Bad ID', 'under_score', '-lead', 'trail-', 'ÜNICODE', 'a/b']);
      doc.setIn(path, value);
      return done(`${fieldName(path)}: ${value}`, path);
    }
    case 'duplicate-id': {
      const steps = lab.steps as Array<{ id: string }>;
      const i = Math.floor(rnd() * (steps.length - 1));
      doc.setIn(['steps', i + 1, 'id'], steps[i].id);
      return done(`steps[${i + 1}].id repeats steps[${i}].id`, ['steps', i + 1, 'id']);
    }
    case 'missing-file': {
      const path = pick(rnd, filePaths(lab));
      doc.setIn(path, pick(rnd, ['steps/nowhere.md', 'setup/missing.yaml', 'solutions/gone.yaml']));
      return done(`${fieldName(path)} names a missing file`, path);
    }
    case 'escaping-file': {
      const path = pick(rnd, filePaths(lab));
      doc.setIn(path, pick(rnd, ['../../etc/passwd', '/etc/shadow', '../example/lab.yaml', 'steps/../../../package.json']));
      return done(`${fieldName(path)} points outside the lab`, path);
    }
    case 'syntax': {
      const lines = original.split('\n');
      // before a line that starts a key or a list entry: inside a block scalar any text is valid
      const keyLines = lines.map((l, n) => (n > 0 && /^\s*(- )?[A-Za-z][\w-]*:( |$)/.test(l) ? n : -1)).filter((n) => n > 0);
      const at = pick(rnd, keyLines);
      const broken = pick(rnd, [
        () => lines.splice(at, 0, '\tindented: with a tab'),
        () => lines.splice(at, 0, 'steps: [unclosed'),
        () => lines.splice(at, 0, `id: twice`),
        () => lines.splice(at, 0, 'title: "no closing quote'),
        () => lines.splice(at, 0, ': : :'),
        () => lines.splice(at, 0, '  - - - ]'),
      ]);
      broken();
      return { description: `#${index} syntax: broken YAML near line ${at + 1}`, text: lines.join('\n') };
    }
    case 'alias-bomb': {
      const bomb = ['bomb:', '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i < 9; i++) bomb.push(`  ${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
      return { description: `#${index} alias-bomb`, text: `${original.trimEnd()}\n${bomb.join('\n')}\n` };
    }
    case 'proto-key': {
      const extra = pick(rnd, ['__proto__:\n  polluted: lab', 'constructor:\n  prototype:\n    polluted: lab', '<<: {polluted: lab}', 'steps2:\n  __proto__: {polluted: lab}']);
      return { description: `#${index} proto-key: ${extra.split('\n')[0]}`, text: `${original.trimEnd()}\n${extra}\n` };
    }
    case 'huge-string': {
      const path = pick(rnd, [['title'], ['steps', 0, 'title'], ['steps', 0, 'checks', 0, 'title']] as Path[]);
      doc.setIn(path, 'x'.repeat(pick(rnd, [201, 5000, 200_000])));
      return done(`${fieldName(path)} too long`, path);
    }
    case 'version': {
      const [path, value] = pick(rnd, [[['apiVersion'], 'kubelab.dev/v2'], [['kind'], 'Labb'], [['apiVersion'], 'v1']] as Array<[Path, string]>);
      doc.setIn(path, value);
      return done(`${fieldName(path)}: ${value}`, path);
    }
  }
}

/** A problem names `field` when its path is the field, inside it, or the object holding it. */
function names(p: Problem, field: string): boolean {
  const path = p.path ?? '';
  if (!path) return false;
  const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  return related(path, field) || related(field, path);
}

function workspace(lab: string): { dir: string; file: string; original: string } {
  const root = mkdtempSync(join(tmpdir(), 'kubelab-rel-lab-'));
  const dir = join(root, lab);
  cpSync(join(repoRoot, 'labs', lab), dir, { recursive: true });
  const file = join(dir, 'lab.yaml');
  return { dir, file, original: readFileSync(file, 'utf8') };
}

test(`${COUNT} broken lab files: problems with file, line and field; never clean, never a crash`, { timeout: 300_000 }, (t) => {
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const spaces = LABS.map(workspace);
  const wrong: string[] = [];
  const counts = new Map<string, number>();
  try {
    // the untouched labs are clean: the mutations, not the fixtures, make the problems
    for (const s of spaces) assert.deepEqual(validateLabs(s.dir).problems.map(formatProblem), [], `${s.dir} validates clean before mutation`);
    for (let i = 0; i < COUNT; i++) {
      const s = spaces[i % spaces.length];
      const m = mutant(s.original, SEED, i);
      writeFileSync(s.file, m.text);
      const kind = m.description.split(' ')[1].replace(':', '');
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      let problems: Problem[];
      try {
        problems = validateLabs(s.dir).problems;
      } catch (err) {
        wrong.push(`${m.description}: validate threw ${err instanceof Error ? (err.stack ?? err.message).split('\n').slice(0, 3).join(' | ') : String(err)}`);
        continue;
      }
      if (problems.length === 0) {
        wrong.push(`${m.description}: no problems reported for a broken lab`);
        continue;
      }
      const inFile = problems.filter((p) => p.file.endsWith('lab.yaml'));
      if (inFile.length === 0) wrong.push(`${m.description}: no problem points at lab.yaml (${problems.map(formatProblem).join(' | ').slice(0, 300)})`);
      for (const p of inFile) {
        if (!p.line || !p.column || p.line < 1) wrong.push(`${m.description}: a problem without a line: ${formatProblem(p).slice(0, 200)}`);
        if (!p.message.trim()) wrong.push(`${m.description}: a problem without a message`);
        if (/\n\s+at /.test(p.message)) wrong.push(`${m.description}: a stack trace in a problem: ${p.message.slice(0, 200)}`);
      }
      if (m.field && !inFile.some((p) => names(p, m.field!))) {
        wrong.push(`${m.description}: no problem names ${m.field}; got: ${inFile.map(formatProblem).join(' | ').slice(0, 400)}`);
      }
    }
  } finally {
    for (const s of spaces) rmSync(join(s.dir, '..'), { recursive: true, force: true });
  }
  t.diagnostic(`mutations: ${[...counts].map(([k, n]) => `${k}×${n}`).join(' ')}`);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoBefore);
  assert.equal(wrong.length, 0, `${wrong.length} wrong results, first ones:\n${wrong.slice(0, 15).join('\n')}`);
});

function validateCommand(dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'server/cli/main.ts'), 'validate', dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('kubelab validate on broken labs: exit 1, file:line:column: field: message lines, no stack trace', { timeout: 120_000 }, async () => {
  const picks = [3, 17, 26, 40, 51, 64];
  const cases: Array<{ dir: string; m: Mutant }> = [];
  const roots: string[] = [];
  for (const [n, i] of picks.entries()) {
    const s = workspace(LABS[n % LABS.length]);
    roots.push(join(s.dir, '..'));
    // search forward for a case of a different sort each time, so the sample stays varied
    let m = mutant(s.original, SEED + 1000, i);
    for (let k = i + 1; cases.some((c) => c.m.description.split(' ')[1] === m.description.split(' ')[1]) && k < i + 50; k++) m = mutant(s.original, SEED + 1000, k);
    writeFileSync(s.file, m.text);
    cases.push({ dir: s.dir, m });
  }
  try {
    const results = await Promise.all(cases.map((c) => validateCommand(c.dir)));
    results.forEach((r, i) => {
      const what = cases[i].m.description;
      assert.equal(r.code, 1, `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
      const lines = r.stdout.trim().split('\n');
      assert.ok(lines.length >= 1 && lines[0] !== '', `${what}: prints its problems`);
      for (const line of lines) assert.match(line, /^\S[^:]*:\d+:\d+: (\S+: )?\S/, `${what}: "${line.slice(0, 200)}"`);
      assert.ok(lines.some((l) => l.includes('lab.yaml:')), `${what}: names lab.yaml`);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at \S+ \(|^\s+at /m, `${what}: no stack trace`);
      assert.match(r.stderr, /^1 lab checked, \d+ problems?\n$/, `${what}: summary line only on stderr: ${r.stderr.slice(0, 300)}`);
    });
  } finally {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  }
});
