// `kubelab netpol eval|matrix FILE`: NetworkPolicy cases ({cluster, policies, probes}) through the
// engine. `eval` prints only JSON on stdout (other tools parse it); every problem goes to stderr
// as `case N: <field path>: <message>` with a non-zero exit.
import { readFile } from 'node:fs/promises';
import process from 'node:process';
import { CaseError, readCase, type PolicyCase } from '../netpol/cases.ts';
import { PolicyEngine } from '../netpol/engine.ts';
import { renderMatrix } from '../netpol/matrix.ts';
import { formatFieldError } from '../netpol/fielderror.ts';
import { validateNetworkPolicy } from '../netpol/validate.ts';
import type { Endpoint, PortProtocol } from '../netpol/types.ts';

const help = `usage: kubelab netpol eval FILE
       kubelab netpol matrix FILE

FILE holds one case or a JSON array of cases ("-" reads stdin). A case is
  {"cluster": {"namespaces": [...], "pods": [...], "nodes": [...]},
   "policies": [NetworkPolicy, ...],
   "probes": [{"from": "ns/pod" | {"ip": "..."}, "to": ..., "port": 80, "protocol": "TCP"}]}

eval    prints {"results": [{"verdict": "allow"|"deny", "explanation": {...}}, ...]} in probe
        order (an array of those for an array of cases)
matrix  prints a reachability table per port/protocol the probes use: every pod (and every
        address a probe uses) as rows (from) and columns (to); "." allowed, "X" denied

Policies are validated like kube-apiserver 1.32; invalid input exits 1 with
"case N: <field>: <message>" lines on stderr.
`;

/** Input problems, each already prefixed with its case index. */
class InputError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

function positionOf(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return '';
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  return ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}

async function readInput(file: string): Promise<unknown[] | { single: unknown }> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError([`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new InputError([`${file === '-' ? 'stdin' : file}: invalid JSON${positionOf(text, msg)}: ${msg}`]);
  }
  return Array.isArray(data) ? data : { single: data };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface LoadedCase {
  case: PolicyCase;
  engine: PolicyEngine;
}

/** Reads, validates and compiles one case; throws InputError naming the case and field. */
function load(raw: unknown, n: number): LoadedCase {
  let c: PolicyCase;
  try {
    c = readCase(raw);
  } catch (err) {
    if (err instanceof CaseError) throw new InputError([`case ${n}: ${err.message}`]);
    throw err;
  }
  const problems: string[] = [];
  const seen = new Map<string, number>();
  c.policies.forEach((p, i) => {
    for (const e of validateNetworkPolicy(p)) problems.push(`case ${n}: policies[${i}]: ${formatFieldError(e)}`);
    const key = `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
    if (seen.has(key)) problems.push(`case ${n}: policies[${i}]: metadata.name: Duplicate value: "${p.metadata.name}" (also policies[${seen.get(key)}] in namespace ${p.metadata.namespace})`);
    else seen.set(key, i);
  });
  if (problems.length) throw new InputError(problems);
  try {
    return { case: c, engine: new PolicyEngine(c.cluster, c.policies) };
  } catch (err) {
    throw new InputError([`case ${n}: ${err instanceof Error ? err.message : String(err)}`]);
  }
}

function evalCase(l: LoadedCase): { results: Array<{ verdict: string; explanation: unknown }> } {
  return { results: l.case.probes.map((p) => l.engine.evaluate(p)) };
}

const label = (e: Endpoint) => ('pod' in e ? e.pod : e.ip);

function matrixText(l: LoadedCase, n: number, name: string | undefined): string {
  const pods = l.engine.cluster.pods.map((p) => p.key);
  const probes = l.case.probes;
  const extra = (pick: (p: (typeof probes)[number]) => Endpoint) => [...new Set(probes.map(pick).filter((e) => 'ip' in e).map(label))];
  const ports: PortProtocol[] = [];
  for (const p of probes) if (!ports.some((x) => x.port === p.port && x.protocol === p.protocol)) ports.push({ port: p.port, protocol: p.protocol });
  const head = `# case ${n}${name ? `: ${name}` : ''}\n`;
  if (ports.length === 0) return head + '(no probes, so no ports to show)\n';
  const grid = l.engine.matrix({ sources: [...pods, ...extra((p) => p.from)], destinations: [...pods, ...extra((p) => p.to)], ports });
  return head + renderMatrix(grid);
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(help);
    return 0;
  }
  const [verb, file, ...rest] = args;
  if ((verb !== 'eval' && verb !== 'matrix') || !file || rest.length > 0) {
    process.stderr.write(help);
    return 2;
  }
  try {
    const input = await readInput(file);
    const raws = Array.isArray(input) ? input : [input.single];
    const loaded = raws.map((r, i) => load(r, i));
    if (verb === 'eval') {
      const out = loaded.map(evalCase);
      process.stdout.write(JSON.stringify(Array.isArray(input) ? out : out[0]) + '\n');
    } else {
      process.stdout.write(loaded.map((l, i) => matrixText(l, i, l.case.name)).join('\n'));
    }
    return 0;
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(err.lines.join('\n') + '\n');
      return 1;
    }
    throw err;
  }
}
