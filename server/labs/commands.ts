// Solution commands are written like shell lines but never run through a shell: they are split
// into argv here, and anything that only a shell would understand is refused, so a lab file can
// only ever run kubectl with arguments.

export class CommandError extends Error {}

const shellOnly = /[|;&<>`]|\$\(|\$\{|\$[A-Za-z_]/;

/** `kubectl label pod web -n shop tier=front --overwrite` → argv; quotes group words. */
export function splitCommand(line: string): string[] {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      if (shellOnly.test(line.slice(i, i + 2))) {
        throw new CommandError(`"${line.slice(i, i + 2).trim()}" needs a shell; commands run kubectl directly (no pipes, redirections, variables or substitutions)`);
      }
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new CommandError(`unterminated ${quote} quote`);
  if (inWord) argv.push(word);
  return argv;
}

/** Split and require the program to be kubectl. */
export function parseKubectlCommand(line: string): string[] {
  const argv = splitCommand(line);
  if (argv[0] !== 'kubectl') throw new CommandError('must start with kubectl');
  if (argv.length < 2) throw new CommandError('kubectl needs a sub-command');
  return argv;
}
