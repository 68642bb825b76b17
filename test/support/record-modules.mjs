// node --import ./test/support/record-modules.mjs: appends every module URL the process loads
// (ESM through a loader hook, CommonJS through Module._load) to $CV_MODULE_LOG, one per line.
import fs from 'node:fs';
import { register, createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const log = process.env.CV_MODULE_LOG;
if (log) {
  const hooks = `import fs from 'node:fs';
export async function load(url, ctx, next) { fs.appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, ctx); }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  const Module = createRequire(import.meta.url)('node:module');
  const orig = Module._load;
  Module._load = function (request, parent, isMain) {
    try {
      const file = Module._resolveFilename(request, parent, isMain);
      if (file.startsWith('/')) fs.appendFileSync(log, pathToFileURL(file).href + '\n');
    } catch { /* left to the real loader to report */ }
    return orig.apply(this, arguments);
  };
}
