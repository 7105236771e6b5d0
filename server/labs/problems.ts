// What is wrong with a lab, said so an author can find it: file, line, column, field path.

export interface Problem {
  /** the file at fault, as the author named it (relative to where kubelab runs when possible) */
  file: string;
  /** 1-based; absent when the problem is about the file as a whole */
  line?: number;
  column?: number;
  /** field path inside the file, e.g. `steps[1].checks[0].expect` */
  path?: string;
  message: string;
}

/** `labs/x/lab.yaml:12:5: steps[1].checks[0].expect: must be one of connected, refused, timeout, dns-error` */
export function formatProblem(p: Problem): string {
  const where = [p.file, p.line, p.line !== undefined ? p.column : undefined].filter((x) => x !== undefined).join(':');
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Problems sorted by file, then position, so output is stable and reads top to bottom. */
export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      (a.path ?? '').localeCompare(b.path ?? '') ||
      a.message.localeCompare(b.message),
  );
}

/** Thrown by loadLab when a lab has problems; carries every one of them, not just the first. */
export class LabError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[], what = 'lab') {
    const sorted = sortProblems(problems);
    super(`${what} has ${sorted.length} problem${sorted.length === 1 ? '' : 's'}:\n${sorted.map(formatProblem).join('\n')}`);
    this.name = 'LabError';
    this.problems = sorted;
  }
}

export type FieldPath = Array<string | number>;

/** `['steps', 1, 'checks', 0, 'expect']` → `steps[1].checks[0].expect` */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
