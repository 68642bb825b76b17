import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CvError } from '../../dist/common/errors.js';
import { initRepo, openRepo } from '../../dist/repo/config.js';
import { dirBackend } from '../../dist/repo/backup-dir.js';
import { addKeyFile, keyIds, openMasterKey, removeKeyFile } from '../../dist/repo/keys.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

/** Small scrypt parameters: the format and the checks are the same, the tests just run faster. */
const kdf = { N: 1024, r: 8, p: 1 };
let dir: string;
let n = 0;
beforeAll(() => (dir = scratchDir('keys')));
afterAll(() => rmTmp(dir));

const pw = (p: string | undefined) => () => p;
const fresh = () => path.join(dir, `r${n++}`);
function encrypted(password = 'right'): string {
  const d = fresh();
  initRepo(d, { encryption: 'aes-256-gcm', compression: 'default', password: pw(password), kdf });
  return d;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CvError) return err.code;
    throw err;
  }
  return 'OK';
}

/** Every file under d with its bytes, to show that a refused command changed nothing. */
function snapshot(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string): void => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const f = path.join(p, e.name);
      if (e.isDirectory()) walk(f);
      else out[path.relative(d, f)] = fs.readFileSync(f).toString('base64');
    }
  };
  walk(d);
  return out;
}

const keyPath = (d: string, id: string) => path.join(d, 'keys', id);

describe('repository config and the first key', () => {
  it('an encrypted repository has one key file and a config that reveals nothing without the password', () => {
    const d = encrypted();
    const config = fs.readFileSync(path.join(d, 'config'));
    expect(keyIds(dirBackend(d))).toHaveLength(1);
    const r = openRepo(d, pw('right'));
    expect(r.config).toMatchObject({ version: 2, encryption: 'aes-256-gcm', compression: 'default' });
    expect(config.includes(r.config.id)).toBe(false);
    expect(config.includes('aes-256-gcm')).toBe(false);
    expect(Buffer.from(r.spec.masterKey!, 'base64')).toHaveLength(32);
    expect(fs.statSync(keyPath(d, r.keyId!)).mode & 0o777).toBe(0o600);
  });

  it('an unencrypted repository has a checksummed plain config, no keys, and needs no password', () => {
    const d = fresh();
    initRepo(d, { encryption: 'none', compression: 'off', password: () => { throw new Error('asked for a password'); } });
    expect(JSON.parse(fs.readFileSync(path.join(d, 'config'), 'utf8'))).toMatchObject({ version: 2, encryption: 'none', compression: 'off', checksum: expect.stringMatching(/^xxh3:/) });
    expect(openRepo(d, pw(undefined)).spec).toEqual({ compression: 'off', encryption: 'none' });
  });

  it('init of an encrypted repository without a password is KEY and creates nothing', () => {
    const d = fresh();
    expect(codeOf(() => initRepo(d, { encryption: 'aes-256-gcm', compression: 'default', password: pw(undefined), kdf }))).toBe('KEY');
    expect(fs.existsSync(d)).toBe(false);
  });

  it('init refuses an existing repository and a non-empty directory (CONFLICT), changing nothing', () => {
    const d = encrypted();
    const before = snapshot(d);
    expect(codeOf(() => initRepo(d, { encryption: 'none', compression: 'off', password: pw(undefined) }))).toBe('CONFLICT');
    expect(snapshot(d)).toEqual(before);
    const other = fresh();
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'precious'), 'x');
    expect(codeOf(() => initRepo(other, { encryption: 'none', compression: 'off', password: pw(undefined) }))).toBe('CONFLICT');
    expect(fs.readdirSync(other)).toEqual(['precious']);
  });

  it('init over what a killed init left (keys, no config) starts again with one key', () => {
    const d = encrypted();
    fs.rmSync(path.join(d, 'config'));
    initRepo(d, { encryption: 'aes-256-gcm', compression: 'fast', password: pw('again'), kdf });
    expect(keyIds(dirBackend(d))).toHaveLength(1);
    expect(openRepo(d, pw('again')).config.compression).toBe('fast');
  });
});

describe('passwords', () => {
  it('a wrong password is KEY, a missing one is KEY, and neither changes anything', () => {
    const d = encrypted();
    const before = snapshot(d);
    expect(codeOf(() => openRepo(d, pw('wrong')))).toBe('KEY');
    expect(codeOf(() => openRepo(d, pw(undefined)))).toBe('KEY');
    expect(codeOf(() => openRepo(d, pw('')))).toBe('KEY');
    expect(snapshot(d)).toEqual(before);
  });

  it('a key file whose content no longer matches its name is CORRUPT when it is the only key', () => {
    const d = encrypted();
    const [id] = keyIds(dirBackend(d));
    const text = fs.readFileSync(keyPath(d, id!), 'utf8');
    fs.writeFileSync(keyPath(d, id!), text.replace('"hostname"', '"hostname" '));
    expect(codeOf(() => openRepo(d, pw('right')))).toBe('CORRUPT');
  });

  it('an edited key parameter fails authentication even when the file is renamed to its new hash', () => {
    const d = encrypted();
    const [id] = keyIds(dirBackend(d));
    const edited = fs.readFileSync(keyPath(d, id!), 'utf8').replace(/"username": "[^"]*"/, '"username": "mallory"');
    fs.rmSync(keyPath(d, id!));
    fs.writeFileSync(keyPath(d, createHash('sha256').update(edited).digest('hex')), edited);
    expect(codeOf(() => openRepo(d, pw('right')))).toBe('KEY');
  });

  it('a key file asking for huge scrypt work is refused without running it', () => {
    const d = encrypted();
    const [id] = keyIds(dirBackend(d));
    const edited = fs.readFileSync(keyPath(d, id!), 'utf8').replace('"N": 1024', `"N": ${2 ** 30}`);
    fs.rmSync(keyPath(d, id!));
    fs.writeFileSync(keyPath(d, createHash('sha256').update(edited).digest('hex')), edited);
    const t = Date.now();
    expect(codeOf(() => openRepo(d, pw('right')))).toBe('CORRUPT');
    expect(Date.now() - t).toBeLessThan(2000);
  });
});

describe('the config is verified', () => {
  it('a flipped byte in an encrypted config is CORRUPT', () => {
    const d = encrypted();
    const f = path.join(d, 'config');
    const b = fs.readFileSync(f);
    b[b.length - 5]! ^= 0x10;
    fs.writeFileSync(f, b);
    expect(codeOf(() => openRepo(d, pw('right')))).toBe('CORRUPT');
  });

  it('an edited plain config is CORRUPT (its checksum)', () => {
    const d = fresh();
    initRepo(d, { encryption: 'none', compression: 'off', password: pw(undefined) });
    const f = path.join(d, 'config');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('"off"', '"max"'));
    expect(codeOf(() => openRepo(d, pw(undefined)))).toBe('CORRUPT');
  });

  it('a plain config swapped in beside key files is CORRUPT, so nothing would be written unencrypted', () => {
    const d = encrypted();
    const plain = fresh();
    initRepo(plain, { encryption: 'none', compression: 'off', password: pw(undefined) });
    fs.copyFileSync(path.join(plain, 'config'), path.join(d, 'config'));
    expect(codeOf(() => openRepo(d, pw(undefined)))).toBe('CORRUPT');
  });
});

describe('key files', () => {
  it('a second key opens the same master key with its own password', () => {
    const d = encrypted();
    const first = openRepo(d, pw('right'));
    const id = addKeyFile(dirBackend(d), first.spec.masterKey!, 'second', kdf);
    const second = openMasterKey(dirBackend(d), 'second');
    expect(second).toEqual({ masterKey: first.spec.masterKey, keyId: id });
  });

  it('a removed key\'s password opens nothing; the other key still opens the repository', () => {
    const d = encrypted();
    const first = openRepo(d, pw('right'));
    const id = addKeyFile(dirBackend(d), first.spec.masterKey!, 'second', kdf);
    removeKeyFile(dirBackend(d), id, first.keyId!);
    expect(codeOf(() => openRepo(d, pw('second')))).toBe('KEY');
    expect(openRepo(d, pw('right')).keyId).toBe(first.keyId);
  });

  it('the last key cannot be removed (CONFLICT)', () => {
    const d = encrypted();
    const [id] = keyIds(dirBackend(d));
    expect(codeOf(() => removeKeyFile(dirBackend(d), id!, 'another-key-in-use'))).toBe('CONFLICT');
    expect(keyIds(dirBackend(d))).toEqual([id]);
  });

  it('the key in use cannot be removed while another exists (CONFLICT)', () => {
    const d = encrypted();
    const first = openRepo(d, pw('right'));
    addKeyFile(dirBackend(d), first.spec.masterKey!, 'second', kdf);
    expect(codeOf(() => removeKeyFile(dirBackend(d), first.keyId!, first.keyId!))).toBe('CONFLICT');
    expect(keyIds(dirBackend(d))).toHaveLength(2);
  });
});
