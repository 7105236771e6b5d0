// The HTTP and live-update API between the browser and the server: request and response
// bodies as the browser sees them. The lab model itself belongs to the labs/grader part; these
// are the views the server builds from it for one learner.

export interface LabSummary {
  id: string;
  title: string;
  summary: string;
  /** estimated minutes */
  minutes: number;
  steps: number;
  questions: number;
}

export interface Me {
  role: 'learner' | 'instructor' | 'anonymous';
  learner?: { id: string; name: string; classCode?: string };
}

export interface JoinRequest {
  name: string;
  /** a class join code given by the instructor (optional) */
  code?: string;
}

export type EnvironmentStatus = 'none' | 'provisioning' | 'ready' | 'failed' | 'expired';

export interface EnvironmentView {
  status: EnvironmentStatus;
  labId: string;
  /** epoch ms; absent while provisioning */
  expiresAt?: number;
  /** what is happening, for the learner */
  message?: string;
  /** how pods get their network (netns, sim, calico, ...) */
  dataPlane?: string;
  /** extending is offered (the last minutes, within the maximum lifetime); it also needs recent work in the lab */
  canExtend?: boolean;
  /** the server tells the browser when the cluster changes ("cluster-changed"); otherwise the browser polls */
  reportsChanges?: boolean;
}

export interface ProgressEvent {
  phase: string;
  message: string;
  fraction?: number;
}

export type StepState = 'locked' | 'open' | 'passed';

export interface StepSummary {
  id: string;
  title: string;
  state: StepState;
}

export interface StepView {
  id: string;
  title: string;
  /** sanitized HTML rendered on the server (Markdown without raw HTML) */
  html: string;
  hintsTotal: number;
  /** hints shown so far, in order */
  hints: string[];
  hasSolution: boolean;
  state: StepState;
  /** the text was rendered with the learner's running cluster (its server URL); false while it starts */
  environmentReady: boolean;
  lastResult?: StepResultView;
}

export interface LabSession {
  lab: LabSummary;
  steps: StepSummary[];
  currentStep: string;
  /** instructors may let learners open any step */
  allowSkip: boolean;
  environment: EnvironmentView;
  questions: QuestionView[];
}

export type ProbeOutcome = 'connected' | 'refused' | 'timeout' | 'dns-error' | 'error';

export interface ProbeView {
  source: string;
  target: string;
  port: number;
  protocol: string;
  expected: ProbeOutcome;
  observed: ProbeOutcome;
}

export type CheckStatus = 'pass' | 'fail' | 'error';

export interface CheckResultView {
  id: string;
  title: string;
  kind: 'probe' | 'resource' | 'quiz' | 'other';
  status: CheckStatus;
  probe?: ProbeView;
  /** plain words: why it passed or failed (the engine's explanation for probes) */
  explanation: string;
}

/**
 * passed: every check passed. failed: at least one did not. could-not-check: a probe could not
 * run (never the learner's fault). not-enforcing: the network disagrees with the policies on
 * several probes — the cluster's network plugin is not enforcing NetworkPolicy.
 */
export type StepOutcome = 'passed' | 'failed' | 'could-not-check' | 'not-enforcing';

export interface StepResultView {
  stepId: string;
  outcome: StepOutcome;
  summary: string;
  checks: CheckResultView[];
  at: number;
}

export type QuestionKind = 'single' | 'multiple' | 'text' | 'manifest';

export interface QuestionView {
  id: string;
  kind: QuestionKind;
  /** sanitized HTML */
  prompt: string;
  options?: Array<{ id: string; label: string }>;
  last?: GradeView & { answer: AnswerValue };
}

export type AnswerValue = string | string[];

export interface GradeView {
  correct: boolean;
  /** 0..1 */
  score: number;
  explanation: string;
}

/** The policy map: the learner's cluster now, and who can reach whom. */
export interface PolicyMapView {
  namespaces: Array<{ name: string; labels: Record<string, string>; pods: Array<{ name: string; labels: Record<string, string>; ip: string }> }>;
  externals: Array<{ name: string; address: string }>;
  /** row/column keys: "ns/pod" or an external's name */
  endpoints: string[];
  /** the port each column is probed on (the target's first declared port), TCP */
  targetPorts: number[];
  /** matrix[i][j]: can endpoints[i] open a connection to endpoints[j] on targetPorts[j]; null for a pod to itself */
  matrix: Array<Array<'allow' | 'deny' | null>>;
  policies: Array<{ namespace: string; name: string; podSelector: string; types: string[] }>;
  /** the matrix as text, as `kubelab netpol matrix` prints it */
  text: string;
  at: number;
}

/** Messages on the live-updates socket (/ws/events), server → browser. */
export type LiveEvent =
  | { type: 'environment'; environment: EnvironmentView }
  | { type: 'progress'; progress: ProgressEvent }
  | { type: 'step-result'; result: StepResultView }
  /** objects the policy map draws changed in the learner's cluster (an apply, a delete, a pod restarting) */
  | { type: 'cluster-changed'; labId: string }
  | { type: 'class-changed' };

export interface ClassLearnerRow {
  id: string;
  name: string;
  labId: string;
  currentStep: string;
  passedSteps: string[];
  lastCheck?: { stepId: string; outcome: string; at: number };
  score: number;
  environment: EnvironmentStatus;
}

export interface ClassView {
  code?: string;
  learners: ClassLearnerRow[];
  /** failed-check counts: check id → learners failing it most recently, for the heatmap */
  heatmap: Array<{ labId: string; stepId: string; checkId: string; title: string; failures: number; attempts: number }>;
  classes: Array<{ code: string; name: string; labId?: string; allowSkip: boolean; learners: number }>;
}

export interface LearnerDetail {
  learner: { id: string; name: string };
  labId: string;
  progress: { currentStep: string; passedSteps: string[] };
  results: StepResultView[];
  answers: Array<{ questionId: string; correct: boolean; score: number; at: number }>;
  policies: Array<{ namespace: string; name: string; yaml: string }>;
}

export interface ApiError {
  error: string;
  /** the field at fault, when there is one */
  field?: string;
}
