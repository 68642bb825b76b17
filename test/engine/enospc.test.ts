import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { ROOT_REASON, isRoot, listFiles, mountTmpfs, rmTmp } from '../helpers/tmp.js';
import { runCliFaulty } from '../support/crash.js';
import { DB, digestOf, pointIds, resetTo, restoredDigest, sweepScene } from '../support/sweep-helpers.js';

/** A full disk anywhere in a backup: exit 6, one line, the previous point intact, nothing partial in place. */
let dir: string, work: string, snap: string;
let before: Record<string, string>, after: Record<string, string>;
beforeAll(async () => {
  ({ dir, work, snap, before, after } = await sweepScene('enospc'));
});
afterAll(() => rmTmp(dir));

const home = () => path.join(work, 'h');
/** The repository; the tmpfs test moves it onto its small file system. */
let bakOnTmpfs: string | undefined;
const bak = () => bakOnTmpfs ?? path.join(work, 'bak');
const backupArgs = () => ['--home', home(), 'backup', '--workers', '1', bak(), DB];
const temps = (root: string) => listFiles(root).filter((f) => /\.tmp-/.test(path.basename(f)));

/** What every failed run must leave: the old point, restorable; no temp in place; a rerun that succeeds. */
async function expectIntactAfterEnospc(r: { code: number | null; errLines: string[] }, what: string) {
  expect(r.code, `${what}: ${r.errLines.join(' | ')}`).toBe(6);
  expect(r.errLines, what).toHaveLength(1);
  expect(r.errLines[0], what).toMatch(/no space left on device/);
  expect(pointIds(bak()), what).toHaveLength(1);
  expect(temps(path.join(bak(), 'testdb', 'points')), what).toEqual([]);
  expect(await restoredDigest(bak(), path.join(dir, 'r')), what).toEqual(before);
  const again = runCli(backupArgs());
  expect(again.code, `${what}: rerun ${again.stderr}`).toBe(0);
  expect(await restoredDigest(bak(), path.join(dir, 'r')), `${what}: rerun`).toEqual(after);
}

/** A sweep runs the CLI dozens of times: minutes on a loaded 2-core machine, ~15 s on a quiet one. */
const SWEEP_TIMEOUT_MS = 300_000;

describe('ENOSPC injected at an exact byte (fault layer)', () => {
  it('a manifest cut at any byte is never renamed into place and the backup exits 6', async () => {
    resetTo(snap, work);
    const size = fs.statSync(path.join(bak(), 'testdb', 'points', `${pointIds(bak())[0]}.json`)).size;
    for (const at of [0, 1, 4095, 4096, 8192, size - 1]) {
      resetTo(snap, work);
      await expectIntactAfterEnospc(runCliFaulty(backupArgs(), { match: '/points/', enospcAtByte: at }), `manifest byte ${at} of ~${size}`);
    }
  });

  it('a full disk inside the data copy, the journal or the pin file exits 6 and leaves the previous point', async () => {
    for (const [match, at] of [['/data/', 0], ['/data/', 100], ['/journal/', 0], ['/journal/', 50], ['/pins/', 10]] as const) {
      resetTo(snap, work);
      await expectIntactAfterEnospc(runCliFaulty(backupArgs(), { match, enospcAtByte: at }), `${match} byte ${at}`);
    }
  });

  it('short writes everywhere still make a complete point that restores', async () => {
    resetTo(snap, work);
    const r = runCliFaulty(backupArgs(), { shortWrites: true });
    expect(r.code, r.stderr).toBe(0);
    expect(await restoredDigest(bak(), path.join(dir, 'r'))).toEqual(after);
  });

  it('a background job whose record cannot be written exits 6 with one line', () => {
    resetTo(snap, work);
    const r = runCliFaulty(['--background', ...backupArgs()], { match: '/jobs/', enospcAtByte: 10 });
    expect(r.code, r.stderr).toBe(6);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/no space left on device/);
    expect(temps(path.join(home(), 'jobs'))).toEqual([]);
  });
});

describe('ENOSPC from a real full tmpfs', { timeout: SWEEP_TIMEOUT_MS }, () => {
  const PAGE = 4096;
  /** Leaves `bytes` free on the file system of `mnt` by filling the rest. */
  function fillTo(mnt: string, bytes: number): void {
    const st = fs.statfsSync(mnt);
    const fill = st.bavail * st.bsize - bytes;
    if (fill > 0) fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(fill, 1));
  }

  it.skipIf(!isRoot)(`a backup onto a disk that fills at each page of its writes exits 6 or commits whole${isRoot ? '' : ` (${ROOT_REASON})`}`, async () => {
    const mnt = path.join(dir, 'mnt');
    const umount = mountTmpfs(mnt, '4m');
    try {
      // The repository on the small tmpfs; the source stays where it is.
      const onTmpfs = () => {
        resetTo(snap, work);
        fs.rmSync(path.join(mnt, 'bak'), { recursive: true, force: true });
        fs.rmSync(path.join(mnt, 'filler'), { force: true });
        fs.cpSync(path.join(snap, 'bak'), path.join(mnt, 'bak'), { recursive: true });
      };
      bakOnTmpfs = path.join(mnt, 'bak');
      onTmpfs();
      const free0 = fs.statfsSync(mnt).bavail;
      expect(runCli(backupArgs()).code).toBe(0);
      const pages = free0 - fs.statfsSync(mnt).bavail;
      let failures = 0;
      for (let free = 0; free <= pages; free++) {
        onTmpfs();
        fillTo(mnt, free * PAGE);
        const r = runCli(backupArgs());
        fs.rmSync(path.join(mnt, 'filler'), { force: true });
        if (r.code === 0) {
          expect(await restoredDigest(bak(), path.join(dir, 'r')), `${free} pages free`).toEqual(after);
          continue;
        }
        failures++;
        await expectIntactAfterEnospc(r, `${free} of ${pages} pages free`);
      }
      expect(failures).toBeGreaterThan(0);
    } finally {
      bakOnTmpfs = undefined;
      umount();
    }
  });

  it.skipIf(!isRoot)(`a restore into a cluster home that fills up exits 6, and a rerun restores it whole${isRoot ? '' : ` (${ROOT_REASON})`}`, async () => {
    const mnt = path.join(dir, 'mnt2');
    const umount = mountTmpfs(mnt, '4m');
    try {
      resetTo(snap, work);
      const rhome = path.join(mnt, 'home');
      const restore = () => runCli(['--home', rhome, 'restore-db', '--workers', '1', bak(), DB]);
      expect(restore().code).toBe(0);
      const pages = fs.statfsSync(mnt).blocks - fs.statfsSync(mnt).bavail;
      for (const free of [0, 1, 2, Math.floor(pages / 2), pages - 2]) {
        fs.rmSync(rhome, { recursive: true, force: true });
        fillTo(mnt, free * PAGE);
        const r = restore();
        fs.rmSync(path.join(mnt, 'filler'), { force: true });
        expect(r.code, `${free} pages free: ${r.stderr}`).toBe(6);
        expect(r.errLines, `${free} pages free`).toHaveLength(1);
        expect(temps(rhome), `${free} pages free`).toEqual([]);
        expect(restore().code, `${free} pages free: rerun`).toBe(0);
        expect(digestOf(rhome, DB)).toEqual(before);
      }
    } finally {
      umount();
    }
  });
});
