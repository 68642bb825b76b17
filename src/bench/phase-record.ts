import { mbPerSec } from '../common/units.js';
import { median, type RunSample } from './measure.js';
import type { Measurement, Summary } from './result.js';

export function summarize(runs: RunSample[], bytes: number): Summary {
  const med = (k: 'cpuSeconds' | 'peakRssBytes' | 'gatewayCpuSeconds') => (runs.every((r) => r[k] !== null && r[k] !== undefined) ? median(runs.map((r) => r[k]!)) : null);
  const seconds = median(runs.map((r) => r.seconds));
  const gateway = runs.some((r) => 'gatewayCpuSeconds' in r) ? { gatewayCpuSeconds: med('gatewayCpuSeconds') } : {};
  return { seconds, mbPerSec: mbPerSec(bytes, seconds), cpuSeconds: med('cpuSeconds'), peakRssBytes: med('peakRssBytes'), ...gateway };
}

/** The measurement record for a phase, filled in as runs come in. */
export class Phase {
  readonly m: Measurement;
  constructor(name: string, tool: Measurement['tool'], command: string) {
    this.m = { name, tool, command, status: 'ok', bytes: 0, runs: [], median: null };
  }
  skip(reason: string): void {
    if (this.m.status === 'ok') Object.assign(this.m, { status: 'skipped', reason });
  }
  fail(err: unknown): void {
    Object.assign(this.m, { status: 'failed', reason: (err as Error).message ?? String(err) });
  }
  get ok(): boolean {
    return this.m.status === 'ok';
  }
  add(run: RunSample, bytes: number, detail?: Record<string, unknown>): void {
    this.m.runs.push({ seconds: run.seconds, cpuSeconds: run.cpuSeconds, peakRssBytes: run.peakRssBytes, ...('gatewayCpuSeconds' in run ? { gatewayCpuSeconds: run.gatewayCpuSeconds ?? null } : {}) });
    this.m.bytes = bytes;
    if (detail) this.m.detail = { ...this.m.detail, ...detail };
  }
  finish(): Measurement {
    this.m.median = this.ok && this.m.runs.length ? summarize(this.m.runs, this.m.bytes) : null;
    if (this.ok && !this.m.runs.length) Object.assign(this.m, { status: 'skipped', reason: this.m.reason ?? 'not run' });
    return this.m;
  }
}

/**
 * Phase records by name, created on first use. The report lists them in the order they were
 * first asked for, so that order is part of the result's shape.
 */
export class PhaseBook {
  private readonly byName = new Map<string, Phase>();
  constructor(private readonly defaultTool: Measurement['tool']) {}
  get(name: string, command: string, tool: Measurement['tool'] = this.defaultTool): Phase {
    if (!this.byName.has(name)) this.byName.set(name, new Phase(name, tool, command));
    return this.byName.get(name)!;
  }
  finish(): Measurement[] {
    return [...this.byName.values()].map((p) => p.finish());
  }
}
