import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** Issue 9 item 8: usage errors from the --background hook carry the "chunkvault: " prefix once. */
describe('--background and --job-id usage errors', () => {
  it('--background on a command that is not a job is one line with a single chunkvault: prefix and exit 2', () => {
    const r = runCli(['--background', 'points', '/nonexistent-bak', 'dfs://testdb']);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(['chunkvault: --background applies only to backup, restore, migrate and check commands, not "points"']);
  });

  it('a bad --job-id is one line with a single chunkvault: prefix and exit 2', () => {
    const r = runCli(['--job-id', '../x', 'backup', '/nonexistent-bak', 'dfs://testdb']);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(['chunkvault: bad --job-id "../x"']);
  });
});
