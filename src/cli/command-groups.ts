import type { Command } from 'commander';

export type Register = (program: Command) => void;

/**
 * The command groups, each loaded only when its command runs, so `--version`, `points` or a
 * no-change backup never load the bench, the generator, the data formats or the server client.
 * `names` must list every top-level command the group registers (test/cli/lazy-commands.test.ts).
 */
export const COMMAND_GROUPS: { names: string[]; load: () => Promise<Register[]> }[] = [
  // data-commands adds `db create` and `db head` to the `db` command store-commands makes.
  { names: ['init', 'generate', 'db', 'table'], load: async () => [(await import('./commands/store-commands.js')).registerStoreCommands, (await import('./commands/data-commands.js')).registerDataCommands] },
  { names: ['load', 'export', 'drop-partition', 'drop-table', 'drop-db'], load: async () => [(await import('./commands/load-commands.js')).registerLoadCommands] },
  { names: ['backup', 'backup-db', 'backup-table', 'backup-all', 'points', 'prune'], load: async () => [(await import('./commands/backup-commands.js')).registerBackupCommands] },
  { names: ['list', 'meta', 'check', 'verify'], load: async () => [(await import('./commands/inspect-commands.js')).registerInspectCommands] },
  { names: ['jobs', 'job', 'job-log', 'cancel', 'throttle', 'status'], load: async () => [(await import('./commands/job-commands.js')).registerJobCommands] },
  { names: ['restore', 'restore-db', 'restore-table', 'migrate'], load: async () => [(await import('./commands/restore-commands.js')).registerRestoreCommands] },
  { names: ['copy'], load: async () => [(await import('./commands/copy-command.js')).registerCopy] },
  { names: ['repo', 'key'], load: async () => [(await import('./commands/repo-commands.js')).registerRepoCommands] },
  { names: ['demo'], load: async () => [(await import('./commands/demo.js')).registerDemo] },
  { names: ['bench'], load: async () => [(await import('./commands/bench-command.js')).registerBench] },
  { names: ['plan'], load: async () => [(await import('./commands/plan-command.js')).registerPlan] },
  { names: ['server', 'server-token'], load: async () => [(await import('./commands/server-command.js')).registerServerCommands] },
];

/** Root options that take a value: the word after them is not the command's name. */
const VALUE_OPTIONS = new Set(['--home', '--password-file', '--password-command', '--config', '--job-id', '--s3-endpoint']);

/** The command named on the command line, or undefined (none given, or only root options). */
export function commandNameOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return args[i + 1];
    if (!a.startsWith('-')) return a;
    if (VALUE_OPTIONS.has(a)) i++;
  }
  return undefined;
}

/**
 * The groups to register for these arguments: the one that owns the command; none for a bare
 * `--version`; every group for help, an unknown command (so commander can suggest one) or no command.
 */
export async function registersFor(args: string[]): Promise<Register[]> {
  const name = commandNameOf(args);
  const owner = name === undefined ? undefined : COMMAND_GROUPS.find((g) => g.names.includes(name));
  if (owner) return owner.load();
  if (name === undefined && args.some((a) => a === '--version' || a === '-V') && !args.some((a) => a === '--help' || a === '-h')) return [];
  return (await Promise.all(COMMAND_GROUPS.map((g) => g.load()))).flat();
}
