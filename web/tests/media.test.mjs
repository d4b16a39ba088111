// Media in the browser (issue 18), against a real `enumera central serve`:
// a photo over the form's `max-pixels` is stored downscaled by core, the
// same bytes the CLI (a tablet's path) stores for the same photo; a file
// over the device's limit is refused with its question, name, size and
// limit shown under the question and nothing kept; a file removed from its
// answer is dropped; the form's background recording (Chromium's fake
// microphone) survives a reload mid-interview in OPFS chunks and is
// attached at finalize; all of it reaches central and the export's media/
// byte for byte.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { enumera, launch, startCentral, tempDir, watchErrors } from './harness.mjs';
import { answer, next, setUp, startForm, sync } from './driver.mjs';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** A form with a photo (max-pixels 400), a file and a background recording. */
export const mediaForm = {
  model_version: 1, form_id: 'web_media', version: '1', title: 'Media in the browser',
  root_name: 'data', settings: {},
  children: [
    { name: 'name', kind: { kind: 'question', type: 'text' }, row: 2, label: { default: 'Site name' }, bind: { required: 'true()' } },
    { name: 'photo', kind: { kind: 'question', type: 'image' }, row: 3, label: { default: 'Photo of the site' }, parameters: { 'max-pixels': '400' } },
    { name: 'doc', kind: { kind: 'question', type: 'file' }, row: 4, label: { default: 'The signed form' } },
    { name: 'rec', kind: { kind: 'question', type: 'background_audio' }, row: 5, parameters: { quality: 'low' } },
  ],
};

/** Waits until the question's note says the file is saved or refused; returns the note. */
async function attachIn(page, ref, file) {
  const q = page.locator(`.screen .q[data-ref="${ref}"]`);
  const before = Number(await page.locator('section.screen').getAttribute('data-commits'));
  await q.locator('input[type=file]').setInputFiles(file);
  await page.waitForFunction(
    ([r, n]) => {
      const el = document.querySelector(`.screen .q[data-ref="${r}"]`);
      const note = el?.querySelector('.q-note-line')?.textContent ?? '';
      return /^Not saved/.test(note) || Number(document.querySelector('section.screen')?.dataset.commits) > n;
    },
    [ref, before],
    { timeout: 20_000 },
  );
  return (await q.locator('.q-note-line').allTextContents()).join(' ');
}

test('photos are scaled as on a tablet, oversized files refused, the interview recorded', async () => {
  const t = tempDir('media');
  const formPath = join(t.dir, 'web_media.json');
  writeFileSync(formPath, JSON.stringify(mediaForm));
  const central = await startCentral(t.dir, { forms: [], roster: false });
  enumera('central', '--db', central.db, 'publish', formPath);
  const browser = await launch(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);
  try {
    const context = await browser.newContext({ permissions: ['microphone'], viewport: { width: 360, height: 800 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await setUp(page, central, { key: central.key });
    await sync(page, central.url);
    // This device keeps files up to 150 000 bytes (core's limits otherwise).
    await page.evaluate(() => localStorage.setItem('enumera.attachmentLimits', '150000 100000000'));

    // A 1200×900 JPEG made by the browser; the CLI stores it as a tablet would.
    const photo = Buffer.from(
      await page.evaluate(async () => {
        const c = new OffscreenCanvas(1200, 900);
        const g = c.getContext('2d');
        const grad = g.createLinearGradient(0, 0, 1200, 900);
        grad.addColorStop(0, '#2a6');
        grad.addColorStop(1, '#a26');
        g.fillStyle = grad;
        g.fillRect(0, 0, 1200, 900);
        g.fillStyle = '#fff';
        g.font = '120px sans-serif';
        g.fillText('latrine 7', 200, 500);
        const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
        return [...new Uint8Array(await blob.arrayBuffer())];
      }),
    );
    writeFileSync(join(t.dir, 'site.jpg'), photo);
    const tablet = join(t.dir, 'tablet.db');
    enumera('device', '--db', tablet, 'init', '--name', 'cli-tablet');
    enumera('device', '--db', tablet, 'install', formPath);
    const steps = join(t.dir, 'steps.json');
    writeFileSync(steps, JSON.stringify([{ set: '/data/name', value: 'x' }, { attach: '/data/photo', file: 'site.jpg' }]));
    const native = JSON.parse(enumera('device', '--db', tablet, 'fill', 'web_media', '--steps', steps, '--json'));
    const nativeId = native.instance_id ?? native.instanceId ?? native;
    const shown = JSON.parse(enumera('device', '--db', tablet, 'show', nativeId));
    const nativePhoto = shown.attachments.find((a) => a.name.endsWith('.jpg'));
    assert.ok(nativePhoto && nativePhoto.size < photo.length, `the CLI scaled the photo down: ${JSON.stringify(shown.attachments)}`);

    // The browser: the same photo, stored downscaled, the same bytes.
    const id = await startForm(page, central.url, 'web_media');
    await page.locator('[data-recording=recording]').waitFor({ timeout: 20_000 });
    await answer(page, page.locator('.screen .q[data-ref="/data/name"]'), 'Latrine 7');
    await next(page);
    const note = await attachIn(page, '/data/photo', { name: 'site.jpg', mimeType: 'image/jpeg', buffer: photo });
    assert.doesNotMatch(note, /Not saved/);
    const photoName = await page.locator('.screen .q[data-ref="/data/photo"] .q-file-name').innerText();
    assert.match(photoName, /^\d+\.jpg$/, 'named as ODK names a capture');
    await next(page);

    // Over the limit: refused, named, nothing kept; then a small one.
    const big = Buffer.alloc(200_000, 7);
    const refused = await attachIn(page, '/data/doc', { name: 'scan.pdf', mimeType: 'application/pdf', buffer: big });
    assert.match(refused, /scan\.pdf/);
    assert.match(refused, /\/data\/doc/);
    assert.match(refused, /200000 bytes/);
    assert.match(refused, /at most 150000 bytes/);
    assert.equal(await page.locator('.screen .q[data-ref="/data/doc"] .q-file-name').count(), 0, 'no answer kept');

    // A file attached, then removed: the answer is cleared (core drops the
    // file no answer names any more, as its store tests show), and the
    // draft never reaches central.
    const draft = Buffer.from('%PDF-1.4 draft, not to be kept');
    assert.doesNotMatch(await attachIn(page, '/data/doc', { name: 'draft.pdf', mimeType: 'application/pdf', buffer: draft }), /Not saved/);
    const doc = page.locator('.screen .q[data-ref="/data/doc"]');
    await doc.locator('.q-file-name').waitFor();
    await doc.locator('[data-action=remove-file]').click();
    await doc.locator('.q-file-name').waitFor({ state: 'detached' });

    // A reload mid-interview: the recording so far is in OPFS chunks.
    await page.waitForTimeout(2500);
    await page.reload();
    await page.locator('section.screen').waitFor();
    await page.locator('[data-recording=recording]').waitFor({ timeout: 20_000 });
    const small = Buffer.from('%PDF-1.4 signed');
    assert.doesNotMatch(await attachIn(page, '/data/doc', { name: 'signed.pdf', mimeType: 'application/pdf', buffer: small }), /Not saved/);
    await page.waitForTimeout(2500);
    await next(page);
    await page.locator('[data-screen=end]').waitFor();
    await page.locator('[data-action=finalize]').click();
    await page.locator('[data-screen=finalized]').waitFor({ timeout: 20_000 });
    await sync(page, central.url);

    // Central has it all; the export's media/ holds the same bytes.
    const out = join(t.dir, 'export');
    enumera('central', '--db', central.db, 'export', '--format', 'csv', '--out', out);
    const media = join(out, 'media');
    const files = readdirSync(media, { recursive: true }).map(String).filter((f) => !f.endsWith('/'));
    const bytesOf = (end) => {
      const f = files.find((x) => x.endsWith(end));
      assert.ok(f, `${end} in media/: ${files.join(', ')}`);
      return readFileSync(join(media, f));
    };
    assert.equal(sha256(bytesOf(photoName)), nativePhoto.sha256, 'the browser kept the bytes the CLI kept');
    assert.deepEqual(bytesOf('.pdf'), small);
    assert.equal(files.filter((f) => f.endsWith('.pdf')).length, 1, `the removed draft is not exported: ${files.join(', ')}`);
    const audio = bytesOf('.webm');
    // Two sittings, two WebM streams (EBML headers), one after the other.
    const ebml = Buffer.from([0x1a, 0x45, 0xdf, 0xa3]);
    let streams = 0;
    for (let at = audio.indexOf(ebml); at >= 0; at = audio.indexOf(ebml, at + 1)) streams++;
    assert.equal(streams, 2, `the recording before and after the reload (${audio.length} bytes)`);
    const csv = readFileSync(join(out, readdirSync(out).find((f) => /web_media.*\.csv$/.test(f) && !/audit/.test(f))), 'utf8');
    assert.ok(csv.includes(photoName) && /\.webm/.test(csv), 'the CSV names the files');
    assert.ok(id.startsWith('uuid:'));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});
