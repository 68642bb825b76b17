/**
 * What the bench's scripts share (zstd-sweep.ts, shuffle-sweep.ts; micro.ts for isMainModule): the
 * data files of a generated home, their flags, and writing <out>/<date>-<label>.json and .md.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Every regular file under `home`/volumes, in directory order; an error when there is none. */
export function dataFilePaths(home: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(path.join(home, 'volumes'));
  if (out.length === 0) throw new Error(`no data files under ${home}/volumes: run generate first`);
  return out;
}

/** The value after `--name` on the command line, if given. */
export function sweepArg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** Whether the module at `url` is the script node was started with. */
export const isMainModule = (url: string) => Boolean(process.argv[1]) && new URL(url).pathname === fs.realpathSync(process.argv[1]!);

/** Writes the result as <out>/<date>-<label>.json and .md (`--out`, default bench-results; `--label`, default `label`) and prints the Markdown. */
export function writeSweep(result: { date: string }, markdown: string, label: string): void {
  const out = sweepArg('--out') ?? 'bench-results';
  const base = path.join(out, `${result.date.slice(0, 10)}-${sweepArg('--label') ?? label}`);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + '\n');
  fs.writeFileSync(`${base}.md`, markdown);
  process.stdout.write(markdown);
}
