// Schema migrations, applied in order; PRAGMA user_version records how many have run.
// Append only: never edit a migration that has shipped, add the next one.
export const migrations: string[] = [
  `
  CREATE TABLE classes (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    lab_id TEXT,
    allow_skip INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE learners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    class_code TEXT REFERENCES classes(code),
    created_at INTEGER NOT NULL
  );
  -- the cookie value is never stored, only its SHA-256
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    learner_id TEXT REFERENCES learners(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('learner', 'instructor')),
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  );
  CREATE TABLE environments (
    id TEXT PRIMARY KEY,
    learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
    lab_id TEXT NOT NULL,
    backend TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('provisioning', 'ready', 'failed', 'expired', 'disposed')),
    message TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    objects TEXT,
    objects_at INTEGER
  );
  CREATE INDEX environments_by_learner ON environments(learner_id, lab_id);
  CREATE TABLE progress (
    learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
    lab_id TEXT NOT NULL,
    current_step TEXT,
    passed_steps TEXT NOT NULL DEFAULT '[]',
    hints_shown TEXT NOT NULL DEFAULT '{}',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (learner_id, lab_id)
  );
  CREATE TABLE check_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
    lab_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX check_results_by_learner ON check_results(learner_id, lab_id, step_id);
  CREATE TABLE answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
    lab_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    correct INTEGER NOT NULL,
    score REAL NOT NULL,
    feedback TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX answers_by_learner ON answers(learner_id, lab_id, question_id);
  `,
];
