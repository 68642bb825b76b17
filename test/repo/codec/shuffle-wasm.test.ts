import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('shuffle kernel', () => {
  it('is committed exactly as scripts/shuffle-wasm.mjs builds it from its tables', () => {
    // A hand edit of the base64, or a table changed without a rebuild, fails here.
    expect(() => execFileSync(process.execPath, ['scripts/shuffle-wasm.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
