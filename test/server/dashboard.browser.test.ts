import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateQuotes } from '../../dist/generate/generate.js';
import { ROOT } from '../helpers/cli.js';
import { rmTmp, scratchDir } from '../helpers/tmp.js';
import { call, sha256, startServer, writeConfig, type Running } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
/** Screenshots land here (kept after the run, ignored by git): CI can publish them. */
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'dashboard');
const TOKEN = 'cv_dashboard-browser-test-token-000';
const DB = 'dfs://testdb';

// Debian's chromium is needed: `apt-get install -y chromium`. Without it the test says so and skips.
describe.skipIf(!HAVE_CHROMIUM)(`the dashboard in headless chromium${HAVE_CHROMIUM ? '' : ` (skipped: ${CHROMIUM} is absent; apt-get install -y chromium)`}`, () => {
  let dir: string, home: string, bak: string, srv: Running;
  beforeAll(async () => {
    dir = scratchDir('dashboard');
    home = path.join(dir, 'home');
    bak = path.join(dir, 'bak');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await generateQuotes(home, { dates: 2, symbols: 10, rowsPerSymbol: 400, seed: 1, workers: 1 });
    const cfg = writeConfig(dir, `home = "${home}"\n[repositories]\nmain = "${bak}"\n[[tokens]]\nuser = "ops"\nadmin = true\nsha256 = "${sha256(TOKEN)}"\n[[databases]]\ndb = "${DB}"\nrepository = "main"\nmax-age-hours = 1\n`);
    srv = await startServer(['--config', cfg]);
  });
  afterAll(async () => {
    await srv?.stop();
    rmTmp(dir);
  });

  it('shows a backup started through the API with live progress, cancels it with its button, and saves screenshots', async () => {
    const { default: puppeteer } = await import('puppeteer-core');
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1100, height: 800 });
      await page.goto(srv.url + '/', { waitUntil: 'domcontentloaded' });
      await page.waitForSelector('#auth', { visible: true });
      await page.type('#token', TOKEN);
      await page.click('#save');
      // Before any backup: the database is listed with a "older than" badge.
      await page.waitForSelector(`#dbs tr[data-db="${DB}"] .badge.stale`);
      await page.screenshot({ path: path.join(ARTIFACTS, '1-no-backup.png') });

      const done = await call(srv.url, 'POST', '/backup-db', { token: TOKEN, body: { backupDir: bak, dbPath: DB } });
      for (let i = 0; i < 100 && (await call(srv.url, 'GET', `/jobs/${done.json.jobId}`, { token: TOKEN })).json.state !== 'done'; i++) await new Promise((r) => setTimeout(r, 100));

      const slow = await call(srv.url, 'POST', '/backup-db', { token: TOKEN, body: { backupDir: bak, dbPath: DB, force: true, maxRate: '20KB' } });
      const row = `#running tr[data-job="${slow.json.jobId}"]`;
      // Live progress: the job's row shows a measured rate (KB/s or MB/s), fed by /jobs/:id/events.
      await page.waitForFunction((sel) => /[KM]B\/s$/.test(document.querySelector(sel + ' .mbps')?.textContent ?? ''), { timeout: 20_000 }, row);
      const dbRow = await page.$eval(`#dbs tr[data-db="${DB}"]`, (el) => el.textContent ?? '');
      expect(dbRow).toContain('fresh');
      expect(await page.$$eval('#dbs .dot', (d) => d.length)).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: path.join(ARTIFACTS, '2-running.png') });

      // The rows are re-rendered on every event, so the button is found and clicked in one step.
      await page.$eval(`${row} button.cancel`, (b) => (b as HTMLButtonElement).click());
      await page.waitForSelector(row, { hidden: true, timeout: 20_000 });
      const rec = (await call(srv.url, 'GET', `/jobs/${slow.json.jobId}`, { token: TOKEN })).json;
      expect(rec).toMatchObject({ state: 'cancelled', errorMsg: 'cancelled by ops' });
      await page.waitForSelector('#chart rect');
      await page.screenshot({ path: path.join(ARTIFACTS, '3-cancelled.png') });
      for (const f of ['1-no-backup.png', '2-running.png', '3-cancelled.png']) expect(fs.statSync(path.join(ARTIFACTS, f)).size).toBeGreaterThan(1000);
    } finally {
      await browser.close();
    }
  });
});
