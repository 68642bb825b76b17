import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { action } from '../action.js';
import { printJson } from '../output.js';
import { entryPath } from '../../common/entry-points.js';

/** The server program, by path: nothing imports server (docs/ARCHITECTURE.md). */
const SERVER = entryPath('server');

export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('run the REST API, /metrics, the schedules and the dashboard (docs/SERVER.md)')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:7433; env CHUNKVAULT_LISTEN; config listen)')
    .action(
      action(async (ctx, o: { listen?: string }) => {
        const config = (ctx.globals as { config?: string }).config;
        const args = [SERVER, ...(o.listen ? ['--listen', o.listen] : []), ...(config ? ['--config', config] : []), ...(ctx.globals.home ? ['--home', ctx.globals.home] : [])];
        const child = spawn(process.execPath, args, { stdio: 'inherit' });
        const forward = (sig: NodeJS.Signals) => child.kill(sig);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        return new Promise<number>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 + (sig === 'SIGINT' ? 2 : 15) : 1))));
      }),
    );

  program
    .command('server-token')
    .description('make a random API token and the sha256 line for the config (the token is shown once; only its hash is stored)')
    .option('--user <name>', 'the user the token maps to', 'admin')
    .option('--admin', 'the user sees every job (else only their own)')
    .action(
      action((ctx, o: { user: string; admin?: boolean }) => {
        const token = `cv_${randomBytes(32).toString('base64url')}`;
        const sha256 = createHash('sha256').update(token, 'utf8').digest('hex');
        if (ctx.json) return printJson({ token, sha256, user: o.user, admin: !!o.admin });
        process.stdout.write(`token (give it to the client; it is not stored): ${token}\n\n[[tokens]]\nuser = "${o.user}"\nadmin = ${o.admin ? 'true' : 'false'}\nsha256 = "${sha256}"\n`);
      }),
    );
}
