// Lab and grading types the browser and the server share. Browser-safe: no imports, plain JSON.
// The server builds these from the lab model (server/labs) and the grader (server/grader).

/** What a probe saw. `error`: the probe itself could not run; never the learner's fault. */
export type ProbeOutcome = 'connected' | 'refused' | 'timeout' | 'dns-error' | 'error';

/** What a check may expect: every outcome except `error`. */
export type ExpectedOutcome = Exclude<ProbeOutcome, 'error'>;

export const expectedOutcomes: readonly ExpectedOutcome[] = ['connected', 'refused', 'timeout', 'dns-error'];

export interface LabSummary {
  id: string;
  title: string;
  summary: string;
  /** estimated minutes */
  minutes: number;
  steps: number;
  questions: number;
  outline: Array<{ id: string; title: string }>;
}

export interface RenderedStep {
  labId: string;
  id: string;
  /** 0-based position in the lab */
  index: number;
  title: string;
  /**
   * HTML from Markdown without raw HTML. Code blocks are `<pre data-code="…">`; runnable ones
   * (fence info `sh run`) also carry `data-run="true"` for a "run in terminal" button.
   */
  html: string;
  /** each hint as HTML, in the order they should be revealed */
  hints: string[];
  hasSolution: boolean;
  /** the solution's explanation as HTML, when the author wrote one */
  solutionHtml?: string;
  checks: Array<{ id: string; title: string; kind: 'probe' | 'resource' }>;
}

/** JSON as it crosses the wire. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The NetworkPolicy engine's account of one connection. */
export interface PolicyExplanation {
  verdict: 'allow' | 'deny';
  /** one sentence, e.g. "blocked: payments/payment-api is isolated for ingress by default-deny-all; …" */
  summary: string;
  /** the engine's structured explanation (which policies isolate, which rule admitted, nearest miss) */
  detail?: JsonValue;
}

export interface ProbeResult {
  /** e.g. `production/checkout-api` or `production/kubelab-probe-1a2b3c (app=checkout-api)` */
  source: string;
  /** e.g. `payment-api-svc.payments.svc.cluster.local:80` */
  target: string;
  port?: number;
  protocol: 'TCP' | 'UDP';
  expected: ExpectedOutcome;
  observed: ProbeOutcome;
  /** what the policies say should happen, when the engine could tell */
  predicted?: 'allow' | 'deny';
  /** why, per the engine; for a service, against the endpoint pod and target port */
  explanation?: PolicyExplanation;
  /** the HTTP status when the probe was an HTTP request that got a response */
  httpStatus?: number;
  /** the command run in the source pod and what it printed (trimmed), for the curious */
  command?: string;
  output?: string;
  /** how many times it ran (a mismatch is retried once) */
  attempts: number;
  durationMs: number;
}

export type CheckStatus = 'pass' | 'fail' | 'error';

export interface CheckResult {
  id: string;
  title: string;
  kind: 'probe' | 'resource';
  status: CheckStatus;
  /** plain words for the learner: why it passed or failed */
  message: string;
  probe?: ProbeResult;
}

/**
 * passed: every check passed. failed: at least one did not. could-not-check: a probe could not
 * run (never the learner's fault). not-enforcing: the network disagrees with the policies on
 * several probes, so the cluster's network plugin is not enforcing NetworkPolicy.
 */
export type StepOutcome = 'passed' | 'failed' | 'could-not-check' | 'not-enforcing';

export interface StepResult {
  labId: string;
  stepId: string;
  outcome: StepOutcome;
  /** one sentence for the learner */
  summary: string;
  checks: CheckResult[];
  /** for a wrong solution the author foresaw: what the learner is told */
  diagnosis?: string;
  /** epoch ms */
  at: number;
  durationMs: number;
}

export interface GradeProgress {
  /** checks finished so far */
  done: number;
  total: number;
  /** the check that just finished */
  check?: CheckResult;
  phase: 'settling' | 'probing' | 'retrying' | 'done';
}

export type QuestionKind = 'single' | 'multiple' | 'text' | 'manifest';

/** A question as the learner sees it: no answer key. */
export interface QuestionView {
  id: string;
  kind: QuestionKind;
  /** HTML */
  prompt: string;
  /** for single/multiple; labels are HTML */
  options?: Array<{ id: string; label: string }>;
}

/** single: an option id; multiple: option ids; text: the text; manifest: YAML text. */
export type Answer = string | string[];

export interface Grade {
  questionId: string;
  correct: boolean;
  /** 0..1 */
  score: number;
  /** plain words: why, shown after every attempt */
  explanation: string;
  /** specifics: the probe a manifest got wrong, the line of a YAML error, ... */
  details: string[];
}
