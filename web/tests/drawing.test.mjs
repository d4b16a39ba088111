// Drawn images in the browser (issue 18), against a real `enumera central
// serve`: a `signature` question is signed on a pad with the pointer (an
// empty pad is refused, not saved as a blank consent), an `annotate`
// question draws over a photo; both are kept through core's attach path
// and reach central's export as a PNG and a JPEG, byte for byte what the
// pad made, named in the CSV.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { enumera, launch, startCentral, tempDir, watchErrors } from './harness.mjs';
import { next, setUp, startForm, sync } from './driver.mjs';

const drawForm = {
  model_version: 1, form_id: 'web_draw', version: '1', title: 'Drawn in the browser',
  root_name: 'data', settings: {},
  children: [
    { name: 'consent', kind: { kind: 'question', type: 'image' }, row: 2, label: { default: 'Signature of the informant' }, appearance: 'signature', bind: { required: 'true()' } },
    { name: 'site', kind: { kind: 'question', type: 'image' }, row: 3, label: { default: 'Mark the latrine on the photo' }, appearance: 'annotate' },
  ],
};

/** [width, height] from a JPEG's frame header. */
function jpegSize(b) {
  for (let i = 2; i + 9 < b.length; ) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1];
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return [b.readUInt16BE(i + 7), b.readUInt16BE(i + 5)];
    }
    i += 2 + b.readUInt16BE(i + 2);
  }
  return null;
}

/** A stroke across the pad, in CSS pixels from its top left corner. */
async function scribble(page, pad, points) {
  const box = await pad.boundingBox();
  const [first, ...rest] = points;
  await page.mouse.move(box.x + first[0], box.y + first[1]);
  await page.mouse.down();
  for (const [x, y] of rest) await page.mouse.move(box.x + x, box.y + y, { steps: 4 });
  await page.mouse.up();
}

/** Saves the pad and waits for the file's name (the answer) to be shown. */
async function save(page, q) {
  await q.locator('[data-action=draw-save]').click();
  await q.locator('.q-file-name').waitFor({ timeout: 20_000 });
  return q.locator('.q-file-name').innerText();
}

test('a signature and an annotated photo are drawn, kept and exported', async () => {
  const t = tempDir('draw');
  const formPath = join(t.dir, 'web_draw.json');
  writeFileSync(formPath, JSON.stringify(drawForm));
  const central = await startCentral(t.dir, { forms: [], roster: false });
  enumera('central', '--db', central.db, 'publish', formPath);
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 360, height: 800 } });
    const errors = watchErrors(page);
    await setUp(page, central, { key: central.key });
    await sync(page, central.url);
    await startForm(page, central.url, 'web_draw');

    // The signature: an empty pad is refused; signed, it is kept.
    const consent = page.locator('.screen .q[data-ref="/data/consent"]');
    const pad = consent.locator('canvas[data-draw-pad=signature]');
    await pad.waitFor();
    assert.equal(await pad.getAttribute('aria-labelledby') !== null, true, 'the pad is labelled');
    await consent.locator('[data-action=draw-save]').click();
    assert.match(await consent.locator('.q-note-line').innerText(), /Nothing signed yet/);
    assert.equal(await consent.locator('.q-file-name').count(), 0, 'nothing kept');
    await scribble(page, pad, [[30, 150], [80, 60], [120, 140], [170, 50], [230, 150], [290, 90]]);
    // Cleared, the pad is empty again: refused again.
    await consent.locator('[data-action=draw-clear]').click();
    await consent.locator('[data-action=draw-save]').click();
    assert.match(await consent.locator('.q-note-line').innerText(), /Nothing signed yet/);
    await scribble(page, pad, [[30, 150], [80, 60], [120, 140], [170, 50], [230, 150], [290, 90]]);
    const signature = await save(page, consent);
    assert.match(signature, /^\d+\.png$/, 'named as ODK names a capture');
    // Signed again: the new drawing replaces the first.
    await consent.locator('[data-action=draw-again]').click();
    await scribble(page, consent.locator('canvas'), [[40, 40], [280, 160]]);
    const resigned = await save(page, consent);
    assert.notEqual(resigned, signature);
    await next(page);

    // Annotate: a photo under the pen, saved as a JPEG.
    const site = page.locator('.screen .q[data-ref="/data/site"]');
    const photo = Buffer.from(
      await page.evaluate(async () => {
        const c = new OffscreenCanvas(640, 480);
        const g = c.getContext('2d');
        g.fillStyle = '#7a5';
        g.fillRect(0, 0, 640, 480);
        g.fillStyle = '#963';
        g.fillRect(260, 180, 120, 160);
        const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
        return [...new Uint8Array(await blob.arrayBuffer())];
      }),
    );
    await site.locator('input[type=file]').setInputFiles({ name: 'latrine.jpg', mimeType: 'image/jpeg', buffer: photo });
    await scribble(page, site.locator('canvas[data-draw-pad=annotate]'), [[150, 60], [200, 100], [150, 140], [100, 100], [150, 60]]);
    const annotated = await save(page, site);
    assert.match(annotated, /^\d+\.jpg$/);
    await next(page);
    await page.locator('[data-screen=end]').waitFor();
    await page.locator('[data-action=finalize]').click();
    await page.locator('[data-screen=finalized]').waitFor({ timeout: 20_000 });
    await sync(page, central.url);

    // The export: the last signature (a PNG) and the annotated JPEG; the
    // replaced signature is gone.
    const out = join(t.dir, 'export');
    enumera('central', '--db', central.db, 'export', '--format', 'csv', '--out', out);
    const media = join(out, 'media');
    const files = readdirSync(media, { recursive: true }).map(String);
    const bytesOf = (name) => {
      const f = files.find((x) => x.endsWith(name));
      assert.ok(f, `${name} in media/: ${files.join(', ')}`);
      return readFileSync(join(media, f));
    };
    const png = bytesOf(resigned);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    const jpeg = bytesOf(annotated);
    assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
    assert.deepEqual(jpegSize(jpeg), [640, 480], 'the photo marked at its own size, not a thumbnail');
    assert.ok(!files.some((f) => f.endsWith(signature)), `the replaced signature is not kept: ${files.join(', ')}`);
    // Not a blank pad: a white PNG of the same size is much smaller.
    const blankSize = await page.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = 320 * (window.devicePixelRatio || 1);
      c.height = 200 * (window.devicePixelRatio || 1);
      const g = c.getContext('2d');
      g.fillStyle = '#fff';
      g.fillRect(0, 0, c.width, c.height);
      return (await new Promise((done) => c.toBlob(done, 'image/png'))).size;
    });
    assert.ok(png.length > blankSize, `the signature has strokes (${png.length} bytes, a blank pad ${blankSize})`);
    const csv = readFileSync(join(out, readdirSync(out).find((f) => /web_draw.*\.csv$/.test(f) && !/audit/.test(f))), 'utf8');
    assert.ok(csv.includes(resigned) && csv.includes(annotated), `the CSV names both: ${csv}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});
