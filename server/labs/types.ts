// The lab model after loading: lab.yaml with its files read, manifests parsed and validated,
// defaults filled in. Field meanings are documented in schema/lab.schema.json (the source of
// truth for authors); this is the same shape as TypeScript.
import type { ExpectedOutcome } from '../../shared/lab.ts';

/** A Kubernetes object as a lab carries it (parsed from YAML, not yet sent anywhere). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Where an object was written, so problems found later (by a cluster) can still point at it. */
export interface SourceRef {
  file: string;
  line: number;
  column: number;
}

export interface LoadedManifest {
  object: Manifest;
  /** where the object starts */
  source: SourceRef;
  /** where a field of the object is written (for errors a cluster reports about it later) */
  locate(path: Array<string | number>): SourceRef;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface ExternalHostSpec {
  names: string[];
  address: string;
  ports: Array<{ port: number; protocol?: 'TCP' | 'UDP'; kind?: 'http' | 'https' | 'tcp' }>;
  description?: string;
}

export interface LabEnvironment {
  setup: LoadedManifest[];
  namespaces: string[];
  externalHosts: ExternalHostSpec[];
  images: string[];
}

export type BeforeSolution = 'fail' | 'pass';

export type ProbeSource =
  | { namespace: string; labels: Record<string, string>; container?: undefined }
  | { namespace: string; pod: string; container?: string }
  | { namespace: string; selector: Record<string, string>; container?: string };

export type ProbeTarget =
  | { service: string; namespace: string }
  | { host: string }
  | { pod: string; namespace: string }
  | { labels: Record<string, string>; namespace: string }
  | { ip: string };

export interface ProbeCheck {
  type: 'probe';
  id: string;
  /** where the check is written in lab.yaml */
  source: SourceRef;
  title: string;
  from: ProbeSource;
  to: ProbeTarget;
  /** absent: a DNS-only probe of a name */
  port?: number;
  protocol: 'TCP' | 'UDP';
  expect: ExpectedOutcome;
  timeoutSeconds: number;
  http?: { path: string; status?: number; https: boolean };
  beforeSolution?: BeforeSolution;
}

export interface ResourceCheck {
  type: 'resource';
  id: string;
  source: SourceRef;
  title: string;
  resource: { apiVersion: string; kind: string; namespace?: string; name?: string; labels?: Record<string, string> };
  match?: Record<string, unknown>;
  expect: 'present' | 'absent';
  describe?: string;
  beforeSolution?: BeforeSolution;
}

export type Check = ProbeCheck | ResourceCheck;

export interface Solution {
  apply: LoadedManifest[];
  commands: string[];
  explanation?: string;
}

export interface WrongSolution {
  id: string;
  apply: LoadedManifest[];
  commands: string[];
  undo: string[];
  fails: string[];
  why: string;
}

export interface Step {
  id: string;
  source: SourceRef;
  title: string;
  /** the Markdown file, relative to the lab directory */
  textFile: string;
  /** its content: a Handlebars template producing Markdown */
  markdown: string;
  setup: { apply: LoadedManifest[]; delete: ObjectRef[] };
  checks: Check[];
  /** earlier steps whose checks are graded again with this one's */
  keep: string[];
  beforeSolution: BeforeSolution;
  hints: string[];
  solution?: Solution;
  wrongSolutions: WrongSolution[];
}

export interface QuestionOption {
  id: string;
  text: string;
  correct: boolean;
  explanation?: string;
}

export interface ChoiceQuestion {
  type: 'single' | 'multiple';
  id: string;
  source: SourceRef;
  prompt: string;
  options: QuestionOption[];
  explanation: string;
}

export interface TextQuestion {
  type: 'text';
  id: string;
  source: SourceRef;
  prompt: string;
  accept: string[];
  caseSensitive: boolean;
  answer: string;
  wrongAnswers: string[];
  explanation: string;
}

export interface QuizPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ip: string;
  ports: Array<{ name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }>;
}

export interface QuizProbe {
  from: string;
  to: string;
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  expect: 'allow' | 'deny';
  why?: string;
}

export interface ManifestQuestion {
  type: 'manifest';
  id: string;
  source: SourceRef;
  prompt: string;
  namespace?: string;
  cluster: { namespaces: Array<{ name: string; labels: Record<string, string> }>; pods: QuizPod[] };
  policies: LoadedManifest[];
  probes: QuizProbe[];
  /** a correct answer, as YAML text (what a learner would paste) */
  answer: string;
  wrongAnswers: string[];
  explanation: string;
}

export type Question = ChoiceQuestion | TextQuestion | ManifestQuestion;

export interface Lab {
  /** absolute path of the lab directory */
  dir: string;
  /** lab.yaml as named in problems (relative to the working directory when inside it) */
  file: string;
  id: string;
  title: string;
  summary: string;
  estimatedMinutes: number;
  environment: LabEnvironment;
  steps: Step[];
  questions: Question[];
}
