import { describe, expect, it } from 'vitest';
import { Scheduler, type Clock, type RunOutcome } from '../../dist/server/scheduler.js';
import type { ScheduleConfig } from '../../dist/server/config.js';

/** A clock whose time moves only when the test says; timers fire in time order. */
class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  constructor(iso: string) {
    this.t = Date.parse(iso);
  }
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown) => void this.timers.delete(h as number);
  /** Moves time forward to `iso`, firing every timer due on the way (and letting promises settle). */
  async advanceTo(iso: string): Promise<void> {
    const end = Date.parse(iso);
    for (;;) {
      const next = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await flush();
    }
    this.t = end;
    await flush();
  }
}
const flush = () => new Promise((r) => setImmediate(r));

const sched = (over: Partial<ScheduleConfig>): ScheduleConfig => ({ name: 'nightly', cron: '0 2 * * *', action: 'backup', database: 'testdb', onLocked: 'wait', catchUp: true, ...over });

function harness(schedules: ScheduleConfig[], opts: { lastDue?: Record<string, number>; outcome?: (name: string, n: number) => RunOutcome; manual?: boolean } = {}) {
  const clock = new FakeClock('2026-03-01T00:00:00Z');
  const runs: { name: string; reason: string; at: string }[] = [];
  const pending: (() => void)[] = [];
  const store = new Map(Object.entries(opts.lastDue ?? {}));
  const s = new Scheduler(schedules, {
    clock,
    repoKey: (x) => x.database,
    lastDue: { get: (n) => store.get(n), set: (n, at) => void store.set(n, at) },
    log: () => {},
    lockedRetryMs: 60_000,
    execute: (x, reason) => {
      runs.push({ name: x.name, reason, at: new Date(clock.now()).toISOString() });
      const n = runs.filter((r) => r.name === x.name).length;
      if (!opts.manual) return Promise.resolve(opts.outcome?.(x.name, n) ?? 'done');
      return new Promise<RunOutcome>((res) => pending.push(() => res('done')));
    },
  });
  return { clock, runs, pending, store, s };
}

describe('the schedule runner under a fake clock', () => {
  it('runs a schedule at each of its cron times, and not between them', async () => {
    const h = harness([sched({})]);
    h.s.start();
    await h.clock.advanceTo('2026-03-01T01:59:59Z');
    expect(h.runs).toEqual([]);
    await h.clock.advanceTo('2026-03-03T03:00:00Z');
    expect(h.runs.map((r) => r.at)).toEqual(['2026-03-01T02:00:00.000Z', '2026-03-02T02:00:00.000Z', '2026-03-03T02:00:00.000Z']);
    h.s.stop();
  });

  it('a run missed while the server was down runs once at start-up, however many were missed', async () => {
    const h = harness([sched({})], { lastDue: { nightly: Date.parse('2026-02-25T02:00:00Z') } });
    h.s.start();
    await h.clock.advanceTo('2026-03-01T00:00:01Z');
    expect(h.runs).toEqual([{ name: 'nightly', reason: 'missed run due 2026-02-26T02:00:00.000Z', at: '2026-03-01T00:00:00.000Z' }]);
    await h.clock.advanceTo('2026-03-01T02:00:00Z');
    expect(h.runs).toHaveLength(2);
    h.s.stop();
  });

  it('with catch-up off, a missed run is not made up at start-up', async () => {
    const h = harness([sched({ catchUp: false })], { lastDue: { nightly: Date.parse('2026-02-25T02:00:00Z') } });
    h.s.start();
    await h.clock.advanceTo('2026-03-01T01:00:00Z');
    expect(h.runs).toEqual([]);
    h.s.stop();
  });

  it('a first start with no history runs nothing until the next due time', async () => {
    const h = harness([sched({})]);
    h.s.start();
    await h.clock.advanceTo('2026-03-01T01:00:00Z');
    expect(h.runs).toEqual([]);
    expect(h.store.get('nightly')).toBe(Date.parse('2026-03-01T00:00:00Z'));
    h.s.stop();
  });

  it('two schedules of one repository never run at once: with on-locked wait, the second starts when the first ends', async () => {
    const h = harness([sched({ name: 'backup', cron: '0 * * * *' }), sched({ name: 'check', cron: '0 * * * *', action: 'check' })], { manual: true });
    h.s.start();
    await h.clock.advanceTo('2026-03-01T01:00:00Z');
    expect(h.runs.map((r) => r.name)).toEqual(['backup']);
    await h.clock.advanceTo('2026-03-01T01:20:00Z');
    h.pending.shift()!();
    await flush();
    expect(h.runs.map((r) => `${r.name}@${r.at.slice(11, 16)}`)).toEqual(['backup@01:00', 'check@01:20']);
    h.s.stop();
  });

  it('with on-locked skip, the second schedule is skipped while the first runs', async () => {
    const h = harness([sched({ name: 'backup', cron: '0 * * * *' }), sched({ name: 'check', cron: '0 * * * *', action: 'check', onLocked: 'skip' })], { manual: true });
    h.s.start();
    await h.clock.advanceTo('2026-03-01T01:00:00Z');
    h.pending.shift()!();
    await flush();
    expect(h.runs.map((r) => r.name)).toEqual(['backup']);
    expect(h.s.history).toContainEqual(expect.objectContaining({ name: 'check', outcome: 'skipped' }));
    h.s.stop();
  });

  it('a run that met the repository lock held elsewhere is retried when on-locked is wait', async () => {
    const h = harness([sched({})], { outcome: (_n, i) => (i === 1 ? 'locked' : 'done') });
    h.s.start();
    await h.clock.advanceTo('2026-03-01T02:00:30Z');
    expect(h.runs).toHaveLength(1);
    await h.clock.advanceTo('2026-03-01T02:01:00Z');
    expect(h.runs.map((r) => r.reason)).toEqual(['due 2026-03-01T02:00:00.000Z', 'due 2026-03-01T02:00:00.000Z, retried']);
    h.s.stop();
  });
});
