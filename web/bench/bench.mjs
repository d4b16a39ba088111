// Measures the web app in Chromium and prints Markdown tables (run by
// scripts/bench-web.sh, through `cargo bench --bench web`):
//   - the engine's .wasm, as served (gzip);
//   - cold start from `enumera central serve` on localhost: a first visit
//     (nothing cached) to an interactive set-up screen, and a set-up
//     device's browser started afresh to an interactive home screen;
//   - the generated forms of benches/benches/engines.rs opened and answered
//     by Enumera's WebAssembly engine (preview, and interview committing to
//     OPFS) and by ODK Web Forms' engine, in the same Chromium.
//
//   ENUMERA_BIN=ENUMERA node bench.mjs --pages DIR --forms DIR --sizes 500,2000,5000
//
// The engine pages are served by a plain static server here, with the
// same cross-origin isolation as central (precise timers) but without
// central's Content-Security-Policy, which ODK's engine would break (it
// uses eval).

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.xml': 'application/xml', '.css': 'text/css', '.woff2': 'font/woff2', '.woff': 'font/woff' };

function staticServer(root) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = readFileSync(join(root, path));
      res.writeHead(200, {
        'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => server.close(r)) })));
}

import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath, enumera, repo, serve, tempDir } from '../tests/harness.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const sizes = (args.sizes ?? '500,2000,5000').split(',').map(Number);

const ms = (x) => (x >= 100 ? `${x.toFixed(0)} ms` : x >= 1 ? `${x.toFixed(1)} ms` : `${(x * 1000).toFixed(0)} µs`);
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

// --- size -------------------------------------------------------------------
const assets = join(repo, 'web/dist/app/assets');
const wasm = readdirSync(assets).find((f) => f.endsWith('.wasm'));
const raw = statSync(join(assets, wasm)).size;
const gz = gzipSync(readFileSync(join(assets, wasm)), { level: 9 }).length;
const js = readdirSync(assets).filter((f) => f.endsWith('.js')).reduce((n, f) => n + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);
console.log('| what | bytes | MiB | target |');
console.log('|---|---|---|---|');
console.log(`| engine .wasm, gzip (as central serves it) | ${gz} | ${(gz / 1048576).toFixed(2)} | < 1.5 |`);
console.log(`| engine .wasm, uncompressed | ${raw} | ${(raw / 1048576).toFixed(2)} | |`);
console.log(`| the app's JavaScript (page + worker), gzip | ${js} | ${(js / 1048576).toFixed(2)} | |`);
console.log();

const t = tempDir('bench');
try {
  // --- cold start -------------------------------------------------------------
  const db = join(t.dir, 'central.db');
  enumera('central', '--db', db, 'init');
  enumera('central', '--db', db, 'publish', join(repo, 'instruments/p2p-sanitation/capacity.xlsx'));
  const central = await serve(db);
  const interactive = async (page, selector) => {
    await page.waitForFunction((s) => {
      const el = document.querySelector(s);
      return el && !/…/.test(el.textContent ?? '');
    }, selector);
    return page.evaluate(() => performance.now());
  };
  const first = [];
  for (let i = 0; i < 5; i++) {
    const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    const page = await browser.newPage();
    await page.goto(`${central.url}/app/`);
    first.push(await interactive(page, '#device-name'));
    await browser.close();
  }
  const profile = join(t.dir, 'profile');
  let context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArgs });
  let page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${central.url}/app/`);
  await page.locator('#device-name').fill('bench');
  await page.locator('[data-action=create-device]').click();
  const id = await page.locator('[data-device-id]').getAttribute('data-device-id');
  await page.locator('#token').fill(enumera('central', '--db', db, 'token', 'create', '--device', id).trim());
  await page.locator('[data-action=connect]').click();
  await page.locator('[data-result=connected]').waitFor();
  await page.waitForFunction(async () => !!(await navigator.serviceWorker.ready).active);
  await context.close();
  const home = [];
  for (let i = 0; i < 10; i++) {
    context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArgs });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${central.url}/app/`);
    home.push(await interactive(page, '[data-count=draft]'));
    await context.close();
  }
  await central.stop();
  console.log('| cold start from central on localhost | median | p95 | max | target |');
  console.log('|---|---|---|---|---|');
  console.log(`| first visit, nothing cached, to the set-up screen (5 runs) | ${ms(quantile(first, 0.5))} | ${ms(quantile(first, 0.95))} | ${ms(Math.max(...first))} | |`);
  console.log(`| set-up device, browser started afresh, to the home screen (10 runs) | ${ms(quantile(home, 0.5))} | ${ms(quantile(home, 0.95))} | ${ms(Math.max(...home))} | < 1 s |`);
  console.log();

  // --- engines --------------------------------------------------------------
  const pages = args.pages;
  mkdirSync(join(pages, 'forms'), { recursive: true });
  for (const f of readdirSync(args.forms)) copyFileSync(join(args.forms, f), join(pages, 'forms', f));
  const bench = await staticServer(pages);
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  console.log('| rows | engine, in Chromium | open the form | answer to screen p50 | p95 | max | 200 answers |');
  console.log('|---|---|---|---|---|---|---|');
  for (const n of sizes) {
    const rows = [
      ['Enumera (wasm), preview', 'enumera.html', `large_${n}.json`, 'preview'],
      ['Enumera (wasm), interview (device store in OPFS)', 'enumera.html', `large_${n}.json`, 'interview'],
      ['ODK Web Forms (engine only)', 'odk.html', `large_${n}.xml`, null],
    ];
    for (const [name, file, form, mode] of rows) {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      p.setDefaultTimeout(30 * 60_000);
      await p.goto(`${bench.url}/${file}`);
      await p.waitForFunction(() => typeof window.bench === 'function');
      try {
        const r = await p.evaluate(([f, a, m]) => window.bench(f, a, m), [`forms/${form}`, `forms/answers_${n}.json`, mode]);
        const total = r.times.reduce((x, y) => x + y, 0);
        console.log(`| ${n} | ${name} | ${ms(r.open)} | ${ms(quantile(r.times, 0.5))} | ${ms(quantile(r.times, 0.95))} | ${ms(Math.max(...r.times))} | ${ms(total)} |`);
        if (r.saved) {
          const all = r.saved.reduce((x, y) => x + y, 0);
          console.log(`| ${n} | … the same answers until saved (committed to OPFS) | | ${ms(quantile(r.saved, 0.5))} | ${ms(quantile(r.saved, 0.95))} | ${ms(Math.max(...r.saved))} | ${ms(all)} |`);
        }
      } catch (e) {
        console.log(`| ${n} | ${name} | failed: ${String(e.message).split('\n')[0]} | | | | |`);
      }
      await ctx.close();
    }
  }
  await browser.close();
  await bench.stop();
} finally {
  t.cleanup();
}
