import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  MAX_FILE_LINES,
  MAX_FUNCTION_LINES,
  cliStoreViolations,
  describeViolations,
  directionViolations,
  fileLengthViolations,
  functionLengthViolations,
  readSourceTree,
  type SourceFile,
} from './helpers/house.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('the house rules hold in src/', () => {
  const files = readSourceTree(ROOT);

  it('no import goes up the house, or sideways between siblings', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(describeViolations(directionViolations(files))).toBe('');
  });

  it('cli reads the store only through the public API (src/store/index.ts, names src/index.ts exports)', () => {
    expect(describeViolations(cliStoreViolations(files))).toBe('');
  });

  it('only src/common/xxhash.ts imports @node-rs/xxhash, by require (an ES import scans its CommonJS entry in every thread)', () => {
    const importers = files.filter((f) => f.text.includes("'@node-rs/xxhash'"));
    expect(importers.map((f) => f.path)).toEqual([path.join('src', 'common', 'xxhash.ts')]);
    expect(importers[0]!.text).not.toMatch(/from '@node-rs\/xxhash'/);
  });

  it(`no file in src/ is over ${MAX_FILE_LINES} lines`, () => {
    expect(describeViolations(fileLengthViolations(files))).toBe('');
  });

  it(`no function in src/ is over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(describeViolations(functionLengthViolations(files))).toBe('');
  });
});

const file = (p: string, text: string): SourceFile => ({ path: p, text });
const imp = (from: string, spec: string) => file(from, `import { x } from '${spec}';\n`);
const body = (n: number) => Array.from({ length: n - 2 }, (_, i) => `  const v${i} = ${i};`).join('\n');

describe('the import-direction checker', () => {
  it('flags an import from io into engine, naming the file, line and import', () => {
    const v = directionViolations([file('src/io/copy.ts', `// why\nimport { backup } from '../engine/index.js';\n`)]);
    expect(describeViolations(v)).toBe("src/io/copy.ts:2 imports '../engine/index.js': io may not import engine (it may import: common)");
  });

  it('flags siblings importing each other: io from store, store from io, generate from engine', () => {
    const v = directionViolations([imp('src/io/a.ts', '../store/index.js'), imp('src/store/a.ts', '../io/index.js'), imp('src/generate/g.ts', '../engine/index.js')]);
    expect(v.map((x) => x.file)).toEqual(['src/io/a.ts', 'src/store/a.ts', 'src/generate/g.ts']);
  });

  it('flags the repository (src/repo) importing engine, and allows engine to import the repository', () => {
    const v = directionViolations([imp('src/repo/journal.ts', '../engine/options.js'), imp('src/engine/backup.ts', '../repo/journal.js')]);
    expect(describeViolations(v)).toMatch(/^src\/repo\/journal.ts:1 imports '..\/engine\/options.js': repo may not import engine/);
    expect(v).toHaveLength(1);
  });

  it('flags bench importing cli through a dynamic import()', () => {
    const v = directionViolations([file('src/bench/wrap.ts', "await import('../cli/main.js');\n")]);
    expect(describeViolations(v)).toMatch(/bench may not import cli/);
  });

  it('counts type-only imports and re-exports as imports', () => {
    const v = directionViolations([file('src/common/a.ts', "import type { Engine } from '../store/index.js';\nexport { y } from '../io/index.js';\n")]);
    expect(v.map((x) => x.line)).toEqual([1, 2]);
  });

  it('flags a file in a folder the house does not know', () => {
    expect(describeViolations(directionViolations([imp('src/parquetio/csv.ts', '../store/index.js')]))).toMatch(/folder the house does not know/);
  });

  it('allows imports downward, within a folder, of packages, and the public API importing any floor but cli', () => {
    const ok = [imp('src/cli/a.ts', '../bench/harness.js'), imp('src/bench/a.ts', '../generate/generate.js'), imp('src/engine/a.ts', './b.js'), imp('src/io/a.ts', 'piscina'), imp('src/index.ts', './engine/index.js')];
    expect(directionViolations(ok)).toEqual([]);
    expect(directionViolations([imp('src/index.ts', './cli/main.js')])).toHaveLength(1);
  });
});

describe('the cli-to-store checker', () => {
  const api = file('src/index.ts', "export { Cluster, type Engine } from './store/index.js';\nexport { loadChunks } from './io/index.js';\n");

  it('flags cli importing a store module other than its index', () => {
    expect(describeViolations(cliStoreViolations([api, imp('src/cli/a.ts', '../store/catalog.js')]))).toMatch(/only through src\/store\/index.ts/);
  });

  it('flags cli importing a name from the store that the public API does not export from it', () => {
    const v = cliStoreViolations([api, file('src/cli/commands/x.ts', "import { Cluster, loadChunks, type Engine } from '../../store/index.js';\n")]);
    expect(describeViolations(v)).toBe("src/cli/commands/x.ts:1 imports '../../store/index.js': loadChunks is a store internal (not exported by the public API in src/index.ts)");
  });

  it('flags a namespace import of the store from cli', () => {
    expect(cliStoreViolations([api, file('src/cli/a.ts', "import * as store from '../store/index.js';\n")])).toHaveLength(1);
  });
});

describe('the size checkers', () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const c${i} = ${i};`).join('\n') + '\n';

  it(`flags a file of ${MAX_FILE_LINES + 1} lines and passes one of ${MAX_FILE_LINES}`, () => {
    const v = fileLengthViolations([file('src/io/long.ts', lines(MAX_FILE_LINES + 1)), file('src/io/ok.ts', lines(MAX_FILE_LINES))]);
    expect(describeViolations(v)).toBe(`src/io/long.ts:1 ${MAX_FILE_LINES + 1} lines (limit ${MAX_FILE_LINES})`);
  });

  it(`flags a function, a method and an arrow function of ${MAX_FUNCTION_LINES + 1} lines, naming each and its first line`, () => {
    const n = MAX_FUNCTION_LINES + 1;
    const text = [`function f() {\n${body(n)}\n}`, `class K {\n  m() {\n${body(n)}\n  }\n}`, `const g = () => {\n${body(n)}\n};`].join('\n');
    const v = functionLengthViolations([file('src/engine/long.ts', text)]);
    expect(v.map((x) => `${x.line} ${x.message}`)).toEqual([`1 f is ${n} lines (limit ${MAX_FUNCTION_LINES})`, `${n + 2} m is ${n} lines (limit ${MAX_FUNCTION_LINES})`, `${2 * n + 3} g is ${n} lines (limit ${MAX_FUNCTION_LINES})`]);
  });

  it(`passes a function of exactly ${MAX_FUNCTION_LINES} lines`, () => {
    expect(functionLengthViolations([file('src/engine/ok.ts', `export function f() {\n${body(MAX_FUNCTION_LINES)}\n}\n`)])).toEqual([]);
  });
});
