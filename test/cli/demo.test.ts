import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { docShapes, expectShape } from '../helpers/doc-shapes.js';

describe('demo (npm start)', () => {
  it('generates, backs up, checks, restores and verifies, and reports MB/s for every step', () => {
    const r = runCli(['demo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { verified: boolean; steps: { step: string; mbPerSec: number; detail: string }[] };
    expect(out.verified).toBe(true);
    expect(out.steps.map((s) => s.step)).toEqual(['generate', 'backup', 'check', 'restore', 'verify', 'backup', 'check', 'restore', 'verify']);
    for (const s of out.steps) expect(s.mbPerSec).toBeGreaterThan(0);
    expect(out.steps.filter((s) => s.step === 'verify').every((s) => s.detail.includes('digest equals the source'))).toBe(true);
    // The keys docs/CLI.md lists for demo (test/cli/json-shapes.test.ts does not run it twice).
    const rows = docShapes().filter((r) => r.command === 'demo');
    expect(rows.length).toBe(2);
    for (const row of rows) expectShape(out, row);
  });
});
