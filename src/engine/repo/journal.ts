import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fsyncDir } from '../../common/durable.js';

const write = promisify(fs.write) as (fd: number, s: string) => Promise<unknown>;
const fdatasync = promisify(fs.fdatasync);
import type { ManifestEntry } from './manifest.js';
import { checkChunkId, checkCid, checkFileName, checkIdent } from './names.js';
import { listDir, readRegularFile } from './safe-fs.js';

/** One finished copy, as the run journal records it. */
export interface JournalRecord {
  key: string;
  entry: ManifestEntry;
}

const journalDir = (repo: string) => path.join(repo, 'journal');

/**
 * The per-run journal: one fsynced JSON line per (chunkId, table, cid) whose data directory is
 * complete. A rerun after a crash reads every journal left behind and does not copy those again.
 */
export class Journal {
  private fd: number;
  constructor(
    readonly repo: string,
    readonly runId: string,
  ) {
    fs.mkdirSync(journalDir(repo), { recursive: true });
    this.fd = fs.openSync(this.file, 'a', 0o644);
    fsyncDir(journalDir(repo));
  }
  get file(): string {
    return path.join(journalDir(this.repo), `${this.runId}.jsonl`);
  }
  /** One line per record, appended atomically (O_APPEND) and flushed off the event loop. */
  async append(rec: JournalRecord): Promise<void> {
    await write(this.fd, JSON.stringify(rec) + '\n');
    await fdatasync(this.fd);
  }
  close(): void {
    fs.closeSync(this.fd);
  }
  /** Called once the restore point that covers this run is committed. */
  remove(): void {
    this.close();
    fs.rmSync(this.file, { force: true });
  }
}

const KEY_RE = /^([^/]+)\/([^/]+)\/(\d+)$/;

/**
 * A journal line is believed only if it has exactly the shape a manifest entry needs: a record
 * that fails is dropped, which costs one copy again, never a bad restore point.
 */
function validRecord(rec: unknown): rec is JournalRecord {
  try {
    const r = rec as JournalRecord;
    const k = KEY_RE.exec(r.key);
    const e = r.entry;
    if (!k || e === null || typeof e !== 'object' || !Array.isArray(e.files)) return false;
    checkChunkId(k[1]);
    checkIdent('table name', k[2]);
    if (checkCid(e.cid) !== Number(k[3]) || typeof e.updateTime !== 'string') return false;
    if (![e.rows, e.bytes].every((n) => Number.isSafeInteger(n) && n >= 0)) return false;
    const names = e.files.map((f) => checkFileName(f?.name));
    return new Set(names).size === names.length && e.files.every((f) => Number.isSafeInteger(f.size) && f.size >= 0 && typeof f.xxh3 === 'string' && /^[0-9a-f]{16}$/.test(f.xxh3));
  } catch {
    return false;
  }
}

/**
 * Records from every journal in the repository; a torn last line (crash mid-write) is ignored.
 * journal/ must be a real directory and each journal a regular file (a FIFO would block for ever).
 */
export function readJournals(repo: string): { records: Map<string, JournalRecord>; files: string[] } {
  const records = new Map<string, JournalRecord>();
  const files = listDir(repo, ['journal']).filter((e) => e.name.endsWith('.jsonl'));
  for (const f of files)
    for (const line of (readRegularFile(repo, ['journal', f.name]) ?? Buffer.alloc(0)).toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const rec: unknown = JSON.parse(line);
        if (validRecord(rec)) records.set(rec.key, rec);
      } catch {
        /* torn tail */
      }
    }
  return { records, files: files.map((f) => path.join(journalDir(repo), f.name)) };
}
