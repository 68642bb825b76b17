import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseBytes } from '../common/units.js';
import { generateQuotes } from '../generate/generate.js';
import { describeMachine } from './machine.js';
import { entryPath } from '../common/entry-points.js';

/**
 * `npm run bench:server`: the API under load while a backup runs. 50 clients (bounded: each waits
 * 100 ms between requests, at most ~500 requests/s in all, their starts spread over those 100 ms;
 * 10 of them also hold an SSE stream)
 * poll `/status`, `/jobs/:id` and `/jobs` on loopback during a forced backup-db; the same backup
 * runs without clients in alternation. Reports the API's p50/p99 latency and the backup's MB/s
 * with and without the load, and writes `bench-results/<date>-server-load.{json,md}`.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SERVER = entryPath('server');
const CLIENTS = 50;
const STREAMS = 10;
const THINK_MS = 100;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SIZE = process.env.BENCH_SIZE ?? '1GB';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : 0);

function startServer(home: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [SERVER, '--listen', '127.0.0.1:0', '--home', home], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    proc.on('exit', (c) => reject(new Error(`server exited ${c}`)));
    proc.stdout!.setEncoding('utf8').once('data', (d: string) => resolve({ url: (JSON.parse(d.split('\n')[0]!) as { listening: string }).listening, proc }));
  });
}

async function runBackup(url: string, bak: string): Promise<{ jobId: string; done: Promise<{ mbPerSec: number; seconds: number }> }> {
  const r = await fetch(`${url}/backup-db`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ backupDir: bak, dbPath: 'dfs://testdb', force: true }) });
  const { jobId } = (await r.json()) as { jobId: string };
  const done = (async () => {
    for (;;) {
      const j = (await (await fetch(`${url}/jobs/${jobId}`)).json()) as { state: string; result?: { mbPerSec: number; seconds: number }; errorMsg?: string };
      if (j.state === 'done') return j.result!;
      if (j.state !== 'queued' && j.state !== 'running') throw new Error(`backup ${j.state}: ${j.errorMsg}`);
      await sleep(200);
    }
  })();
  return { jobId, done };
}

/** 50 clients polling until `stop`; returns every request's latency in ms. */
function load(url: string, jobId: string, stop: { now: boolean }): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const paths = ['/status', `/jobs/${jobId}`, '/jobs?n=20'];
  const client = async (i: number) => {
    await sleep((i * THINK_MS) / CLIENTS); // pollers are not in step: starts spread over one think time
    if (i < STREAMS) void fetch(`${url}/jobs/${jobId}/events`).then((r) => r.text()).catch(() => errors++);
    for (let k = i; !stop.now; k++) {
      const t0 = performance.now();
      try {
        const r = await fetch(url + paths[k % paths.length]);
        await r.arrayBuffer();
        if (!r.ok) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
      await sleep(THINK_MS);
    }
  };
  return Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i))).then(() => ({ latencies, errors }));
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cv-bench-server-'));
  const home = path.join(dir, 'home');
  const bak = path.join(dir, 'bak');
  const gen = await generateQuotes(home, { size: parseBytes(SIZE) });
  process.stderr.write(`generated ${gen.bytes} bytes\n`);
  const { url, proc } = await startServer(home);
  const rows: { round: number; loaded: boolean; mbPerSec: number; seconds: number; requests?: number; p50?: number; p99?: number; errors?: number }[] = [];
  try {
    await (await runBackup(url, bak)).done; // the first copy; each measured run is --force (copies everything)
    for (let round = 1; round <= ROUNDS; round++) {
      const plain = await (await runBackup(url, bak)).done;
      rows.push({ round, loaded: false, mbPerSec: plain.mbPerSec, seconds: plain.seconds });
      const b = await runBackup(url, bak);
      const stop = { now: false };
      const l = load(url, b.jobId, stop);
      const res = await b.done;
      stop.now = true;
      const { latencies, errors } = await l;
      rows.push({ round, loaded: true, mbPerSec: res.mbPerSec, seconds: res.seconds, requests: latencies.length, p50: pct(latencies, 50), p99: pct(latencies, 99), errors });
      process.stderr.write(`${JSON.stringify(rows.slice(-2))}\n`);
    }
  } finally {
    proc.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  report(rows, gen.bytes, describeMachine([{ role: 'repository', path: os.tmpdir() }]));
}

function report(rows: { loaded: boolean; mbPerSec: number; p99?: number; p50?: number; requests?: number; errors?: number; round: number; seconds: number }[], bytes: number, machine: unknown): void {
  const med = (xs: number[]) => pct(xs, 50);
  const plain = med(rows.filter((r) => !r.loaded).map((r) => r.mbPerSec));
  const loaded = med(rows.filter((r) => r.loaded).map((r) => r.mbPerSec));
  const p99 = Math.max(...rows.filter((r) => r.loaded).map((r) => r.p99 ?? 0));
  const summary = { loadAverage1m: Math.round(os.loadavg()[0]! * 10) / 10, cpus: os.cpus().length, bytes, clients: CLIENTS, streams: STREAMS, thinkMs: THINK_MS, rounds: ROUNDS, plainMbPerSec: plain, loadedMbPerSec: loaded, ratio: Math.round((loaded / plain) * 1000) / 1000, worstP99Ms: Math.round(p99 * 10) / 10 };
  const out = path.join(HERE, '..', '..', 'bench-results');
  const stem = `${new Date().toISOString().slice(0, 10)}-server-load`;
  fs.writeFileSync(path.join(out, `${stem}.json`), JSON.stringify({ summary, rows, machine }, null, 1) + '\n');
  const md = [
    `# API under load during a backup (${stem})`,
    '',
    `${CLIENTS} clients (${STREAMS} also holding an SSE stream), ${THINK_MS} ms between requests each, polling /status, /jobs/:id and /jobs on loopback during \`backup-db --force\` of dfs://testdb (half of the ${(bytes / 1e9).toFixed(2)} GB generated); the same backup without clients in alternation, ${ROUNDS} rounds.`,
    '',
    '| round | load | MB/s | s | requests | p50 ms | p99 ms | errors |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.round} | ${r.loaded ? 'yes' : 'no'} | ${r.mbPerSec} | ${r.seconds.toFixed(2)} | ${r.requests ?? ''} | ${r.p50?.toFixed(1) ?? ''} | ${r.p99?.toFixed(1) ?? ''} | ${r.errors ?? ''} |`),
    '',
    `Machine: ${summary.cpus} CPUs, load average ${summary.loadAverage1m} (1 min) at the end of the run: other work on the host shows in these numbers.`,
    '',
    `Median MB/s: ${plain} without load, ${loaded} with it (${summary.ratio}×; the goal is ≥ 0.95×). Worst p99: ${summary.worstP99Ms} ms (goal < 50 ms).`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(out, `${stem}.md`), md);
  process.stdout.write(md);
}

await main();
