import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../dist/engine/index.js';
import { runCli } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { appendQuote, DB, digests, scratchDir } from './helpers-restore.js';
import { hashFile, repoDir, smallQuotes } from './backup-helpers.js';
import { symbolName } from '../../dist/generate/quotes.js';
import { IndexedEntries } from '../../dist/engine/backup-dedup.js';

/**
 * Backup's deduplication into a v2 repository: in the small quotes data, table quotes_2 is a
 * byte-identical copy of quotes, so its files are stored as foreign blobs naming quotes' packs.
 * The small data's files are below DEDUP_MIN_BYTES, so these runs lower it to 0.
 */
let dir: string;
let n = 0;
const DEDUP = { shareBelow: 4 << 20, target: 16 << 20, dedupMinBytes: 0 };

beforeAll(() => (dir = scratchDir('backup-dedup')));
afterAll(() => rmTmp(dir));

async function source() {
  const root = path.join(dir, `s${n++}`);
  const home = path.join(root, 'src');
  await smallQuotes(home);
  return { root, home, bak: path.join(root, 'bak') };
}
const restore = (bak: string, target: string, asOf?: string) => runCli(['--home', target, 'restore-db', bak, DB, ...(asOf ? ['--as-of', asOf] : [])]);

/** Every file record of every pack index of the repository. */
function indexedFiles(bak: string) {
  const ixDir = path.join(repoDir(bak, DB), 'index');
  return fs.readdirSync(ixDir).flatMap((id) => {
    const ix = JSON.parse(fs.readFileSync(path.join(ixDir, id), 'utf8'));
    return ix.entries.flatMap((e: any) => e.files.map((f: any) => ({ key: e.key as string, name: f.name as string, xxh3: f.xxh3 as string, foreign: f.blobs.some((b: any) => b.pack !== undefined), format: ix.format as number })));
  });
}

describe('backup dedup of identical files', () => {
  it('stores a table copy as references, and both tables restore byte-identical and check clean', async () => {
    const s = await source();
    const r = await backup({ home: s.home, backupDir: s.bak, dbPath: DB, repoFormat: 2, packSizing: DEDUP });
    const plain = await backup({ home: s.home, backupDir: path.join(s.root, 'plain'), dbPath: DB, repoFormat: 2, packSizing: { ...DEDUP, dedupMinBytes: Infinity } });
    expect(r.filesDeduplicated).toBeGreaterThan(0);
    expect(r.bytesStored).toBeLessThan(plain.bytesStored);
    expect(plain.filesDeduplicated).toBe(0);
    expect(indexedFiles(s.bak).filter((f) => f.foreign).every((f) => f.format === 2)).toBe(true);
    const out = restore(s.bak, path.join(s.root, 't'));
    expect(out.code, out.stderr).toBe(0);
    expect(digests(path.join(s.root, 't'))).toEqual(digests(s.home));
    expect(runCli(['check', s.bak, DB]).code).toBe(0);
  });

  it('a --force backup names only its own packs for its deduplicated files, never the packs it replaces', async () => {
    const s = await source();
    await backup({ home: s.home, backupDir: s.bak, dbPath: DB, repoFormat: 2, packSizing: DEDUP });
    const ixDir = path.join(repoDir(s.bak, DB), 'index');
    const first = new Set(fs.readdirSync(ixDir));
    const r = await backup({ home: s.home, backupDir: s.bak, dbPath: DB, repoFormat: 2, packSizing: DEDUP, force: true });
    expect(r.filesDeduplicated).toBeGreaterThan(0);
    const second = fs.readdirSync(ixDir).filter((id) => !first.has(id));
    const named = second.flatMap((id) => (JSON.parse(fs.readFileSync(path.join(ixDir, id), 'utf8')) as { entries: { files: { blobs: { pack?: string }[] }[] }[] }).entries.flatMap((e) => e.files.flatMap((f) => f.blobs.flatMap((b) => b.pack ?? []))));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((p) => first.has(p))).toEqual([]);
    expect(runCli(['check', s.bak, DB]).code).toBe(0);
  });

  it('a verbatim copy of a deduplicated repository restores both tables', async () => {
    const s = await source();
    await backup({ home: s.home, backupDir: s.bak, dbPath: DB, repoFormat: 2, packSizing: DEDUP });
    const copied = path.join(s.root, 'copied');
    expect(runCli(['copy', s.bak, copied, DB]).code).toBe(0);
    expect(indexedFiles(copied).some((f) => f.foreign)).toBe(true);
    const out = restore(copied, path.join(s.root, 't'));
    expect(out.code, out.stderr).toBe(0);
    expect(digests(path.join(s.root, 't'))).toEqual(digests(s.home));
  });

  it('a file with the same size and header but other bytes is stored, not referenced', async () => {
    const s = await source();
    const copies = fs.readdirSync(s.home, { recursive: true, encoding: 'utf8' }).filter((p) => /quotes_2_[^/]*\/price\.col$/.test(p));
    const victim = path.join(s.home, copies[0]!);
    const bytes = fs.readFileSync(victim);
    bytes[bytes.length - 1]! ^= 0x01; // the payload, not the 64-byte header: the header still names the original's xxh3
    fs.writeFileSync(victim, bytes);
    const r = await backup({ home: s.home, backupDir: s.bak, dbPath: DB, repoFormat: 2, packSizing: DEDUP });
    expect(r.filesDeduplicated).toBeGreaterThan(0);
    const stored = indexedFiles(s.bak).filter((f) => f.xxh3 === hashFile(victim));
    expect(stored).toHaveLength(1);
    expect(stored[0]!.foreign).toBe(false);
  });

  it('prune after removing the point that wrote the originals keeps the packs the copies name', async () => {
    const s = await source();
    const first = await backup({ home: s.home, backupDir: s.bak, dbPath: DB, repoFormat: 2, packSizing: DEDUP });
    expect(first.filesDeduplicated).toBeGreaterThan(0);
    // Every quotes partition gets a row: the next point references none of the first point's quotes entries.
    for (let day = 1; day <= 2; day++) for (let i = 0; i < 20; i++) appendQuote(s.home, DB, 'quotes', symbolName(i), day);
    const second = await backup({ home: s.home, backupDir: s.bak, dbPath: DB, repoFormat: 2, packSizing: DEDUP });
    const p = runCli(['prune', '--keep-last', '1', '--max-unused', '0', s.bak, DB]);
    expect(p.code, p.stderr).toBe(0);
    expect(indexedFiles(s.bak).some((f) => f.foreign)).toBe(true);
    const out = restore(s.bak, path.join(s.root, 't'), second.pointId);
    expect(out.code, out.stderr).toBe(0);
    expect(digests(path.join(s.root, 't'))).toEqual(digests(s.home));
    expect(runCli(['check', s.bak, DB]).code).toBe(0);
  });
});

describe('IndexedEntries: a second-wave pack waits for its originals\' packs only', () => {
  const settled = async (p: Promise<void>) => {
    let state = 'pending';
    p.then(
      () => (state = 'resolved'),
      () => (state = 'rejected'),
    );
    for (let i = 0; i < 5; i++) await Promise.resolve();
    return state;
  };

  it('waits until every named entry is indexed, whatever else is still running', async () => {
    const idx = new IndexedEntries();
    const wait = idx.after(['a', 'b', 'a']);
    idx.indexed(['a', 'c']);
    expect(await settled(wait)).toBe('pending');
    idx.indexed(['b']);
    expect(await settled(wait)).toBe('resolved');
    expect(await settled(idx.after([]))).toBe('resolved');
  });

  it('fails with the error of an original\'s pack that failed, and a failure nobody waits for is no unhandled rejection', async () => {
    const idx = new IndexedEntries();
    idx.failed(['lonely'], new Error('nobody waits'));
    idx.failed(['a'], new Error('pack a failed'));
    await expect(idx.after(['a'])).rejects.toThrow('pack a failed');
  });
});
