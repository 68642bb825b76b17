import type { FastifyReply } from 'fastify';

/** The CLI's JSON rounding (docs/CLI.md "JSON output"): seconds to ms, MB/s and percentages to 0.1. */
const DECIMALS: Readonly<Record<string, number>> = { seconds: 3, mbPerSec: 1, percent: 1, percentComplete: 1 };

function replacer(key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  return typeof v === 'number' && Object.hasOwn(DECIMALS, key) ? Number(v.toFixed(DECIMALS[key])) : v;
}

/** Sends a value exactly as `chunkvault --json` prints it. */
export function sendJson(reply: FastifyReply, value: unknown, status = 200): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(value, replacer));
}
