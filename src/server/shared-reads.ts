import { apiViewer, scanRecords, viewer, type RecordScan, type Viewer } from '../engine/index.js';

/**
 * Reads many requests share: a scan of the job records and each user's viewer, kept for a moment.
 * A job writes its record at most every 250 ms, so a scan at most 200 ms old shows nothing a
 * fresh one would not; 50 clients polling /status then cost one scan, not fifty (the bench
 * measured p99 in hundreds of ms with a scan per request while a backup held both cores).
 */
const SCAN_TTL_MS = 200;
const VIEWER_TTL_MS = 2000;

export class SharedReads {
  private scan: { at: number; value: RecordScan } | undefined;
  private readonly viewers = new Map<string, { at: number; value: Viewer }>();

  constructor(
    private readonly home: string,
    private readonly now: () => number = Date.now,
  ) {}

  records(): RecordScan {
    const t = this.now();
    if (!this.scan || t - this.scan.at > SCAN_TTL_MS) this.scan = { at: t, value: scanRecords(this.home) };
    return this.scan.value;
  }

  /** After the server itself changed the records (a job submitted): the next read scans afresh. */
  invalidate(): void {
    this.scan = undefined;
  }

  /** A token user's viewer (or, without one, the server's OS user's), refreshed every 2 s. */
  viewerFor(principal: { user: string; admin: boolean } | undefined): Viewer {
    const key = principal ? `${principal.admin ? 'a' : 'u'}:${principal.user}` : '';
    const t = this.now();
    const hit = this.viewers.get(key);
    if (hit && t - hit.at <= VIEWER_TTL_MS) return hit.value;
    const value = principal ? apiViewer(this.home, principal.user, principal.admin) : viewer(this.home);
    this.viewers.set(key, { at: t, value });
    return value;
  }
}
