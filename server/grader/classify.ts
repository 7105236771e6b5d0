// What a probe tool's exit code and output mean, as one of the closed set of outcomes. Pure, and
// tested against outputs recorded from the real tools (testdata/tool-outputs.json).
import type { ProbeOutcome } from '../../shared/lab.ts';

export type ProbeTool = 'nc' | 'nc-udp' | 'dig' | 'nslookup' | 'curl';

export interface ToolRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** how long it ran, and the timeout it was given: an instant silent failure is a refusal */
  elapsedMs?: number;
  timeoutMs?: number;
}

export interface Classification {
  outcome: ProbeOutcome;
  /** a short reason in the tool's terms, e.g. "NXDOMAIN", "no route", "HTTP 200" */
  detail: string;
  /** addresses a lookup returned */
  addresses?: string[];
  /** status of an HTTP response */
  httpStatus?: number;
}

const missingTool = /not found|No such file or directory|executable file not found|command not found/i;
const resolveFailure =
  /getaddrinfo|Name or service not known|Temporary failure in name resolution|Name does not resolve|nodename nor servname|bad address|Could not resolve host|Try again/i;

/** Classify one run of `tool`. */
export function classify(tool: ProbeTool, run: ToolRun): Classification {
  switch (tool) {
    case 'nc':
      return classifyNc(run);
    case 'nc-udp':
      return classifyUdp(run);
    case 'dig':
      return classifyDig(run);
    case 'nslookup':
      return classifyNslookup(run);
    case 'curl':
      return classifyCurl(run);
  }
}

function text(run: ToolRun): string {
  return `${run.stderr}\n${run.stdout}`;
}

function toolMissing(run: ToolRun): Classification | undefined {
  if (run.exitCode === 126 || run.exitCode === 127 || (run.exitCode !== 0 && missingTool.test(text(run)) && !/Connection|timed out/i.test(text(run)))) {
    return { outcome: 'error', detail: `the probe tool could not run: ${firstLine(text(run)) || `exit ${run.exitCode}`}` };
  }
  return undefined;
}

/** `nc -vz -w T host port` (OpenBSD netcat; busybox wording too). */
function classifyNc(run: ToolRun): Classification {
  const t = text(run);
  if (run.exitCode === 0) return { outcome: 'connected', detail: firstLine(t) || 'connected' };
  const missing = toolMissing(run);
  if (missing) return missing;
  if (/Connection refused/i.test(t)) return { outcome: 'refused', detail: 'connection refused' };
  if (/timed out|Operation now in progress|Connection timed out/i.test(t)) return { outcome: 'timeout', detail: 'no answer before the timeout' };
  if (/No route to host|Network is unreachable|Host is unreachable/i.test(t)) return { outcome: 'timeout', detail: 'no route to the address' };
  if (resolveFailure.test(t)) return { outcome: 'dns-error', detail: firstLine(t) };
  if (t.trim() === '' && run.exitCode === 1) {
    // without -v nc prints nothing either way; a refusal comes back at once, a drop takes the timeout
    if (run.elapsedMs !== undefined && run.timeoutMs !== undefined && run.elapsedMs < run.timeoutMs * 0.5) return { outcome: 'refused', detail: 'failed at once (refused)' };
    return { outcome: 'timeout', detail: 'no answer before the timeout' };
  }
  return { outcome: 'error', detail: `unexpected nc output (exit ${run.exitCode}): ${firstLine(t)}` };
}

/** `echo kubelab | nc -u -w T host port`: only a reply proves anything listens. */
function classifyUdp(run: ToolRun): Classification {
  const missing = toolMissing(run);
  if (missing) return missing;
  if (run.stdout.trim() !== '') return { outcome: 'connected', detail: 'the target replied' };
  if (/Connection refused/i.test(run.stderr)) return { outcome: 'refused', detail: 'port unreachable' };
  if (resolveFailure.test(run.stderr)) return { outcome: 'dns-error', detail: firstLine(run.stderr) };
  return { outcome: 'timeout', detail: 'no reply before the timeout' };
}

const ipLine = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]+)$/;

/** `dig +short +time=T +tries=1 name [@server]`. */
function classifyDig(run: ToolRun): Classification {
  const t = text(run);
  const missing = toolMissing(run);
  if (missing) return missing;
  if (/connection refused/i.test(t)) return { outcome: 'refused', detail: 'the DNS server refused the query' };
  if (run.exitCode === 9 || /no servers could be reached|timed out/i.test(t)) return { outcome: 'timeout', detail: 'no DNS server answered' };
  if (run.exitCode !== 0) return { outcome: 'error', detail: `dig failed (exit ${run.exitCode}): ${firstLine(t)}` };
  if (/status: NXDOMAIN/.test(t)) return { outcome: 'dns-error', detail: 'NXDOMAIN' };
  const addresses = run.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => ipLine.test(l));
  if (addresses.length > 0) return { outcome: 'connected', detail: addresses.join(', '), addresses };
  if (/status: NOERROR/.test(t) && /ANSWER: [1-9]/.test(t)) return { outcome: 'connected', detail: 'answered' };
  return { outcome: 'dns-error', detail: 'no such name (NXDOMAIN or no address)' };
}

/** `nslookup -timeout=T -retry=0 name [server]` (bind9 and busybox wording). */
function classifyNslookup(run: ToolRun): Classification {
  const t = text(run);
  const missing = toolMissing(run);
  if (missing) return missing;
  if (/no servers could be reached|connection timed out|timed out/i.test(t)) return { outcome: 'timeout', detail: 'no DNS server answered' };
  if (/NXDOMAIN|can't find|can't resolve|NOTFOUND|No answer/i.test(t)) return { outcome: 'dns-error', detail: /NXDOMAIN/.test(t) ? 'NXDOMAIN' : firstLine(t) };
  if (/connection refused/i.test(t)) return { outcome: 'refused', detail: 'the DNS server refused the query' };
  const addresses = [...t.matchAll(/^Address(?:\s+\d+)?:\s*([0-9a-fA-F.:]+)\s*$/gm)].map((m) => m[1]);
  // the first "Address:" line (with #53) is the server's own; answers come after "Name:"
  const afterName = t.includes('Name:') ? t.slice(t.indexOf('Name:')) : '';
  const answers = afterName ? [...afterName.matchAll(/Address(?:\s+\d+)?:\s*([0-9a-fA-F.:]+)\s*$/gm)].map((m) => m[1]) : [];
  if (run.exitCode === 0 && answers.length > 0) return { outcome: 'connected', detail: answers.join(', '), addresses: answers };
  if (run.exitCode === 0 && addresses.length > 1) return { outcome: 'connected', detail: addresses.slice(1).join(', '), addresses: addresses.slice(1) };
  return { outcome: 'error', detail: `unexpected nslookup output (exit ${run.exitCode}): ${firstLine(t)}` };
}

/** `curl -sS -o /dev/null -w '%{http_code}' --max-time T url`: the exit code says what happened. */
function classifyCurl(run: ToolRun): Classification {
  const t = text(run);
  const status = Number.parseInt(run.stdout.trim().slice(-3), 10);
  const httpStatus = Number.isFinite(status) && status >= 100 ? status : undefined;
  switch (run.exitCode) {
    case 0:
      return { outcome: 'connected', detail: httpStatus ? `HTTP ${httpStatus}` : 'connected', httpStatus };
    case 6:
      return { outcome: 'dns-error', detail: firstLine(run.stderr) || 'could not resolve host' };
    case 7:
      if (/No route to host|Network is unreachable/i.test(t)) return { outcome: 'timeout', detail: 'no route to the address' };
      return { outcome: 'refused', detail: 'connection refused' };
    case 28:
      if (/Resolving timed out/i.test(t)) return { outcome: 'dns-error', detail: 'name resolution timed out' };
      return { outcome: 'timeout', detail: 'no answer before the timeout' };
    // the TCP connection was made; what came back was not a clean HTTP exchange
    case 35:
    case 52:
    case 56:
    case 60:
      return { outcome: 'connected', detail: firstLine(run.stderr) || `curl exit ${run.exitCode}` };
    default: {
      const missing = toolMissing(run);
      if (missing) return missing;
      return { outcome: 'error', detail: `curl failed (exit ${run.exitCode}): ${firstLine(t)}` };
    }
  }
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  ).slice(0, 200);
}
