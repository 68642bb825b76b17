import type { Bench, Task } from 'tinybench';

/** One row of a micro benchmark's table (micro.ts, micro-codec.ts). */
export interface MicroRow {
  group: string;
  name: string;
  /** Mean milliseconds per iteration. */
  meanMs: number | null;
  /** Relative margin of error, percent. */
  rmePercent: number | null;
  samples: number;
  /** Derived figure (MB/s or µs per task) for the group. */
  figure: string;
  error?: string;
}

export function rows(group: string, bench: Bench, figure: (t: Task, meanMs: number) => string): MicroRow[] {
  return bench.tasks.map((t) => {
    const r = t.result;
    if (r.state === 'completed' || r.state === 'aborted-with-statistics') return { group, name: t.name, meanMs: r.latency.mean, rmePercent: r.latency.rme, samples: t.runs, figure: figure(t, r.latency.mean) };
    return { group, name: t.name, meanMs: null, rmePercent: null, samples: 0, figure: '', error: r.state === 'errored' ? r.error.message.split('\n')[0]! : r.state };
  });
}
