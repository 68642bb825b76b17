import { describe, expect, it } from 'vitest';
import { applyRetention, isoWeek, parseWithin, type RetentionPolicy } from '../../dist/engine/retention.js';

/** A synthetic timeline: id -> UTC time. */
const at = (entries: Record<string, string>) => Object.entries(entries).map(([pointId, created]) => ({ pointId, created: new Date(created).toISOString() }));
const kept = (points: ReturnType<typeof at>, p: RetentionPolicy) =>
  applyRetention(points, p)
    .filter((d) => d.keep)
    .map((d) => d.pointId)
    .sort();

// The example restic's forum uses to explain --keep-daily (a1..a5, May 2023).
const MAY = at({ a1: '2023-05-01T08:00Z', a2: '2023-05-02T08:00Z', a3: '2023-05-02T11:00Z', a4: '2023-05-04T09:00Z', a5: '2023-05-05T10:00Z' });

describe('retention with restic forget semantics', () => {
  it('keep-daily n keeps the newest point of each of the last n days that have points, skipping empty days', () => {
    expect(kept(MAY, { daily: 4 })).toEqual(['a1', 'a3', 'a4', 'a5']);
  });

  it('keep-last n keeps exactly the n newest points', () => {
    expect(kept(MAY, { last: 2 })).toEqual(['a4', 'a5']);
  });

  it('keep-within is measured back from the newest point, not from now, and is exclusive at its edge', () => {
    // 3d before a5 (May 5 10:00) is May 2 10:00: a3 (11:00) is inside, a2 (08:00) is not.
    expect(kept(MAY, { within: '3d' })).toEqual(['a3', 'a4', 'a5']);
    expect(kept(at({ x: '2023-05-02T10:00Z', y: '2023-05-05T10:00Z' }), { within: '3d' })).toEqual(['y']);
  });

  it('keep-hourly keeps one point per hour for the last n hours that have points', () => {
    const pts = at({ h1: '2024-01-01T10:05Z', h2: '2024-01-01T10:55Z', h3: '2024-01-01T11:10Z', h4: '2024-01-01T13:00Z' });
    expect(kept(pts, { hourly: 2 })).toEqual(['h3', 'h4']);
    expect(kept(pts, { hourly: 3 })).toEqual(['h2', 'h3', 'h4']);
  });

  it('keep-weekly buckets by ISO week, so Sunday and the following Monday are different weeks', () => {
    expect(isoWeek(new Date('2024-12-30T00:00Z'))).toEqual({ year: 2025, week: 1 });
    expect(isoWeek(new Date('2021-01-03T00:00Z'))).toEqual({ year: 2020, week: 53 });
    const pts = at({ sun: '2024-01-07T12:00Z', mon: '2024-01-08T12:00Z', tue: '2024-01-09T12:00Z' });
    expect(kept(pts, { weekly: 2 })).toEqual(['sun', 'tue']);
  });

  it('keep-monthly and keep-yearly keep the newest point of each month and year', () => {
    const pts = at({ j1: '2022-01-10T00:00Z', j2: '2022-01-20T00:00Z', f1: '2022-02-01T00:00Z', d23: '2023-12-31T23:00Z', m24: '2024-03-01T00:00Z' });
    expect(kept(pts, { monthly: 3 })).toEqual(['d23', 'f1', 'm24']);
    expect(kept(pts, { yearly: 10 })).toEqual(['d23', 'f1', 'm24']);
  });

  it('rules combine as a union, and every rule that keeps a point is named as a reason', () => {
    const d = applyRetention(MAY, { last: 1, daily: 2 });
    expect(d[0]).toMatchObject({ pointId: 'a5', keep: true, reasons: ['last snapshot', 'daily snapshot'] });
    expect(d[1]).toMatchObject({ pointId: 'a4', keep: true, reasons: ['daily snapshot'] });
    expect(d.find((x) => x.pointId === 'a1')).toMatchObject({ keep: false, reasons: ['no rule keeps it'] });
  });

  it('a daily policy over a year of hourly points keeps one point per day for n days (a synthetic timeline)', () => {
    const pts = Array.from({ length: 24 * 365 }, (_, i) => ({ pointId: `p${String(i).padStart(5, '0')}`, created: new Date(Date.UTC(2025, 0, 1) + i * 3600_000).toISOString() }));
    const d = applyRetention(pts, { daily: 7, weekly: 4, monthly: 12 });
    const keep = d.filter((x) => x.keep);
    // 7 dailies (the 23:00 point of the last 7 days); weeks and months add their newest points.
    expect(keep.filter((x) => x.reasons.includes('daily snapshot')).map((x) => x.created.slice(11, 13))).toEqual(Array(7).fill('23'));
    expect(keep.filter((x) => x.reasons.includes('weekly snapshot'))).toHaveLength(4);
    expect(keep.filter((x) => x.reasons.includes('monthly snapshot'))).toHaveLength(12);
    expect(keep.length).toBeLessThan(7 + 4 + 12);
  });

  it('unlimited (-1) keeps one point per bucket for every bucket', () => {
    expect(kept(MAY, { daily: -1 })).toEqual(['a1', 'a3', 'a4', 'a5']);
  });

  it('refuses an empty policy, a zero count and a duration restic would not take', () => {
    expect(() => applyRetention(MAY, {})).toThrow(/no retention policy/);
    expect(() => applyRetention(MAY, { daily: 0 })).toThrow(/--keep-daily must be/);
    expect(() => parseWithin('2w')).toThrow(/bad duration/);
    expect(parseWithin('1y5m7d2h')).toEqual({ y: 1, m: 5, d: 7, h: 2 });
  });
});
