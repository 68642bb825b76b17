import fs from 'node:fs';
import path from 'node:path';
import { closeFile, makeDirs, openFile, removeFile, syncDir, syncFileAsync, writeAllAsync } from '../../common/fsio.js';
import type { ManifestEntry } from './manifest.js';

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
    makeDirs(journalDir(repo));
    const { O_WRONLY, O_CREAT, O_APPEND, O_NOFOLLOW } = fs.constants;
    this.fd = openFile(this.file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o644);
    // The journal's name must be durable before any copy it will vouch for is published.
    syncDir(journalDir(repo));
  }
  get file(): string {
    return path.join(journalDir(this.repo), `${this.runId}.jsonl`);
  }
  /**
   * One line per record, appended (O_APPEND) and flushed off the event loop. A line cut short by a
   * full disk stays a torn tail that readers skip, and the error ends the run.
   */
  async append(rec: JournalRecord): Promise<void> {
    await writeAllAsync(this.fd, Buffer.from(JSON.stringify(rec) + '\n'));
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

/** Records from every journal in the repository; a torn last line (crash mid-write) is ignored. */
export function readJournals(repo: string): { records: Map<string, JournalRecord>; files: string[] } {
  const records = new Map<string, JournalRecord>();
  const dir = journalDir(repo);
  if (!fs.existsSync(dir)) return { records, files: [] };
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => path.join(dir, f));
  for (const f of files)
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const rec = JSON.parse(line) as JournalRecord;
        if (typeof rec.key === 'string' && rec.entry) records.set(rec.key, rec);
      } catch {
        /* torn tail */
      }
    }
  return { records, files };
}
