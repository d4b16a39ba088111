// Fills a form through the app's screens as an enumerator would, from a
// step script (`enumera form run`'s format): on each screen, every
// question the script answers is answered with its widget (typed, picked,
// ticked), each answer waited for until the app has committed it; then
// Next. Repeat screens add instances while the script has more.

/** The answers a script ends with, the repeat counts it needs, its language. */
export function plan(steps) {
  const values = new Map();
  let lang = null;
  const text = (v) => (v == null ? '' : Array.isArray(v) ? v.join(' ') : String(v));
  for (const s of steps) {
    if ('set' in s) values.set(s.set, text(s.value));
    else if ('clear' in s) values.delete(s.clear);
    else if ('set_language' in s) lang = s.set_language;
  }
  for (const [k, v] of [...values]) if (v === '') values.delete(k);
  const repeats = new Map();
  for (const ref of values.keys()) {
    const re = /\[(\d+)\]/g;
    let m;
    while ((m = re.exec(ref))) {
      const repeat = ref.slice(0, m.index);
      repeats.set(repeat, Math.max(repeats.get(repeat) ?? 0, Number(m[1])));
    }
  }
  return { values, repeats, lang };
}

/** The screen's commit counter: it moves once per answer the app has handled. */
async function commits(page) {
  return Number(await page.locator('section.screen').getAttribute('data-commits'));
}

async function waitCommit(page, before, ref) {
  try {
    await page.waitForFunction((n) => Number(document.querySelector('section.screen')?.dataset.commits) > n, before, { timeout: 10_000 });
  } catch {
    throw new Error(`the app never confirmed the answer to ${ref}`);
  }
}

/** What a question's widget shows now, as ODK's string value. */
export async function shown(q) {
  return q.evaluate((el) => {
    const type = el.dataset.type;
    const radios = [...el.querySelectorAll('input[type=radio]')];
    const boxes = [...el.querySelectorAll('input[type=checkbox]')];
    const select = el.querySelector('select');
    if (type === 'acknowledge') return boxes[0]?.checked ? 'OK' : '';
    if (type === 'rank') return el.querySelector('.q-rank')?.dataset.value ?? '';
    if (radios.length) return radios.find((r) => r.checked)?.value ?? '';
    if (boxes.length) return boxes.filter((b) => b.checked).map((b) => b.value).join(' ');
    if (select) return [...select.selectedOptions].map((o) => o.value).filter(Boolean).join(' ');
    const input = el.querySelector('input:not([type=file]):not([type=search]), textarea');
    if (input) return input.value;
    return el.querySelector('output')?.textContent ?? '';
  });
}

/** Would the widget show `value`? (dates and times as the pickers hold them) */
function same(type, showing, value) {
  if (showing === value) return true;
  if (type === 'time') return showing.slice(0, 5) === value.slice(0, 5);
  if (type === 'date_time') return showing.slice(0, 16) === value.slice(0, 16);
  if (type === 'decimal') return Number(showing) === Number(value);
  return false;
}

/** Answers one question with its widget, and waits until the app has committed it. */
export async function answer(page, q, value, { wait = true } = {}) {
  const type = await q.getAttribute('data-type');
  const ref = await q.getAttribute('data-ref');
  const appearance = (await q.getAttribute('data-appearance')) ?? '';
  if (same(type, await shown(q), value)) return false;
  const act = async (fn) => {
    const before = await commits(page);
    await fn();
    if (wait) await waitCommit(page, before, ref);
  };
  const radios = q.locator('input[type=radio]');
  const boxes = q.locator('input[type=checkbox]');
  if (type === 'rank') {
    // Move each choice up into place, then save the order.
    const want = value.split(' ');
    for (let i = 0; i < want.length; i++) {
      const order = await q.locator('.q-rank li').evaluateAll((lis) => lis.map((li) => li.dataset.value));
      for (let at = order.indexOf(want[i]); at > i; at--) {
        await q.locator(`.q-rank li[data-value="${want[i]}"] button`).first().click();
      }
    }
    await act(() => q.locator('.q-rank > button').click());
  } else if (type === 'acknowledge') {
    await act(() => boxes.first().setChecked(value === 'OK'));
  } else if (await q.locator('select').count()) {
    await act(() => q.locator('select').selectOption(value.split(' ')));
  } else if (await radios.count()) {
    await act(() => q.locator(`input[type=radio][value="${value}"]`).check());
  } else if (await boxes.count()) {
    const want = value.split(' ');
    for (const box of await boxes.all()) {
      const v = await box.getAttribute('value');
      if ((await box.isChecked()) !== want.includes(v)) await act(() => box.setChecked(want.includes(v)));
    }
  } else if (type === 'date' || type === 'time' || type === 'date_time') {
    const v = type === 'date_time' ? value.slice(0, 16) : type === 'time' ? value.slice(0, 5) : value;
    await act(() => q.locator('input').first().fill(v));
  } else if (type === 'range') {
    await act(() =>
      q.locator('input[type=range]').evaluate((el, v) => {
        el.value = v;
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }, value),
    );
  } else {
    const input = q.locator('input[type=text], textarea').first();
    await act(async () => {
      await input.fill(value);
      await input.press(appearance.includes('multiline') || type === 'geotrace' || type === 'geoshape' ? 'Tab' : 'Enter');
    });
  }
  return true;
}

async function anchor(page) {
  return page.locator('section.screen').getAttribute('data-anchor');
}

/** Next, waiting for the next screen; throws with the messages shown when refused. */
export async function next(page) {
  const from = await anchor(page);
  const index = await page.locator('section.screen').getAttribute('data-index');
  await page.locator('[data-action=next]').click();
  try {
    await page.waitForFunction(
      ([a, i]) => {
        const s = document.querySelector('section.screen');
        return s && (s.dataset.anchor !== a || s.dataset.index !== i);
      },
      [from, index],
      { timeout: 10_000 },
    );
  } catch {
    const issues = await page.locator('.q-issue, .q-unsaved').allTextContents();
    throw new Error(`Next was refused on ${from}: ${issues.join(' | ') || 'no message'}`);
  }
}

export async function setLanguage(page, lang) {
  const select = page.locator('.filler-bar .lang select');
  if ((await select.inputValue()) === lang) return;
  await select.selectOption(lang);
  await page.waitForFunction((l) => document.querySelector('.filler-bar .lang select')?.value === l, lang);
}

/**
 * Fills the form screen by screen until the end screen (or until `stopAt`
 * says stop, given the answers made so far). `onScreen(index)` runs on
 * each screen before it is answered (screenshots). Returns the refs
 * answered, in order.
 */
export async function fill(page, steps, { stopAt, onScreen } = {}) {
  const { values, repeats, lang } = plan(steps);
  if (lang) await setLanguage(page, lang);
  const done = [];
  for (let guard = 0; guard < 2000; guard++) {
    await page.locator('section.screen').waitFor();
    if (await page.locator('[data-screen=end]').count()) return done;
    if (onScreen) await onScreen(Number(await page.locator('section.screen').getAttribute('data-index')));
    const add = page.locator('.add-repeat');
    if (await add.count()) {
      const repeat = await add.getAttribute('data-repeat');
      const count = Number(await add.getAttribute('data-count'));
      const wanted = repeats.get(repeat) ?? 0;
      if (count < wanted) {
        const from = await anchor(page);
        await add.locator('[data-action=add-repeat]').click();
        await page.waitForFunction((a) => document.querySelector('section.screen')?.dataset.anchor !== a, from);
      } else {
        await next(page);
      }
      continue;
    }
    for (const q of await page.locator('.screen .q[data-ref]').all()) {
      const ref = await q.getAttribute('data-ref');
      if (!values.has(ref)) continue;
      await answer(page, q, values.get(ref));
      done.push(ref);
      if (stopAt?.(done)) return done;
    }
    await next(page);
  }
  throw new Error('the form never ended');
}

/** Goes back to the first screen, reading every answer shown on the way. */
export async function readBack(page) {
  const seen = new Map();
  for (let guard = 0; guard < 2000; guard++) {
    for (const q of await page.locator('.screen .q[data-ref]').all()) {
      seen.set(await q.getAttribute('data-ref'), await shown(q));
    }
    const back = page.locator('[data-action=back]');
    if (await back.isDisabled()) return seen;
    const from = await page.locator('section.screen').getAttribute('data-index');
    await back.click();
    await page.waitForFunction((i) => document.querySelector('section.screen')?.dataset.index !== i, from);
  }
  return seen;
}

/** Problems with the data-ref contract on the screen shown now (empty: none). */
export async function labelProblems(page) {
  return page.evaluate(() => {
    const out = [];
    const qs = document.querySelectorAll('.screen .q');
    for (const q of qs) {
      const ref = q.getAttribute('data-ref');
      if (!ref || !ref.startsWith('/')) {
        out.push('a question without data-ref');
        continue;
      }
      const label = q.querySelector('.q-label');
      if (!label || !label.textContent.trim()) {
        out.push(`${ref}: no label`);
        continue;
      }
      let control = label.tagName === 'LABEL' && label.htmlFor ? document.getElementById(label.htmlFor) : null;
      if (!control && label.id) control = q.querySelector(`[aria-labelledby~="${label.id}"]`);
      if (!control || !q.contains(control)) out.push(`${ref}: its control is not tied to its label`);
    }
    return out;
  });
}

/**
 * Sets the device up through the set-up screen: its identity, then the
 * token central makes for it (`token` replaces it, to try a wrong one).
 * Returns the device id and what the set-up screen said.
 */
export async function setUp(page, central, { name = 'browser-tablet', token, key } = {}) {
  const { enumera } = await import('./harness.mjs');
  await page.goto(`${central.url}/app/`);
  await page.locator('#device-name').fill(name);
  await page.locator('[data-action=create-device]').click();
  const deviceId = await page.locator('[data-device-id]').getAttribute('data-device-id');
  const real = enumera('central', '--db', central.db, 'token', 'create', '--device', deviceId).trim();
  await page.locator('#token').fill(token ?? real);
  if (key) await page.locator('#central-key').fill(key);
  await page.locator('[data-action=connect]').click();
  await page.locator('[data-result]').waitFor();
  const result = await page.locator('[data-result]').innerText();
  const connected = (await page.locator('[data-result]').getAttribute('data-result')) === 'connected';
  if (connected) {
    await page.locator('[data-action=done]').click();
    await page.locator('[data-screen=home]').waitFor();
  }
  return { deviceId, token: real, result, connected };
}

/** Starts `formId` from the "New interview" screen; returns the response's instance id. */
export async function startForm(page, url, formId, { participant, round } = {}) {
  await page.goto(`${url}/app/#/start${participant ? `?participant=${participant}` : ''}`);
  await page.locator(`#form-${formId}`).check();
  if (round) await page.locator('#round').selectOption(String(round));
  await page.locator('[data-action=start]').click();
  await page.locator('section.screen').waitFor();
  return decodeURIComponent(new URL(page.url()).hash.replace('#/interview/', ''));
}

/** Syncs from the outbox screen, waiting until central has answered. */
export async function sync(page, url) {
  await page.goto(`${url}/app/#/outbox`);
  await page.locator('[data-screen=outbox][data-loaded=yes]').waitFor();
  await page.locator('[data-action=sync]').click();
  await page.locator('[data-result=synced]').waitFor();
}
