// The server's memory: learners, sessions, environments, progress, check results and answers,
// in SQLite (better-sqlite3, WAL). Everything a restart must not lose goes through here.
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations } from './migrations.ts';
import type { EnvironmentStatus, GradeView, StepResultView } from '../../shared/api.ts';

export type Role = 'learner' | 'instructor';

export interface LearnerRow {
  id: string;
  name: string;
  classCode?: string;
  createdAt: number;
}

export interface ClassRow {
  code: string;
  name: string;
  labId?: string;
  allowSkip: boolean;
  createdAt: number;
}

export interface EnvironmentRow {
  id: string;
  learnerId: string;
  labId: string;
  backend: string;
  status: Exclude<EnvironmentStatus, 'none'> | 'disposed';
  message?: string;
  createdAt: number;
  expiresAt: number;
  objects?: unknown[];
  objectsAt?: number;
}

export interface ProgressRow {
  learnerId: string;
  labId: string;
  currentStep?: string;
  passedSteps: string[];
  hintsShown: Record<string, number>;
}

export interface AnswerRow {
  questionId: string;
  answer: unknown;
  grade: GradeView;
  at: number;
}

/** Session tokens are random, opaque, and stored hashed. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function newId(): string {
  return randomBytes(9).toString('base64url');
}

export class Store {
  readonly db: Database.Database;

  /** `file` ':memory:' for tests; otherwise the directory is created. */
  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < migrations.length; i++) {
      this.db.transaction(() => {
        this.db.exec(migrations[i]);
        this.db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    this.db.close();
  }

  // classes

  createClass(name: string, labId: string | undefined, allowSkip: boolean): ClassRow {
    // join codes are short enough to read aloud, without look-alike letters
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    let code = '';
    for (const b of randomBytes(6)) code += alphabet[b % alphabet.length];
    const row: ClassRow = { code, name, labId, allowSkip, createdAt: Date.now() };
    this.db.prepare('INSERT INTO classes (code, name, lab_id, allow_skip, created_at) VALUES (?, ?, ?, ?, ?)').run(code, name, labId ?? null, allowSkip ? 1 : 0, row.createdAt);
    return row;
  }

  getClass(code: string): ClassRow | undefined {
    const r = this.db.prepare('SELECT * FROM classes WHERE code = ?').get(code.toUpperCase()) as Record<string, unknown> | undefined;
    return r ? toClass(r) : undefined;
  }

  listClasses(): Array<ClassRow & { learners: number }> {
    const rows = this.db.prepare('SELECT c.*, (SELECT COUNT(*) FROM learners l WHERE l.class_code = c.code) AS n FROM classes c ORDER BY created_at').all() as Record<string, unknown>[];
    return rows.map((r) => ({ ...toClass(r), learners: Number(r.n) }));
  }

  setAllowSkip(code: string, allowSkip: boolean): void {
    this.db.prepare('UPDATE classes SET allow_skip = ? WHERE code = ?').run(allowSkip ? 1 : 0, code);
  }

  // learners and sessions

  createLearner(name: string, classCode?: string): LearnerRow {
    const row: LearnerRow = { id: newId(), name, classCode, createdAt: Date.now() };
    this.db.prepare('INSERT INTO learners (id, name, class_code, created_at) VALUES (?, ?, ?, ?)').run(row.id, name, classCode ?? null, row.createdAt);
    return row;
  }

  getLearner(id: string): LearnerRow | undefined {
    const r = this.db.prepare('SELECT * FROM learners WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r ? toLearner(r) : undefined;
  }

  listLearners(classCode?: string): LearnerRow[] {
    const rows = (classCode
      ? this.db.prepare('SELECT * FROM learners WHERE class_code = ? ORDER BY created_at').all(classCode)
      : this.db.prepare('SELECT * FROM learners ORDER BY created_at').all()) as Record<string, unknown>[];
    return rows.map(toLearner);
  }

  /** Start a session; returns the token for the cookie (only its hash is kept). */
  createSession(role: Role, learnerId?: string): string {
    const token = newToken();
    const now = Date.now();
    this.db.prepare('INSERT INTO sessions (token_hash, learner_id, role, created_at, last_seen) VALUES (?, ?, ?, ?, ?)').run(hashToken(token), learnerId ?? null, role, now, now);
    return token;
  }

  findSession(token: string, maxIdleMs: number): { role: Role; learnerId?: string } | undefined {
    const r = this.db.prepare('SELECT role, learner_id, last_seen FROM sessions WHERE token_hash = ?').get(hashToken(token)) as
      | { role: Role; learner_id: string | null; last_seen: number }
      | undefined;
    if (!r) return undefined;
    const now = Date.now();
    if (now - r.last_seen > maxIdleMs) {
      this.deleteSession(token);
      return undefined;
    }
    if (now - r.last_seen > 60_000) this.db.prepare('UPDATE sessions SET last_seen = ? WHERE token_hash = ?').run(now, hashToken(token));
    return { role: r.role, learnerId: r.learner_id ?? undefined };
  }

  deleteSession(token: string): void {
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(hashToken(token));
  }

  // environments

  createEnvironment(row: Omit<EnvironmentRow, 'objects' | 'objectsAt'>): void {
    this.db
      .prepare('INSERT INTO environments (id, learner_id, lab_id, backend, status, message, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(row.id, row.learnerId, row.labId, row.backend, row.status, row.message ?? null, row.createdAt, row.expiresAt);
  }

  updateEnvironment(id: string, patch: Partial<Pick<EnvironmentRow, 'status' | 'message' | 'expiresAt'>>): void {
    const cur = this.getEnvironment(id);
    if (!cur) return;
    this.db
      .prepare('UPDATE environments SET status = ?, message = ?, expires_at = ? WHERE id = ?')
      .run(patch.status ?? cur.status, patch.message ?? cur.message ?? null, patch.expiresAt ?? cur.expiresAt, id);
  }

  saveObjects(id: string, objects: unknown[]): void {
    this.db.prepare('UPDATE environments SET objects = ?, objects_at = ? WHERE id = ?').run(JSON.stringify(objects), Date.now(), id);
  }

  getEnvironment(id: string): EnvironmentRow | undefined {
    const r = this.db.prepare('SELECT * FROM environments WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r ? toEnvironment(r) : undefined;
  }

  /** The learner's latest environment for a lab, whatever its state. */
  latestEnvironment(learnerId: string, labId: string): EnvironmentRow | undefined {
    const r = this.db.prepare('SELECT * FROM environments WHERE learner_id = ? AND lab_id = ? ORDER BY created_at DESC LIMIT 1').get(learnerId, labId) as
      | Record<string, unknown>
      | undefined;
    return r ? toEnvironment(r) : undefined;
  }

  /** Environments that should be running (for recreating after a restart). */
  liveEnvironments(): EnvironmentRow[] {
    const rows = this.db.prepare("SELECT * FROM environments WHERE status IN ('provisioning', 'ready')").all() as Record<string, unknown>[];
    return rows.map(toEnvironment);
  }

  // progress

  getProgress(learnerId: string, labId: string): ProgressRow {
    const r = this.db.prepare('SELECT * FROM progress WHERE learner_id = ? AND lab_id = ?').get(learnerId, labId) as Record<string, unknown> | undefined;
    if (!r) return { learnerId, labId, passedSteps: [], hintsShown: {} };
    return {
      learnerId,
      labId,
      currentStep: (r.current_step as string | null) ?? undefined,
      passedSteps: JSON.parse(r.passed_steps as string) as string[],
      hintsShown: JSON.parse(r.hints_shown as string) as Record<string, number>,
    };
  }

  saveProgress(p: ProgressRow): void {
    this.db
      .prepare(
        `INSERT INTO progress (learner_id, lab_id, current_step, passed_steps, hints_shown, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (learner_id, lab_id) DO UPDATE SET current_step = excluded.current_step, passed_steps = excluded.passed_steps,
         hints_shown = excluded.hints_shown, updated_at = excluded.updated_at`,
      )
      .run(p.learnerId, p.labId, p.currentStep ?? null, JSON.stringify(p.passedSteps), JSON.stringify(p.hintsShown), Date.now());
  }

  learnerLabs(learnerId: string): string[] {
    return (this.db.prepare('SELECT lab_id FROM progress WHERE learner_id = ? ORDER BY updated_at DESC').all(learnerId) as Array<{ lab_id: string }>).map((r) => r.lab_id);
  }

  // check results and answers

  recordCheck(learnerId: string, labId: string, result: StepResultView): void {
    this.db
      .prepare('INSERT INTO check_results (learner_id, lab_id, step_id, status, result, at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(learnerId, labId, result.stepId, result.outcome, JSON.stringify(result), result.at);
  }

  checkResults(learnerId: string, labId: string, limit = 50): StepResultView[] {
    const rows = this.db.prepare('SELECT result FROM check_results WHERE learner_id = ? AND lab_id = ? ORDER BY id DESC LIMIT ?').all(learnerId, labId, limit) as Array<{
      result: string;
    }>;
    return rows.map((r) => JSON.parse(r.result) as StepResultView);
  }

  lastCheck(learnerId: string, labId: string, stepId?: string): StepResultView | undefined {
    const r = (stepId
      ? this.db.prepare('SELECT result FROM check_results WHERE learner_id = ? AND lab_id = ? AND step_id = ? ORDER BY id DESC LIMIT 1').get(learnerId, labId, stepId)
      : this.db.prepare('SELECT result FROM check_results WHERE learner_id = ? AND lab_id = ? ORDER BY id DESC LIMIT 1').get(learnerId, labId)) as
      | { result: string }
      | undefined;
    return r ? (JSON.parse(r.result) as StepResultView) : undefined;
  }

  /** Every learner's latest result per step, for the class heatmap. */
  latestResults(): Array<{ learnerId: string; labId: string; result: StepResultView }> {
    const rows = this.db
      .prepare(
        `SELECT learner_id, lab_id, result FROM check_results c WHERE id = (
           SELECT MAX(id) FROM check_results d WHERE d.learner_id = c.learner_id AND d.lab_id = c.lab_id AND d.step_id = c.step_id)`,
      )
      .all() as Array<{ learner_id: string; lab_id: string; result: string }>;
    return rows.map((r) => ({ learnerId: r.learner_id, labId: r.lab_id, result: JSON.parse(r.result) as StepResultView }));
  }

  /** Attempts per check across all learners (all results, not only the latest). */
  checkAttempts(): Array<{ labId: string; result: StepResultView }> {
    const rows = this.db.prepare('SELECT lab_id, result FROM check_results').all() as Array<{ lab_id: string; result: string }>;
    return rows.map((r) => ({ labId: r.lab_id, result: JSON.parse(r.result) as StepResultView }));
  }

  recordAnswer(learnerId: string, labId: string, questionId: string, answer: unknown, grade: GradeView): void {
    this.db
      .prepare('INSERT INTO answers (learner_id, lab_id, question_id, answer, correct, score, feedback, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(learnerId, labId, questionId, JSON.stringify(answer), grade.correct ? 1 : 0, grade.score, grade.explanation, Date.now());
  }

  /** The latest answer per question. */
  latestAnswers(learnerId: string, labId: string): AnswerRow[] {
    const rows = this.db
      .prepare(
        `SELECT question_id, answer, correct, score, feedback, at FROM answers a WHERE learner_id = ? AND lab_id = ? AND id = (
           SELECT MAX(id) FROM answers b WHERE b.learner_id = a.learner_id AND b.lab_id = a.lab_id AND b.question_id = a.question_id)`,
      )
      .all(learnerId, labId) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      questionId: r.question_id as string,
      answer: JSON.parse(r.answer as string) as unknown,
      grade: { correct: r.correct === 1, score: Number(r.score), explanation: r.feedback as string },
      at: Number(r.at),
    }));
  }

  attemptCount(learnerId: string, labId: string, questionId: string): number {
    const r = this.db.prepare('SELECT COUNT(*) AS n FROM answers WHERE learner_id = ? AND lab_id = ? AND question_id = ?').get(learnerId, labId, questionId) as { n: number };
    return r.n;
  }
}

function toClass(r: Record<string, unknown>): ClassRow {
  return { code: r.code as string, name: r.name as string, labId: (r.lab_id as string | null) ?? undefined, allowSkip: r.allow_skip === 1, createdAt: Number(r.created_at) };
}

function toLearner(r: Record<string, unknown>): LearnerRow {
  return { id: r.id as string, name: r.name as string, classCode: (r.class_code as string | null) ?? undefined, createdAt: Number(r.created_at) };
}

function toEnvironment(r: Record<string, unknown>): EnvironmentRow {
  return {
    id: r.id as string,
    learnerId: r.learner_id as string,
    labId: r.lab_id as string,
    backend: r.backend as string,
    status: r.status as EnvironmentRow['status'],
    message: (r.message as string | null) ?? undefined,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    objects: r.objects ? (JSON.parse(r.objects as string) as unknown[]) : undefined,
    objectsAt: r.objects_at ? Number(r.objects_at) : undefined,
  };
}
