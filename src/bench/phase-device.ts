import { formatBytes } from '../common/units.js';
import type { DeviceRoles } from './analysis.js';
import type { BenchContext } from './bench-context.js';
import { devOf } from './bench-layout.js';
import { measureDevice, type DeviceLimit } from './device-limit.js';
import { dropCaches } from './measure.js';

/** Phase `device`: the raw write and read limit of every device the volumes and backups are on. */
export async function runDevicePhase(ctx: BenchContext, datasetBytes: number): Promise<{ limits: DeviceLimit[]; devs: DeviceRoles }> {
  const { layout, log } = ctx;
  const devs = { volumes: layout.volumes.map(devOf), backup: devOf(layout.backupRoot) };
  const testBytes = ctx.o.deviceTestBytes ?? Math.min(1 << 30, Math.max(64 << 20, datasetBytes));
  const devDirs = new Map<string, string>();
  layout.volumes.forEach((v, i) => devDirs.set(devs.volumes[i]!, v));
  if (!devDirs.has(devs.backup)) devDirs.set(devs.backup, layout.backupRoot);
  const limits: DeviceLimit[] = [];
  for (const [dev, dir] of devDirs) {
    dropCaches();
    const d = await measureDevice(dir, dev, testBytes);
    limits.push(d);
    log(`device ${dev} (${d.method}, ${formatBytes(d.fileBytes)}): write ${d.write.mbPerSec} MB/s, read ${d.read.mbPerSec} MB/s`);
  }
  return { limits, devs };
}
