import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import { formatBytes } from '../common/units.js';

export interface ProgressSink {
  /** `rows`: rows done so far, shown as rows/s on bars made with `{ rows: true }`. */
  update(done: number, total: number, rows?: number): void;
  stop(): void;
}

/**
 * A progress bar with MB/s and ETA when stderr is a TTY and output is for humans; otherwise
 * nothing, so scripts and --json output stay clean.
 */
export function progressBar(label: string, json: boolean, opts: { rows?: boolean } = {}): ProgressSink {
  if (json || !process.stderr.isTTY) return { update() {}, stop() {} };
  // Loaded only for a bar on a terminal: scripts and --json runs never load it.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {doneH} / {totalH} | {rate} MB/s${opts.rows ? ' | {rowRate} rows/s' : ''} | ETA {eta_formatted}`,
      stream: process.stderr,
      etaBuffer: 50,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let running = false;
  return {
    update(done, total, rows = 0) {
      const secs = Math.max(0.001, (Date.now() - started) / 1000);
      const payload = { doneH: formatBytes(done), totalH: formatBytes(total), rate: (done / 1e6 / secs).toFixed(0), rowRate: Math.round(rows / secs).toLocaleString('en-US') };
      if (!running) {
        bar.start(Math.max(total, 1), done, payload);
        running = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(done, payload);
      }
    },
    stop() {
      if (running) bar.stop();
    },
  };
}
