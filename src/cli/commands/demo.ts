import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { generateQuotes } from '../../bench/generate.js';
import { Cluster, databaseDigest } from '../../store/index.js';
import { action } from '../action.js';
import { printJson, printTable } from '../output.js';

/** `npm start`: the whole path on a small embedded data set in a temporary home. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate a small quotes cluster in a temporary home and run the main job on it')
    .option('--keep', 'keep the temporary home')
    .action(
      action(async (ctx, o: { keep?: boolean }) => {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), 'chunkvault-demo-'));
        try {
          const gen = await generateQuotes(path.join(home, 'cluster'), { dates: 2, symbols: 50, rowsPerSymbol: 2000 });
          const c = new Cluster(path.join(home, 'cluster'));
          const digests = gen.databases.flatMap((db) => databaseDigest(c, db).map((t) => ({ db, table: t.table, rows: t.rows, digest: t.digest })));
          if (ctx.json) printJson({ home, generate: gen, digests });
          else {
            process.stdout.write(`generated ${gen.bytes} bytes in ${gen.partitions} partitions at ${gen.mbPerSec} MB/s (fsync included)\n`);
            printTable(digests);
          }
        } finally {
          if (!o.keep) fs.rmSync(home, { recursive: true, force: true });
        }
      }),
    );
}
