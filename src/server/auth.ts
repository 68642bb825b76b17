import { createHash, timingSafeEqual } from 'node:crypto';
import { CvError, usage } from '../common/errors.js';
import type { TokenConfig } from './config.js';

/**
 * Bearer tokens: `cv_` + 32 random bytes (base64url, made by `chunkvault server-token`), stored in
 * the config only as sha256 (a random token has all the entropy a slow hash would add).
 * Comparison is constant-time; the token itself is never logged or echoed, not even in an error.
 */
export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export interface Principal {
  user: string;
  admin: boolean;
}

/** The user a request's `Authorization: Bearer <token>` maps to, or undefined. */
export function authenticate(header: string | undefined, tokens: TokenConfig[]): Principal | undefined {
  const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '');
  if (!m) return undefined;
  const got = Buffer.from(hashToken(m[1]!), 'hex');
  let found: TokenConfig | undefined;
  for (const t of tokens) if (timingSafeEqual(got, Buffer.from(t.hash, 'hex')) && !found) found = t;
  return found ? { user: found.user, admin: found.admin } : undefined;
}

/** `host:port` → parts; IPv6 in brackets (`[::1]:7433`). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw usage(`bad --listen "${listen}": expected host:port, e.g. 127.0.0.1:7433`);
  return { host: m[1] ?? m[2]!, port };
}

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);

/** The server refuses to listen beyond loopback unless at least one token is configured. */
export function checkExposure(host: string, tokens: TokenConfig[]): void {
  if (!isLoopback(host) && tokens.length === 0)
    throw new CvError('USAGE', `refusing to listen on ${host} without a token: add [[tokens]] to the config (see "chunkvault server-token"), or listen on 127.0.0.1`);
}
