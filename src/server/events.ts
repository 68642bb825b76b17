import type { FastifyReply, FastifyRequest } from 'fastify';
import { getJobStatus, type JobRecord, type Viewer } from '../engine/index.js';

const TICK_MS = 250;
const KEEPALIVE_MS = 15_000;

/** What one progress event carries: the record's state, bytes and tables, plus MB/s and ETA. */
export function progressOf(r: JobRecord, now = Date.now()) {
  const secs = r.startTime ? ((r.endTime ? Date.parse(r.endTime) : now) - Date.parse(r.startTime)) / 1000 : 0;
  const bytesPerSec = secs > 0 ? Math.round(r.bytesDone / secs) : 0;
  const mbPerSec = Math.round(bytesPerSec / 1e5) / 10;
  const left = r.bytesTotal - r.bytesDone;
  const etaSeconds = r.state === 'running' && bytesPerSec > 0 && left > 0 ? Math.round(left / bytesPerSec) : null;
  return { jobId: r.jobId, type: r.type, state: r.state, bytesDone: r.bytesDone, bytesTotal: r.bytesTotal, bytesPerSec, mbPerSec, etaSeconds, maxRate: r.maxRate ?? 0, tables: r.tables, errorMsg: r.errorMsg ?? null, result: r.result ?? null };
}

/**
 * `GET /jobs/:id/events`: server-sent events. `progress` whenever the record changes (it is
 * written at most every 250 ms), then one `end` with the final state, and the stream closes.
 */
export function streamJobEvents(home: string, id: string, v: Viewer, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let last = '';
  let lastWrite = Date.now();
  let closed = false;
  const send = (event: string, data: unknown) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    lastWrite = Date.now();
  };
  const stop = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    res.end();
  };
  const tick = () => {
    if (closed) return;
    let r: JobRecord;
    try {
      r = getJobStatus(home, id, v);
    } catch (err) {
      send('error', { message: err instanceof Error ? err.message : String(err) });
      return stop();
    }
    const p = progressOf(r);
    const key = JSON.stringify({ ...p, bytesPerSec: 0, mbPerSec: 0, etaSeconds: 0 });
    if (key !== last) {
      last = key;
      send('progress', p);
    } else if (Date.now() - lastWrite > KEEPALIVE_MS) res.write(': keep-alive\n\n');
    if (r.state !== 'queued' && r.state !== 'running') {
      send('end', p);
      stop();
    }
  };
  const timer = setInterval(tick, TICK_MS);
  req.raw.on('close', stop);
  tick();
  return reply;
}
