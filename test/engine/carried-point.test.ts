import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../dist/engine/index.js';
import { runCli } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { DB, digests, scratchDir } from './helpers-restore.js';
import { repoDir, smallQuotes } from './backup-helpers.js';

/**
 * readPrevious reads the latest point in one pass of partition summaries, keeping each line. A
 * point whose bytes are not exactly as a backup writes them is read a second way (whole); the
 * backup must then still carry each partition once, as it was.
 */
let dir: string;
beforeAll(() => (dir = scratchDir('carried-point')));
afterAll(() => rmTmp(dir));

const partitionsOf = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"path"') || l.startsWith('{"path": '))
    .map((l) => JSON.parse(l.replace(/,$/, '')));

describe('readPrevious', () => {
  it('a no-change backup over a point with whitespace the writer never writes carries every partition once, and restores', async () => {
    const home = path.join(dir, 'src');
    const bak = path.join(dir, 'bak');
    await smallQuotes(home);
    await backup({ home, backupDir: bak, dbPath: DB });
    const points = path.join(repoDir(bak, DB), 'points');
    const first = path.join(points, fs.readdirSync(points)[0]!);
    // Valid JSON with the same checksum (it covers the compact form), but not the bytes a backup writes.
    fs.writeFileSync(first, fs.readFileSync(first, 'utf8').replace('{"path":', '{"path": '));
    const before = partitionsOf(first);
    expect(before.length).toBeGreaterThan(1);

    const r = await backup({ home, backupDir: bak, dbPath: DB });
    expect(r.partitions).toBe(0);
    const next = fs.readdirSync(points).sort().map((f) => path.join(points, f))[1]!;
    expect(partitionsOf(next)).toEqual(before);
    expect(runCli(['check', bak, DB]).code).toBe(0);
    const target = path.join(dir, 'restored');
    expect(runCli(['--home', target, 'restore-db', bak, DB]).code).toBe(0);
    expect(digests(target)).toEqual(digests(home));
  });
});
