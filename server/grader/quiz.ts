// Grading answers to a lab's questions. Pure: same question and answer, same grade.
// A "write a manifest" answer is graded by what it does: the engine evaluates the learner's
// policies in the question's imagined cluster on the question's probes; the text itself is
// never compared with anything.
import type { Answer, Grade } from '../../shared/lab.ts';
import { InvalidPolicyError, PolicyEngine, type ClusterSnapshot, type Endpoint, type NetworkPolicy } from '../netpol/index.ts';
import { checkManifest } from '../labs/manifests.ts';
import { formatPath, type Problem } from '../labs/problems.ts';
import type { ChoiceQuestion, Lab, ManifestQuestion, Question, TextQuestion } from '../labs/types.ts';
import { parseYaml } from '../labs/yaml.ts';

/** Longest text answer read; anything longer is graded wrong without being looked at. */
export const maxTextAnswer = 1000;
/** Largest manifest answer (bytes). */
export const maxManifestAnswer = 64 * 1024;

/** Grade one answer. Never throws for a bad answer: junk gets a wrong grade saying why. */
export function gradeAnswer(question: Question, answer: Answer): Grade {
  switch (question.type) {
    case 'single':
      return gradeSingle(question, answer);
    case 'multiple':
      return gradeMultiple(question, answer);
    case 'text':
      return gradeText(question, answer);
    case 'manifest':
      return gradeManifest(question, answer);
  }
}

function grade(question: Question, correct: boolean, score: number, details: string[] = []): Grade {
  return { questionId: question.id, correct, score: Math.max(0, Math.min(1, score)), explanation: question.explanation, details };
}

function gradeSingle(q: ChoiceQuestion, answer: Answer): Grade {
  if (typeof answer !== 'string') return grade(q, false, 0, ['pick one option']);
  const picked = q.options.find((o) => o.id === answer);
  if (!picked) return grade(q, false, 0, [`there is no option "${answer.slice(0, 50)}"`]);
  if (picked.correct) return grade(q, true, 1);
  return grade(q, false, 0, picked.explanation ? [picked.explanation] : []);
}

function gradeMultiple(q: ChoiceQuestion, answer: Answer): Grade {
  const picks = typeof answer === 'string' ? [answer] : Array.isArray(answer) ? answer : [];
  if (picks.length > q.options.length || picks.some((p) => typeof p !== 'string')) return grade(q, false, 0, ['pick from the options given']);
  const unknown = picks.filter((p) => !q.options.some((o) => o.id === p));
  if (unknown.length > 0) return grade(q, false, 0, [`there is no option "${unknown[0].slice(0, 50)}"`]);
  const chosen = new Set(picks);
  const right = q.options.filter((o) => o.correct);
  const hits = right.filter((o) => chosen.has(o.id)).length;
  const wrongPicks = q.options.filter((o) => !o.correct && chosen.has(o.id));
  const missed = right.filter((o) => !chosen.has(o.id));
  const details = [
    ...wrongPicks.map((o) => o.explanation ?? `"${plain(o.text)}" is not right`),
    ...missed.map((o) => o.explanation ?? `"${plain(o.text)}" is also right`),
  ];
  const correct = wrongPicks.length === 0 && missed.length === 0;
  return grade(q, correct, correct ? 1 : (hits - wrongPicks.length) / right.length, details);
}

function gradeText(q: TextQuestion, answer: Answer): Grade {
  if (typeof answer !== 'string') return grade(q, false, 0, ['answer with text']);
  if (answer.length > maxTextAnswer) return grade(q, false, 0, [`answers are at most ${maxTextAnswer} characters`]);
  const text = answer.trim().normalize('NFC');
  const flags = q.caseSensitive ? 'u' : 'iu';
  const ok = q.accept.some((pattern) => {
    try {
      return new RegExp(`^(?:${pattern})$`, flags).test(text);
    } catch {
      return false;
    }
  });
  return grade(q, ok, ok ? 1 : 0);
}

/** The question's imagined cluster as the engine sees it. */
export function quizSnapshot(q: ManifestQuestion): ClusterSnapshot {
  return {
    namespaces: q.cluster.namespaces.map((n) => ({ name: n.name, labels: n.labels })),
    pods: q.cluster.pods.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      labels: p.labels,
      ip: p.ip,
      containerPorts: p.ports.map((x) => ({ name: x.name, port: x.port, protocol: x.protocol ?? 'TCP' })),
    })),
  };
}

/** Read NetworkPolicies out of a learner's YAML; problems name the line, column and field. */
export function readPolicies(yaml: string, defaultNamespace: string | undefined): { policies: NetworkPolicy[]; problems: string[] } {
  if (Buffer.byteLength(yaml, 'utf8') > maxManifestAnswer) return { policies: [], problems: [`the answer is longer than ${maxManifestAnswer / 1024} KiB`] };
  const parsed = parseYaml('answer', yaml, { maxBytes: maxManifestAnswer, maxAliasCount: 20, maxDocuments: 20 });
  const problems = parsed.problems.map((p) => `line ${p.line ?? 1}, column ${p.column ?? 1}: ${p.path ? `${p.path}: ` : ''}${p.message}`);
  const policies: NetworkPolicy[] = [];
  if (parsed.docs.length === 0 && problems.length === 0) problems.push('the answer holds no YAML document');
  parsed.docs.forEach((doc, i) => {
    const where = (line: number, column: number) => (parsed.docs.length > 1 ? `document ${i + 1}, ` : '') + `line ${line}, column ${column}`;
    let value = doc.value;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const v = value as Record<string, unknown>;
      if (v.kind !== undefined && v.kind !== 'NetworkPolicy') {
        const at = doc.locate(['kind']);
        problems.push(`${where(at.line, at.column)}: kind: this question wants NetworkPolicy objects, not ${String(v.kind)}`);
        return;
      }
      // an answer may leave out the namespace the question is about, as `kubectl apply -n` would fill it
      const meta = v.metadata;
      if (defaultNamespace && meta !== null && typeof meta === 'object' && !Array.isArray(meta) && (meta as Record<string, unknown>).namespace === undefined) {
        value = { ...v, metadata: { ...(meta as Record<string, unknown>), namespace: defaultNamespace } };
      }
    }
    const m = checkManifest(value, (path, message, at) => {
      const pos = doc.locate(path, at);
      problems.push(`${where(pos.line, pos.column)}: ${path.length ? `${formatPath(path)}: ` : ''}${message}`);
    });
    if (m) policies.push(m as unknown as NetworkPolicy);
  });
  return { policies, problems };
}

function gradeManifest(q: ManifestQuestion, answer: Answer): Grade {
  if (typeof answer !== 'string') return grade(q, false, 0, ['answer with YAML text']);
  const { policies, problems } = readPolicies(answer, q.namespace);
  if (problems.length > 0) return grade(q, false, 0, problems);
  const given = q.policies.map((m) => m.object as unknown as NetworkPolicy);
  // like kubectl apply: the learner's policy replaces a given one with the same namespace/name
  const key = (p: NetworkPolicy) => `${p.metadata.namespace}/${p.metadata.name}`;
  const mine = new Set(policies.map(key));
  const seen = new Set<string>();
  for (const p of policies) {
    if (seen.has(key(p))) return grade(q, false, 0, [`NetworkPolicy ${key(p)} appears twice in the answer`]);
    seen.add(key(p));
  }
  let engine: PolicyEngine;
  try {
    engine = new PolicyEngine(quizSnapshot(q), [...given.filter((p) => !mine.has(key(p))), ...policies]);
  } catch (err) {
    if (err instanceof InvalidPolicyError) return grade(q, false, 0, [err.message]);
    throw err;
  }
  const details: string[] = [];
  let right = 0;
  for (const probe of q.probes) {
    const decision = engine.evaluate({ from: endpoint(probe.from), to: endpoint(probe.to), port: probe.port, protocol: probe.protocol });
    if (decision.verdict === probe.expect) {
      right++;
      continue;
    }
    const what = `${probe.from} → ${probe.to}:${probe.port}/${probe.protocol}`;
    const want = probe.expect === 'allow' ? 'must be allowed' : 'must be denied';
    details.push(`${what} ${want}${probe.why ? ` (${probe.why})` : ''}, but your policies ${decision.verdict === 'allow' ? 'allow' : 'deny'} it: ${decision.explanation.summary}`);
  }
  const correct = right === q.probes.length;
  return grade(q, correct, right / q.probes.length, details);
}

function endpoint(ref: string): Endpoint {
  return ref.includes('/') ? { pod: ref } : { ip: ref };
}

function plain(markdown: string): string {
  return markdown.replace(/[`*_]/g, '').slice(0, 80);
}

/**
 * Questions whose own key grades wrong, or whose listed wrong answers grade right: a lab must not
 * ship a question no learner can get right.
 */
export function lintQuestions(lab: Lab): Problem[] {
  const problems: Problem[] = [];
  lab.questions.forEach((q, i) => {
    // choice and text questions are checked statically when the lab loads
    if (q.type !== 'manifest') return;
    const at = { file: q.source.file, line: q.source.line, column: q.source.column };
    for (const k of answerKey(q)) {
      let g: Grade;
      try {
        g = gradeAnswer(q, k.answer);
      } catch (err) {
        // a question with other problems (reported already) may not be gradable at all
        problems.push({ ...at, path: `questions[${i}]`, message: `cannot be graded: ${err instanceof Error ? err.message : String(err)}` });
        break;
      }
      if (g.correct !== k.correct) {
        problems.push({
          ...at,
          path: `questions[${i}].${k.field}`,
          message: k.correct ? `the answer key is graded wrong: ${g.details.join('; ') || 'not accepted'}` : 'this wrong answer is graded right',
        });
      }
    }
  });
  return problems;
}

/** The answers a question declares right and wrong, for `kubelab test` and `kubelab validate`. */
export function answerKey(q: Question): Array<{ answer: Answer; correct: boolean; field: string }> {
  switch (q.type) {
    case 'single':
      return [
        ...q.options.filter((o) => o.correct).map((o) => ({ answer: o.id, correct: true, field: 'options' })),
        ...q.options.filter((o) => !o.correct).map((o) => ({ answer: o.id, correct: false, field: 'options' })),
      ];
    case 'multiple': {
      const right = q.options.filter((o) => o.correct).map((o) => o.id);
      const wrong = q.options.filter((o) => !o.correct).map((o) => o.id);
      return [
        { answer: right, correct: true, field: 'options' },
        ...(right.length > 1 ? [{ answer: right.slice(1), correct: false, field: 'options' }] : []),
        ...wrong.map((w) => ({ answer: [...right, w], correct: false, field: 'options' })),
      ];
    }
    case 'text':
      return [{ answer: q.answer, correct: true, field: 'answer' }, ...q.wrongAnswers.map((w, i) => ({ answer: w, correct: false, field: `wrongAnswers[${i}]` }))];
    case 'manifest':
      return [{ answer: q.answer, correct: true, field: 'answer' }, ...q.wrongAnswers.map((w, i) => ({ answer: w, correct: false, field: `wrongAnswers[${i}]` }))];
  }
}
