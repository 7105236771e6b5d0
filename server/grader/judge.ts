// A probe's result in words: pass or fail against its expectation, and a message that says what
// happened and why (the engine's explanation, the rule that let blocked traffic through).
import type { CheckResult } from '../../shared/lab.ts';
import type { ProbeCheck } from '../labs/types.ts';
import type { ProbeRun } from './probe.ts';

export function judgeProbe(id: string, check: ProbeCheck, run: ProbeRun): CheckResult {
  const r = run.result;
  const base = { id, title: check.title, kind: 'probe' as const, probe: r };
  const src = r.source;
  const dst = r.target;
  const why = run.prediction.note ?? run.prediction.explanation?.summary;
  const because = why ? ` (${why})` : '';
  if (r.observed === 'error') return { ...base, status: 'error', message: `could not check: ${run.problem ?? 'the probe could not run'}` };
  if (run.statusMismatch) {
    return { ...base, status: 'fail', message: `${src} reached ${dst}, but the answer was ${run.statusMismatch.got ? `HTTP ${run.statusMismatch.got}` : 'not HTTP'}, not HTTP ${run.statusMismatch.want}` };
  }
  if (r.observed === r.expected) {
    switch (r.observed) {
      case 'connected':
        return { ...base, status: 'pass', message: check.port === undefined ? `${dst} resolves from ${src}` : `${src} reached ${dst}` };
      case 'timeout':
        return { ...base, status: 'pass', message: `${src} → ${dst} was dropped (timed out), as it should be${because}` };
      case 'refused':
        return { ...base, status: 'pass', message: `${src} → ${dst} was refused, as it should be` };
      case 'dns-error':
        return { ...base, status: 'pass', message: `${run.name ?? dst} does not resolve from ${src}, as it should not${because}` };
    }
  }
  const failed = (message: string): CheckResult => ({ ...base, status: 'fail', message });
  switch (r.observed) {
    case 'connected':
      if (r.expected === 'timeout' || r.expected === 'refused') {
        // least privilege: name the rule that let it through
        const by = run.prediction.allowedBy.length ? `; it was let through by ${run.prediction.allowedBy.join(' and ')}` : why ? `: ${why}` : '';
        return failed(`this traffic must stay blocked, but ${src} reached ${dst}${by}`);
      }
      return failed(`${run.name ?? dst} resolves from ${src}, but it should not`);
    case 'timeout':
      return failed(`${src} could not reach ${dst}: the connection timed out, so the packets were dropped${because}`);
    case 'refused':
      return failed(`${src} → ${dst}: connection refused, so nothing accepted the connection${run.prediction.note ? ` (${run.prediction.note})` : ''}; the traffic was not blocked by a policy`);
    case 'dns-error':
      if (run.enforced) return failed(`${run.name ?? dst} did not resolve from ${src}: its DNS lookups are blocked${because}`);
      return failed(`${run.name ?? dst} did not resolve from ${src}${because}`);
  }
}
