import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendFor, s3Spec, type Backend } from '../../../dist/repo/backend/index.js';
import { CEPH_REASON, ensureCeph, isRoot, newBucket, removeBucket, testClient } from '../../helpers/ceph.js';
import { ROOT } from '../../helpers/cli.js';
import { rmTmp, tmpDir } from '../../helpers/tmp.js';

const BACKEND = pathToFileURL(path.join(ROOT, 'dist/repo/backend/index.js')).href;
let bucket: string;
let n = 0;
/** A backend on a fresh prefix of the test bucket. */
const fresh = (): Backend => backendFor(s3Spec(`s3://${bucket}/t${n++}`, 'db'));

describe.skipIf(!isRoot)('the S3 backend against Ceph RGW', () => {
  beforeAll(async () => {
    ensureCeph();
    bucket = await newBucket('backend');
  }, 300_000);
  afterAll(() => removeBucket(bucket));

  it('writes an object and reads it back whole and by range', () => {
    const b = fresh();
    b.write('points/p.json', Buffer.from('hello world'));
    expect(Buffer.from(b.read('points/p.json')!).toString()).toBe('hello world');
    expect(Buffer.from(b.read('points/p.json', { offset: 6, length: 5 })!).toString()).toBe('world');
    expect(b.stat('points/p.json')).toEqual({ name: 'points/p.json', size: 11 });
  });

  it('reports a missing object as undefined, not an error', () => {
    const b = fresh();
    expect(b.stat('index/none')).toBeUndefined();
    expect(b.read('index/none')).toBeUndefined();
    expect(b.open('index/none')).toBeUndefined();
  });

  it('refuses a range past the end of an object as CORRUPT', () => {
    const b = fresh();
    b.write('index/x', Buffer.from('abc'));
    expect(() => b.read('index/x', { offset: 2, length: 5 })).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });

  it('a create-only write refuses an existing name (If-None-Match) and keeps its content', () => {
    const b = fresh();
    b.write('points/p.json', Buffer.from('one'), { createOnly: true });
    expect(() => b.write('points/p.json', Buffer.from('two'), { createOnly: true })).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(Buffer.from(b.read('points/p.json')!).toString()).toBe('one');
  });

  it('streams a pack larger than a part as a multipart upload that reads back byte for byte', () => {
    const b = fresh();
    const data = Buffer.alloc(37 << 20);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
    const s = b.create('packs/ab/abcd');
    for (let at = 0; at < data.length; at += 3 << 20) s.append(data.subarray(at, at + (3 << 20)));
    expect(b.stat('packs/ab/abcd')).toBeUndefined();
    s.commit();
    expect(b.stat('packs/ab/abcd')!.size).toBe(data.length);
    const r = b.open('packs/ab/abcd')!;
    const got = Buffer.alloc(1 << 20);
    for (const at of [0, 20 << 20, (37 << 20) - (1 << 20)]) {
      r.readAt(got, at, got.length);
      expect(got.equals(data.subarray(at, at + got.length))).toBe(true);
    }
  });

  it('backends of two prefixes share one agent thread, and their interleaved multipart uploads land each under its own prefix', () => {
    const [a, b] = [fresh(), fresh()];
    a.stat('packs/none');
    const threads = fs.readdirSync('/proc/self/task').length;
    const [da, db] = [Buffer.alloc(20 << 20, 0xa5), Buffer.alloc(20 << 20, 0x5a)];
    const [sa, sb] = [a.create('packs/12/1234'), b.create('packs/12/1234')];
    for (let at = 0; at < da.length; at += 4 << 20) {
      sa.append(da.subarray(at, at + (4 << 20)));
      sb.append(db.subarray(at, at + (4 << 20)));
    }
    sb.commit();
    sa.commit();
    expect(fs.readdirSync('/proc/self/task').length).toBe(threads);
    expect(Buffer.from(a.read('packs/12/1234')!).equals(da)).toBe(true);
    expect(Buffer.from(b.read('packs/12/1234')!).equals(db)).toBe(true);
  });

  it('a spanned open reads ahead in order across window edges, knows the size without a HEAD, and reports a short object', () => {
    const b = fresh();
    const data = Buffer.alloc(21 << 20);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
    const s = b.create('packs/cd/cdef');
    s.append(data);
    s.commit();
    const from = 1000;
    const to = data.length - 5000;
    const r = b.open('packs/cd/cdef', { offset: from, length: to - from })!;
    expect(r.size).toBe(data.length);
    // Blobs of odd sizes straddle the 8 MiB windows; one read jumps back (out of the span's order).
    const blobs: [number, number][] = [];
    for (let at = from; at < to; at += 3_000_017) blobs.push([at, Math.min(3_000_017, to - at)]);
    blobs.push([from + 7, 100]);
    for (const [at, len] of blobs) {
      const got = Buffer.alloc(len);
      r.readAt(got, at, len);
      expect(got.equals(data.subarray(at, at + len))).toBe(true);
    }
    expect(() => r.readAt(Buffer.alloc(10), data.length - 5, 10)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    r.close();
    // The span says more than the object holds: the reader's size tells (check's 'size' problem).
    const short = b.open('packs/cd/cdef', { offset: data.length - 10, length: 1000 })!;
    expect(short.size).toBe(data.length);
    short.close();
    expect(b.open('packs/cd/none', { offset: 0, length: 10 })).toBeUndefined();
  });

  it('readers open at the same time in one thread keep their own windows, and a later reader reuses them cleanly', () => {
    const b = fresh();
    const objs = [0, 1].map((k) => {
      const data = Buffer.alloc(10 << 20);
      for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i ^ (k * 0x5a5a5a5a), i);
      const s = b.create(`packs/ef/ef0${k}`);
      s.append(data);
      s.commit();
      return data;
    });
    const check = (readers: ReturnType<Backend['open']>[]) => {
      // Interleaved 1 MiB reads across both windows of each reader.
      for (let at = 0; at < 10 << 20; at += 1 << 20) {
        readers.forEach((r, k) => {
          const got = Buffer.alloc(1 << 20);
          r!.readAt(got, at, got.length);
          expect(got.equals(objs[k]!.subarray(at, at + got.length))).toBe(true);
        });
      }
      readers.forEach((r) => r!.close());
    };
    const span = { offset: 0, length: 10 << 20 };
    check([b.open('packs/ef/ef00', span), b.open('packs/ef/ef01', span)]);
    check([b.open('packs/ef/ef01', span), b.open('packs/ef/ef00', span)].reverse());
  });

  it('an aborted streamed write leaves no object behind', () => {
    const b = fresh();
    const s = b.create('packs/00/0011');
    s.append(Buffer.alloc(20 << 20, 1));
    s.abort();
    expect(b.stat('packs/00/0011')).toBeUndefined();
    expect(b.list('packs/')).toEqual([]);
  });

  it('lists past 1000 keys (ListObjectsV2 paging), sorted, and the top level as directories', async () => {
    const b = fresh();
    const prefix = b.spec.kind === 's3' ? b.spec.prefix : '';
    const c = testClient();
    const names = Array.from({ length: 1010 }, (_, i) => `index/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < names.length; i += 16) {
      await Promise.all(names.slice(i, i + 16).map((k) => c.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + k, Body: 'x' }))));
    }
    b.write('repo.json', Buffer.from('{}'));
    const listed = b.list('index/');
    expect(listed.length).toBe(1010);
    expect(listed.map((o) => o.name)).toEqual(names);
    expect(b.list('')).toEqual([
      { name: 'index', size: 0, irregular: 'directory' },
      { name: 'repo.json', size: 2 },
    ]);
  }, 120_000);

  it('a lock names its holder and refuses a second taker with LOCKED; released, it can be taken again', () => {
    const b = fresh();
    const l = b.lock('job A', 'repo t');
    expect(() => b.lock('job B', 'repo t')).toThrow(/locked by job A \(pid \d+ on .+ since/);
    l.release();
    b.lock('job C', 'repo t').release();
  });

  it('takes over a lock that was not refreshed within the stale time', () => {
    const b = fresh();
    const old = new Date(Date.now() - 11 * 60_000).toISOString();
    b.write('lock', Buffer.from(JSON.stringify({ holder: 'job dead', host: 'elsewhere', pid: 1, since: old, refreshed: old, nonce: 'x' })));
    const l = b.lock('job new', 'repo t');
    expect(Buffer.from(b.read('lock')!).toString()).toContain('job new');
    l.release();
    expect(b.stat('lock')).toBeUndefined();
  });

  it('of two processes racing for one lock exactly one wins and the other is told who holds it', async () => {
    const url = `s3://${bucket}/race${Date.now()}`;
    const start = Date.now() + 1500;
    const script = `
      const { backendFor, s3Spec } = await import(${JSON.stringify(BACKEND)});
      const b = backendFor(s3Spec(process.argv[2], 'db'));
      b.stat('warm');
      while (Date.now() < ${start}) {}
      try { const l = b.lock(process.argv[3], 'repo'); console.log('won'); await new Promise((r) => setTimeout(r, 1500)); l.release(); }
      catch (e) { console.log(e.code + ' ' + e.message); }`;
    // A file, not -e: worker threads inherit execArgv, and -e would run the script in the S3 agent too.
    const dir = tmpDir('s3-race');
    const file = path.join(dir, 'race.mjs');
    fs.writeFileSync(file, script);
    const run = (who: string) =>
      new Promise<string>((resolve) => {
        const p = spawn(process.execPath, [file, url, who], { env: process.env });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.on('close', () => resolve(out.trim()));
      });
    const outs = await Promise.all([run('job one'), run('job two')]);
    rmTmp(dir);
    expect(outs.filter((o) => o === 'won')).toHaveLength(1);
    const loser = outs.find((o) => o !== 'won')!;
    expect(loser).toMatch(/^LOCKED repo is locked by job (one|two) \(pid \d+/);
  }, 60_000);
});

describe.skipIf(isRoot)('the S3 backend (not root)', () => {
  it.skip(CEPH_REASON, () => undefined);
});
