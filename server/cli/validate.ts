// `kubelab validate DIR`: check one lab directory, or every lab under a folder, and print one
// line per problem (file:line:column: field: message). Exit 0 when clean, 1 on any problem.
import { checkLab, labDirectories } from '../labs/loader.ts';
import { formatProblem, sortProblems, type Problem } from '../labs/problems.ts';
import { lintQuestions } from '../grader/quiz.ts';

const usage = 'usage: kubelab validate DIR   (a lab directory holding lab.yaml, or a folder of them)';

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  const dirs = args.filter((a) => !a.startsWith('-'));
  const unknown = args.filter((a) => a.startsWith('-'));
  if (dirs.length !== 1 || unknown.length > 0) {
    process.stderr.write(`${unknown.length ? `unknown option ${unknown[0]}\n` : ''}${usage}\n`);
    return 2;
  }
  const { problems, labs } = validateLabs(dirs[0]);
  for (const p of problems) process.stdout.write(formatProblem(p) + '\n');
  process.stderr.write(`${labs} lab${labs === 1 ? '' : 's'} checked, ${problems.length === 0 ? 'no problems' : `${problems.length} problem${problems.length === 1 ? '' : 's'}`}\n`);
  return problems.length === 0 ? 0 : 1;
}

/** Every problem of every lab under `root`, including questions whose own answer key grades wrong. */
export function validateLabs(root: string): { problems: Problem[]; labs: number } {
  const dirs = labDirectories(root);
  if (dirs.length === 0) return { labs: 0, problems: [{ file: root, message: 'no lab.yaml here or in any subdirectory' }] };
  const problems: Problem[] = [];
  const ids = new Map<string, string>();
  for (const dir of dirs) {
    const r = checkLab(dir);
    problems.push(...r.problems);
    const lab = r.lab ?? r.draft;
    if (!lab) continue;
    const other = ids.get(lab.id);
    if (other) problems.push({ file: lab.file, line: 1, column: 1, path: 'id', message: `lab id "${lab.id}" is also used by ${other}` });
    ids.set(lab.id, lab.file);
    // a question with problems already reported would only repeat them as "cannot be graded"
    const reported = new Set(r.problems.map((p) => /^questions\[\d+\]/.exec(p.path ?? '')?.[0]).filter(Boolean));
    problems.push(...lintQuestions(lab).filter((p) => !reported.has(/^questions\[\d+\]/.exec(p.path ?? '')?.[0])));
  }
  return { labs: dirs.length, problems: sortProblems(problems) };
}
