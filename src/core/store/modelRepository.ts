import type { Db } from './database.ts';
import type { MetricSummary, ParamValue } from '../types.ts';

export interface Model {
  id: number;
  name: string;
  description: string;
  createdAt: number;
  versionCount: number;
  latestVersion: number | null;
}

export interface ModelVersion {
  id: number;
  modelId: number;
  model: string;
  version: number;
  runId: number;
  artifactId: number | null;
  /** Where the run had the artifact, relative to its working directory. */
  path: string;
  kind: string;
  digest: string;
  size: number;
  fileCount: number;
  metadata: unknown;
  description: string;
  /** The run's params and metric summaries when the version was registered. */
  params: { [key: string]: ParamValue };
  metrics: MetricSummary[];
  createdAt: number;
  aliases: string[];
}

export interface AliasChange { alias: string; version: number | null; previous: number | null; at: number }

/**
 * What registering needs: the version's artifact and run, with the params and metrics to snapshot.
 * `version` keeps another registry's number (an import); without it the version is the next one.
 */
export type NewVersion = Pick<ModelVersion, 'runId' | 'artifactId' | 'path' | 'kind' | 'digest' | 'size' | 'fileCount' | 'params' | 'metrics'>
  & { model: string; metadata?: unknown; description?: string; version?: number };

const MODEL_NAME = /^[\p{L}\p{N}_][\p{L}\p{N}_.\- ]{0,127}$/u;
const ALIAS = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Why a model name cannot be used, or undefined. */
export function checkModelName(name: string): string | undefined {
  if (!MODEL_NAME.test(name) || name.trim() !== name) {
    return `"${name}" is not a model name: use letters, digits, spaces, "_", "-" or ".", up to 128 characters, not starting with a space or punctuation.`;
  }
  return undefined;
}

/** Why an alias cannot be used, or undefined. `v3` and `latest` would be ambiguous with versions. */
export function checkAlias(alias: string): string | undefined {
  if (!ALIAS.test(alias)) return `"${alias}" is not an alias: start with a letter; then letters, digits, "_" or "-" (up to 64).`;
  if (/^v\d+$/i.test(alias) || alias.toLowerCase() === 'latest') return `"${alias}" would be read as a version; choose another alias.`;
  return undefined;
}

interface VersionRow {
  id: number; model_id: number; model: string; version: number; run_id: number; artifact_id: number | null; path: string;
  kind: string; digest: string; size: number; file_count: number; metadata: string; description: string; params: string;
  metrics: string; created_at: number; aliases: string | null;
}

const VERSION_SELECT = `SELECT v.*, m.name AS model,
  (SELECT group_concat(alias, char(31)) FROM (SELECT alias FROM model_aliases a WHERE a.version_id = v.id ORDER BY alias)) AS aliases
  FROM model_versions v JOIN models m ON m.id = v.model_id`;

const toVersion = (r: VersionRow): ModelVersion => ({
  id: r.id, modelId: r.model_id, model: r.model, version: r.version, runId: r.run_id, artifactId: r.artifact_id, path: r.path,
  kind: r.kind, digest: r.digest, size: r.size, fileCount: r.file_count, metadata: JSON.parse(r.metadata),
  description: r.description, params: JSON.parse(r.params), metrics: JSON.parse(r.metrics), createdAt: r.created_at,
  aliases: r.aliases ? r.aliases.split('\x1f') : [],
});

/** The model registry: models, numbered versions linked to runs, and movable aliases with their history. */
export class ModelRepository {
  private readonly db: Db;
  private readonly now: () => number;

  constructor(db: Db, now: () => number) {
    this.db = db;
    this.now = now;
  }

  /** Adds the next version of `model` (created on first use), or v.version. Call inside a transaction, or it opens one. */
  register(v: NewVersion): ModelVersion {
    const problem = checkModelName(v.model);
    if (problem) throw new Error(problem);
    const id = this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO models (name, created_at) VALUES (?, ?)').run(v.model, this.now());
      const modelId = this.db.prepare('SELECT id FROM models WHERE name = ?').pluck().get(v.model) as number;
      const next = v.version ?? (this.db.prepare('SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE model_id = ?').pluck().get(modelId) as number);
      if (!Number.isInteger(next) || next < 1) throw new RangeError(`${next} is not a version number`);
      if (v.version !== undefined && this.db.prepare('SELECT 1 FROM model_versions WHERE model_id = ? AND version = ?').get(modelId, next)) {
        throw new Error(`${v.model} already has a version ${next}`);
      }
      return Number(this.db.prepare(`INSERT INTO model_versions (model_id, version, run_id, artifact_id, path, kind, digest, size,
        file_count, metadata, description, params, metrics, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        modelId, next, v.runId, v.artifactId, v.path, v.kind, v.digest, v.size, v.fileCount, JSON.stringify(v.metadata ?? null),
        v.description ?? '', JSON.stringify(v.params), JSON.stringify(v.metrics), this.now()).lastInsertRowid);
    })();
    return this.version(id)!;
  }

  models(): Model[] {
    return (this.db.prepare(`SELECT m.id, m.name, m.description, m.created_at, count(v.id) AS n, max(v.version) AS latest
      FROM models m LEFT JOIN model_versions v ON v.model_id = m.id GROUP BY m.id ORDER BY m.name`).all() as
      { id: number; name: string; description: string; created_at: number; n: number; latest: number | null }[])
      .map((m) => ({ id: m.id, name: m.name, description: m.description, createdAt: m.created_at, versionCount: m.n, latestVersion: m.latest }));
  }

  model(name: string): Model | undefined {
    return this.models().find((m) => m.name === name);
  }

  /** A model's versions, newest first. */
  versions(modelId: number): ModelVersion[] {
    return (this.db.prepare(`${VERSION_SELECT} WHERE v.model_id = ? ORDER BY v.version DESC`).all(modelId) as VersionRow[]).map(toVersion);
  }

  version(id: number): ModelVersion | undefined {
    const r = this.db.prepare(`${VERSION_SELECT} WHERE v.id = ?`).get(id) as VersionRow | undefined;
    return r && toVersion(r);
  }

  /** `name`, `name` + version number, or `name` + alias (`@production`). */
  find(model: string, ref: number | string): ModelVersion | undefined {
    const r = typeof ref === 'number'
      ? this.db.prepare(`${VERSION_SELECT} WHERE m.name = ? AND v.version = ?`).get(model, ref)
      : this.db.prepare(`${VERSION_SELECT} JOIN model_aliases x ON x.version_id = v.id WHERE m.name = ? AND x.alias = ?`).get(model, ref);
    return r ? toVersion(r as VersionRow) : undefined;
  }

  versionsOfRun(runId: number): ModelVersion[] {
    return (this.db.prepare(`${VERSION_SELECT} WHERE v.run_id = ? ORDER BY m.name, v.version`).all(runId) as VersionRow[]).map(toVersion);
  }

  /** Points `alias` at a version, moving it from another version of the same model; the move is kept in the history. */
  setAlias(versionId: number, alias: string): void {
    const problem = checkAlias(alias);
    if (problem) throw new Error(problem);
    this.db.transaction(() => {
      const v = this.version(versionId);
      if (!v) throw new RangeError(`model version ${versionId} does not exist`);
      const previous = this.db.prepare('SELECT version_id FROM model_aliases WHERE model_id = ? AND alias = ?').pluck().get(v.modelId, alias) as number | undefined;
      if (previous === versionId) return;
      const now = this.now();
      this.db.prepare('INSERT OR REPLACE INTO model_aliases (model_id, alias, version_id, set_at) VALUES (?, ?, ?, ?)').run(v.modelId, alias, versionId, now);
      this.db.prepare('INSERT INTO model_alias_history (model_id, alias, version_id, previous_version_id, set_at) VALUES (?, ?, ?, ?, ?)')
        .run(v.modelId, alias, versionId, previous ?? null, now);
    }).immediate();
  }

  /** Removes an alias (kept in the history). False when the model had no such alias. */
  removeAlias(modelId: number, alias: string): boolean {
    return this.db.transaction(() => {
      const previous = this.db.prepare('SELECT version_id FROM model_aliases WHERE model_id = ? AND alias = ?').pluck().get(modelId, alias) as number | undefined;
      if (previous === undefined) return false;
      this.db.prepare('DELETE FROM model_aliases WHERE model_id = ? AND alias = ?').run(modelId, alias);
      this.db.prepare('INSERT INTO model_alias_history (model_id, alias, version_id, previous_version_id, set_at) VALUES (?, ?, NULL, ?, ?)')
        .run(modelId, alias, previous, this.now());
      return true;
    }).immediate();
  }

  /** Every alias move of a model, oldest first, by version number. */
  aliasHistory(modelId: number): AliasChange[] {
    return (this.db.prepare(`SELECT h.alias, v.version AS version, p.version AS previous, h.set_at AS at FROM model_alias_history h
      LEFT JOIN model_versions v ON v.id = h.version_id LEFT JOIN model_versions p ON p.id = h.previous_version_id
      WHERE h.model_id = ? ORDER BY h.id`).all(modelId) as AliasChange[]);
  }

  setDescription(versionId: number, description: string): void {
    if (this.db.prepare('UPDATE model_versions SET description = ? WHERE id = ?').run(description, versionId).changes === 0) {
      throw new RangeError(`model version ${versionId} does not exist`);
    }
  }
}
