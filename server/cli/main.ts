// The `kubelab` command. Each sub-command lives in its own module and returns an exit code;
// only this entry point calls process.exit.
import process from 'node:process';

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'serve the platform (default http://127.0.0.1:8080)', load: async () => (await import('./serve.ts')).run },
  cluster: { summary: 'cluster up --kubeconfig FILE: run one embedded cluster in the foreground', load: async () => (await import('./cluster.ts')).run },
  netpol: { summary: 'netpol eval|matrix FILE: evaluate NetworkPolicy cases', load: async () => (await import('./netpol.ts')).run },
  validate: { summary: 'validate DIR: check a lab directory', load: async () => (await import('./validate.ts')).run },
  test: { summary: 'test DIR: provision a cluster and prove every step of a lab', load: async () => (await import('./test.ts')).run },
};

function usage(): string {
  const lines = ['usage: kubelab <command> [args]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`kubelab: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  return (await command.load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kubelab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
