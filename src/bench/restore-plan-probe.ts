import { stopwatch } from '../common/units.js';
import { openPoint, openTargetCluster, planRestore, prepareTarget } from '../engine/restore-plan.js';
import { parsePattern } from '../engine/pattern.js';

/**
 * `node restore-plan-probe.js <backupDir> <dbPath> <targetHome> <targetDb>`: the planning half of
 * restore-db, alone (the CLI has no plan-only restore): open the latest point, prepare the target
 * database and plan every table. Prints {jobs, skipped, seconds} as JSON. The scale bench runs it
 * as a child to measure planning's peak RSS and time without restoring a million files.
 */
const [backupDir, dbPath, targetHome, targetDb] = process.argv.slice(2);
if (!backupDir || !dbPath || !targetHome || !targetDb) {
  process.stderr.write('usage: node restore-plan-probe.js <backupDir> <dbPath> <targetHome> <targetDb>\n');
  process.exit(2);
}
const elapsed = stopwatch();
const { manifest } = openPoint(backupDir, dbPath);
const c = openTargetCluster(targetHome, true);
const pairs = Object.keys(manifest.tables).sort().map((t) => ({ src: t, dst: t }));
prepareTarget(c, manifest, targetDb, pairs, { db: true, tables: true });
const plan = planRestore(c, manifest, targetDb, pairs, parsePattern('%'), {});
process.stdout.write(JSON.stringify({ jobs: plan.jobs.length, skipped: plan.skipped.length, seconds: elapsed() }) + '\n');
