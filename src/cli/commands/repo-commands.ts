import { Option, type Command } from 'commander';
import { keyAdd, keyList, keyPasswd, keyRemove, repoInfo, repoInit, type BlobCodecSpec } from '../../engine/index.js';
import { action, type Ctx } from '../action.js';
import { printJson, printKeyValues, printTable } from '../output.js';
import { newPasswordSource, passwordSource } from '../password.js';

/**
 * The repository's own commands (docs/CLI.md, "Repositories, keys and passwords"): `repo init`,
 * `repo info`, and `key list|add|remove|passwd`. The password comes from the global
 * `--password-command`, `--password-file` or $CHUNKVAULT_PASSWORD (src/cli/password.ts).
 */
const pw = (ctx: Ctx) => passwordSource({ file: ctx.globals.passwordFile, command: ctx.globals.passwordCommand });

interface NewPasswordOpts {
  newPasswordFile?: string;
  newPasswordCommand?: string;
}
const newPw = (o: NewPasswordOpts) => newPasswordSource({ file: o.newPasswordFile, command: o.newPasswordCommand });

function withNewPassword(cmd: Command): Command {
  return cmd
    .option('--new-password-file <file>', 'read the new password from this file (else $CHUNKVAULT_NEW_PASSWORD)')
    .option('--new-password-command <cmd>', 'run this command (sh -c) and read the new password from its output');
}

function registerRepo(program: Command): void {
  const repo = program.command('repo').description('create and describe a backup repository (format v2: compressed, optionally encrypted)');
  repo
    .command('init <dir>')
    .description('create a repository in a new or empty directory; encrypted when a password is given')
    .addOption(new Option('--encryption <kind>', 'aes-256-gcm (default when a password is given) or none').choices(['aes-256-gcm', 'none']))
    .addOption(new Option('--compression <level>', 'zstd level per blob (see repo info)').choices(['off', 'fast', 'default', 'max']).default('default'))
    .action(
      action((ctx, dir: string, o: { encryption?: BlobCodecSpec['encryption']; compression: BlobCodecSpec['compression'] }) => {
        const r = repoInit(dir, { password: pw(ctx), compression: o.compression, ...(o.encryption ? { encryption: o.encryption } : {}) });
        if (ctx.json) return printJson(r);
        process.stdout.write(`created repository ${r.dir} (id ${r.id}): encryption ${r.encryption}, compression ${r.compression}\n`);
        if (r.keyId) process.stdout.write(`first key ${r.keyId.slice(0, 12)}: without its password (or another key's) nothing in the repository can be read\n`);
      }),
    );
  repo
    .command('info <dir>')
    .description("the repository's settings: id, format version, encryption, compression, keys (never a secret)")
    .action(
      action((ctx, dir: string) => {
        const r = repoInfo(dir, pw(ctx));
        if (ctx.json) return printJson(r);
        printKeyValues({ ...r, zstdLevel: r.zstdLevel ?? 'none', databases: r.databases.length });
        if (r.databases.length) printTable(r.databases);
      }),
    );
}

function registerKey(program: Command): void {
  const key = program.command('key').description("manage the passwords (key files) of an encrypted repository");
  key
    .command('list <dir>')
    .description('key files: id, whether it is the one the password opened, when and where it was made')
    .action(
      action((ctx, dir: string) => {
        const rows = keyList(dir, pw(ctx));
        if (ctx.json) printJson(rows);
        else printTable(rows.map((k) => ({ ' ': k.current ? '*' : '', id: k.id.slice(0, 12), created: k.created, user: `${k.username}@${k.hostname}`, kdf: k.kdf })));
      }),
    );
  withNewPassword(key.command('add <dir>').description('add a key for a new password (the current password must open the repository)')).action(
    action((ctx, dir: string, o: NewPasswordOpts) => {
      const r = keyAdd(dir, pw(ctx), newPw(o));
      if (ctx.json) printJson(r);
      else process.stdout.write(`added key ${r.id.slice(0, 12)}\n`);
    }),
  );
  key
    .command('remove <dir> <id>')
    .description('remove a key by id or unique prefix; never the key in use, never the last key')
    .action(
      action((ctx, dir: string, id: string) => {
        const r = keyRemove(dir, pw(ctx), id);
        if (ctx.json) printJson(r);
        else process.stdout.write(`removed key ${r.removed.slice(0, 12)}\n`);
      }),
    );
  withNewPassword(key.command('passwd <dir>').description('change the password of the key in use (adds the new key, then removes the old)')).action(
    action((ctx, dir: string, o: NewPasswordOpts) => {
      const r = keyPasswd(dir, pw(ctx), newPw(o));
      if (ctx.json) printJson(r);
      else process.stdout.write(`changed the password: new key ${r.id.slice(0, 12)}, removed key ${r.removed.slice(0, 12)}\n`);
    }),
  );
}

export function registerRepoCommands(program: Command): void {
  registerRepo(program);
  registerKey(program);
}
