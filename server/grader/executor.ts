// How a probe's tools run in its source pod. A probe is one or two steps: a DNS lookup of the
// target's name, then a connection to the address it gave. The script executor runs both steps
// of every probe from the same source pod in ONE exec (a shell script running the probes side
// by side), because an exec costs far more than the tools it runs; the sequential executor runs
// each tool as its own exec (tests, and a fallback for images without a shell).
import type { ToolCommand } from './commands.ts';
import { classify } from './classify.ts';
import type { ExecResult } from './exec.ts';
import type { RunInPod, SourcePod } from './probe.ts';

/** Stands for the looked-up address in a connect command until the lookup has run (TEST-NET-1, never a target). */
export const addressPlaceholder = '192.0.2.255';

export interface ProbeSteps {
  /** a DNS lookup; its first address replaces `addressPlaceholder` in `connect` */
  lookup?: ToolCommand;
  connect?: ToolCommand;
  /**
   * The IPv4 address the lookup should give (a Service's ClusterIP in the snapshot). The script
   * executor starts the connection to it alongside the lookup, and keeps that connection's result
   * only when the lookup gives this address; otherwise it connects to what the lookup gave.
   */
  expectedAddress?: string;
}

export interface StepResults {
  lookup?: ExecResult;
  connect?: ExecResult;
  /** the address the connection went to */
  ip?: string;
}

export type ProbeExecutor = (source: SourcePod, steps: ProbeSteps, signal?: AbortSignal) => Promise<StepResults>;

function withAddress(cmd: ToolCommand, ip: string): ToolCommand {
  return { ...cmd, argv: cmd.argv.map((a) => a.split(addressPlaceholder).join(ip)) };
}

/** One exec per tool. */
export function sequentialExecutor(run: RunInPod): ProbeExecutor {
  return async (source, steps, signal) => {
    const out: StepResults = {};
    let ip: string | undefined;
    if (steps.lookup) {
      out.lookup = await run(source, steps.lookup, signal);
      const c = classify(steps.lookup.tool, { ...out.lookup, timeoutMs: steps.lookup.timeoutMs });
      if (c.outcome !== 'connected' || !c.addresses?.length || !steps.connect) return out;
      ip = c.addresses.find((a) => !a.includes(':')) ?? c.addresses[0];
    }
    if (steps.connect) {
      const cmd = ip ? withAddress(steps.connect, ip) : steps.connect;
      out.connect = await run(source, cmd, signal);
      out.ip = ip;
    }
    return out;
  };
}

/** Quote for sh (words of safe characters stay bare, to keep scripts short); the address placeholder becomes "$IP". */
export function shellWord(arg: string): string {
  return arg
    .split(addressPlaceholder)
    .map((part) => (part === '' ? '' : /^[A-Za-z0-9_.,:/=+@%-]+$/.test(part) ? part : `'${part.replace(/'/g, `'\\''`)}'`))
    .join('"$IP"') || "''";
}

function commandLine(cmd: ToolCommand): string {
  // the UDP probe is already a fixed shell line built from a checked address and port
  if (cmd.argv[0] === 'sh' && cmd.argv[1] === '-c' && cmd.argv.length === 3) return cmd.argv[2].split(addressPlaceholder).join('"$IP"');
  return cmd.argv.map(shellWord).join(' ');
}

// The first IPv4 address in $L, with shell builtins only (no process per probe).
const pickAddress = `IP=; for w in $L; do case "$w" in *[!0-9.]*) ;; *.*.*.*) IP="$w"; break ;; esac; done`;

/**
 * Many probes from one pod, side by side. Each distinct name is looked up once (dig is the
 * costly tool here); then every probe connects to the address its lookup gave. A probe whose
 * name should give a known address connects there while the lookup runs, so a dropped
 * connection's wait overlaps the lookup instead of following it; that result counts only if
 * the lookup gives the same address, otherwise the connection to the address it gave does.
 * Connections start before lookups (the lookups' start-up would delay them); results go to
 * files, and once everything has ended the output is put together with shell builtins only.
 */
export function batchScript(items: ProbeSteps[]): string {
  const lookups: string[] = [];
  const lookupOf = items.map((steps) => {
    if (!steps.lookup) return -1;
    const line = commandLine(steps.lookup);
    let j = lookups.indexOf(line);
    if (j < 0) j = lookups.push(line) - 1;
    return j;
  });
  const early = items.map((steps) => (steps.lookup && steps.connect && steps.expectedAddress && isIPv4(steps.expectedAddress) ? steps.expectedAddress : undefined));
  const lines = [
    'd=$(mktemp -d 2>/dev/null) || { d=/tmp/kubelab-probe-$$; mkdir -p "$d"; }',
    "NL='",
    "'",
    // print a file as it is (a newline ends its last line), without a process
    `pf() { if [ -f "$1" ]; then while IFS= read -r line || [ -n "$line" ]; do printf '%s\\n' "$line"; done < "$1"; fi; }`,
    // a connection's result: exit code, address, output
    `k() { printf '@@connect %s %s\\n%s\\n@@\\n' "$1" "$2" "$3"; }`,
    // lookup number $1's output and exit code in L and R, and its first IPv4 address in IP (builtins only)
    `rl() { L=; while IFS= read -r line || [ -n "$line" ]; do L="$L$line$NL"; done < "$d/l$1"; L="\${L%$NL}"; read -r R < "$d/r$1"; ${pickAddress}; }`,
  ];
  // `address` is the shell word printed as the address connected to: "$IP", or - when there was no lookup
  const connect = (cmd: ToolCommand, address: string, file: string) => `(C=$(${commandLine(cmd)} 2>&1); k $? ${address} "$C") >"$d/${file}" 2>&1 &`;
  // connections that need no lookup first, and those to the address a name should give
  items.forEach((steps, i) => {
    if (lookupOf[i] < 0 && steps.connect) lines.push(connect(steps.connect, '-', `c${i}`));
    const address = early[i];
    if (address) lines.push(`IP=${shellWord(address)}`, connect(steps.connect!, '"$IP"', `e${i}`));
  });
  // the lookups: each name once, and its other connections as soon as it resolves
  const readLookup = (j: number) => `rl ${j}`;
  lookups.forEach((line, j) => {
    const mine = items.map((_, i) => i).filter((i) => lookupOf[i] === j && items[i].connect);
    const body = [`${line} >"$d/l${j}" 2>&1; echo $? >"$d/r${j}"`];
    if (mine.length > 0) {
      body.push(readLookup(j));
      for (const i of mine) {
        const address = early[i];
        const when = address ? `[ -n "$IP" ] && [ "$IP" != ${shellWord(address)} ]` : '[ -n "$IP" ]';
        body.push(`if ${when}; then\n${connect(items[i].connect!, '"$IP"', `c${i}`)}\nfi`);
      }
      body.push('wait');
    }
    lines.push(`(\n${body.join('\n')}\n) &`);
  });
  lines.push('wait');
  // the answer, probe by probe
  lookups.forEach((_, j) => {
    lines.push(readLookup(j));
    items.forEach((steps, i) => {
      if (lookupOf[i] !== j) return;
      lines.push(`printf '@@probe ${i}\\n@@lookup %s\\n%s\\n@@\\n' "$R" "$L"`);
      const address = early[i];
      if (address) lines.push(`if [ "$IP" = ${shellWord(address)} ]; then pf "$d/e${i}"; else pf "$d/c${i}"; fi`);
      else if (steps.connect) lines.push(`pf "$d/c${i}"`);
    });
  });
  items.forEach((_, i) => {
    if (lookupOf[i] < 0) lines.push(`printf '@@probe ${i}\\n'; pf "$d/c${i}"`);
  });
  lines.push('rm -rf "$d"');
  return lines.join('\n');
}

function isIPv4(a: string): boolean {
  return /^(\d{1,3})(\.\d{1,3}){3}$/.test(a) && a.split('.').every((o) => Number(o) <= 255);
}

/** Read one probe's framed output back into step results. */
export function parseProbeOutput(text: string): StepResults {
  const out: StepResults = {};
  const re = /^@@(lookup|connect) (\d+)(?: (\S+))?\n([\s\S]*?)\n@@$/gm;
  for (const m of text.matchAll(re)) {
    const result: ExecResult = { exitCode: Number(m[2]), stdout: m[4], stderr: '', elapsedMs: 0 };
    if (m[1] === 'lookup') out.lookup = result;
    else {
      out.connect = result;
      if (m[3] && m[3] !== '-') out.ip = m[3];
    }
  }
  return out;
}

export function parseBatchOutput(text: string, count: number): StepResults[] {
  const parts = text.split(/^@@probe (\d+)\n/m);
  const out: StepResults[] = Array.from({ length: count }, () => ({}));
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const n = Number(parts[i]);
    if (n >= 0 && n < count) out[n] = parseProbeOutput(parts[i + 1].replace(/\n$/, ''));
  }
  return out;
}

const scriptEnd = '# end of the probe script';

/**
 * A shell that reads its script from standard input: a line with the script's length in bytes,
 * then the script. It runs nothing until all of it has come (the exec may be started long
 * before the script is written), and nothing if the input was cut short.
 */
export const scriptReader = `IFS= read -r n || exit 125; s=$(head -c "$n"); case "$s" in *'${scriptEnd}') eval "$s" ;; *) echo 'the probe script arrived cut short' >&2; exit 125 ;; esac`;

/** `script` as `scriptReader` reads it. */
export function scriptInput(script: string): string {
  const whole = `${script}\n${scriptEnd}`;
  return `${Buffer.byteLength(whole)}\n${whole}`;
}

/**
 * The most a script given as sh -c's argument may take, percent-encoded as it travels in the
 * exec request's URL: API servers cap the request line with the headers (Node's default is
 * 16 KiB, which the embedded API keeps), so a larger batch goes as several execs.
 */
export const MAX_ARGUMENT_SCRIPT = 10 * 1024;

/** Split probes into runs whose script fits `limit` (encoded); a probe too big alone still gets a run of its own. */
export function argumentBatches(steps: ProbeSteps[], limit = MAX_ARGUMENT_SCRIPT): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < steps.length; i++) {
    const tried = [...current, i];
    if (current.length > 0 && encodeURIComponent(batchScript(tried.map((j) => steps[j]))).length > limit) {
      batches.push(current);
      current = [i];
    } else current = tried;
  }
  if (current.length) batches.push(current);
  return batches;
}

/**
 * One exec per source pod: probes asked for in the same moment (a grading starts them all at
 * once) are gathered and run by one script. In the grader's own prober pods (netshoot, so
 * `head` is there) the script goes in as standard input, so an exec started ahead of time can
 * run it and its size is not bound by a URL; in the learner's pods it is the argument of sh -c,
 * and a batch too big for one request's URL becomes several execs started together.
 */
export function scriptExecutor(run: RunInPod): ProbeExecutor {
  const pending = new Map<string, { source: SourcePod; signal?: AbortSignal; items: Array<{ steps: ProbeSteps; resolve: (r: StepResults) => void; reject: (e: unknown) => void }> }>();
  const runScript = async (source: SourcePod, steps: ProbeSteps[], signal?: AbortSignal): Promise<StepResults[]> => {
    const longest = Math.max(...steps.map((s) => (s.lookup?.timeoutMs ?? 0) + (s.connect?.timeoutMs ?? 0)));
    const script = batchScript(steps);
    const command = source.prober ? { argv: ['sh', '-c', scriptReader], stdin: scriptInput(script) } : { argv: ['sh', '-c', script] };
    const r = await run(source, { tool: 'nc', ...command, timeoutMs: longest }, signal);
    if (r.exitCode !== 0 && !r.stdout.includes('@@probe')) throw new Error(`the probe script failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
    return parseBatchOutput(r.stdout, steps.length);
  };
  const flush = async (key: string) => {
    const batch = pending.get(key);
    pending.delete(key);
    if (!batch) return;
    const steps = batch.items.map((i) => i.steps);
    const runs = batch.source.prober ? [steps.map((_, i) => i)] : argumentBatches(steps);
    await Promise.all(
      runs.map(async (indices) => {
        try {
          const results = await runScript(batch.source, indices.map((i) => steps[i]), batch.signal);
          indices.forEach((i, k) => batch.items[i].resolve(results[k]));
        } catch (err) {
          for (const i of indices) batch.items[i].reject(err);
        }
      }),
    );
  };
  return (source, steps, signal) =>
    new Promise<StepResults>((resolve, reject) => {
      const key = `${source.namespace}/${source.pod}/${source.container}`;
      let batch = pending.get(key);
      if (!batch) {
        batch = { source, signal, items: [] };
        pending.set(key, batch);
        // gather what the other probes of this grading ask for in the same turn
        setTimeout(() => void flush(key), 5);
      }
      batch.items.push({ steps, resolve, reject });
    });
}
