import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';
import { smallQuotes } from '../engine/backup-helpers.js';
import { DB, TSDB, appendQuote, digests } from '../engine/helpers-restore.js';

/**
 * One backup directory, one config: a backup into a new directory with a password makes it an
 * encrypted v2 repository whose every object (names of databases and tables included) is
 * unreadable without the key, and which every command reads with the password.
 */
let dir: string, home: string, bak: string;
const PW = { CHUNKVAULT_PASSWORD: 'correct horse' };

beforeAll(async () => {
  dir = scratchDir('settings');
  home = path.join(dir, 'src');
  bak = path.join(dir, 'bak');
  await smallQuotes(home);
  for (const db of [DB, TSDB]) expect(runCli(['--home', home, 'backup-db', bak, db], PW).code).toBe(0);
});
afterAll(() => rmTmp(dir));

/** Every file under d, relative path → bytes. */
function files(d: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (p: string): void => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const f = path.join(p, e.name);
      if (e.isDirectory()) walk(f);
      else out.set(path.relative(d, f), fs.readFileSync(f));
    }
  };
  walk(d);
  return out;
}

const json = <T>(args: string[], env: Record<string, string> = PW): T => {
  const r = runCli([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

describe('an encrypted backup directory', () => {
  it('holds the config and keys at its top and one directory per database named by a keyed hash', () => {
    const top = fs.readdirSync(bak).sort();
    expect(top.filter((n) => n !== 'config' && n !== 'keys')).toHaveLength(2);
    for (const n of top.filter((x) => x !== 'config' && x !== 'keys')) expect(n).toMatch(/^[0-9a-f]{32}$/);
    expect(fs.readdirSync(path.join(bak, 'keys'))).toHaveLength(1);
  });

  it('names no database, table, column or partition in any file or path', () => {
    const words = ['testdb', 'quotes', 'symbol', 'price', 'Key0', '20120101', 'dfs:'];
    for (const [name, bytes] of files(bak))
      for (const w of words) {
        expect(name.includes(w), `${name} contains ${w}`).toBe(false);
        expect(bytes.includes(Buffer.from(w)), `${name} contains ${w}`).toBe(false);
      }
  });

  it('restores with the password to the same content', () => {
    const target = path.join(dir, 'restored');
    expect(runCli(['--home', target, 'restore-db', bak, DB], PW).code).toBe(0);
    expect(digests(target)).toEqual(digests(home));
  });

  it('checks clean and lists, describes and shows points with the password', () => {
    expect(runCli(['check', bak, DB], PW).code).toBe(0);
    const rows = json<{ chunkPath: string }[]>(['list', bak, DB, 'quotes']);
    expect(rows.length).toBeGreaterThan(0);
    expect(json<{ rows: number }>(['meta', bak, DB, rows[0]!.chunkPath.replace(/\/g[A-Z]+$/, ''), 'quotes']).rows).toBeGreaterThan(0);
  });

  it('migrates every database it holds, found through their sealed descriptions', () => {
    const target = path.join(dir, 'migrated');
    const r = json<{ rows: { dbName: string; success: boolean }[] }>(['--home', target, 'migrate', bak]);
    expect(new Set(r.rows.map((x) => x.dbName))).toEqual(new Set([DB, TSDB]));
    expect(r.rows.every((x) => x.success)).toBe(true);
  });

  it('verifies a restored database against its restore point with the password', () => {
    const target = path.join(dir, 'verified');
    expect(runCli(['--home', target, 'restore-db', bak, TSDB], PW).code).toBe(0);
    const v = json<{ problems: unknown[]; entriesChecked: number }>(['--home', target, 'verify', bak, TSDB]);
    expect(v.problems).toEqual([]);
    expect(v.entriesChecked).toBeGreaterThan(0);
  });

  it('prunes and repacks with the password, and what is kept still checks clean and restores', async () => {
    // A cluster of its own: a copied home would still name the original's volumes.
    const src = path.join(dir, 'src-prune');
    const b2 = path.join(dir, 'bak-prune');
    await smallQuotes(src, { seed: 2 });
    expect(runCli(['--home', src, 'backup-db', b2, DB], PW).code).toBe(0);
    for (const sym of ['AAPL', 'MSFT', 'IBM']) appendQuote(src, DB, 'quotes', sym);
    expect(runCli(['--home', src, 'backup-db', b2, DB], PW).code).toBe(0);
    const r = json<{ removedPoints: string[]; removedPacks: number; repackedPacks: number }>(['prune', b2, DB, '--keep-last', '1', '--max-unused', '0']);
    expect(r.removedPoints).toHaveLength(1);
    expect(r.removedPacks + r.repackedPacks).toBeGreaterThan(0);
    expect(runCli(['check', b2, DB, '--strict'], PW).code).toBe(0);
    const target = path.join(dir, 'pruned-restored');
    expect(runCli(['--home', target, 'restore-db', b2, DB], PW).code).toBe(0);
    expect(digests(target)).toEqual(digests(src));
  });

  it('reports stored bytes below raw bytes (compressed) in points', () => {
    const [p] = json<{ bytes: number; bytesStored: number }[]>(['points', bak, DB]);
    expect(p!.bytesStored).toBeGreaterThan(0);
    expect(p!.bytesStored).toBeLessThan(p!.bytes);
  });

  it('shows its settings and which hashed directory holds which database in repo info', () => {
    const info = json<{ encryption: string; compression: string; keys: number; databases: { dbPath: string; dir: string }[] }>(['repo', 'info', bak]);
    expect(info).toMatchObject({ encryption: 'aes-256-gcm', compression: 'default', keys: 1 });
    expect(info.databases.map((d) => d.dbPath)).toEqual([DB, TSDB]);
    for (const d of info.databases) expect(fs.existsSync(path.join(bak, d.dir, 'repo.json'))).toBe(true);
    expect(new Set(info.databases.map((d) => d.dir)).size).toBe(2);
  });

  it('refuses a missing or wrong password with one line, exit 11, and changes nothing', () => {
    const before = files(bak);
    for (const env of [{ CHUNKVAULT_PASSWORD: '' }, { CHUNKVAULT_PASSWORD: 'wrong' }])
      for (const args of [['--home', home, 'backup-db', bak, DB], ['check', bak, DB], ['points', bak, DB], ['--home', path.join(dir, 'nowhere'), 'restore-db', bak, DB], ['prune', bak, DB, '--keep-last', '1']]) {
        const r = runCli(args, env);
        expect(r.code, `${args[0]} ${args[2]} with ${env.CHUNKVAULT_PASSWORD || 'no password'}`).toBe(11);
        expect(r.errLines).toHaveLength(1);
      }
    expect(files(bak)).toEqual(before);
  });
});

describe('a new backup directory without a password', () => {
  it('stays v1 by default (no config), and --repo-format 2 makes a plain v2 directory with a config', () => {
    const v1 = path.join(dir, 'bak-v1');
    expect(runCli(['--home', home, 'backup-db', v1, DB]).code).toBe(0);
    expect(fs.existsSync(path.join(v1, 'config'))).toBe(false);
    expect(fs.existsSync(path.join(v1, 'testdb', 'data'))).toBe(true);
    const v2 = path.join(dir, 'bak-v2');
    const b = json<{ bytesCopied: number; bytesStored: number }>(['--home', home, 'backup-db', v2, DB, '--repo-format', '2'], {});
    expect(b.bytesStored).toBeLessThan(b.bytesCopied);
    expect(json<{ encryption: string }>(['repo', 'info', v2], {}).encryption).toBe('none');
    expect(fs.existsSync(path.join(v2, 'testdb', 'packs'))).toBe(true);
  });

  it('a directory repo init made is v2 with its settings for every backup into it, without --repo-format', () => {
    const d = path.join(dir, 'bak-init');
    expect(runCli(['repo', 'init', d, '--compression', 'off'], {}).code).toBe(0);
    const b = json<{ bytesCopied: number; bytesStored: number }>(['--home', home, 'backup-db', d, TSDB], {});
    expect(b.bytesStored).toBe(b.bytesCopied);
    expect(fs.existsSync(path.join(d, 'testdb_tsdb', 'packs'))).toBe(true);
  });

  it('--compression makes a new directory v2, and --compression off stores blobs at their raw size', () => {
    const off = path.join(dir, 'bak-off');
    const b = json<{ bytesCopied: number; bytesStored: number }>(['--home', home, 'backup-db', off, DB, '--compression', 'off'], {});
    expect(b.bytesStored).toBe(b.bytesCopied);
    expect(fs.existsSync(path.join(off, 'config'))).toBe(true);
  });

  it('--compression into an existing v1 repository is a usage error (exit 2) that writes nothing', () => {
    const v1 = path.join(dir, 'bak-v1-only');
    expect(runCli(['--home', home, 'backup-db', v1, DB]).code).toBe(0);
    const before = files(v1);
    const r = runCli(['--home', home, 'backup-db', v1, DB, '--compression', 'fast']);
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(1);
    expect(files(v1)).toEqual(before);
  });
});
