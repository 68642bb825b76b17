import fs from 'node:fs';
import path from 'node:path';
import { closeFile, openFile, removeFile, syncDir, syncFileAsync, writeAllAsync } from '../common/fsio.js';
import type { ManifestEntry } from './manifest.js';
import { checkChunkId, checkCid, checkFileName, checkIdent } from './names.js';
import { ensureDirs, listDir, readRegularFile } from './safe-fs.js';

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
    ensureDirs(repo, ['journal']); // never through a planted link
    const { O_WRONLY, O_CREAT, O_APPEND, O_NOFOLLOW } = fs.constants;
    this.fd = openFile(this.file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o644);
    // The journal's name must be durable before any copy it will vouch for is published.
    syncDir(journalDir(repo));
  }
  get file(): string {
    return path.join(journalDir(this.repo), `${this.runId}.jsonl`);
  }
  /**
   * One line per record, appended (O_APPEND) in one write and flushed off the event loop, once. A line cut short by a
   * full disk stays a torn tail that readers skip, and the error ends the run.
   */
  async append(...recs: JournalRecord[]): Promise<void> {
    await writeAllAsync(this.fd, Buffer.from(recs.map((r) => JSON.stringify(r) + '\n').join('')));
    await syncFileAsync(this.fd);
  }
  close(): void {
    closeFile(this.fd);
  }
  /** Called once the restore point that covers this run is committed. */
  remove(): void {
    this.close();
    removeFile(this.file);
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

/** What runs left, by entry key: a Map for v1's journal files; v2's pack index read on first use. */
export interface JournalRecords {
  get(key: string): JournalRecord | undefined;
  values(): Iterable<JournalRecord>;
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
