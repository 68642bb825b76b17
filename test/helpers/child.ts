import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { ROOT } from './cli.js';

/** `import * as store from ...` for a child script: the built store, by absolute file URL. */
export const STORE_IMPORT = `import * as store from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/store/index.js')).href)};`;

/** Starts `node --input-type=module -e <code>` with the store imported as `store`. */
export function spawnStoreScript(code: string, args: string[] = []): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', `${STORE_IMPORT}\n${code}`, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a store script to completion; throws with its stderr if it fails. */
export function runStoreScript(code: string, args: string[] = []): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `${STORE_IMPORT}\n${code}`, '--', ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`store script exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Resolves when the child has printed a line matching re on stdout. */
export function waitForLine(p: ChildProcess, re: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    p.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const line = buf.split('\n').find((l) => re.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    p.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before printing ${re}; stderr: ${err}`));
    });
  });
}

export function waitExit(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve({ code: p.exitCode, signal: p.signalCode });
  return new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
}

/** The pid of a process that has already exited (for stale locks, pins and staging dirs). */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}
