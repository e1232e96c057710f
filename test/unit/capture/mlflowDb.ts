/** Builds MLflow SQLite tracking databases for tests, from the documented SQLAlchemy schema. */
import Database from 'better-sqlite3';

export const SCHEMA = `
CREATE TABLE experiments (
  experiment_id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(256) NOT NULL UNIQUE, artifact_location VARCHAR(256),
  lifecycle_stage VARCHAR(32), creation_time BIGINT, last_update_time BIGINT);
CREATE TABLE runs (
  run_uuid VARCHAR(32) NOT NULL PRIMARY KEY, name VARCHAR(250), source_type VARCHAR(20), source_name VARCHAR(500),
  entry_point_name VARCHAR(50), user_id VARCHAR(256), status VARCHAR(9), start_time BIGINT, end_time BIGINT,
  source_version VARCHAR(50), lifecycle_stage VARCHAR(20), artifact_uri VARCHAR(200),
  experiment_id INTEGER REFERENCES experiments (experiment_id), deleted_time BIGINT);
CREATE TABLE params (key VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL, run_uuid VARCHAR(32) NOT NULL REFERENCES runs (run_uuid),
  PRIMARY KEY (key, run_uuid));
CREATE TABLE metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT NOT NULL, run_uuid VARCHAR(32) NOT NULL REFERENCES runs (run_uuid),
  step BIGINT DEFAULT '0' NOT NULL, is_nan BOOLEAN DEFAULT '0' NOT NULL, PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan));
CREATE TABLE latest_metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT, step BIGINT NOT NULL, is_nan BOOLEAN NOT NULL,
  run_uuid VARCHAR(32) NOT NULL REFERENCES runs (run_uuid), PRIMARY KEY (key, run_uuid));
CREATE TABLE tags (key VARCHAR(250) NOT NULL, value VARCHAR(8000), run_uuid VARCHAR(32) NOT NULL REFERENCES runs (run_uuid), PRIMARY KEY (key, run_uuid));
CREATE TABLE registered_models (name VARCHAR(256) NOT NULL PRIMARY KEY, creation_time BIGINT, last_updated_time BIGINT, description VARCHAR(5000));
CREATE TABLE model_versions (name VARCHAR(256) NOT NULL REFERENCES registered_models (name), version INTEGER NOT NULL, creation_time BIGINT,
  last_updated_time BIGINT, description VARCHAR(5000), user_id VARCHAR(256), current_stage VARCHAR(20), source VARCHAR(500),
  run_id VARCHAR(32), status VARCHAR(20), status_message VARCHAR(500), run_link VARCHAR(500), storage_location VARCHAR(500),
  PRIMARY KEY (name, version));
CREATE TABLE registered_model_aliases (alias VARCHAR(256) NOT NULL, version INTEGER NOT NULL, name VARCHAR(256) NOT NULL REFERENCES registered_models (name),
  PRIMARY KEY (name, alias));
CREATE TABLE datasets (dataset_uuid VARCHAR(36) NOT NULL, experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id), name VARCHAR(500) NOT NULL,
  digest VARCHAR(36) NOT NULL, dataset_source_type VARCHAR(36) NOT NULL, dataset_source TEXT NOT NULL, dataset_schema TEXT, dataset_profile TEXT,
  PRIMARY KEY (experiment_id, name, digest));
CREATE TABLE inputs (input_uuid VARCHAR(36) NOT NULL, source_type VARCHAR(36) NOT NULL, source_id VARCHAR(36) NOT NULL,
  destination_type VARCHAR(36) NOT NULL, destination_id VARCHAR(36) NOT NULL, PRIMARY KEY (source_type, source_id, destination_type, destination_id));
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
INSERT INTO alembic_version VALUES ('0584bdc529eb');
`;

export const RUN_A = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
export const RUN_B = 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2';
export const RUN_C = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3';
export const COMMIT = '0123456789abcdef0123456789abcdef01234567';
export const T = 1_700_000_000_000;

/** 2 experiments, 3 runs (one deleted run and one deleted experiment that must not show), a model with 2 versions and aliases. */
export function buildMlflowDb(file: string): void {
  const db = new Database(file);
  db.exec(SCHEMA);
  const exp = db.prepare('INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?)');
  exp.run(0, 'Default', 'mlflow-artifacts:/0', 'active', T, T);
  exp.run(1, 'mnist', 'mlflow-artifacts:/1', 'active', T, T);
  exp.run(2, 'gone', 'mlflow-artifacts:/2', 'deleted', T, T);
  const run = db.prepare(`INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time,
    source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', 'train.py', '', 'me', ?, ?, ?, '', ?, ?, ?)`);
  run.run(RUN_A, 'brave-owl', 'FINISHED', T, T + 60_000, 'active', `mlflow-artifacts:/1/${RUN_A}/artifacts`, 1);
  run.run(RUN_B, 'calm-fox', 'FAILED', T + 100_000, T + 130_000, 'active', `mlflow-artifacts:/1/${RUN_B}/artifacts`, 1);
  run.run(RUN_C, 'quick-ant', 'KILLED', T + 200_000, T + 210_000, 'active', `mlflow-artifacts:/0/${RUN_C}/artifacts`, 0);
  run.run('d4'.repeat(16), 'deleted-run', 'FINISHED', T, T, 'deleted', '', 1);
  run.run('e5'.repeat(16), 'in-gone-exp', 'FINISHED', T, T, 'active', '', 2);
  const param = db.prepare('INSERT INTO params VALUES (?, ?, ?)');
  param.run('lr', '0.001', RUN_A); param.run('optimizer', 'adam', RUN_A); param.run('shuffle', 'True', RUN_A);
  param.run('lr', '0.1', RUN_B); param.run('seed', '007', RUN_B);
  const metric = db.prepare('INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)');
  metric.run('loss', 1.5, T + 1000, RUN_A, 0, 0);
  metric.run('loss', 1.25, T + 2000, RUN_A, 1, 0);
  metric.run('loss', 0, T + 3000, RUN_A, 2, 1); // NaN
  metric.run('loss', 0.5, T + 4000, RUN_A, 3, 0);
  metric.run('acc', 0.75, T + 4000, RUN_A, 3, 0);
  metric.run('loss', 2.5, T + 101_000, RUN_B, 0, 0);
  metric.run('val/loss', 3.0, T + 102_000, RUN_B, 0, 0);
  const tag = db.prepare('INSERT INTO tags VALUES (?, ?, ?)');
  tag.run('mlflow.runName', 'brave-owl', RUN_A);
  tag.run('mlflow.source.git.commit', COMMIT, RUN_A);
  tag.run('mlflow.source.git.branch', 'main', RUN_A);
  tag.run('team', 'vision', RUN_A);
  tag.run('mlflow.source.git.commit', COMMIT.replace('0', 'f'), RUN_B);
  db.prepare('INSERT INTO registered_models VALUES (?, ?, ?, ?)').run('digits', T, T, 'a digit classifier');
  const version = db.prepare(`INSERT INTO model_versions VALUES (?, ?, ?, ?, ?, 'me', ?, ?, ?, 'READY', '', '', ?)`);
  version.run('digits', 1, T + 70_000, T + 70_000, 'first', 'None', `runs:/${RUN_A}/model`, RUN_A, `mlflow-artifacts:/1/${RUN_A}/artifacts/model`);
  version.run('digits', 2, T + 140_000, T + 140_000, '', 'Production', `runs:/${RUN_B}/model`, RUN_B, '');
  const alias = db.prepare('INSERT INTO registered_model_aliases VALUES (?, ?, ?)');
  alias.run('champion', 1, 'digits');
  alias.run('v2', 2, 'digits'); // RunLens reads v2 as a version: skipped with a reason
  db.prepare('INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)').run('ds1', 1, 'mnist-train', 'a1b2c3d4', 'local', '{"uri": "/data/mnist"}');
  db.prepare('INSERT INTO inputs VALUES (?, ?, ?, ?, ?)').run('in1', 'DATASET', 'ds1', 'RUN', RUN_A);
  db.close();
}

export const RUN_LIVE = 'f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6';
export const RUN_GONE = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a';

/**
 * A registry as a long-used MLflow leaves it: versions 1-4 of `digits` deleted (MLflow keeps their rows
 * as Deleted_Internal), 5 and 6 made by a run deleted since, 7-10 by a live run, `champion` on 7; and
 * one more deleted run that made no version.
 */
export function buildRegistryDb(file: string): void {
  const db = new Database(file);
  db.exec(SCHEMA);
  db.prepare('INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?)').run(1, 'mnist', 'mlflow-artifacts:/1', 'active', T, T);
  const run = db.prepare(`INSERT INTO runs (run_uuid, name, status, start_time, end_time, lifecycle_stage, artifact_uri, experiment_id, deleted_time)
    VALUES (?, ?, 'FINISHED', ?, ?, ?, '', 1, ?)`);
  run.run(RUN_GONE, 'old-run', T, T + 1000, 'deleted', T + 5000);
  run.run(RUN_LIVE, 'new-run', T + 10_000, T + 11_000, 'active', null);
  run.run('d4'.repeat(16), 'scratch', T + 20_000, T + 21_000, 'deleted', T + 30_000);
  db.prepare('INSERT INTO params VALUES (?, ?, ?)').run('lr', '0.1', RUN_GONE);
  db.prepare('INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)').run('loss', 0.5, T + 500, RUN_GONE, 0, 0);
  db.prepare('INSERT INTO registered_models VALUES (?, ?, ?, ?)').run('digits', T, T, '');
  const version = db.prepare(`INSERT INTO model_versions VALUES ('digits', ?, ?, ?, '', 'me', ?, ?, ?, 'READY', '', '', '')`);
  for (let v = 1; v <= 10; v++) {
    const by = v <= 6 ? RUN_GONE : RUN_LIVE;
    version.run(v, T + v * 1000, T + v * 1000, v <= 4 ? 'Deleted_Internal' : 'None', `runs:/${by}/model`, by);
  }
  db.prepare('INSERT INTO registered_model_aliases VALUES (?, ?, ?)').run('champion', 7, 'digits');
  db.close();
}
