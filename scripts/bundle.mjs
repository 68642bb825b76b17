// `npm run build`'s second step: rolldown.config.mjs through rolldown's API, which prints only
// warnings and errors (its CLI lists every one of the ~130 files it writes).
import { build } from 'rolldown';
import config from '../rolldown.config.mjs';

await build(config);
