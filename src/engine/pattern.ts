import { usage } from '../common/errors.js';

/**
 * DolphinDB's restore/checkBackup partition pattern over paths that include the database name,
 * e.g. "/testdb/Key3/tp/20120101": `%` matches any run of characters, `?` exactly one.
 */
export interface PartitionPattern {
  text: string;
  matches(dbName: string, partitionPath: string): boolean;
  /** True for "%": restore's snapshot rule (delete target partitions absent from the backup) applies. */
  all: boolean;
}

const ALLOWED = /^[A-Za-z0-9_.%?/-]+$/;

export function parsePattern(text: string): PartitionPattern {
  if (!text || !ALLOWED.test(text) || text.includes('..') || !/^[/%?]/.test(text) || text.includes('//'))
    throw usage(`bad partition pattern "${text}": use a path that includes the database name, with % (any run) and ? (one character), e.g. %/Key4/tp/% or /testdb/Key3/tp/20120101`);
  const re = new RegExp('^' + text.replace(/[.\\/-]/g, (c) => '\\' + c).replace(/%/g, '.*').replace(/\?/g, '.') + '$');
  return { text, all: /^%+$/.test(text), matches: (db, p) => re.test(`/${db}${p}`) };
}
