// Field supervision in the browser (issue 17), against a real `enumera
// central serve`: central assigns one official of the roster to the
// browser tablet; one sync brings the assignment and only that official's
// roster row; the interview is started from the assignment on the home
// screen, filled and synced; a supervisor returns it with a comment at a
// question and one on the whole response; the next sync shows the return
// with its comments on the home screen; the enumerator reopens it, sees
// the comment at its question, corrects, finalizes again and syncs;
// central has the correction back at `received`, flagged.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enumera, launch, startCentral, studySteps, tempDir, watchErrors } from './harness.mjs';
import { fill, setUp, sync } from './driver.mjs';

async function home(page, url) {
  await page.goto(`${url}/app/#/`);
  await page.locator('[data-screen=home]').waitFor();
}

test('an assigned interview, returned with comments, corrected and synced', async () => {
  const t = tempDir('supervision');
  const central = await startCentral(t.dir, { forms: ['practice_followup'] });
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    const { deviceId } = await setUp(page, central, { key: central.key });
    enumera('central', '--db', central.db, 'assign', '--form', 'p2p_practice_followup', '--round', '3',
      '--participant', 'MZ-0042', '--device', deviceId);

    // One sync: the assignment, and only that official's roster row.
    await sync(page, central.url);
    await home(page, central.url);
    const work = page.locator('[data-assignment]');
    await work.first().waitFor();
    assert.equal(await work.count(), 1);
    assert.match(await work.innerText(), /MZ-0042/);
    await page.goto(`${central.url}/app/#/participants`);
    await page.waitForFunction(() => document.body.innerText.includes('MZ-0042'));
    const listed = await page.locator('body').innerText();
    assert.ok(!listed.includes('BD-0113') && !listed.includes('MZ-0007'), listed);

    // Started from the assignment, filled, finalized, synced.
    await home(page, central.url);
    await page.locator('[data-action=start-assignment]').click();
    await page.locator('section.screen').waitFor();
    const first = decodeURIComponent(new URL(page.url()).hash.replace('#/interview/', ''));
    const steps = studySteps('practice_followup.quelimane_round3');
    await fill(page, steps);
    await page.locator('[data-action=finalize]').click();
    await page.locator('[data-screen=finalized]').waitFor();
    await sync(page, central.url);
    await home(page, central.url);
    assert.equal(await page.locator('[data-assignment]').getAttribute('data-done'), 'true');

    // A supervisor returns it with two comments.
    const ana = enumera('central', '--db', central.db, 'token', 'create', '--role', 'supervisor',
      '--name', 'Ana', '--device', deviceId).trim();
    enumera('central', '--db', central.db, 'review', 'reject', first, '--token', ana,
      '--at', '/data/consent=consent was not recorded on paper', '--comment', 'call me before you go back');

    // The next sync shows the return and its comments at home.
    await sync(page, central.url);
    await home(page, central.url);
    const back = page.locator(`[data-returned="${first}"]`);
    await back.waitFor();
    assert.equal(await back.getAttribute('data-status'), 'returned');
    assert.match(await back.locator('[data-comment-ref="/data/consent"]').innerText(), /consent was not recorded/);
    assert.match(await back.locator('[data-comment-ref=""]').innerText(), /call me before you go back/);

    // Reopened: the comment shows at its question; corrected, finalized, synced.
    await back.locator('[data-action=reopen]').click();
    await page.locator('section.screen').waitFor();
    const correction = decodeURIComponent(new URL(page.url()).hash.replace('#/interview/', ''));
    assert.notEqual(correction, first);
    assert.match(await page.locator('[data-corrects]').innerText(), /call me before you go back/);
    let seenAtQuestion = false;
    await fill(page, steps, {
      onScreen: async () => {
        if (await page.locator('.screen [data-comment-ref="/data/consent"]').count()) seenAtQuestion = true;
      },
    });
    assert.ok(seenAtQuestion, 'the comment was shown at /data/consent');
    await page.locator('[data-action=finalize]').click();
    await page.locator('[data-screen=finalized]').waitFor();
    await sync(page, central.url);
    await home(page, central.url);
    assert.equal(await page.locator('[data-returned]').count(), 0, 'no return left to correct');

    const received = JSON.parse(enumera('central', '--db', central.db, 'review', 'list', '--token', ana,
      '--state', 'received', '--json'));
    assert.deepEqual(received.map((r) => [r.instance_id, r.deprecated_id, r.edited_after_return]), [
      [correction, first, true],
    ]);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
  }
});
