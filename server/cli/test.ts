// `kubelab test DIR [--backend embedded|kind] [--dataplane netns|sim] [--step ID] [--json]`:
// provision a fresh cluster, prove every step of the lab (checks fail before the solution, each
// wrong solution fails exactly what it names, the solution passes), grade the questions' keys,
// print a table, and exit non-zero on any surprise. The cluster is removed at the end and on
// Ctrl-C.
import process from 'node:process';
import type { ClusterBackend, Environment, LabEnvironmentSpec } from '../backends/types.ts';
import type { KubeObject, PodRuntime } from '../apiserver/runtime.ts';
import { checkLab, labDirectories } from '../labs/loader.ts';
import { formatProblem } from '../labs/problems.ts';
import type { Lab } from '../labs/types.ts';
import { createGrader } from '../grader/grader.ts';
import { renderTestTable, testLab, type TestRow } from '../grader/lab-test.ts';
import { lintQuestions } from '../grader/quiz.ts';

const usage = `usage: kubelab test DIR [--backend embedded|kind] [--dataplane netns|sim] [--step ID] [--json]
  Provisions a fresh cluster per lab and proves each step: its checks fail before the solution
  (unless the step says beforeSolution: pass), each wrong solution fails exactly the checks it
  names, the solution passes them all; then every question's key is graded right.
  Exit 0 when everything behaved as the lab says; 1 on any surprise; 2 on bad arguments.`;

interface Args {
  dir: string;
  backend: 'embedded' | 'kind';
  dataplane?: 'netns' | 'sim';
  step?: string;
  json: boolean;
}

function parseArgs(args: string[]): Args | string {
  const positional: string[] = [];
  const out: Partial<Args> = { backend: 'embedded', json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (name: string) => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined || v === '') throw new Error(`${name} needs a value`);
      return v;
    };
    try {
      if (a === '--backend' || a.startsWith('--backend=')) {
        const v = value('--backend');
        if (v !== 'embedded' && v !== 'kind') return `--backend must be embedded or kind, not ${v}`;
        out.backend = v;
      } else if (a === '--dataplane' || a.startsWith('--dataplane=')) {
        const v = value('--dataplane');
        if (v !== 'netns' && v !== 'sim') return `--dataplane must be netns or sim, not ${v}`;
        out.dataplane = v;
      } else if (a === '--step' || a.startsWith('--step=')) out.step = value('--step');
      else if (a === '--json') out.json = true;
      else if (a.startsWith('-')) return `unknown option ${a}`;
      else positional.push(a);
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (positional.length !== 1) return 'give one lab directory (or a folder of labs)';
  if (out.dataplane && out.backend === 'kind') return '--dataplane applies to the embedded backend only';
  return { ...(out as Args), dir: positional[0] };
}

/** The data plane for the embedded backend. Never the process runtime: it has no network, so probes would prove nothing. */
async function chooseDataPlane(prefer: 'netns' | 'sim' | undefined): Promise<PodRuntime> {
  try {
    const chooser = (await import(new URL('../dataplane/index.ts', import.meta.url).href)) as { chooseRuntime?: (o?: { prefer?: string }) => Promise<PodRuntime> };
    if (typeof chooser.chooseRuntime === 'function') {
      const runtime = await chooser.chooseRuntime(prefer ? { prefer } : undefined);
      if (runtime.name === 'process') throw new Error('only the process runtime is available here, and it has no network to probe');
      if (prefer && runtime.name !== prefer) throw new Error(`the ${prefer} data plane is not available here (${runtime.reason})`);
      return runtime;
    }
  } catch (err) {
    if (!(err instanceof Error && /Cannot find module|ERR_MODULE_NOT_FOUND/.test(err.message + String((err as { code?: string }).code)))) throw err;
  }
  if (prefer === 'sim') throw new Error('the sim data plane is not available in this build');
  const { createNetnsRuntime } = await import('../dataplane/netns/runtime.ts');
  return createNetnsRuntime();
}

async function createBackend(args: Args): Promise<ClusterBackend> {
  if (args.backend === 'kind') {
    const { createKindBackend } = await import('../backends/kind/index.ts');
    return createKindBackend();
  }
  const { createEmbeddedBackend } = await import('../backends/embedded.ts');
  const runtime = await chooseDataPlane(args.dataplane);
  await runtime.reapLeftovers();
  return createEmbeddedBackend({ runtime });
}

export function labEnvironment(lab: Lab): LabEnvironmentSpec {
  return {
    labId: lab.id,
    setup: lab.environment.setup.map((m) => m.object as unknown as KubeObject),
    externalHosts: lab.environment.externalHosts,
    images: lab.environment.images,
  };
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`kubelab test: ${args}\n${usage}\n`);
    return 2;
  }
  const dirs = labDirectories(args.dir);
  if (dirs.length === 0) {
    process.stderr.write(`kubelab test: no lab.yaml in ${args.dir} or its subdirectories\n`);
    return 1;
  }
  // a lab that does not validate is not worth a cluster
  const labs: Lab[] = [];
  let invalid = false;
  for (const dir of dirs) {
    const r = checkLab(dir);
    const problems = [...r.problems, ...(r.lab ? lintQuestions(r.lab) : [])];
    for (const p of problems) process.stderr.write(formatProblem(p) + '\n');
    if (!r.lab || problems.length > 0) invalid = true;
    else labs.push(r.lab);
  }
  if (invalid) {
    process.stderr.write('kubelab test: fix the problems above first (kubelab validate lists them)\n');
    return 1;
  }

  const abort = new AbortController();
  const onSignal = () => {
    process.stderr.write('\nkubelab test: interrupted, removing the cluster...\n');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let backend: ClusterBackend | undefined;
  const all: Array<{ lab: string; rows: TestRow[] }> = [];
  let failed = false;
  try {
    backend = await createBackend(args);
    for (const lab of labs) {
      if (abort.signal.aborted) break;
      const started = Date.now();
      if (!args.json) process.stderr.write(`${lab.id}: provisioning ${args.backend === 'embedded' ? 'an embedded' : 'a kind'} cluster...\n`);
      let env: Environment | undefined;
      try {
        env = await backend.provision({ learner: { id: 'kubelab-test', name: 'kubelab test' }, lab: labEnvironment(lab), signal: abort.signal });
        if (!args.json) process.stderr.write(`${lab.id}: cluster ready (${env.backend}, data plane ${env.dataPlane}); testing...\n`);
        const grader = createGrader(env);
        try {
          const rows = await testLab(lab, grader, { step: args.step, signal: abort.signal });
          all.push({ lab: lab.id, rows });
          const bad = rows.filter((r) => !r.ok).length;
          if (bad > 0 || rows.length === 0) failed = true;
          if (!args.json) {
            process.stdout.write(`\n${lab.id} (${lab.file})\n${renderTestTable(rows)}\n`);
            process.stdout.write(`\n${lab.id}: ${bad === 0 ? 'every step behaved as the lab says' : `${bad} surprise${bad === 1 ? '' : 's'}`} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
          }
        } finally {
          await grader.close();
        }
      } catch (err) {
        failed = true;
        process.stderr.write(`${lab.id}: ${abort.signal.aborted ? 'interrupted' : `could not test: ${err instanceof Error ? err.message : String(err)}`}\n`);
      } finally {
        await env?.dispose().catch((e: unknown) => process.stderr.write(`${lab.id}: cleanup failed: ${String(e)}\n`));
      }
    }
  } catch (err) {
    failed = true;
    process.stderr.write(`kubelab test: ${err instanceof Error ? err.message : String(err)}\n`);
  } finally {
    await backend?.close().catch(() => {});
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (args.json) process.stdout.write(JSON.stringify({ ok: !failed, labs: all }, null, 2) + '\n');
  if (abort.signal.aborted) return 130;
  return failed ? 1 : 0;
}
