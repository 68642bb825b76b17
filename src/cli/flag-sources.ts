import fs from 'node:fs';
import type { Command, Option } from 'commander';
import { CvError, usage } from '../common/errors.js';

/**
 * Where a flag's value may come from, highest first: the command line, the environment
 * (`CHUNKVAULT_<FLAG>`: `--max-rate` is `CHUNKVAULT_MAX_RATE`), then the config file (`--config`
 * or `CHUNKVAULT_CONFIG`; its `[flags]` table, and `[flags.<command>]` for one command). Values
 * from env and file go through the same parser as the command line, so they are checked alike.
 */
const NEVER = new Set(['help', 'version', 'jobId', 'background', 'config']);

export const envName = (o: Option) => `CHUNKVAULT_${o.attributeName().replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

type Table = Record<string, unknown>;

async function readFlagsFile(file: string): Promise<{ all: Table; byCommand: Record<string, Table> }> {
  let doc: Table;
  try {
    const text = fs.readFileSync(file, 'utf8');
    // Loaded only when a config file is used: every other CLI run starts without it.
    doc = (file.endsWith('.json') ? JSON.parse(text) : (await import('smol-toml')).parse(text)) as Table;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new CvError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `cannot read config ${file}: ${code}`);
    throw usage(`config ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const flags = (doc.flags ?? {}) as Table;
  const all: Table = {};
  const byCommand: Record<string, Table> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) byCommand[k] = v as Table;
    else all[k] = v;
  }
  return { all, byCommand };
}

function setFrom(cmd: Command, o: Option, raw: unknown, source: 'env' | 'config', what: string): void {
  const key = o.attributeName();
  const values = Array.isArray(raw) ? raw.map(String) : [String(raw)];
  if (o.negate || (!o.required && !o.optional)) {
    // A boolean flag: true/1/yes sets it; false/0/no leaves it off.
    if (/^(1|true|yes)$/i.test(values[0]!)) cmd.setOptionValueWithSource(key, true, source);
    else if (!/^(0|false|no)$/i.test(values[0]!)) throw usage(`${what}: expected true or false for ${o.long}, got "${values[0]}"`);
    return;
  }
  let value: unknown = undefined;
  for (const v of values) value = o.parseArg ? o.parseArg(v, value) : v;
  cmd.setOptionValueWithSource(key, value, source);
}

/** Fills the options the command line left unset, from the environment and then the config file. */
export async function applyFlagSources(program: Command, cmd: Command, env = process.env): Promise<void> {
  const file = (program.opts() as { config?: string }).config ?? env.CHUNKVAULT_CONFIG;
  const fromFile = file ? await readFlagsFile(file) : { all: {}, byCommand: {} };
  for (const c of [program, cmd]) {
    for (const o of c.options as readonly Option[]) {
      const key = o.attributeName();
      if (NEVER.has(key) || !o.long) continue;
      const src = c.getOptionValueSource(key);
      if (src !== undefined && src !== 'default' && src !== 'implied') continue;
      const name = envName(o);
      const flag = o.long.replace(/^--/, '');
      if (env[name] !== undefined && env[name] !== '') setFrom(c, o, env[name], 'env', `environment ${name}`);
      else {
        const v = fromFile.byCommand[cmd.name()]?.[flag] ?? fromFile.all[flag];
        if (v !== undefined) setFrom(c, o, v, 'config', `config ${file} [flags] ${flag}`);
      }
    }
  }
}
