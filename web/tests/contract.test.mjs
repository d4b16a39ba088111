// The page's test contract (issue 14), as checks outside the project rely
// on it: GET /app/ is HTML; `window.enumera.runSteps` gives `form run`'s
// document; `?preview=PATH` opens that form; every question sits in a
// `data-ref` element whose control is tied to its label; and after one
// visit the app reloads with the network off. Also what central sends with
// the app: content types, caching, the security headers, gzip.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formRun, instruments, launch, startCentral, STUDY_NOW, studySteps, tempDir, watchErrors } from './harness.mjs';
import { fill, labelProblems } from './driver.mjs';

test('central serves the app under /app/ with the right headers', async () => {
  const t = tempDir('contract-http');
  const central = await startCentral(t.dir, { forms: [], roster: false });
  try {
    const page = await fetch(`${central.url}/app/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    assert.match(await page.text(), /<div id="app">/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const csp = page.headers.get('content-security-policy');
    for (const d of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "connect-src 'self'", "frame-ancestors 'none'"]) {
      assert.ok(csp.includes(d), `CSP lacks ${d}: ${csp}`);
    }
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');

    const redirect = await fetch(`${central.url}/app`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/app/');

    // The service worker lists every file of the build; each is served
    // with its type, and the hashed ones are kept for good.
    const sw = await (await fetch(`${central.url}/app/sw.js`)).text();
    const files = JSON.parse(sw.match(/const FILES = (\[.*?\]);/)[1]);
    const wasm = files.find((f) => f.endsWith('.wasm'));
    assert.ok(wasm, 'the .wasm is precached');
    const w = await fetch(`${central.url}/app/${wasm}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(w.headers.get('content-type'), 'application/wasm');
    assert.equal(w.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const bytes = new Uint8Array(await w.arrayBuffer());
    assert.deepEqual([...bytes.slice(0, 4)], [0, 0x61, 0x73, 0x6d], 'a WebAssembly module (fetch undoes the gzip)');
    const manifest = await fetch(`${central.url}/app/manifest.webmanifest`);
    assert.equal(manifest.headers.get('content-type'), 'application/manifest+json');
    assert.equal((await manifest.json()).display, 'standalone');
    assert.equal((await fetch(`${central.url}/app/../v1/instruments`)).status, 401, 'the API stays behind its token');
    assert.equal((await fetch(`${central.url}/app/no-such-file.js`)).status, 404);
  } finally {
    await central.stop();
    t.cleanup();
  }
});

test('window.enumera.runSteps gives the document `enumera form run` prints', async () => {
  const t = tempDir('contract-run');
  const central = await startCentral(t.dir, { forms: [], roster: false });
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(`${central.url}/app/`);
    await page.waitForFunction(() => typeof window.enumera?.runSteps === 'function');
    const form = join(instruments, 'capacity.xlsx');
    const stepsFile = join(instruments, 'steps/capacity.round2_bn.json');
    const web = await page.evaluate(
      ([bytes, steps, now]) => window.enumera.runSteps(new Uint8Array(bytes), 'capacity.xlsx', steps, { now, lang: 'bn' }),
      [[...readFileSync(form)], studySteps('capacity.round2_bn'), STUDY_NOW],
    );
    assert.deepEqual(web, formRun(form, stepsFile, STUDY_NOW, ['--lang', 'bn']));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});

test('?preview=PATH opens that form, each question tied to its label', async () => {
  const t = tempDir('contract-preview');
  const central = await startCentral(t.dir, { forms: [], roster: false });
  const browser = await launch();
  try {
    // The form is served by the page's own origin (intercepted here, as a
    // researcher's server would serve it); no service worker in between.
    const context = await browser.newContext({ serviceWorkers: 'block' });
    await context.route((url) => url.pathname === '/forms/capacity.xlsx', (route) =>
      route.fulfill({ body: readFileSync(join(instruments, 'capacity.xlsx')), contentType: 'application/octet-stream' }),
    );
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${central.url}/app/?preview=/forms/capacity.xlsx`);
    await page.locator('.leaves [data-leaf="/data/participant_id"]').waitFor();
    assert.match(await page.locator('.preview-form').innerText(), /p2p_capacity/);
    let screens = 0;
    await fill(page, studySteps('capacity.round2_bn'), {
      onScreen: async () => {
        screens++;
        assert.deepEqual(await labelProblems(page), []);
      },
    });
    assert.ok(screens >= 10, `${screens} screens`);
    await page.getByRole('tab', { name: 'Submission XML' }).click();
    assert.match(await page.locator('[data-panel=xml]').innerText(), /<knowledge_score>5<\/knowledge_score>/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});

test('after one visit the app reloads and works with the network off', async () => {
  const t = tempDir('contract-offline');
  const central = await startCentral(t.dir, { forms: [], roster: false });
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${central.url}/app/`);
    await page.locator('[data-screen=setup]').waitFor();
    // The service worker has stored the build and is active.
    await page.waitForFunction(async () => !!(await navigator.serviceWorker.ready).active, null, { timeout: 30_000 });
    await context.setOffline(true);
    await central.stop();
    await page.reload();
    await page.locator('[data-screen=setup]').waitFor();
    // The engine (the .wasm, from the cache) answers too.
    const form = [...readFileSync(join(instruments, 'registration.xlsx'))];
    const doc = await page.evaluate((bytes) => window.enumera.runSteps(new Uint8Array(bytes), 'registration.xlsx', [], {}), form);
    assert.equal(doc.form.id, 'p2p_registration');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});
