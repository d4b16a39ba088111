// Every question type the engine supports, drawn with the widget people
// expect and answered through it: text and multiline, numbers, date, time,
// date and time, selects plain and with the minimal, likert, horizontal,
// columns and autocomplete appearances, range, note, acknowledge, rank,
// geopoint, barcode, image, a field-list group and a repeat. The answers
// given through the widgets end as the native engine's `form run` of the
// same script: value for value.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formRun, launch, startCentral, tempDir, watchErrors } from './harness.mjs';
import { fill, labelProblems } from './driver.mjs';
import { shot } from './screens.mjs';

test('every widget answers as the engine expects', async (ctx) => {
  const fixtures = process.env.ENUMERA_WEB_FIXTURES;
  const form = fixtures && join(fixtures, 'widgets.xlsx');
  if (!form || !existsSync(form)) {
    ctx.skip('ENUMERA_WEB_FIXTURES has no widgets.xlsx (scripts/test-web.sh writes it)');
    return;
  }
  const stepsFile = join(fixtures, 'widgets.all.json');
  const steps = JSON.parse(readFileSync(stepsFile, 'utf8'));
  const t = tempDir('widgets');
  const central = await startCentral(t.dir, { forms: [], roster: false });
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(`${central.url}/app/#/preview`);
    await page.locator('#preview-file').setInputFiles(form);
    await page.locator('.leaves [data-leaf="/data/name"]').waitFor();
    const seen = new Map();
    await fill(page, steps, {
      onScreen: async (i) => {
        assert.deepEqual(await labelProblems(page), [], `screen ${i}`);
        for (const q of await page.locator('.screen .q[data-ref]').all()) {
          seen.set(await q.getAttribute('data-type'), await q.getAttribute('data-appearance'));
        }
        if ((await page.locator('.screen .q[data-type=rank]').count()) > 0) await shot(page, 'widgets-rank', '.preview-form');
        if ((await page.locator('.screen .q[data-appearance=likert]').count()) > 0) await shot(page, 'widgets-likert', '.preview-form');
        // The image question takes a photo from the browser's file input.
        const photo = page.locator('.screen .q[data-type=image] input[type=file]');
        if (await photo.count()) {
          await photo.setInputFiles({ name: 'door.png', mimeType: 'image/png', buffer: Buffer.from('89504e470d0a1a0a', 'hex') });
          await page.waitForFunction(() => document.querySelector('.leaves [data-leaf="/data/photo"] [data-col=value]')?.textContent === 'door.png');
        }
      },
    });
    for (const type of ['text', 'integer', 'decimal', 'date', 'time', 'date_time', 'select_one', 'select_multiple', 'range', 'note', 'acknowledge', 'rank', 'geopoint', 'barcode', 'image']) {
      assert.ok(seen.has(type), `a ${type} question was shown`);
    }
    // The note shows its answers filled in.
    const native = formRun(form, stepsFile);
    const shown = await page.locator('.leaves tbody tr').evaluateAll((rows) =>
      Object.fromEntries(rows.map((r) => [r.dataset.leaf, r.querySelector('[data-col=value]')?.textContent ?? ''])),
    );
    let compared = 0;
    for (const leaf of native.leaves) {
      if (leaf.type === 'meta' || /\/(start|end|today|deviceid|username|instanceID)$/.test(leaf.ref) || leaf.ref === '/data/photo') continue;
      assert.equal(shown[leaf.ref], leaf.value, `${leaf.ref}: the widgets gave what the script gives`);
      compared++;
    }
    assert.ok(compared >= 25, `${compared} values compared`);
    assert.equal(shown['/data/photo'], 'door.png');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});
