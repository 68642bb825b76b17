import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { CvError } from '../../common/errors.js';
import { formatBytes } from '../../common/units.js';
import { generateQuotes } from '../../generate/generate.js';
import { backup, checkBackup, restoreDb, verifyRestore } from '../../engine/index.js';
import { Cluster, databaseDigest } from '../../store/index.js';
import { action } from '../action.js';
import { printJson, printTable } from '../output.js';

interface Step {
  step: string;
  db: string;
  bytes: number;
  seconds: number;
  mbPerSec: number;
  detail: string;
}

/**
 * `npm start`: the main job end to end on a small embedded data set in a temporary home —
 * generate, back up, check, restore into new databases, and verify digests against the source.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate a small quotes cluster in a temporary home, back it up, check it, restore it to a new database and verify it')
    .option('--keep', 'keep the temporary home')
    .action(
      action(async (ctx, o: { keep?: boolean }) => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chunkvault-demo-'));
        const home = path.join(tmp, 'cluster');
        const bak = path.join(tmp, 'backups');
        const steps: Step[] = [];
        try {
          const gen = await generateQuotes(home, { dates: 2, symbols: 100, rowsPerSymbol: 10_000 });
          steps.push({ step: 'generate', db: '(both)', bytes: gen.bytes, seconds: gen.seconds, mbPerSec: gen.mbPerSec, detail: `${gen.partitions} partitions, ${gen.rows} rows` });
          const c = new Cluster(home);
          let verified = true;
          for (const db of gen.databases) {
            const b = await backup({ home, backupDir: bak, dbPath: db });
            steps.push({ step: 'backup', db, bytes: b.bytesCopied, seconds: b.seconds, mbPerSec: b.mbPerSec, detail: `${b.partitions} table partitions, point ${b.pointId}` });
            const k = await checkBackup({ backupDir: bak, dbPath: db });
            steps.push({ step: 'check', db, bytes: k.bytesChecked, seconds: k.seconds, mbPerSec: k.mbPerSec, detail: k.bad.length ? `${k.bad.length} bad chunks` : 'clean' });
            const target = `${db}_restored`;
            const r = await restoreDb({ home, backupDir: bak, dbPath: db, newDbPath: target });
            steps.push({ step: 'restore', db: target, bytes: r.bytes, seconds: r.seconds, mbPerSec: r.mbPerSec, detail: `${r.partitions} table partitions` });
            const v = await verifyRestore({ home, backupDir: bak, dbPath: db, targetDbPath: target });
            const same = JSON.stringify(databaseDigest(c, db).map((t) => t.digest)) === JSON.stringify(databaseDigest(c, target).map((t) => t.digest));
            verified &&= same && k.bad.length === 0 && v.problems.length === 0;
            const verdict = [v.problems.length ? `${v.problems.length} DIFFERENCES from the restore point` : 'matches the restore point', same ? 'digest equals the source' : 'DIGEST DIFFERS'];
            steps.push({ step: 'verify', db: target, bytes: v.bytesChecked, seconds: v.seconds, mbPerSec: v.mbPerSec, detail: verdict.join('; ') });
          }
          if (ctx.json) printJson({ home: o.keep ? tmp : undefined, verified, steps });
          else {
            printTable(steps.map((s) => ({ ...s, bytes: formatBytes(s.bytes), seconds: s.seconds.toFixed(3) })));
            process.stdout.write(verified ? '\nverified: every restored table matches its restore point and has the source digest; the backup checks clean\n' : '\nVERIFICATION FAILED\n');
            if (o.keep) process.stdout.write(`kept ${tmp}\n`);
          }
          if (!verified) throw new CvError('CHECK_FAILED', 'demo verification failed');
        } finally {
          if (!o.keep) fs.rmSync(tmp, { recursive: true, force: true });
        }
      }),
    );
}
