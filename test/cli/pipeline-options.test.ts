import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('the tuning flags\' help', () => {
  it('shows the copy defaults for backup and the hash defaults for check, from the one table', () => {
    const backup = runCli(['backup', '--help']).stdout.replace(/\s+/g, ' ');
    const check = runCli(['check', '--help']).stdout.replace(/\s+/g, ' ');
    expect(backup).toContain('worker threads (default: 4)');
    expect(backup).toContain('tasks running on a disk at once (default: 4)');
    expect(backup).toContain('(default: stream)');
    expect(check).toContain('worker threads (default: one per core)');
    expect(check).not.toContain('--copy-method');
    expect(check).not.toContain('--create-concurrency');
  });

  it('shows the restore defaults for the restore commands and the copy defaults for copy', () => {
    for (const cmd of ['restore', 'restore-db', 'restore-table', 'migrate']) {
      const help = runCli([cmd, '--help']).stdout.replace(/\s+/g, ' ');
      expect(help).toContain('worker threads (default: one per core)');
      expect(help).toContain('files and directories made on a disk at once (default: 1)');
      expect(help).toContain('(default: stream)');
    }
    const copy = runCli(['copy', '--help']).stdout.replace(/\s+/g, ' ');
    expect(copy).toContain('worker threads (default: 4)');
    expect(copy).not.toContain('--copy-method');
    expect(copy).not.toContain('--create-concurrency');
  });
});
