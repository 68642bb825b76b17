import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepo } from '../../dist/engine/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';

/**
 * repo init/info and key list/add/remove/passwd as an operator runs them (real processes). The
 * suite weakens new keys' scrypt (vitest.config.ts sets CHUNKVAULT_TESTONLY_WEAKEN_KDF); the first
 * test checks that without the variable a key gets the production parameters.
 */
let dir: string;
let n = 0;
const PW = 'correct horse battery staple';
const NEW = 'tr0ub4dor&3';
beforeAll(() => (dir = scratchDir('repo-cli')));
afterAll(() => rmTmp(dir));

const fresh = () => path.join(dir, `r${n++}`);
const cli = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { CHUNKVAULT_PASSWORD: undefined, CHUNKVAULT_NEW_PASSWORD: undefined, ...env });
const withPw = (args: string[], pw = PW, extra: Record<string, string> = {}) => cli(args, { CHUNKVAULT_PASSWORD: pw, ...extra });

function ok(r: CliResult): CliResult {
  expect(r.code, r.stderr).toBe(0);
  return r;
}
function jsonOf<T>(r: CliResult): T {
  return JSON.parse(ok(r).stdout) as T;
}
/** A refused command: exactly one line on stderr, naming the cause, and the documented exit code. */
function refused(r: CliResult, code: number, re: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.errLines).toHaveLength(1);
  expect(r.errLines[0]).toMatch(re);
}

function snapshot(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(d, { recursive: true, encoding: 'utf8' })) {
    const p = path.join(d, f);
    if (fs.statSync(p).isFile()) out[f] = fs.readFileSync(p).toString('base64');
  }
  return out;
}

function encryptedRepo(): string {
  const d = fresh();
  ok(withPw(['repo', 'init', d]));
  return d;
}

describe('repo init and repo info', () => {
  it('repo init makes its key with scrypt N=2^16, and with N=2^10 only under CHUNKVAULT_TESTONLY_WEAKEN_KDF=1', () => {
    const kdfOf = (weaken: string) => {
      const d = fresh();
      ok(withPw(['repo', 'init', d], PW, { CHUNKVAULT_TESTONLY_WEAKEN_KDF: weaken }));
      return jsonOf<{ kdf: string }[]>(cli(['key', 'list', d, '--json'], { CHUNKVAULT_PASSWORD: PW, CHUNKVAULT_TESTONLY_WEAKEN_KDF: undefined }))[0]!.kdf;
    };
    expect(kdfOf('1')).toBe('scrypt N=1024 r=8 p=1');
    expect(kdfOf('')).toBe('scrypt N=65536 r=8 p=1');
    expect(kdfOf('yes')).toBe('scrypt N=65536 r=8 p=1');
  });

  it('repo init with a password makes an encrypted repository that repo info describes', () => {
    const d = fresh();
    const r = jsonOf<{ encryption: string; compression: string; keyId: string }>(withPw(['repo', 'init', d, '--json']));
    expect(r).toMatchObject({ encryption: 'aes-256-gcm', compression: 'default', keyId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(jsonOf(withPw(['repo', 'info', d, '--json']))).toMatchObject({ encryption: 'aes-256-gcm', compression: 'default', version: 2, keys: 1 });
  });

  it('repo init without a password makes an unencrypted repository, and --compression is recorded', () => {
    const d = fresh();
    ok(cli(['repo', 'init', d, '--compression', 'max']));
    expect(jsonOf(cli(['repo', 'info', d, '--json']))).toMatchObject({ encryption: 'none', compression: 'max', keys: 0 });
  });

  it('repo init --encryption aes-256-gcm without a password exits 11 and creates nothing', () => {
    const d = fresh();
    refused(cli(['repo', 'init', d, '--encryption', 'aes-256-gcm']), 11, /needs a password.*nothing was created/);
    expect(fs.existsSync(d)).toBe(false);
  });

  it('repo init refuses an existing repository with exit 4', () => {
    const d = encryptedRepo();
    refused(withPw(['repo', 'init', d]), 4, /already a repository/);
  });

  it('a flipped byte in the encrypted config is CORRUPT (exit 7), not a wrong password', () => {
    const d = encryptedRepo();
    const f = path.join(d, 'config');
    const b = fs.readFileSync(f);
    b[20]! ^= 0x01;
    fs.writeFileSync(f, b);
    refused(withPw(['repo', 'info', d]), 7, /failed authentication/);
  });

  it('repo init rejects an unknown --compression with exit 2', () => {
    expect(cli(['repo', 'init', fresh(), '--compression', 'ultra']).code).toBe(2);
  });
});

describe('passwords', () => {
  it('a missing password exits 11 with one line and changes nothing', () => {
    const d = encryptedRepo();
    const before = snapshot(d);
    refused(cli(['repo', 'info', d]), 11, /is encrypted: give its password/);
    refused(cli(['key', 'list', d]), 11, /is encrypted/);
    expect(snapshot(d)).toEqual(before);
  });

  it('a wrong password exits 11 with one line for every key command and changes nothing', () => {
    const d = encryptedRepo();
    const before = snapshot(d);
    const [id] = fs.readdirSync(path.join(d, 'keys')).filter((f) => /^[0-9a-f]{64}$/.test(f));
    for (const args of [['repo', 'info', d], ['key', 'list', d], ['key', 'add', d], ['key', 'remove', d, id!], ['key', 'passwd', d]])
      refused(withPw(args, 'wrong', { CHUNKVAULT_NEW_PASSWORD: NEW }), 11, /wrong password/);
    expect(snapshot(d)).toEqual(before);
  });

  it('--password-file is read (less its trailing newline) and takes precedence over CHUNKVAULT_PASSWORD', () => {
    const d = encryptedRepo();
    const f = path.join(dir, `pw-${n++}`);
    fs.writeFileSync(f, `${PW}\n`);
    ok(withPw(['repo', 'info', d, '--password-file', f], 'wrong'));
  });

  it('--password-command is run and its output used; it takes precedence over CHUNKVAULT_PASSWORD', () => {
    const d = encryptedRepo();
    ok(withPw(['--password-command', `printf '%s\\n' '${PW}'`, 'repo', 'info', d], 'wrong'));
  });

  it('a failing password command exits 11 without printing what it wrote', () => {
    const d = encryptedRepo();
    refused(cli(['repo', 'info', d, '--password-command', 'echo leaked-secret; exit 3']), 11, /password command exited with status 3/);
    expect(cli(['repo', 'info', d, '--password-command', 'echo leaked-secret; exit 3']).stdout).not.toContain('leaked-secret');
  });

  it('an unreadable password file exits 11, and giving both flags exits 2', () => {
    const d = encryptedRepo();
    refused(cli(['repo', 'info', d, '--password-file', path.join(dir, 'no-such-file')]), 11, /cannot read the password file/);
    expect(cli(['repo', 'info', d, '--password-file', '/dev/null', '--password-command', 'true']).code).toBe(2);
  });

  it('an unencrypted repository never runs the password command', () => {
    const d = fresh();
    ok(cli(['repo', 'init', d, '--encryption', 'none']));
    const marker = path.join(dir, `ran-${n++}`);
    ok(cli(['repo', 'info', d, '--password-command', `touch ${marker}; echo pw`]));
    expect(fs.existsSync(marker)).toBe(false);
  });
});

describe('key list, add, remove and passwd', () => {
  it('key add makes a second password open the repository, and key list marks the key in use', () => {
    const d = encryptedRepo();
    const added = jsonOf<{ id: string }>(withPw(['key', 'add', d, '--json'], PW, { CHUNKVAULT_NEW_PASSWORD: NEW }));
    const rows = jsonOf<{ id: string; current: boolean }[]>(withPw(['key', 'list', d, '--json'], NEW));
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.current)!.id).toBe(added.id);
  });

  it('key remove by id prefix removes another key; its password then exits 11', () => {
    const d = encryptedRepo();
    const added = jsonOf<{ id: string }>(withPw(['key', 'add', d, '--json'], PW, { CHUNKVAULT_NEW_PASSWORD: NEW }));
    expect(jsonOf(withPw(['key', 'remove', d, added.id.slice(0, 10), '--json']))).toEqual({ removed: added.id });
    refused(withPw(['repo', 'info', d], NEW), 11, /wrong password/);
    ok(withPw(['repo', 'info', d]));
  });

  it('the last key cannot be removed: exit 4, and the repository still opens', () => {
    const d = encryptedRepo();
    const [id] = jsonOf<{ id: string }[]>(withPw(['key', 'list', d, '--json'])).map((r) => r.id);
    refused(withPw(['key', 'remove', d, id!]), 4, /last key/);
    ok(withPw(['repo', 'info', d]));
  });

  it('key passwd: the new password opens the repository and the old one no longer does', () => {
    const d = encryptedRepo();
    const r = jsonOf<{ id: string; removed: string }>(withPw(['key', 'passwd', d, '--json'], PW, { CHUNKVAULT_NEW_PASSWORD: NEW }));
    expect(r.id).not.toBe(r.removed);
    refused(withPw(['repo', 'info', d]), 11, /wrong password/);
    expect(jsonOf<{ keys: number }>(withPw(['repo', 'info', d, '--json'], NEW)).keys).toBe(1);
  });

  it('key add without a new password exits 2 and adds nothing', () => {
    const d = encryptedRepo();
    const before = snapshot(d);
    expect(withPw(['key', 'add', d]).code).toBe(2);
    expect(snapshot(d)).toEqual(before);
  });
});

describe('secrets are never printed', () => {
  it('no output of any repo or key command holds the password, the master key, a salt or a wrapped key', () => {
    const d = fresh();
    const outputs: CliResult[] = [withPw(['repo', 'init', d]), withPw(['repo', 'init', fresh(), '--json'])];
    outputs.push(withPw(['key', 'add', d], PW, { CHUNKVAULT_NEW_PASSWORD: NEW }));
    for (const j of [[], ['--json']]) {
      outputs.push(withPw(['repo', 'info', d, ...j]), withPw(['key', 'list', d, ...j]), withPw(['repo', 'info', d, ...j], 'wrong'));
    }
    const master = openRepo(d, () => PW).spec.masterKey!;
    const keyFiles = fs.readdirSync(path.join(d, 'keys')).filter((f) => /^[0-9a-f]{64}$/.test(f));
    const secrets = [PW, NEW, master, Buffer.from(master, 'base64').toString('hex')];
    for (const f of keyFiles) {
      const k = JSON.parse(fs.readFileSync(path.join(d, 'keys', f), 'utf8')) as { salt: string; data: string };
      secrets.push(k.salt, k.data);
    }
    for (const o of outputs) for (const s of secrets) expect(o.stdout + o.stderr).not.toContain(s);
  });
});
