// What the web server needs from the labs/grader part, as a small interface of its own. The
// adapter in coursework.ts fills it from server/labs and server/grader; tests can fill it with
// a lab of their own. The lab model is not redefined here: only what the server shows.
import type { LabEnvironmentSpec, Environment } from '../backends/types.ts';
import type { ClusterSnapshot, NetworkPolicy } from '../netpol/types.ts';
import type { AnswerValue, GradeView, LabSummary, QuestionKind, StepResultView } from '../../shared/api.ts';

export interface StepOutline {
  id: string;
  title: string;
  hints: string[];
  hasSolution: boolean;
}

export interface QuestionOutline {
  id: string;
  kind: QuestionKind;
  /** sanitized HTML */
  prompt: string;
  options?: Array<{ id: string; label: string }>;
}

export interface LabOutline {
  summary: LabSummary;
  steps: StepOutline[];
  questions: QuestionOutline[];
  environment: LabEnvironmentSpec;
}

/** Who the step is rendered for; the lab's own namespaces come from the lab. */
export interface StepContext {
  learner: string;
  /** the learner's API server URL, or what to say while there is none */
  server: string;
}

export interface ClusterPicture {
  cluster: ClusterSnapshot;
  policies: NetworkPolicy[];
}

/** Grades one learner's environment. */
export interface StepGrader {
  gradeStep(stepId: string, opts?: { signal?: AbortSignal }): Promise<StepResultView>;
  applySolution(stepId: string): Promise<void>;
  resetStep(stepId: string): Promise<void>;
  applyStepSetup(stepId: string): Promise<void>;
  snapshot(): Promise<ClusterPicture>;
  close(): Promise<void>;
}

export interface Coursework {
  list(): LabOutline[];
  get(labId: string): LabOutline | undefined;
  /** step text as sanitized HTML */
  renderStep(labId: string, stepId: string, context: StepContext): Promise<string>;
  gradeAnswer(labId: string, questionId: string, answer: AnswerValue): Promise<GradeView>;
  grader(labId: string, env: Environment): StepGrader;
  /** problems found loading the labs, one line each (file:line: message) */
  problems(): string[];
  /** re-read lab files (for `serve --dev`) */
  reload(): Promise<void>;
}

export type { GradeView };
