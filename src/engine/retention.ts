import { usage } from '../common/errors.js';

/**
 * Retention with restic's `forget --keep-*` semantics (restic internal/restic/snapshot_policy.go):
 *
 * - points are walked newest first;
 * - `last n` keeps the n newest points;
 * - `hourly/daily/weekly/monthly/yearly n`: for the last n hours (days, ISO weeks, months, years)
 *   that have one or more points, keeps the newest point of each; -1 means unlimited;
 * - `within` keeps every point newer than the duration before the *newest point* (not now);
 * - a point is kept when any rule keeps it; every rule that keeps it is given as a reason.
 *
 * Buckets are taken in UTC (restic uses the snapshot's own time zone); a point's time is its
 * manifest's `created`.
 */
export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** A duration such as `1y5m7d2h` (y years, m months, d days, h hours), as restic takes it. */
  within?: string;
}

export interface RetentionInput {
  pointId: string;
  /** ISO 8601 time the point was created. */
  created: string;
}

export interface RetentionDecision {
  pointId: string;
  created: string;
  keep: boolean;
  /** Why it is kept (`last snapshot`, `daily snapshot`, `within 2d`), or why it goes. */
  reasons: string[];
}

type Rule = 'last' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';
const RULES: Rule[] = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'];
const REASON: Record<Rule, string> = { last: 'last snapshot', hourly: 'hourly snapshot', daily: 'daily snapshot', weekly: 'weekly snapshot', monthly: 'monthly snapshot', yearly: 'yearly snapshot' };

/** ISO 8601 week number and its year (the week with the year's first Thursday is week 1). */
export function isoWeek(d: Date): { year: number; week: number } {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day); // the Thursday of this week decides its year
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  return { year: t.getUTCFullYear(), week: Math.ceil(((t.getTime() - yearStart) / 86400000 + 1) / 7) };
}

function bucketOf(rule: Rule, d: Date, index: number): string {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  switch (rule) {
    case 'last':
      return `#${index}`;
    case 'hourly':
      return `${y}-${m}-${d.getUTCDate()}T${d.getUTCHours()}`;
    case 'daily':
      return `${y}-${m}-${d.getUTCDate()}`;
    case 'weekly': {
      const w = isoWeek(d);
      return `${w.year}W${w.week}`;
    }
    case 'monthly':
      return `${y}-${m}`;
    case 'yearly':
      return `${y}`;
  }
}

/** Parses restic's duration (`1y5m7d2h`; m is months) into its parts. */
export function parseWithin(text: string): { y: number; m: number; d: number; h: number } {
  const s = text.trim();
  if (!/^(\d+[ymdh])+$/.test(s)) throw usage(`bad duration "${text}": expected e.g. 7d, 2w is not accepted; use y, m (months), d and h, as restic: 1y5m7d2h`);
  const out = { y: 0, m: 0, d: 0, h: 0 };
  for (const [, n, unit] of s.matchAll(/(\d+)([ymdh])/g)) out[unit as 'y' | 'm' | 'd' | 'h'] += Number(n);
  return out;
}

/** The instant `within` before `latest`: calendar arithmetic for years, months and days (UTC). */
function withinCutoff(latest: Date, within: string): number {
  const w = parseWithin(within);
  const c = new Date(latest.getTime());
  c.setUTCFullYear(c.getUTCFullYear() - w.y, c.getUTCMonth() - w.m, c.getUTCDate() - w.d);
  return c.getTime() - w.h * 3600_000;
}

/** Refuses counts that are not integers >= 1 (or -1, unlimited) and a policy that keeps nothing. */
export function checkPolicy(p: RetentionPolicy): RetentionPolicy {
  for (const r of RULES) {
    const n = p[r];
    if (n === undefined) continue;
    if (!Number.isInteger(n) || (n < 1 && n !== -1)) throw usage(`--keep-${r} must be an integer >= 1 (or "unlimited"), got ${String(n)}`);
  }
  if (p.within !== undefined) parseWithin(p.within);
  if (!RULES.some((r) => p[r] !== undefined) && p.within === undefined)
    throw usage('no retention policy: give at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly, --keep-within');
  return p;
}

/** Decides, for every point, whether the policy keeps it and why. Returned newest first. */
export function applyRetention(points: RetentionInput[], policy: RetentionPolicy): RetentionDecision[] {
  checkPolicy(policy);
  const sorted = [...points].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : a.pointId < b.pointId ? 1 : -1));
  const left = new Map<Rule, number>();
  const lastBucket = new Map<Rule, string>();
  for (const r of RULES) if (policy[r] !== undefined) left.set(r, policy[r]!);
  const newest = sorted[0] ? new Date(sorted[0].created) : undefined;
  const cutoff = newest && policy.within !== undefined ? withinCutoff(newest, policy.within) : undefined;
  return sorted.map((p, index) => {
    const when = new Date(p.created);
    const reasons: string[] = [];
    for (const [rule, n] of left) {
      if (n === 0) continue;
      const b = bucketOf(rule, when, index);
      if (b === lastBucket.get(rule)) continue;
      lastBucket.set(rule, b);
      if (n > 0) left.set(rule, n - 1);
      reasons.push(REASON[rule]);
    }
    if (cutoff !== undefined && when.getTime() > cutoff) reasons.push(`within ${policy.within}`);
    return { pointId: p.pointId, created: p.created, keep: reasons.length > 0, reasons: reasons.length ? reasons : ['no rule keeps it'] };
  });
}

/** `unlimited` (restic's word) is -1; anything else must be a positive integer. */
export function parseKeepCount(name: string, text: string): number {
  if (/^unlimited$/i.test(text.trim())) return -1;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw usage(`${name} must be an integer >= 1 or "unlimited", got "${text}"`);
  return n;
}
