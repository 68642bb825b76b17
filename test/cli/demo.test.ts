import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('demo (npm start)', () => {
  it('generates, backs up, checks, restores and verifies, and reports MB/s for every step', () => {
    const r = runCli(['demo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { verified: boolean; steps: { step: string; mbPerSec: number; detail: string }[] };
    expect(out.verified).toBe(true);
    expect(out.steps.map((s) => s.step)).toEqual(['generate', 'backup', 'check', 'restore', 'verify', 'backup', 'check', 'restore', 'verify']);
    for (const s of out.steps) expect(s.mbPerSec).toBeGreaterThan(0);
    expect(out.steps.filter((s) => s.step === 'verify').every((s) => s.detail.includes('digest equals the source'))).toBe(true);
  });
});
