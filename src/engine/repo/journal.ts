import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fsyncDir } from '../../common/durable.js';

const write = promisify(fs.write) as (fd: number, s: string) => Promise<unknown>;
const fdatasync = promisify(fs.fdatasync);
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
