import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { CvError, usage } from '../common/errors.js';
import { checkPolicy, type RetentionPolicy } from '../engine/index.js';

/**
 * The server's config file (TOML, or JSON when the name ends in .json). Precedence for each
 * setting: command-line flag > environment (`CHUNKVAULT_LISTEN`, `CHUNKVAULT_HOME`, …) > file.
 */
export interface TokenConfig {
  user: string;
  admin: boolean;
  /** `sha256:<hex>` of the token; the token itself is never stored. */
  hash: string;
}

export interface ScheduleConfig {
  name: string;
  cron: string;
  action: 'backup' | 'check' | 'prune';
  database: string;
  /** check: the share of the scope per run (`--sample`). */
  samplePercent?: number;
  /** When the repository is busy with another schedule's job: wait for it, or skip this run. */
  onLocked: 'wait' | 'skip';
  /** Run once at start-up if a run was missed while the server was down. */
  catchUp: boolean;
}

export interface DatabaseConfig {
  name: string;
  dbPath: string;
  repository: string;
  /** The dashboard's badge: a last backup or clean check older than this many hours. */
  maxAgeHours: number;
  retention?: RetentionPolicy;
}

export interface ServerConfig {
  listen: string;
  home: string | undefined;
  bodyLimit: number;
  tokens: TokenConfig[];
  repositories: Record<string, string>;
  databases: DatabaseConfig[];
  schedules: ScheduleConfig[];
  file: string | undefined;
}

type Raw = Record<string, unknown>;
const obj = (v: unknown, what: string): Raw => {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw usage(`config: ${what} must be a table`);
  return v as Raw;
};
const arr = (v: unknown, what: string): Raw[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw usage(`config: ${what} must be an array of tables`);
  return v.map((x, i) => obj(x, `${what}[${i}]`));
};
function str(t: Raw, k: string, what: string, dflt?: string): string {
  const v = t[k] ?? dflt;
  if (typeof v !== 'string' || !v) throw usage(`config: ${what}.${k} must be a non-empty string`);
  return v;
}
function onlyKeys(t: Raw, keys: string[], what: string): void {
  for (const k of Object.keys(t)) if (!keys.includes(k)) throw usage(`config: unknown key ${what ? `${what}.` : ''}${k}`);
}

function retentionOf(t: Raw, what: string): RetentionPolicy {
  onlyKeys(t, ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly', 'keep-within'], what);
  const p: RetentionPolicy = {};
  for (const r of ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) if (t[`keep-${r}`] !== undefined) p[r] = t[`keep-${r}`] === 'unlimited' ? -1 : Number(t[`keep-${r}`]);
  if (t['keep-within'] !== undefined) p.within = String(t['keep-within']);
  return checkPolicy(p);
}

function databaseOf(t: Raw, i: number, repos: Record<string, string>): DatabaseConfig {
  const what = `databases[${i}]`;
  onlyKeys(t, ['name', 'db', 'repository', 'max-age-hours', 'retention'], what);
  const dbPath = str(t, 'db', what);
  const repository = str(t, 'repository', what);
  if (!repos[repository]) throw usage(`config: ${what}.repository "${repository}" is not in [repositories]`);
  const maxAge = Number(t['max-age-hours'] ?? 26);
  if (!(maxAge > 0)) throw usage(`config: ${what}.max-age-hours must be a positive number`);
  return { name: str(t, 'name', what, dbPath.replace(/^dfs:\/\//, '')), dbPath, repository, maxAgeHours: maxAge, ...(t.retention ? { retention: retentionOf(obj(t.retention, `${what}.retention`), `${what}.retention`) } : {}) };
}

function scheduleOf(t: Raw, i: number, dbs: DatabaseConfig[]): ScheduleConfig {
  const what = `schedules[${i}]`;
  onlyKeys(t, ['name', 'cron', 'action', 'database', 'sample-percent', 'on-locked', 'catch-up'], what);
  const action = str(t, 'action', what);
  if (action !== 'backup' && action !== 'check' && action !== 'prune') throw usage(`config: ${what}.action must be backup, check or prune`);
  const database = str(t, 'database', what);
  const db = dbs.find((d) => d.name === database);
  if (!db) throw usage(`config: ${what}.database "${database}" is not in [[databases]]`);
  if (action === 'prune' && !db.retention) throw usage(`config: ${what} prunes ${database}, which has no retention policy`);
  const onLocked = str(t, 'on-locked', what, 'wait');
  if (onLocked !== 'wait' && onLocked !== 'skip') throw usage(`config: ${what}.on-locked must be wait or skip`);
  const sample = t['sample-percent'] === undefined ? undefined : Number(t['sample-percent']);
  if (sample !== undefined && !(sample > 0 && sample <= 100)) throw usage(`config: ${what}.sample-percent must be in (0, 100]`);
  return { name: str(t, 'name', what, `${action}-${database}`), cron: str(t, 'cron', what), action, database, onLocked, catchUp: t['catch-up'] !== false, ...(sample !== undefined ? { samplePercent: sample } : {}) };
}

/** Parses and checks a config document (already read); unknown keys are refused. */
export function parseConfig(text: string, file: string | undefined): ServerConfig {
  let raw: Raw;
  try {
    raw = obj(file?.endsWith('.json') ? JSON.parse(text) : parseToml(text), 'the file');
  } catch (err) {
    if (err instanceof CvError) throw err;
    throw usage(`config ${file ?? ''}: ${(err as Error).message.split('\n')[0]}`);
  }
  // `flags` holds CLI flag values (src/cli/flag-sources.ts); the server does not read it.
  onlyKeys(raw, ['listen', 'home', 'body-limit', 'tokens', 'repositories', 'databases', 'schedules', 'flags'], '');
  const repositories: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(obj(raw.repositories, 'repositories'))) {
    const p = typeof v === 'string' ? v : str(obj(v, `repositories.${k}`), 'path', `repositories.${k}`);
    if (!path.isAbsolute(p)) throw usage(`config: repositories.${k} must be an absolute path`);
    repositories[k] = path.resolve(p);
  }
  const tokens = arr(raw.tokens, 'tokens').map((t, i) => {
    onlyKeys(t, ['user', 'admin', 'sha256'], `tokens[${i}]`);
    const hash = str(t, 'sha256', `tokens[${i}]`).toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hash)) throw usage(`config: tokens[${i}].sha256 must be 64 hex digits (see "chunkvault server-token")`);
    return { user: str(t, 'user', `tokens[${i}]`), admin: t.admin === true, hash };
  });
  const databases = arr(raw.databases, 'databases').map((t, i) => databaseOf(t, i, repositories));
  const schedules = arr(raw.schedules, 'schedules').map((t, i) => scheduleOf(t, i, databases));
  const bodyLimit = Number(raw['body-limit'] ?? 64 * 1024);
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1024) throw usage('config: body-limit must be an integer >= 1024');
  return { listen: typeof raw.listen === 'string' ? raw.listen : '127.0.0.1:7433', home: typeof raw.home === 'string' ? raw.home : undefined, bodyLimit, tokens, repositories, databases, schedules, file };
}

export function loadConfig(file: string | undefined): ServerConfig {
  if (!file) return parseConfig('', undefined);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CvError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `cannot read config ${file}: ${code ?? (err as Error).message}`);
  }
  return parseConfig(text, file);
}

/** Flag > environment > file, for the settings the server takes on its command line. */
export function resolveSettings(cfg: ServerConfig, flags: { listen?: string; home?: string }, env = process.env): ServerConfig {
  const listen = flags.listen ?? env.CHUNKVAULT_LISTEN ?? cfg.listen;
  const home = flags.home ?? env.CHUNKVAULT_HOME ?? cfg.home;
  return { ...cfg, listen, home };
}
