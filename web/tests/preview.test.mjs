// The researcher's preview: an XLSForm dropped on the page is filled at
// once, with every question's state and the submission XML beside it, in
// each of the form's languages; a form with mistakes lists each with its
// sheet and cell; the step-script tool runs `form run`'s scripts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { instruments, launch, startCentral, STUDY_NOW, tempDir, watchErrors } from './harness.mjs';
import { answer, labelProblems, setLanguage } from './driver.mjs';
import { shot } from './screens.mjs';

test('a dropped XLSForm is filled at once, its states and submission beside it, in every language', async () => {
  const t = tempDir('preview');
  const central = await startCentral(t.dir, { forms: [], roster: false });
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${central.url}/app/#/preview`);
    await page.locator('#preview-file').setInputFiles(join(instruments, 'capacity.xlsx'));
    await page.locator('.leaves [data-leaf="/data/participant_id"]').waitFor();

    // An answer breaking the ID format: the message at the question and in the panel.
    const id = page.locator('.screen .q[data-ref="/data/participant_id"]');
    await answer(page, id, 'Maria');
    await page.locator('.q-issue').waitFor();
    // The panel redraws after the screen does (both from the same reply):
    // wait for it rather than read it in between.
    await page.waitForFunction(() => document.querySelector('.leaves [data-leaf="/data/participant_id"] [data-col=value]')?.textContent === 'Maria');
    const row = page.locator('.leaves [data-leaf="/data/participant_id"]');
    assert.equal(await row.locator('[data-col=value]').innerText(), 'Maria');
    assert.notEqual(await row.locator('[data-col=constraint]').innerText(), 'ok');
    await answer(page, id, 'MZ-0042');
    await page.waitForFunction(() => document.querySelector('.leaves [data-leaf="/data/participant_id"] [data-col=constraint]')?.textContent === 'ok');
    assert.deepEqual(await labelProblems(page), []);

    // Each language renders: the consent screen's labels change script.
    const label = () => page.locator('.screen .q-label').first().innerText();
    await setLanguage(page, 'Portuguese (pt)');
    await page.waitForFunction(() => /[ãçõéí]/i.test(document.querySelector('.screen')?.textContent ?? ''));
    const pt = await label();
    await setLanguage(page, 'Bengali (bn)');
    await page.waitForFunction(() => /[\u0980-\u09FF]/.test(document.querySelector('.screen .q-label')?.textContent ?? ''));
    await shot(page, 'preview');
    await setLanguage(page, 'English (en)');
    await page.waitForFunction(() => /^[\x20-\x7E\n*–—’']+$/.test(document.querySelector('.screen .q-label')?.textContent ?? ''));
    assert.notEqual(await label(), pt);

    await page.getByRole('tab', { name: 'Submission XML' }).click();
    assert.match(await page.locator('[data-panel=xml]').innerText(), /<participant_id>MZ-0042<\/participant_id>/);

    // The step-script tool: `form run`'s scripts, on this form.
    await page.getByRole('tab', { name: 'Run a step script' }).click();
    await page.locator('#steps-script').fill(readFileSync(join(instruments, 'steps/capacity.round2_bn.json'), 'utf8'));
    await page.locator('#steps-now').fill(STUDY_NOW);
    await page.locator('[data-panel=steps] button').click();
    await page.locator('.steps-out').waitFor();
    assert.match(await page.locator('.steps-out').innerText(), /^33 of 33 steps applied/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});

test('a form with mistakes lists every one with its sheet and cell', async (ctx) => {
  const fixtures = process.env.ENUMERA_WEB_FIXTURES;
  const broken = fixtures && join(fixtures, 'broken_form.xlsx');
  if (!broken || !existsSync(broken)) {
    ctx.skip('ENUMERA_WEB_FIXTURES has no broken_form.xlsx (scripts/test-web.sh writes it)');
    return;
  }
  const t = tempDir('preview-errors');
  const central = await startCentral(t.dir, { forms: [], roster: false });
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(`${central.url}/app/#/preview`);
    await page.locator('#preview-file').setInputFiles(broken);
    await page.locator('[data-diagnostics]').waitFor();
    const rows = await page.locator('[data-diagnostic=error]').evaluateAll((trs) =>
      trs.map((tr) => `${tr.getAttribute('data-location')} ${tr.textContent}`),
    );
    assert.equal(rows.length, 2, rows.join('\n'));
    assert.ok(rows.some((r) => r.startsWith('survey!D3') && r.includes('${agee}') && r.includes('${age}')), rows.join('\n'));
    assert.ok(rows.some((r) => r.startsWith('survey!A4') && r.includes('nolist')), rows.join('\n'));
    assert.equal(await page.locator('.preview-form').count(), 0, 'nothing to fill');
    await shot(page, 'preview-errors');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});
