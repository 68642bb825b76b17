import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../common/durable.js';
import { lineBuffers } from '../common/file-lines.js';
import { nameMap, parseJson } from '../common/json.js';
import { closeFile, closeQuietly, openFile, removeFile, syncFile, writeAll } from '../common/fsio.js';
import type { ChunkMeta, TableVersion } from './catalog.js';

/**
 * The catalog index (issue 14): what a reader of a whole database needs of each chunk, without the
 * file lists, in one file, plus the change log that says which chunk files it may no longer
 * describe (docs/FORMAT.md "catalog/<db>/chunks.index"). The chunk files stay the truth; the index
 * is a summary a pin reads in one go (100,000 chunk files took 5–10 s to read and parse).
 *
 * The rule that makes it exact: a chunk file is never created, rewritten or deleted before its id
 * is durably in the change log (appendChanges), and the log is emptied only after an index
 * written under the database lock has taken in every chunk it names (writeIndex). So the index
 * plus a re-read of every chunk file the log names is the catalog. This file only knows the two
 * files' formats; catalog.ts and chunk-summaries.ts keep the rule.
 */

export type TableSummary = Omit<TableVersion, 'files'>;

/** A chunk as the index holds it: ChunkMeta without the file lists. A ChunkMeta is one too. */
export interface ChunkSummary {
  chunkId: string;
  path: string;
  node: string;
  volume: string;
  tables: Record<string, TableSummary>;
}

export const INDEX_FILE = 'chunks.index';
export const CHANGES_FILE = 'chunks.changed';

/** A table's summary as one index row: cid, version, rows, bytes, updateTime[, origin chunk, origin cid]. */
type TableRow = [string, number, string, number, number, string, string?, number?];
/** A chunk as one index line: chunkId, path, placement (index into the header's), tables. */
type ChunkRow = [string, string, number, TableRow[]];

interface IndexHead {
  format: 1;
  /** The database's change marker (next-cid) when the index was written. */
  marker: string;
  chunks: number;
  placements: [string, string][];
}

/** Writes the index of `chunks` atomically and durably, then empties the change log: run under the database lock. */
export function writeIndex(dbDir: string, marker: string, chunks: Iterable<ChunkSummary>): void {
  const placements = new Map<string, number>();
  const rows: string[] = [];
  for (const k of chunks) {
    const key = `${k.node}\0${k.volume}`;
    if (!placements.has(key)) placements.set(key, placements.size);
    const tables = Object.entries(k.tables).map(([t, v]): TableRow =>
      v.origin ? [t, v.cid, v.version, v.rows, v.bytes, v.updateTime, v.origin.chunkId, v.origin.cid] : [t, v.cid, v.version, v.rows, v.bytes, v.updateTime]);
    rows.push(JSON.stringify([k.chunkId, k.path, placements.get(key)!, tables] satisfies ChunkRow));
  }
  const head: IndexHead = { format: 1, marker, chunks: rows.length, placements: [...placements.keys()].map((p) => p.split('\0') as [string, string]) };
  writeFileAtomic(path.join(dbDir, INDEX_FILE), (function* () {
    yield JSON.stringify(head) + '\n';
    for (let i = 0; i < rows.length; i += 4096) yield rows.slice(i, i + 4096).join('\n') + '\n';
  })());
  // A crash before this line leaves a log naming chunks the index already holds: re-read, harmless.
  removeFile(path.join(dbDir, CHANGES_FILE));
}

/** The index as read: its file's identity (`key`), its marker and its chunks. */
export interface ReadIndex {
  key: string;
  marker: string;
  chunks: Map<string, ChunkSummary>;
}

/**
 * The index, or undefined when there is none or it cannot be read whole (then the chunk files are
 * read). `known`: an index read before, returned as it is when the file is still that one (same
 * inode, size and mtime: the index is only ever replaced by a rename).
 */
export function readIndex(dbDir: string, known?: ReadIndex): ReadIndex | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path.join(dbDir, INDEX_FILE), 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
    if (known?.key === key) return known;
    // Line by line from 1 MiB pieces: the 20 MB index of 100,000 chunks is never one string.
    const read = parseIndex(lineBuffers((buf, pos) => fs.readSync(fd, buf, 0, buf.length, pos)));
    return read && { key, ...read };
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function parseIndex(lines: Iterable<Buffer>): Omit<ReadIndex, 'key'> | undefined {
  let head: IndexHead | undefined;
  const chunks = new Map<string, ChunkSummary>();
  for (const line of lines) {
    if (!head) {
      head = parseJson(line.toString('utf8')) as IndexHead;
      if (head.format !== 1 || typeof head.marker !== 'string' || !Array.isArray(head.placements)) return undefined;
      continue;
    }
    // Rows hold only arrays, strings and numbers (no object whose prototype matters), and JSON.parse
    // without parseJson's walk is the faster by a third; names become keys of a null-prototype map.
    const [chunkId, p, placement, tables] = JSON.parse(line.toString('utf8')) as ChunkRow;
    const [node, volume] = head.placements[placement]!;
    const k: ChunkSummary = { chunkId, path: p, node, volume, tables: nameMap() };
    for (const [t, cid, version, rows, bytes, updateTime, oc, ocid] of tables)
      k.tables[t] = { cid, version, rows, bytes, updateTime, ...(oc !== undefined ? { origin: { chunkId: oc, cid: ocid! } } : {}) };
    chunks.set(chunkId, k);
  }
  return head && chunks.size === head.chunks ? { marker: head.marker, chunks } : undefined;
}

/**
 * Names chunks whose files are about to change, with the database's change marker as of the
 * change: one line, appended and made durable (one fdatasync) before this returns.
 */
export function appendChanges(dbDir: string, marker: string, ids: string[]): void {
  const file = path.join(dbDir, CHANGES_FILE);
  const fd = openFile(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW);
  try {
    writeAll(fd, Buffer.from(JSON.stringify([marker, ...ids]) + '\n'));
    syncFile(fd);
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
  closeFile(fd);
}

/**
 * The chunk ids the log names and the marker of its last line (undefined: no log). 'damaged' when
 * a line cannot be read: the index cannot be trusted then. A last line without its newline is an
 * append that had not finished, so no chunk file after it changed yet: it is left out.
 */
export function readChanges(dbDir: string): { ids: Set<string>; marker: string | undefined } | 'damaged' {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dbDir, CHANGES_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ids: new Set(), marker: undefined };
    return 'damaged';
  }
  const ids = new Set<string>();
  let marker: string | undefined;
  const lines = text.split('\n');
  lines.pop();
  try {
    for (const line of lines) {
      const [m, ...names] = JSON.parse(line) as string[];
      if (typeof m !== 'string' || !names.every((n) => typeof n === 'string')) return 'damaged';
      marker = m;
      for (const n of names) ids.add(n);
    }
  } catch {
    return 'damaged';
  }
  return { ids, marker };
}

/** A chunk's summary, as the index would hold it. */
export function summarize(k: ChunkMeta): ChunkSummary {
  const tables = nameMap<TableSummary>();
  for (const [t, { files: _files, ...v }] of Object.entries(k.tables)) tables[t] = v;
  return { chunkId: k.chunkId, path: k.path, node: k.node, volume: k.volume, tables };
}
