import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from '../helpers/cli.js';

export const SERVER = path.join(ROOT, 'dist/server/main.js');
export const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');

export interface Running {
  url: string;
  proc: ChildProcess;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Starts `node dist/server/main.js` on an ephemeral loopback port and waits for its "listening" line. */
export function startServer(args: string[], env: Record<string, string | undefined> = {}): Promise<Running> {
  const proc = spawn(process.execPath, [SERVER, '--listen', '127.0.0.1:0', ...args], { env: { ...process.env, CHUNKVAULT_HOME: undefined, CHUNKVAULT_LISTEN: undefined, ...env } });
  let out = '';
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 15_000);
    proc.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      const url = (JSON.parse(line) as { listening: string }).listening;
      resolve({
        url,
        proc,
        stderr: () => err,
        stop: () =>
          new Promise((res) => {
            if (proc.exitCode !== null) return res();
            proc.once('exit', () => res());
            proc.kill('SIGTERM');
          }),
      });
    });
  });
}

/** A config file with the given TOML body, in dir. */
export function writeConfig(dir: string, toml: string): string {
  const f = path.join(dir, `cfg-${Math.random().toString(36).slice(2)}.toml`);
  fs.writeFileSync(f, toml);
  return f;
}

export async function call(base: string, method: string, p: string, opts: { token?: string; body?: unknown; raw?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(base + p, { method, headers, ...(opts.raw !== undefined ? { body: opts.raw } : opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

/** Reads a job's server-sent events until `end`; returns every event. */
export async function readEvents(base: string, jobId: string, token: string): Promise<{ event: string; data: any }[]> {
  const r = await fetch(`${base}/jobs/${jobId}/events`, { headers: { authorization: `Bearer ${token}` } });
  const text = await r.text();
  return text
    .split('\n\n')
    .filter((b) => b.includes('event: '))
    .map((b) => ({ event: /event: (\w+)/.exec(b)![1]!, data: JSON.parse(/data: (.*)/.exec(b)![1]!) }));
}
