import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmTmp, scratchDir } from '../helpers/tmp.js';
import { LocalBackend } from '../../dist/repo/backend/local.js';
import { packObject } from '../../dist/repo/pack-format.js';
import { OpenPacks } from '../../dist/repo/pack-readers.js';

/**
 * OpenPacks (repo/pack-readers.ts): a task of many reads opens each pack once, with a span that
 * covers every read of it, and a pack that cannot be opened fails each of its reads alike.
 */
const A = 'a1'.repeat(16);
const B = 'b2'.repeat(16);
let root: string;

beforeAll(() => {
  root = scratchDir('open-packs');
  for (const [id, byte] of [[A, 1], [B, 2]] as const) {
    const file = path.join(root, packObject(id));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, Buffer.alloc(4096, byte));
  }
});
afterAll(() => rmTmp(root));

/** A local backend that records each open: the object's name and the span asked for. */
function countingBackend() {
  const opens: { name: string; span?: { offset: number; length: number } }[] = [];
  const closes: string[] = [];
  const local = new LocalBackend({ kind: 'local', root });
  const backend = Object.create(local) as LocalBackend;
  backend.open = (name, span) => {
    opens.push({ name, ...(span ? { span } : {}) });
    const r = local.open(name, span);
    return r && { size: r.size, readAt: (d, o, l) => r.readAt(d, o, l), close: () => (closes.push(name), r.close()) };
  };
  return { backend, opens, closes };
}

describe('OpenPacks', () => {
  it('opens each pack once however many reads name it, and closes each once', () => {
    const { backend, opens, closes } = countingBackend();
    const packs = new OpenPacks(backend);
    const dst = new Uint8Array(8);
    for (const id of [A, A, B, A, B]) packs.open(id)!.readAt(dst, 100, 8);
    expect(dst[0]).toBe(2);
    expect(opens.map((o) => o.name)).toEqual([packObject(A), packObject(B)]);
    packs.close();
    expect(closes.sort()).toEqual([packObject(A), packObject(B)].sort());
  });

  it('gives the backend one span that covers every read of a pack', () => {
    const { backend, opens } = countingBackend();
    const packs = new OpenPacks(backend);
    packs.cover(A, { offset: 300, length: 100 });
    packs.cover(A, { offset: 64, length: 10 });
    packs.cover(A, { offset: 1000, length: 24 });
    packs.cover(B, undefined);
    packs.open(A);
    packs.open(B);
    packs.close();
    expect(opens).toEqual([{ name: packObject(A), span: { offset: 64, length: 960 } }, { name: packObject(B) }]);
  });

  it('answers a missing pack with undefined each time, opening it once', () => {
    const { backend, opens } = countingBackend();
    const packs = new OpenPacks(backend);
    const gone = 'c3'.repeat(16);
    expect(packs.open(gone)).toBeUndefined();
    expect(packs.open(gone)).toBeUndefined();
    expect(opens).toHaveLength(1);
    packs.close();
  });

  it('throws the first open error again for every later read of that pack', () => {
    const linked = 'd4'.repeat(16);
    const file = path.join(root, packObject(linked));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.symlinkSync(path.join(root, packObject(A)), file);
    const { backend, opens } = countingBackend();
    const packs = new OpenPacks(backend);
    let first: unknown;
    try {
      packs.open(linked);
    } catch (err) {
      first = err;
    }
    expect((first as { code?: string }).code).toBe('CORRUPT');
    expect(() => packs.open(linked)).toThrow(first as Error);
    expect(opens).toHaveLength(1);
    packs.close();
  });
});
