import { randomBytes } from 'node:crypto';
import { usage } from '../../common/errors.js';

const JOB_ID_RE = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** Sortable, unguessable job ids such as 20261127T040905Z-1a2b3c4d (UTC time, random tail). */
export function newJobId(at = new Date()): string {
  return at.toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z-' + randomBytes(4).toString('hex');
}

/** A job id becomes part of file names: anything else is refused. */
export function checkJobId(id: string): string {
  if (!JOB_ID_RE.test(id)) throw usage(`bad job id "${id}": expected an id such as 20261127T040905Z-1a2b3c4d (see "chunkvault jobs")`);
  return id;
}

export const isJobId = (s: string) => JOB_ID_RE.test(s);
