import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { restoreDb, verifyRestore } from '../../dist/engine/index.js';
import { Cluster, dropPartition, loadChunks } from '../../dist/store/index.js';
import { runCli } from '../helpers/cli.js';
import { rmTmp } from '../helpers/tmp.js';
import { DB, appendQuote, backedUpSource, scratchDir } from './helpers-restore.js';

let dir: string, home: string, bak: string;
const TARGET = 'dfs://restoredb';

beforeEach(async () => {
  dir = scratchDir('verify');
  ({ home, bak } = await backedUpSource(dir));
  await restoreDb({ home, backupDir: bak, dbPath: DB, newDbPath: TARGET });
});
afterEach(() => rmTmp(dir));

const verify = () => verifyRestore({ home, backupDir: bak, dbPath: DB, targetDbPath: TARGET });

describe('verify a restored database against its restore point', () => {
  it('a fresh restore verifies clean, every table partition and byte hashed', async () => {
    const r = await verify();
    expect(r.problems).toEqual([]);
    expect(r.entriesChecked).toBe(20);
    expect(r.bytesChecked).toBeGreaterThan(0);
  });

  it('a partition changed after the restore is reported by its row count', async () => {
    const { partitions } = appendQuote(home, TARGET, 'quotes', 'S00003');
    const r = await verify();
    expect(r.problems).toEqual([expect.objectContaining({ tableName: 'quotes', partitionPath: partitions[0], problem: 'rows' })]);
  });

  it('a flipped byte in a restored file is reported as a checksum problem', async () => {
    const c = new Cluster(home);
    const k = loadChunks(c, TARGET).find((x) => x.tables.quotes_2)!;
    const v = k.tables.quotes_2!;
    const file = path.join(c.chunkDir(k, TARGET), v.version, 'price.col');
    const fd = fs.openSync(file, 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, 100);
    b[0] = b[0]! ^ 0xff;
    fs.writeSync(fd, b, 0, 1, 100);
    fs.closeSync(fd);
    const r = await verify();
    expect(r.problems).toEqual([expect.objectContaining({ tableName: 'quotes_2', partitionPath: k.path, problem: 'checksum' })]);
  });

  it('a dropped partition is missing, and the CLI exits 8 with one row per difference', () => {
    dropPartition(new Cluster(home), TARGET, '/Key1/tp/20120102');
    const r = runCli(['--home', home, 'verify', bak, DB, TARGET, '--json']);
    expect(r.code).toBe(8);
    const out = JSON.parse(r.stdout) as { problems: { problem: string; partitionPath: string }[] };
    expect(out.problems.map((p) => [p.problem, p.partitionPath])).toEqual([
      ['missing', '/Key1/tp/20120102'],
      ['missing', '/Key1/tp/20120102'],
    ]);
  });
});
