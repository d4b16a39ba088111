// Bad input and bad luck, as an enumerator meets them: storage the browser
// will not give (another tab holds it, an old browser) or little left, said
// before the first answer; a sync that fails keeps everything and says what
// happens next; a wrong token and a device central refuses get sentences a
// person can act on; a key that is not central's is refused (issue 15's
// pinning); finalizing is refused with the reasons.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { enumera, launch, launchPersistent, serve, startCentral, studySteps, tempDir, watchErrors } from './harness.mjs';
import { fill, setUp, startForm } from './driver.mjs';
import { shot } from './screens.mjs';

test('storage the browser will not give is said before the first answer', async () => {
  const t = tempDir('storage');
  const central = await startCentral(t.dir, { forms: [], roster: false });
  const context = await launchPersistent(join(t.dir, 'profile'));
  const browser = await launch();
  try {
    // Another tab of the same browser holds the device's storage.
    const first = context.pages()[0] ?? (await context.newPage());
    await first.goto(`${central.url}/app/`);
    await first.locator('[data-screen=setup]').waitFor();
    const second = await context.newPage();
    await second.goto(`${central.url}/app/`);
    const failure = second.locator('[data-storage=unavailable]');
    await failure.waitFor();
    assert.match(await failure.innerText(), /already open in another tab/);
    assert.match(await failure.innerText(), /Do not start interviews here/);
    assert.equal(await second.locator('#device-name').count(), 0, 'no set-up, no interview');
    await shot(second, 'storage');

    // A browser without OPFS sync access handles (older than Chrome 108,
    // Safari 16.4): the engine worker is served without them.
    const old = await browser.newContext({ serviceWorkers: 'block' });
    await old.route(/\/assets\/worker-[^/]*\.js$/, async (route) => {
      const r = await route.fetch();
      await route.fulfill({ response: r, body: `delete FileSystemFileHandle.prototype.createSyncAccessHandle;\n${await r.text()}` });
    });
    const page = await old.newPage();
    await page.goto(`${central.url}/app/`);
    await page.locator('[data-storage=unavailable]').waitFor();
    assert.match(await page.locator('[data-storage=unavailable]').innerText(), /does not offer the storage Enumera needs/);
    // The preview keeps nothing and still works there.
    await page.locator('a[href="#/preview"]').click();
    await page.locator('#preview-file').waitFor();

    // Little room left (a quota nearly used up, as the browser reports it).
    const full = await browser.newContext();
    await full.addInitScript(() => {
      navigator.storage.estimate = async () => ({ quota: 60 * 1024 * 1024, usage: 45 * 1024 * 1024 });
    });
    const low = await full.newPage();
    await low.goto(`${central.url}/app/`);
    await low.locator('[data-storage=low]').waitFor();
    assert.match(await low.locator('[data-storage=low]').innerText(), /15 MB/);
  } finally {
    await context.close();
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});

test('a failed sync keeps everything and says what happens next', async () => {
  const t = tempDir('sync-fails');
  let central = await startCentral(t.dir, { forms: ['capacity'] });
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    assert.ok((await setUp(page, central)).connected);
    await startForm(page, central.url, 'p2p_capacity');
    await fill(page, studySteps('capacity.refused'));
    await page.locator('[data-action=finalize]').click();
    await page.locator('[data-screen=finalized]').waitFor();

    // Central goes away.
    const port = new URL(central.url).port;
    await central.stop();
    await page.goto(`${central.url}/app/#/outbox`);
    await page.locator('[data-screen=outbox][data-loaded=yes]').waitFor();
    await page.locator('[data-action=sync]').click();
    const failed = page.locator('[data-result=failed]');
    await failed.waitFor({ timeout: 90_000 });
    const text = await failed.innerText();
    assert.match(text, /Central could not be reached/);
    assert.match(text, /Everything is kept on this device/);
    assert.match(text, /Sync again when there is a connection/);
    assert.equal(await page.locator('[data-outbox=waiting]').innerText(), '1');
    await shot(page, 'sync-failed');

    // It comes back: the same sync sends it, once.
    central = { ...central, ...(await serve(central.db, [], `127.0.0.1:${port}`)) };
    await page.locator('[data-action=sync]').click();
    await page.locator('[data-result=synced]').waitFor();
    assert.equal(await page.locator('[data-outbox=sent]').innerText(), '1');
    assert.equal(JSON.parse(enumera('central', '--db', central.db, 'status', '--json')).responses, 1);
    assert.deepEqual(errors.filter((e) => !/Failed to fetch|ERR_CONNECTION_REFUSED/.test(e)), []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});

test('a wrong token and a device central refuses get messages a person understands', async () => {
  const t = tempDir('refused');
  const central = await startCentral(t.dir, { forms: ['capacity'] });
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const wrong = await setUp(page, central, { token: 'enm_0000000000000000000000000000000000000000000000000000000000000000' });
    assert.equal(wrong.connected, false);
    assert.match(wrong.result, /Central does not accept this token/);
    assert.ok(wrong.result.includes(`enumera central token create --device ${wrong.deviceId}`), wrong.result);
    await shot(page, 'setup-refused');
    // The right token works.
    await page.locator('#token').fill(wrong.token);
    await page.locator('[data-action=connect]').click();
    await page.locator('[data-result=connected]').waitFor();
    await page.locator('[data-action=done]').click();

    await startForm(page, central.url, 'p2p_capacity');
    await fill(page, studySteps('capacity.refused'));
    await page.locator('[data-action=finalize]').click();
    await page.locator('[data-screen=finalized]').waitFor();
    // Central now accepts enrolled devices only, and this one is not.
    enumera('central', '--db', central.db, 'enrol', '--device', '7b2f8d55-0000-4000-8000-000000000001', '--key', '11'.repeat(32));
    await page.goto(`${central.url}/app/#/outbox`);
    await page.locator('[data-screen=outbox][data-loaded=yes]').waitFor();
    await page.locator('[data-action=sync]').click();
    const failed = page.locator('[data-result=failed]');
    await failed.waitFor();
    assert.match(await failed.innerText(), /Central does not accept this device/);
    assert.match(await failed.innerText(), new RegExp(`enrol device ${wrong.deviceId}`));
    assert.match(await failed.innerText(), /Everything is kept on this device/);
    assert.equal(await page.locator('[data-outbox=waiting]').innerText(), '1');
    assert.equal(JSON.parse(enumera('central', '--db', central.db, 'status', '--json')).responses, 0);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});

test("central's key: a malformed one is refused at set-up, another central's receipts are refused, the right one pinned later sends", async () => {
  const t = tempDir('central-key');
  const central = await startCentral(t.dir, { forms: ['capacity'] });
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    const bad = await setUp(page, central, { key: 'zz' });
    assert.equal(bad.connected, false);
    assert.match(bad.result, /Central's key is not right/);
    assert.match(bad.result, /64 hex digits/);
    // A well-formed key of another central: pinned, so set-up connects
    // (nothing is signed yet), and the hint says it was pinned.
    const other = 'ab'.repeat(32);
    await page.locator('#central-key').fill(other);
    await page.locator('[data-action=connect]').click();
    await page.locator('[data-result=connected]').waitFor();
    const hint = page.locator('[data-central-key]');
    assert.equal(await hint.getAttribute('data-central-key'), other);
    assert.equal(await hint.getAttribute('data-pinned'), 'true');
    await page.locator('[data-action=done]').click();

    await startForm(page, central.url, 'p2p_capacity');
    await fill(page, studySteps('capacity.refused'));
    await page.locator('[data-action=finalize]').click();
    await page.locator('[data-screen=finalized]').waitFor();
    await page.goto(`${central.url}/app/#/outbox`);
    await page.locator('[data-screen=outbox][data-loaded=yes]').waitFor();
    await page.locator('[data-action=sync]').click();
    const failed = page.locator('[data-result=failed]');
    await failed.waitFor();
    assert.match(await failed.innerText(), /Central's receipt could not be verified/);
    assert.match(await failed.innerText(), /Nothing was marked sent/);
    assert.equal(await page.locator('[data-outbox=waiting]').innerText(), '1');

    // The supervisor gives the right key: pinned over the other, the next
    // sync's receipt verifies and marks the response sent.
    await page.goto(`${central.url}/app/#/setup`);
    await page.locator('#central-key').fill(central.key);
    await page.locator('[data-action=connect]').click();
    await page.locator('[data-result=connected]').waitFor();
    assert.equal(await page.locator('[data-central-key]').getAttribute('data-central-key'), central.key);
    await page.goto(`${central.url}/app/#/outbox`);
    await page.locator('[data-screen=outbox][data-loaded=yes]').waitFor();
    await page.locator('[data-action=sync]').click();
    await page.locator('[data-result=synced]').waitFor();
    assert.equal(await page.locator('[data-outbox=sent]').innerText(), '1');
    assert.equal(JSON.parse(enumera('central', '--db', central.db, 'status', '--json')).responses, 1);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});

test('a published form this device cannot take is named with why, and the others install', async () => {
  const t = tempDir('form-refused');
  const central = await startCentral(t.dir, { forms: ['capacity', 'kii'], roster: false });
  const browser = await launch();
  try {
    // Sync calls bypass the service worker anyway; blocking it keeps them
    // visible to the route below.
    const context = await browser.newContext({ serviceWorkers: 'block' });
    // The first form's bytes arrive damaged (a proxy, a half-written file).
    let damaged = null;
    await context.route(/\/v1\/instruments\/[0-9a-f]{64}$/, async (route) => {
      if (damaged && damaged !== route.request().url()) return route.continue();
      damaged = route.request().url();
      await route.fulfill({ status: 200, contentType: 'application/json', body: '{"not": "a form"}' });
    });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const { connected, result } = await setUp(page, central);
    assert.ok(connected, result);
    assert.ok(damaged, 'the route saw the form being fetched');
    assert.match(result, /1 new form\(s\) installed/);
    assert.match(result, /Form p2p_(capacity|kii) \S+ was left out: it is not readable/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});

test('finalizing is refused with the reasons, each a way to its question', async () => {
  const t = tempDir('blocked');
  const central = await startCentral(t.dir, { forms: ['capacity'] });
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    assert.ok((await setUp(page, central)).connected);
    await startForm(page, central.url, 'p2p_capacity');
    await fill(page, studySteps('capacity.unfinished'), { stopAt: (done) => done.length >= 4 });
    // Next refuses to pass a required question left empty, with its message.
    const here = await page.locator('section.screen').getAttribute('data-anchor');
    const empty = page.locator('.screen .q').filter({ has: page.locator('.req') });
    if ((await empty.count()) && !(await page.locator('.screen .q input:checked').count())) {
      await page.locator('[data-action=next]').click();
      await page.locator('.q-issue').first().waitFor();
      assert.equal(await page.locator('section.screen').getAttribute('data-anchor'), here);
    }
    // The end, through the jump list: finalizing lists every reason.
    await page.locator('.filler-bar button', { hasText: 'Go to a question' }).click();
    await page.locator('[data-action=jump-end]').click();
    await page.locator('[data-screen=end]').waitFor();
    await page.locator('[data-action=finalize]').click();
    const blockers = page.locator('[data-blockers]');
    await blockers.waitFor();
    const n = Number(await blockers.getAttribute('data-blockers'));
    assert.ok(n >= 5, `${n} reasons`);
    assert.match(await blockers.innerText(), /requires an answer/);
    await shot(page, 'finalize-refused');
    // Each reason leads to its question.
    const first = blockers.locator('button').first();
    const ref = await first.getAttribute('data-reference');
    assert.notEqual(await first.innerText(), ref, 'the question is named by its label');
    await first.click();
    await page.locator(`.screen .q[data-ref="${ref}"]`).waitFor();
    assert.equal((await page.locator('[data-screen=finalized]').count()), 0, 'not finalized');

    // The draft is given up instead: kept on the device, never sent.
    const id = decodeURIComponent(new URL(page.url()).hash.replace('#/interview/', ''));
    await page.goto(`${central.url}/app/#/drafts`);
    page.once('dialog', (d) => void d.accept());
    await page.locator(`[data-draft="${id}"] [data-action=discard]`).click();
    await page.locator(`[data-draft="${id}"]`).waitFor({ state: 'detached' });
    await page.goto(`${central.url}/app/#/`);
    await page.waitForFunction(() => document.querySelector('[data-count=draft]')?.textContent === '0');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});
