import type { DeviceLimit } from './device-limit.js';
import type { Goal, Measurement, Ratio, SweepCell } from './result.js';

const find = (list: Measurement[], name: string) => {
  const m = list.find((x) => x.name === name);
  return m?.status === 'ok' && m.median ? m.median : null;
};

const harmonic = (a: number, b: number) => (a > 0 && b > 0 ? 1 / (1 / a + 1 / b) : 0);

/**
 * The device limit for copying from the `src` devices to the `dst` devices. When a device is on
 * both sides it must read and write the same bytes, so its limit is 1/(1/read + 1/write); when
 * they are distinct, the slower side bounds: min(Σ read of sources, Σ write of targets).
 */
export function copyLimit(limits: DeviceLimit[], src: string[], dst: string[]): number | null {
  const get = (d: string) => limits.find((l) => l.dev === d);
  const s = [...new Set(src)].map(get);
  const t = [...new Set(dst)].map(get);
  if (s.some((x) => !x) || t.some((x) => !x) || !s.length || !t.length) return null;
  const shared = s.filter((x) => t.includes(x));
  if (shared.length) return Math.min(...shared.map((x) => harmonic(x!.read.mbPerSec, x!.write.mbPerSec)));
  return Math.min(s.reduce((a, x) => a + x!.read.mbPerSec, 0), t.reduce((a, x) => a + x!.write.mbPerSec, 0));
}

export interface DeviceRoles {
  volumes: string[];
  backup: string;
}

/** chunkvault ÷ device limit and ÷ each baseline, per phase. */
export function computeRatios(phases: Measurement[], baselines: Measurement[], limits: DeviceLimit[], devs: DeviceRoles): Ratio[] {
  const out: Ratio[] = [];
  const push = (phase: string, versus: string, ours: number | null | undefined, theirs: number | null | undefined) => {
    if (ours && theirs) out.push({ phase, versus, value: Math.round((ours / theirs) * 1000) / 1000 });
  };
  const mb = (name: string) => find(phases, name)?.mbPerSec;
  const base = (name: string) => find(baselines, name)?.mbPerSec;
  const readOf = (d: string) => limits.find((l) => l.dev === d)?.read.mbPerSec ?? null;
  const volWrite = [...new Set(devs.volumes)].map((d) => limits.find((l) => l.dev === d)?.write.mbPerSec ?? 0).reduce((a, b) => a + b, 0) || null;
  push('generate', 'device', mb('generate'), volWrite);
  push('backup', 'device', mb('backup'), copyLimit(limits, devs.volumes, [devs.backup]));
  push('restore', 'device', mb('restore'), copyLimit(limits, [devs.backup], devs.volumes));
  push('check', 'device', mb('check'), readOf(devs.backup));
  for (const p of ['backup', 'restore']) {
    push(p, 'cp', mb(p), base('cp'));
    push(p, 'rsync', mb(p), base('rsync'));
    push(p, 'restic', mb(p), base(`restic-${p}`));
  }
  push('restore', 'backup', mb('restore'), mb('backup'));
  push('check', 'plain-read', mb('check'), base('plain-read'));
  return out;
}

export function computeGoals(phases: Measurement[], ratios: Ratio[]): Goal[] {
  const ratio = (phase: string, versus: string) => ratios.find((r) => r.phase === phase && r.versus === versus)?.value ?? null;
  const goal = (text: string, phase: string, versus: string, target: number): Goal => {
    const v = ratio(phase, versus);
    return { goal: text, measured: v, target, unit: 'x', met: v === null ? null : v >= target, detail: v === null ? `${phase} or ${versus} was not measured` : `${phase} MB/s ÷ ${versus} MB/s` };
  };
  const inc = phases.find((p) => p.name === 'incremental-backup-500');
  const incS = inc?.status === 'ok' ? (inc.median?.seconds ?? null) : null;
  const engineS = inc?.detail?.engineSeconds;
  return [
    goal('backup ≥ 1.0× cp -r + sync', 'backup', 'cp', 1),
    goal('backup ≥ 2× rsync -a', 'backup', 'rsync', 2),
    goal('restore ≥ 1.0× cp -r + sync', 'restore', 'cp', 1),
    goal('restore ≥ 2× rsync -a', 'restore', 'rsync', 2),
    goal('restore ≥ 0.95× backup', 'restore', 'backup', 0.95),
    goal('check ≥ 0.9× plain read', 'check', 'plain-read', 0.9),
    {
      goal: 'no-change incremental backup of 500 partitions × 3 tables < 1 s',
      measured: incS,
      target: 1,
      unit: 's',
      met: incS === null ? null : incS < 1,
      detail:
        incS === null
          ? (inc?.reason ?? 'not measured')
          : `wall clock of one backup-all of both databases, Node start-up included${typeof engineS === 'number' ? `; the engine itself reported ${engineS.toFixed(3)} s` : ''}`,
    },
  ];
}

/** Median summary of each sweep cell, ordered by workers then disk concurrency. */
export function sortSweep(cells: SweepCell[]): SweepCell[] {
  return [...cells].sort((a, b) => a.workers - b.workers || a.diskConcurrency - b.diskConcurrency);
}
