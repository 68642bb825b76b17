import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The rules of the house (docs/ARCHITECTURE.md), checked over source text with the TypeScript
 * parser: which folder may import which, that cli reads the store only through the public API,
 * and the size limits. Pure functions over {path, text}, so each rule can be shown to fail on a
 * small synthetic tree as well as pass on the real one.
 */

export interface SourceFile {
  /** Path relative to the repository root, with forward slashes: `src/io/copy-worker.ts`. */
  path: string;
  text: string;
}

export interface Violation {
  file: string;
  line: number;
  message: string;
}

export type Layer = 'api' | 'cli' | 'server' | 'bench' | 'engine' | 'generate' | 'dataio' | 'repo' | 'io' | 'store' | 'common';

/** Who may import whom: each folder only from the folders below it that it needs. */
export const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  api: ['bench', 'engine', 'generate', 'dataio', 'repo', 'io', 'store', 'common'],
  cli: ['bench', 'engine', 'generate', 'dataio', 'io', 'store', 'common'],
  server: ['engine', 'generate', 'dataio', 'io', 'store', 'common'],
  bench: ['engine', 'generate', 'dataio', 'io', 'store', 'common'],
  engine: ['repo', 'io', 'store', 'common'],
  generate: ['store', 'io', 'common'],
  dataio: ['store', 'common'],
  repo: ['io', 'store', 'common'],
  io: ['common'],
  store: ['common'],
  common: [],
};

export const MAX_FILE_LINES = 300;
export const MAX_FUNCTION_LINES = 80;

/** The layer a file under src/ belongs to, or null for a folder the house does not know. */
export function layerOf(file: string): Layer | null {
  const rel = file.replace(/^src\//, '');
  if (rel === 'index.ts') return 'api';
  const top = rel.split('/')[0]!;
  return top in MAY_IMPORT && top !== 'api' ? (top as Layer) : null;
}

export function readSourceTree(root: string, dir = 'src'): SourceFile[] {
  const out: SourceFile[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...readSourceTree(root, rel));
    else if (/\.(ts|mts|cts)$/.test(e.name)) out.push({ path: rel, text: fs.readFileSync(path.join(root, rel), 'utf8') });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

const parse = (f: SourceFile) => ts.createSourceFile(f.path, f.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
const lineOf = (sf: ts.SourceFile, pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;

export interface ImportRef {
  specifier: string;
  line: number;
  /** Names imported (`propertyName` when renamed); null for a namespace, side-effect or dynamic import. */
  names: string[] | null;
  node: ts.Node;
}

/** Every module a file names: import and export-from declarations, and import()/require() of a string literal. */
export function importsOf(f: SourceFile): ImportRef[] {
  const sf = parse(f);
  const out: ImportRef[] = [];
  const visit = (n: ts.Node) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push({ specifier: n.moduleSpecifier.text, line: lineOf(sf, n.getStart(sf)), names: importedNames(n), node: n });
    } else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) {
      const arg = n.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) out.push({ specifier: arg.text, line: lineOf(sf, n.getStart(sf)), names: null, node: n });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

function importedNames(n: ts.ImportDeclaration | ts.ExportDeclaration): string[] | null {
  const bindings = ts.isImportDeclaration(n) ? n.importClause?.namedBindings : n.exportClause;
  if (ts.isImportDeclaration(n) && n.importClause?.name) return null; // a default import
  if (!bindings || ts.isNamespaceImport(bindings) || ts.isNamespaceExport(bindings)) return null;
  return bindings.elements.map((e) => (e.propertyName ?? e.name).text);
}

/** The src/ file a relative specifier names (`./x.js` is `./x.ts` in the source), or null for a package. */
export function resolveImport(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier)).replace(/\.(m|c)?js$/, (_m, p: string | undefined) => `.${p ?? ''}ts`);
}

/** Imports that go up, or sideways between siblings, or into a folder the house does not know. */
export function directionViolations(files: SourceFile[]): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    const from = layerOf(f.path);
    for (const imp of importsOf(f)) {
      const target = resolveImport(f.path, imp.specifier);
      if (!target) continue;
      const to = layerOf(target);
      const say = (why: string) => out.push({ file: f.path, line: imp.line, message: `imports '${imp.specifier}': ${why}` });
      if (!from) say(`${f.path} is in a folder the house does not know (add it to MAY_IMPORT and docs/ARCHITECTURE.md)`);
      else if (!to) say(`${target} is outside the house's folders`);
      else if (from !== to && !MAY_IMPORT[from].includes(to)) say(`${from} may not import ${to} (it may import: ${MAY_IMPORT[from].join(', ') || 'nothing'})`);
    }
  }
  return out;
}

/** The names src/index.ts (the public API) re-exports from a module, e.g. './store/index.js'. */
export function publicNames(api: SourceFile, specifier: string): Set<string> {
  const names = new Set<string>();
  for (const imp of importsOf(api)) if (imp.specifier === specifier && ts.isExportDeclaration(imp.node)) imp.names?.forEach((n) => names.add(n));
  return names;
}

/** cli reads the store only through the public API: from src/store/index.ts, and only names src/index.ts exports. */
export function cliStoreViolations(files: SourceFile[]): Violation[] {
  const api = files.find((f) => f.path === 'src/index.ts');
  const allowed = api ? publicNames(api, './store/index.js') : new Set<string>();
  const out: Violation[] = [];
  for (const f of files.filter((x) => layerOf(x.path) === 'cli')) {
    for (const imp of importsOf(f)) {
      const target = resolveImport(f.path, imp.specifier);
      if (!target || layerOf(target) !== 'store') continue;
      const say = (why: string) => out.push({ file: f.path, line: imp.line, message: `imports '${imp.specifier}': ${why}` });
      if (target !== 'src/store/index.ts') say('cli may import the store only through src/store/index.ts');
      else if (!imp.names) say('cli must name what it imports from the store (no namespace, default or dynamic import)');
      else for (const n of imp.names.filter((x) => !allowed.has(x))) say(`${n} is a store internal (not exported by the public API in src/index.ts)`);
    }
  }
  return out;
}

/** Files longer than the limit (lines as `wc -l` counts them, plus a last line without a newline). */
export function fileLengthViolations(files: SourceFile[], max = MAX_FILE_LINES): Violation[] {
  return files
    .map((f) => ({ f, lines: f.text.split('\n').length - (f.text.endsWith('\n') ? 1 : 0) }))
    .filter(({ lines }) => lines > max)
    .map(({ f, lines }) => ({ file: f.path, line: 1, message: `${lines} lines (limit ${max})` }));
}

type FunctionNode = ts.FunctionLikeDeclaration;

function nameOf(n: FunctionNode, sf: ts.SourceFile): string {
  if (n.name) return n.name.getText(sf);
  const p = n.parent;
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) return p.name.getText(sf);
  return ts.isArrowFunction(n) ? '(arrow function)' : '(function)';
}

/** Functions, methods, accessors, constructors and arrow functions longer than the limit, from their first line to their last. */
export function functionLengthViolations(files: SourceFile[], max = MAX_FUNCTION_LINES): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    const sf = parse(f);
    const visit = (n: ts.Node) => {
      if (ts.isFunctionLike(n) && 'body' in n && n.body) {
        const fn = n as FunctionNode;
        const first = lineOf(sf, fn.getStart(sf));
        const lines = lineOf(sf, fn.getEnd()) - first + 1;
        if (lines > max) out.push({ file: f.path, line: first, message: `${nameOf(fn, sf)} is ${lines} lines (limit ${max})` });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}

export const describeViolations = (vs: Violation[]) => vs.map((v) => `${v.file}:${v.line} ${v.message}`).join('\n');
