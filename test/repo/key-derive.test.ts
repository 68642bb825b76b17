import fs from 'node:fs';
import path from 'node:path';
import { scryptSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CvError } from '../../dist/common/errors.js';
import { initRepo } from '../../dist/repo/config.js';
import { deriveAhead, newKeySalt, wrappingKey } from '../../dist/repo/key-derive.js';
import { dirBackend } from '../../dist/repo/backup-dir.js';
import { deriveFirstKeyAhead, keyIds, openMasterKey } from '../../dist/repo/keys.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

/** Small scrypt parameters: the derivation is the same, the tests just run faster. */
const kdf = { N: 1024, r: 8, p: 1 };
let dir: string;
beforeAll(() => (dir = scratchDir('key-derive')));
afterAll(() => rmTmp(dir));

describe('key derivation ahead', () => {
  it('gives the key that scrypt derives on the spot for the same password, salt and parameters', async () => {
    const salt = Buffer.alloc(32, 7);
    await deriveAhead('pw-1', kdf, salt);
    const onTheSpot = scryptSync(Buffer.from('pw-1'), salt, 32, { ...kdf, maxmem: 64 << 20 });
    expect(wrappingKey('pw-1', salt, kdf).equals(onTheSpot)).toBe(true);
  });

  it('hands the salt of a new key derived ahead to one key file, and a fresh salt to the next', async () => {
    await deriveAhead('pw-2', kdf);
    const first = newKeySalt('pw-2', kdf);
    const second = newKeySalt('pw-2', kdf);
    expect(first.equals(second)).toBe(false);
    const d = path.join(dir, 'new');
    await deriveAhead('pw-3', kdf);
    initRepo(d, { encryption: 'aes-256-gcm', compression: 'off', password: () => 'pw-3', kdf });
    const file = JSON.parse(fs.readFileSync(path.join(d, 'keys', keyIds(dirBackend(d))[0]!), 'utf8')) as { salt: string };
    expect(newKeySalt('pw-3', kdf).toString('base64')).not.toBe(file.salt);
    expect(openMasterKey(dirBackend(d), 'pw-3').keyId).toBe(keyIds(dirBackend(d))[0]);
  });

  it('shares one derivation between requests for the same key, the new key\'s included', async () => {
    const first = deriveAhead('pw-4', kdf);
    expect(deriveAhead('pw-4', kdf)).toBe(first);
    await first;
    const salt = newKeySalt('pw-4', kdf);
    const key = wrappingKey('pw-4', salt, kdf);
    await deriveAhead('pw-4', kdf, salt);
    expect(wrappingKey('pw-4', salt, kdf)).toBe(key);
  });

  it('derives a key once per process: a second open with the same password and salt takes the first key', () => {
    const salt = Buffer.alloc(32, 9);
    expect(wrappingKey('pw-5', salt, kdf)).toBe(wrappingKey('pw-5', salt, kdf));
  });

  it('keeps only the latest derived keys: a long-lived process does not hold every key it derived', () => {
    const salt = (i: number) => Buffer.alloc(32, 100 + i);
    const oldest = wrappingKey('pw-6', salt(0), kdf);
    for (let i = 1; i <= 16; i++) wrappingKey('pw-6', salt(i), kdf);
    const again = wrappingKey('pw-6', salt(0), kdf);
    expect(again).not.toBe(oldest);
    expect(again.equals(oldest)).toBe(true);
  });

  it('leaves a wrong password wrong: the open still fails with KEY after a derivation ahead', async () => {
    const d = path.join(dir, 'wrong');
    initRepo(d, { encryption: 'aes-256-gcm', compression: 'off', password: () => 'right', kdf });
    await deriveFirstKeyAhead(dirBackend(d), 'not-it');
    let code = 'OK';
    try {
      openMasterKey(dirBackend(d), 'not-it');
    } catch (err) {
      code = err instanceof CvError ? err.code : 'other';
    }
    expect(code).toBe('KEY');
  });
});
