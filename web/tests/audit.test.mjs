// The audit log in the browser (issue 17, item 4), against a real
// `enumera central serve`: a form whose audit names users, tracks changes
// with reasons and asks for locations is filled in Chromium (geolocation
// granted and set); the app asks who fills it, reports every screen shown
// and the browser's location; the response is returned by a supervisor,
// corrected in the browser, where a dialog asks for the change reason
// before finalizing; both versions reach central, and the export's
// `web_audit-audit.csv` holds the question events at their places, the
// user and the reason.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { enumera, launch, startCentral, tempDir, watchErrors } from './harness.mjs';
import { answer, next, setUp, startForm, sync } from './driver.mjs';

const auditForm = {
  model_version: 1, form_id: 'web_audit', version: '1', title: 'Audited in the browser',
  root_name: 'data', settings: {},
  children: [
    { name: 'name', kind: { kind: 'question', type: 'text' }, row: 2, label: { default: 'Site name' }, bind: { required: 'true()' } },
    { name: 'households', kind: { kind: 'question', type: 'integer' }, row: 3, label: { default: 'Households served' } },
    {
      name: 'audit', kind: { kind: 'question', type: 'audit' }, row: 4,
      parameters: {
        'track-changes': 'true', 'track-changes-reasons': 'on-form-edit', 'identify-user': 'true',
        'location-priority': 'balanced', 'location-min-interval': '1', 'location-max-age': '60',
      },
    },
  ],
};

/** Answers the two questions (the user dialog first when it shows) and reaches the end. */
async function fillIn(page, households, { mustAsk = true } = {}) {
  const user = page.locator('[data-dialog=audit-user]');
  const asked = await user.waitFor({ timeout: mustAsk ? 10_000 : 3_000 }).then(() => true, () => false);
  assert.ok(asked || !mustAsk, 'the app asks who fills the form');
  if (asked) {
    await page.locator('#audit-user').fill('Ana Matsinhe');
    await page.locator('[data-action=set-user]').click();
    await user.waitFor({ state: 'detached' });
  }
  await answer(page, page.locator('.screen .q[data-ref="/data/name"]'), 'Latrine 7');
  await page.waitForTimeout(1100);
  await next(page);
  await answer(page, page.locator('.screen .q[data-ref="/data/households"]'), households);
  await next(page);
  await page.locator('[data-screen=end]').waitFor();
}

test('an audited form filled in the browser, corrected with a reason, exports its audit', async () => {
  const t = tempDir('audit');
  const formPath = join(t.dir, 'web_audit.json');
  writeFileSync(formPath, JSON.stringify(auditForm));
  const central = await startCentral(t.dir, { forms: [], roster: false });
  enumera('central', '--db', central.db, 'publish', formPath);
  const browser = await launch();
  try {
    const context = await browser.newContext({
      permissions: ['geolocation'],
      geolocation: { latitude: -19.8436, longitude: 34.8389, accuracy: 12 },
      viewport: { width: 360, height: 800 },
    });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const { deviceId } = await setUp(page, central, { key: central.key });
    await sync(page, central.url);

    const first = await startForm(page, central.url, 'web_audit');
    await fillIn(page, '40');
    await page.locator('[data-action=finalize]').click();
    await page.locator('[data-screen=finalized]').waitFor();
    await sync(page, central.url);

    // Returned by a supervisor, reopened, corrected: the reason is asked for.
    const ana = enumera('central', '--db', central.db, 'token', 'create', '--role', 'supervisor',
      '--name', 'Ana', '--device', deviceId).trim();
    enumera('central', '--db', central.db, 'review', 'reject', first, '--token', ana,
      '--at', '/data/households=count the households again');
    await sync(page, central.url);
    await page.goto(`${central.url}/app/#/`);
    await page.locator(`[data-returned="${first}"] [data-action=reopen]`).click();
    await page.locator('section.screen').waitFor();
    await fillIn(page, '42', { mustAsk: false });
    await page.locator('[data-action=finalize]').click();
    const dialog = page.locator('[data-dialog=change-reason]');
    await dialog.waitFor();
    await page.locator('#change-reason').fill('recounted with the caretaker');
    await page.locator('[data-action=set-change-reason]').click();
    await page.locator('[data-screen=finalized]').waitFor();
    await sync(page, central.url);

    const out = join(t.dir, 'export');
    enumera('central', '--db', central.db, 'export', '--format', 'csv', '--out', out);
    const csv = readFileSync(join(out, 'web_audit-audit.csv'), 'utf8');
    const [header, ...rows] = csv.trim().split('\n');
    const cols = header.split(',');
    const at = (row, name) => row.split(',')[cols.indexOf(name)];
    const events = rows.map((r) => at(r, 'event'));
    for (const ref of ['/data/name', '/data/households']) {
      assert.ok(rows.some((r) => at(r, 'event') === 'question' && at(r, 'node') === ref), `question ${ref}: ${csv}`);
    }
    assert.ok(events.includes('form exit') || events.includes('form resume'), csv);
    assert.ok(events.includes('change reason'), csv);
    assert.match(csv, /recounted with the caretaker/);
    assert.match(csv, /Ana Matsinhe/);
    assert.ok(rows.some((r) => at(r, 'event') === 'question' && at(r, 'latitude').startsWith('-19.84')), `a location: ${csv}`);
    assert.ok(rows.some((r) => at(r, 'old-value') === '40' && at(r, 'new-value') === '42'), `the change: ${csv}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});
