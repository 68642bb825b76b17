import { Cron } from 'croner';
import type { ScheduleConfig } from './config.js';

/** Time and timers, injectable so tests can run the scheduler under a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** How a run ended: `locked` means the repository lock was held by someone else (exit 5). */
export type RunOutcome = 'done' | 'failed' | 'cancelled' | 'locked';

export interface SchedulerDeps {
  clock: Clock;
  /** Runs one schedule's action to its end. */
  execute: (s: ScheduleConfig, reason: string) => Promise<RunOutcome>;
  /** The repository a schedule writes: two schedules with the same key never run at once. */
  repoKey: (s: ScheduleConfig) => string;
  /** When each schedule last became due (persisted, for runs missed while the server was down). */
  lastDue: { get(name: string): number | undefined; set(name: string, at: number): void };
  log: (line: string) => void;
  /** Retry delay after a `locked` outcome for on-locked = wait (default 30 s). */
  lockedRetryMs?: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Fires each schedule at its cron times (UTC), serialises the schedules of one repository (the
 * second waits for the first, or is skipped, as `on-locked` says), and at start-up runs once a
 * schedule whose due time passed while the server was down (`catch-up`).
 */
export class Scheduler {
  private readonly timers = new Map<string, unknown>();
  private readonly busy = new Set<string>();
  private readonly waiting = new Map<string, { s: ScheduleConfig; reason: string }[]>();
  private stopped = false;
  readonly history: { name: string; reason: string; outcome: RunOutcome | 'skipped'; at: number }[] = [];

  constructor(
    private readonly schedules: ScheduleConfig[],
    private readonly d: SchedulerDeps,
  ) {}

  /** The next due time after `from` (ms), or undefined when the expression has none. */
  static nextAfter(cron: string, from: number): number | undefined {
    return new Cron(cron, { paused: true, timezone: 'UTC' }).nextRun(new Date(from))?.getTime();
  }

  start(): void {
    const now = this.d.clock.now();
    for (const s of this.schedules) {
      const last = this.d.lastDue.get(s.name);
      const missed = last !== undefined ? Scheduler.nextAfter(s.cron, last) : undefined;
      if (s.catchUp && missed !== undefined && missed <= now) {
        this.d.lastDue.set(s.name, missed);
        this.trigger(s, `missed run due ${new Date(missed).toISOString()}`);
      } else if (last === undefined) this.d.lastDue.set(s.name, now);
      this.arm(s);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) this.d.clock.clearTimeout(t);
    this.timers.clear();
  }

  private arm(s: ScheduleConfig): void {
    if (this.stopped) return;
    const now = this.d.clock.now();
    const next = Scheduler.nextAfter(s.cron, now);
    if (next === undefined) return;
    const wait = next - now;
    this.timers.set(
      s.name,
      this.d.clock.setTimeout(() => {
        if (this.d.clock.now() < next) return this.arm(s); // a long wait was cut into timer-sized steps
        this.d.lastDue.set(s.name, next);
        this.trigger(s, `due ${new Date(next).toISOString()}`);
        this.arm(s);
      }, Math.min(wait, MAX_TIMER_MS)),
    );
  }

  private trigger(s: ScheduleConfig, reason: string): void {
    const key = this.d.repoKey(s);
    if (!this.busy.has(key)) return void this.run(s, reason, key);
    if (s.onLocked === 'skip') {
      this.history.push({ name: s.name, reason, outcome: 'skipped', at: this.d.clock.now() });
      this.d.log(`schedule ${s.name}: skipped (${reason}): another schedule is running on ${key}`);
      return;
    }
    this.d.log(`schedule ${s.name}: waiting for ${key} (${reason})`);
    this.waiting.set(key, [...(this.waiting.get(key) ?? []), { s, reason }]);
  }

  private async run(s: ScheduleConfig, reason: string, key: string): Promise<void> {
    this.busy.add(key);
    this.d.log(`schedule ${s.name}: ${s.action} ${s.database} (${reason})`);
    let outcome: RunOutcome;
    try {
      outcome = await this.d.execute(s, reason);
    } catch (err) {
      this.d.log(`schedule ${s.name}: ${err instanceof Error ? err.message : String(err)}`);
      outcome = 'failed';
    }
    this.history.push({ name: s.name, reason, outcome, at: this.d.clock.now() });
    this.busy.delete(key);
    if (outcome === 'locked' && s.onLocked === 'wait' && !this.stopped) {
      this.d.log(`schedule ${s.name}: repository locked by another process; retrying`);
      this.d.clock.setTimeout(() => this.trigger(s, `${reason}, retried`), this.d.lockedRetryMs ?? 30_000);
    }
    const next = this.waiting.get(key)?.shift();
    if (next && !this.stopped) this.trigger(next.s, next.reason);
  }
}
