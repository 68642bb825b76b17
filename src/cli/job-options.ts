import { Option, type Command } from 'commander';
import { isJobId } from '../engine/jobs/ids.js';

/** Commands that run through runOperation and so may run as background jobs. */
const JOB_COMMAND = /^(backup|restore|migrate|check)/;

/** `--background` (any long command) and the hidden `--job-id` a background child runs with. */
export function registerJobOptions(program: Command): void {
  program.option('--background', 'run a backup, restore, migrate or check command as a detached job: print its id and return');
  program.addOption(new Option('--job-id <id>', 'internal: run as this submitted job').hideHelp());
  program.hook('preAction', (_root, cmd) => {
    const g = cmd.optsWithGlobals() as { background?: boolean; jobId?: string };
    // commander's outputError (main.ts) adds the "chunkvault: " prefix to every cmd.error message.
    if ((g.background || g.jobId) && !JOB_COMMAND.test(cmd.name()))
      cmd.error(`--background applies only to backup, restore, migrate and check commands, not "${cmd.name()}"`, { exitCode: 2, code: 'chunkvault.usage' });
    if (g.jobId && !isJobId(g.jobId)) cmd.error(`bad --job-id "${g.jobId}"`, { exitCode: 2, code: 'chunkvault.usage' });
  });
}
