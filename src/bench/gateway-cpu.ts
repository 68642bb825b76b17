import fs from 'node:fs';

/**
 * CPU taken by an S3 gateway on this host: radosgw and ceph-osd (scripts/ceph-s3.sh's cluster,
 * or any Ceph on the machine), read from /proc around each timed command. On 2 cores the gateway
 * competes with the client, so the S3 phases report both. A remote endpoint has no processes
 * here and the figure is null.
 */
const GATEWAY_COMMS = new Set(['radosgw', 'ceph-osd']);
let pids: number[] = [];

/** Looks the gateway's processes up; how many there are (0: not on this host, nothing measured). */
export function watchGateway(): number {
  pids = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (GATEWAY_COMMS.has(fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim())) pids.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids.length;
}

export function stopWatchingGateway(): void {
  pids = [];
}

/** User + system CPU seconds of the watched processes so far, or null when none is watched. */
export function gatewayCpu(): number | null {
  if (!pids.length) return null;
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      return null; // a daemon restarted: its CPU so far is unknown
    }
  }
  return ticks / 100; // USER_HZ
}

/** The gateway CPU a command took: call before it, call the result after it. */
export function gatewayMeter(): () => number | null {
  const g0 = gatewayCpu();
  return () => {
    const g1 = g0 === null ? null : gatewayCpu();
    return g0 === null || g1 === null ? null : Math.round((g1 - g0) * 100) / 100;
  };
}
