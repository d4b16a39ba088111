// A field day in the browser, against a real `enumera central serve`: the
// device is set up from the supervisor's QR code (central's address, the
// device's token and central's key);
// the study's instruments are filled through the app's screens in Bengali,
// Portuguese and English (the step scripts of instruments/p2p-sanitation,
// answered widget by widget); mid-interview the network goes off and the
// page is reloaded (every answer is there); mid-answer the browser is
// closed and opened again (nothing acknowledged is lost); the interviews
// are finalized offline, one of them sealed to the researcher's key; back
// online, one sync: central holds exactly those responses with the same
// values as the native engine gives, the sealed one unread, and the
// receipt marks them sent on the device. And an answer says Saved only
// once the engine's commit has answered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { enumera, formRun, instruments, launch, launchPersistent, startCentral, STUDY_NOW, studySteps, tempDir, watchErrors } from './harness.mjs';
import { answer, fill, labelProblems, plan, readBack, setUp, startForm } from './driver.mjs';
import { PHONE, shot } from './screens.mjs';
import QRCode from 'qrcode';

async function open(profile) {
  const context = await launchPersistent(profile, { viewport: PHONE });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, errors: watchErrors(page) };
}

/** Starts `formId` from the "New interview" screen (for `participant`, round `round`). */
async function start(page, url, formId, { participant, round } = {}) {
  await page.goto(`${url}/app/#/start${participant ? `?participant=${participant}` : ''}`);
  await page.locator(`#form-${formId}`).check();
  if (participant) assert.equal(await page.locator('#participant').inputValue(), participant);
  if (round) await page.locator('#round').selectOption(String(round));
  await page.locator('[data-action=start]').click();
  await page.locator('section.screen').waitFor();
  return decodeURIComponent(new URL(page.url()).hash.replace('#/interview/', ''));
}

/** Every answer made so far is what the app shows, read going back screen by screen. */
async function assertAnswersShown(page, steps, refs) {
  const { values } = plan(steps);
  const seen = await readBack(page);
  for (const ref of refs) {
    assert.equal(seen.get(ref), values.get(ref), `${ref} after the reload`);
  }
}

async function finalize(page) {
  await page.locator('[data-action=finalize]').click();
  await page.locator('[data-screen=finalized]').waitFor();
}

/** The value at an ODK reference (`/data/g/r[2]/q`) in an exported document's `data`. */
function valueAt(data, ref) {
  let cur = data;
  for (const step of ref.split('/').slice(2)) {
    const m = step.match(/^(.*)\[(\d+)\]$/);
    cur = cur?.[m ? m[1] : step];
    if (Array.isArray(cur)) cur = cur[m ? Number(m[2]) - 1 : 0];
  }
  return cur;
}

test('a field day: three languages, offline, a reload and a closed browser, one sync', async () => {
  const t = tempDir('field');
  const central = await startCentral(t.dir);
  const profile = join(t.dir, 'profile');
  let { context, page, errors } = await open(profile);
  try {
    // Set-up: the device makes its identity; the supervisor makes its token.
    await page.goto(`${central.url}/app/`);
    await page.locator('#device-name').fill('browser-tablet-3');
    await page.locator('#enumerator-id').fill('enum-12');
    await page.locator('[data-action=create-device]').click();
    const deviceId = await page.locator('[data-device-id]').getAttribute('data-device-id');
    // The supervisor shows a set-up code; the enumerator photographs it.
    const token = enumera('central', '--db', central.db, 'token', 'create', '--device', deviceId).trim();
    const code = join(t.dir, 'enrol.png');
    await QRCode.toFile(code, `enumera:enrol?server=${encodeURIComponent(central.url)}&token=${token}&key=${central.key}`, { width: 480 });
    await page.locator('#scan').setInputFiles(code);
    await page.waitForFunction((tk) => document.querySelector('#token')?.value === tk, token);
    assert.equal(await page.locator('#central-key').inputValue(), central.key);
    assert.equal(await page.locator('#server').inputValue(), central.url);
    await shot(page, 'setup');
    await page.locator('[data-action=connect]').click();
    await page.locator('[data-result=connected]').waitFor();
    assert.match(await page.locator('[data-result]').innerText(), /6 new form\(s\) installed.*3 participant/s);
    // The code's key is pinned (trustCentral), not learned from a receipt.
    assert.equal(await page.locator('[data-central-key]').getAttribute('data-central-key'), central.key);
    assert.equal(await page.locator('[data-central-key]').getAttribute('data-pinned'), 'true');
    await page.locator('[data-action=done]').click();
    await page.locator('[data-screen=home]').waitFor();
    await shot(page, 'home');

    // 1. Bengali, from the roster, with a reload offline in the middle.
    await page.goto(`${central.url}/app/#/participants`);
    await page.locator('[data-participant=BD-0113]').waitFor();
    await shot(page, 'participants');
    const bnSteps = studySteps('capacity.round2_bn');
    const bn = await start(page, central.url, 'p2p_capacity', { participant: 'BD-0113', round: 2 });
    const half = await fill(page, bnSteps, {
      stopAt: (done) => done.length >= 14,
      onScreen: async (i) => {
        assert.deepEqual(await labelProblems(page), [], `screen ${i}`);
        if (i === 9) await shot(page, 'interview-bn');
      },
    });
    assert.match(await page.locator('.screen').innerText(), /[\u0980-\u09FF]/, 'Bengali labels');
    await context.setOffline(true);
    await page.reload();
    await page.locator('section.screen').waitFor();
    await assertAnswersShown(page, bnSteps, half);
    await fill(page, bnSteps, { onScreen: async () => assert.deepEqual(await labelProblems(page), []) });
    await shot(page, 'end');
    await finalize(page);

    // 2. Portuguese, sealed: the browser is closed in the middle of an answer.
    const ptSteps = studySteps('capacity_sealed.baseline_pt');
    const pt = await start(page, central.url, 'p2p_capacity_sealed');
    // The browser is closed milliseconds after the app confirmed the last
    // answer (a reply sent before the commit, or a commit left for later,
    // loses it), with the next answer given and not yet confirmed.
    const { values: ptValues } = plan(ptSteps);
    const acknowledged = await fill(page, ptSteps, { stopAt: (done) => done.length >= 13 });
    const ptText = await page.locator('.screen').innerText();
    assert.match(ptText, /município|capacidade|[ãçõê]/i, `Portuguese labels: ${ptText}`);
    const from = await page.locator('section.screen').getAttribute('data-anchor');
    await page.locator('[data-action=next]').click();
    await page.waitForFunction((a) => document.querySelector('section.screen')?.dataset.anchor !== a, from);
    let typed = null;
    for (const q of await page.locator('.screen .q[data-ref]').all()) {
      const ref = await q.getAttribute('data-ref');
      if (acknowledged.includes(ref) || !ptValues.has(ref)) continue;
      await answer(page, q, ptValues.get(ref), { wait: false });
      typed = ref;
      break;
    }
    assert.ok(typed, 'an answer given as the browser closes');
    await context.close();
    ({ context, page, errors } = await open(profile));
    await context.setOffline(true);
    await page.goto(`${central.url}/app/#/drafts`);
    await page.locator(`[data-draft="${pt}"] [data-action=resume]`).click();
    await page.locator('section.screen').waitFor();
    await assertAnswersShown(page, ptSteps, acknowledged);
    await fill(page, ptSteps);
    await finalize(page);

    // 3. English, with a repeat of three practice changes, offline.
    const enSteps = studySteps('practice_followup.quelimane_round3');
    const en = await start(page, central.url, 'p2p_practice_followup');
    let repeatShot = false;
    await fill(page, enSteps, {
      onScreen: async () => {
        if (!repeatShot && (await page.locator('.add-repeat').count())) {
          repeatShot = true;
          await shot(page, 'repeat');
        }
      },
    });
    assert.ok(repeatShot, 'the "add another?" screen was shown');
    await finalize(page);

    // Back online: one sync.
    await page.goto(`${central.url}/app/#/outbox`);
    await page.locator('[data-screen=outbox][data-loaded=yes]').waitFor();
    assert.equal(await page.locator('[data-outbox=waiting]').innerText(), '3');
    await context.setOffline(false);
    await page.locator('[data-action=sync]').click();
    await page.locator('[data-result=synced]').waitFor();
    assert.match(await page.locator('[data-result]').innerText(), /3 response\(s\) sent and confirmed/);
    await shot(page, 'outbox');
    assert.equal(await page.locator('[data-outbox=waiting]').innerText(), '0');
    assert.equal(await page.locator('[data-outbox=sent]').innerText(), '3');
    for (const id of [bn, pt, en]) assert.equal(await page.locator(`[data-response="${id}"]`).getAttribute('data-state'), 'sent');

    // Central holds exactly those three, the sealed one unread.
    const status = JSON.parse(enumera('central', '--db', central.db, 'status', '--json'));
    assert.equal(status.responses, 3);
    assert.equal(status.sealed, 1);
    const out = join(t.dir, 'export');
    enumera('central', '--db', central.db, 'export', '--format', 'json', '--out', out);
    const docs = readdirSync(out)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(join(out, f), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)));
    const ids = JSON.stringify(docs).match(/uuid:[0-9a-f-]{36}/g) ?? [];
    assert.ok(ids.includes(bn) && ids.includes(en), 'both open responses exported');
    assert.ok(!ids.includes(pt), 'the sealed response is not readable without the key');
    // ... and opened with the researcher's identity, all three, with the
    // values the native engine gives for the same script.
    const opened = join(t.dir, 'opened');
    enumera('central', '--db', central.db, 'export', '--format', 'json', '--out', opened, '--include-pii', '--identity', join(instruments, 'test-keys/researcher.agekey'));
    const all = readdirSync(opened)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(join(opened, f), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)));
    for (const [id, form, steps] of [
      [bn, 'capacity', 'capacity.round2_bn'],
      [pt, 'capacity_sealed', 'capacity_sealed.baseline_pt'],
      [en, 'practice_followup', 'practice_followup.quelimane_round3'],
    ]) {
      const doc = all.find((d) => d.KEY === id);
      assert.ok(doc, `${id} (${form}) exported`);
      const native = formRun(join(instruments, `${form}.xlsx`), join(instruments, 'steps', `${steps}.json`), STUDY_NOW);
      let compared = 0;
      for (const leaf of native.leaves) {
        // The clock and the device differ by design; the rest is the answers.
        if (!leaf.relevant || !leaf.value || leaf.type === 'meta' || /\/(start|end|today|deviceid|username)$/.test(leaf.ref)) continue;
        // The export types numbers (docs/EXPORT.md); the engine's values are text.
        const got = valueAt(doc.data, leaf.ref);
        assert.equal(got, typeof got === 'number' ? Number(leaf.value) : leaf.value, `${form}: ${leaf.ref} at central`);
        compared++;
      }
      assert.ok(compared >= 25, `${form}: ${compared} values compared`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await context.close().catch(() => undefined);
    await central.stop();
    t.cleanup();
  }
});

test('an answer says Saved only once the engine has committed it', async () => {
  const t = tempDir('saved');
  const central = await startCentral(t.dir, { forms: ['capacity'] });
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: PHONE });
    // Holds back the worker's replies to `interview.save` (the commit) at
    // the page's side, until the test lets them through: while one is
    // held, the question must not say Saved.
    await context.addInitScript(() => {
      const saves = new Set();
      const held = [];
      Object.assign(window, { holdSaves: false, heldSaves: held });
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (message, ...rest) {
        if (message?.op === 'interview.save') saves.add(message.id);
        return post.call(this, message, ...rest);
      };
      const slot = Object.getOwnPropertyDescriptor(Worker.prototype, 'onmessage');
      Object.defineProperty(Worker.prototype, 'onmessage', {
        configurable: true,
        get() {
          return slot.get.call(this);
        },
        set(handler) {
          slot.set.call(this, (event) => {
            if (window.holdSaves && saves.has(event.data?.id)) held.push(() => handler.call(this, event));
            else handler.call(this, event);
          });
        },
      });
      window.releaseSaves = () => {
        window.holdSaves = false;
        for (const deliver of held.splice(0)) deliver();
      };
    });
    const page = await context.newPage();
    const errors = watchErrors(page);
    assert.ok((await setUp(page, central)).connected);
    await startForm(page, central.url, 'p2p_capacity');
    // Fill the study's script up to the first screen with a text question
    // (any text fits its type, so the answer is never refused).
    const text = page.locator('.screen .q[data-type=text]');
    let found = false;
    await fill(page, studySteps('capacity.refused'), {
      onScreen: async () => {
        found = (await text.count()) > 0;
      },
      stopAt: () => found,
    });
    assert.ok(found, 'a text question to type into');
    const q = text.first();
    const value = 'held back';
    await page.evaluate(() => (window.holdSaves = true));
    await answer(page, q, value, { wait: false });
    await page.waitForFunction(() => window.heldSaves.length > 0);
    await page.waitForTimeout(300);
    assert.equal(await q.getAttribute('data-saved'), 'saving');
    assert.equal(await q.locator('.q-saved').count(), 0, 'no "Saved" before the commit is confirmed');
    await page.evaluate(() => window.releaseSaves());
    await page.waitForFunction((ref) => document.querySelector(`[data-ref="${ref}"]`)?.dataset.saved === 'saved', await q.getAttribute('data-ref'));
    assert.equal(await q.locator('.q-saved').innerText(), 'Saved');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});
