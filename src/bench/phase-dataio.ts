import fs from 'node:fs';
import path from 'node:path';
import { cvRun, parse, type BenchContext } from './bench-context.js';
import { dropCaches, runTool } from './measure.js';

/**
 * Phases `export` and `load`: the generated OLAP table out as CSV (`export -o`), and that CSV
 * loaded into a copy of its database (`db create --like`, `table create --like`, `load`), each
 * timed as a child process with its peak RSS; MB/s counts bytes of CSV. Baseline `read-csv`: a
 * plain read of the same file (`dd of=/dev/null bs=1M`), the floor a load is measured against.
 */
export async function runDataioPhases(ctx: BenchContext, tag: string): Promise<void> {
  const exp = ctx.phases.get('export', 'chunkvault export dfs://testdb quotes -o quotes.csv');
  const load = ctx.phases.get('load', 'chunkvault load dfs://loaded quotes quotes.csv (all partitions in one commit)');
  const read = ctx.phases.get('read-csv', 'dd if=quotes.csv of=/dev/null bs=1M', 'dd');
  const home = ctx.layout.home;
  const csv = path.join(ctx.work, 'quotes.csv');
  const db = 'dfs://loaded';
  try {
    const e = await cvRun(ctx, home, ['export', 'dfs://testdb', 'quotes', '-o', csv]);
    const bytes = parse<{ bytes: number }>(e).bytes;
    exp.add(e, bytes);
    ctx.log(`export ${tag}: ${e.seconds.toFixed(2)} s`);
    // Cold, like the load after it (cvRun drops the caches): the export just wrote this file. dd,
    // not cat: cat into /dev/null may move the data inside the kernel (10 GB "read" at 3.5 GB/s on
    // 0.5 CPU s here), which is no read at all.
    dropCaches();
    const r = await runTool('dd', [`if=${csv}`, 'of=/dev/null', 'bs=1M', 'status=none']);
    read.add(r, bytes);
    await cvRun(ctx, home, ['db', 'create', db, '--like', 'dfs://testdb']);
    await cvRun(ctx, home, ['table', 'create', db, 'quotes', '--like', 'dfs://testdb/quotes']);
    const l = await cvRun(ctx, home, ['load', db, 'quotes', csv]);
    load.add(l, bytes, { rows: parse<{ rows: number }>(l).rows });
    ctx.log(`load ${tag}: ${l.seconds.toFixed(2)} s`);
  } catch (err) {
    for (const p of [exp, load, read]) if (p.ok && !p.m.runs.length) p.fail(err);
  } finally {
    fs.rmSync(csv, { force: true });
    await cvRun(ctx, home, ['drop-db', db, '--yes']).catch(() => undefined);
  }
}
