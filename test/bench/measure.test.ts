import { describe, expect, it } from 'vitest';
import { runChunkvault } from '../../dist/bench/measure.js';

describe('runChunkvault', () => {
  it('runs the built CLI as a child and reports its own CPU time and peak RSS from the rusage wrapper', async () => {
    const r = await runChunkvault('/nonexistent-home', ['--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('0.1.0');
    expect(r.cpuSeconds).toBeGreaterThan(0);
    expect(r.peakRssBytes).toBeGreaterThan(1 << 20);
  });

  it('passes the arguments through so the CLI sees them as its own (an error exits with the CLI status)', async () => {
    const r = await runChunkvault('/nonexistent-home', ['db', 'list']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^chunkvault: cluster home \/nonexistent-home does not exist/);
  });
});
