import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportTable, exportToFile, type ExportOptions } from '../../dist/dataio/export.js';
import { append, type Cluster } from '../../dist/store/index.js';
import { D20120101, makeTradesDb, tradeRows } from '../helpers/store.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(rmTmp));

function db(engine: 'OLAP' | 'TSDB'): { c: Cluster; db: string; home: string } {
  const home = scratchDir(`export-par-${engine}`);
  dirs.push(home);
  const r = makeTradesDb(home, engine);
  append(r.c, r.db, 'trades', tradeRows(5_000, ['IBM', 'MSFT', 'GOOG', 'O,RCL'], [D20120101]));
  append(r.c, r.db, 'trades', tradeRows(777, ['IBM'], [D20120101], 3));
  return { ...r, home };
}

async function bytesOf(c: Cluster, d: string, opts: ExportOptions): Promise<Buffer> {
  const parts: Buffer[] = [];
  await exportTable(c, d, 'trades', opts, (b) => void parts.push(Buffer.from(b)));
  return Buffer.concat(parts);
}

// Small pieces and two out at a time: many pieces per partition, finishing out of order.
const PAR = { workers: 2, pieceRows: 97, inFlight: 2 };

describe('parallel CSV export', () => {
  for (const engine of ['OLAP', 'TSDB'] as const)
    it(`gives the serial export's bytes (${engine}, in workers), with --limit, --partition, --columns and a delimiter`, async () => {
      const { c, db: d } = db(engine);
      for (const o of [{}, { limit: 1234 }, { partition: '/Key1/%' }, { columns: ['qty', 'symbol', 'price'] }, { delimiter: '|', header: false }] as ExportOptions[]) {
        const serial = await bytesOf(c, d, o);
        expect(serial.length).toBeGreaterThan(100);
        expect((await bytesOf(c, d, { ...o, parallel: PAR })).equals(serial), JSON.stringify(o)).toBe(true);
      }
      expect((await bytesOf(c, d, { parallel: PAR })).toString().split('\n').length).toBe(5_777 + 2);
    });

  it('a corrupt column file fails the export with CORRUPT and leaves no file, not even the temp one', async () => {
    const { c, db: d, home } = db('OLAP');
    const cols: string[] = [];
    const walk = (p: string) => fs.readdirSync(p, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(p, e.name)) : e.name === 'qty.col' && cols.push(path.join(p, e.name))));
    walk(home);
    const f = cols.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!;
    const b = fs.readFileSync(f);
    b[b.length - 5] ^= 0xff;
    fs.writeFileSync(f, b);
    const out = path.join(home, 'out');
    fs.mkdirSync(out);
    await expect(exportToFile(c, d, 'trades', { parallel: PAR }, path.join(out, 'x.csv'))).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(fs.readdirSync(out)).toEqual([]);
  });
});
