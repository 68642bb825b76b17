import { Command, CommanderError } from 'commander';
import { CvError, EXIT } from '../common/errors.js';
import { printJson, reportError } from './output.js';
import { registersFor, type Register } from './command-groups.js';
import { registerJobOptions } from './job-options.js';
import { applyFlagSources } from './flag-sources.js';
import { addS3Options, applyS3Flags } from './s3-flags.js';

export function buildProgram(groups: Register[]): Command {
  const program = new Command('chunkvault')
    .description('fast, safe backup and restore for a partitioned column store')
    .version('0.1.0')
    .option('--home <dir>', 'cluster home (default: $CHUNKVAULT_HOME)')
    .option('--json', 'machine-readable output')
    .option('--password-file <file>', 'repository password from this file (else $CHUNKVAULT_PASSWORD)')
    .option('--password-command <cmd>', 'repository password from the output of this command (sh -c)')
    .option('--config <file>', 'config file (TOML, or .json): flag values in [flags], the server\'s settings (env CHUNKVAULT_CONFIG)')
    .exitOverride()
    // One line, in the same shape as every other error.
    .configureOutput({ outputError: (str, write) => write(`chunkvault: ${str.replace(/^error: /, '').trim()}\n`) });
  addS3Options(program);
  for (const register of groups) register(program);
  registerJobOptions(program);
  // Flag > environment (CHUNKVAULT_<FLAG>) > config file: fill what the command line left unset.
  program.hook('preAction', (root, cmd) => applyFlagSources(root, cmd));
  program.hook('preAction', (root) => applyS3Flags(root));
  return program;
}

// Output piped into `head` and closed early is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

try {
  await buildProgram(await registersFor(process.argv.slice(2))).parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version are not failures; anything else commander rejects is a usage error.
    const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0;
    process.exitCode = ok ? 0 : EXIT.USAGE;
    // Commander already wrote the line on stderr; a script asking for --json gets the usual error object too.
    if (!ok && process.argv.includes('--json')) printJson({ error: { code: 'USAGE', exitCode: EXIT.USAGE, message: err.message.replace(/^error: /, '').replace(/^chunkvault: /, '') } });
  } else if (err instanceof CvError) {
    // Raised by an option parser (e.g. --dates 0) before any action ran.
    process.exitCode = reportError(err, process.argv.includes('--json'));
  } else throw err;
}
