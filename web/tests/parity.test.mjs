// Engine parity: the WebAssembly build, through the page's test hook
// `window.enumera.runSteps`, gives for every step script of the project's
// conformance set the same document as the native `enumera form run`:
// every leaf's state (relevant, required, readonly, value, validity,
// label, options), every container, the blockers and the submission.
// The set: the study's instruments with their step files, and the session
// differential suite's forms (tests/diff/*.md, written out as workbooks by
// bindings/wasm/tests/web_fixtures.rs into $ENUMERA_WEB_FIXTURES).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formRun, instruments, launch, repo, startCentral, STUDY_NOW, tempDir, watchErrors } from './harness.mjs';

/** Where a difference is kept for reading. */
const kept = join(repo, 'web/test-results/parity');

/** Every form with each of its step scripts, in `dir` (`FORM.SCRIPT.json` beside `FORM.xlsx`). */
function scriptsIn(dir, formDir, now) {
  const steps = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.expect.json'));
  return steps.sort().map((file) => {
    const form = file.split('.')[0];
    const clock = join(formDir, `${form}.now`);
    return {
      name: file.replace(/\.json$/, ''),
      form: join(formDir, `${form}.xlsx`),
      steps: join(dir, file),
      now: existsSync(clock) ? readFileSync(clock, 'utf8').trim() : now,
    };
  });
}

function cases() {
  const study = scriptsIn(join(instruments, 'steps'), instruments, STUDY_NOW);
  const fixtures = process.env.ENUMERA_WEB_FIXTURES;
  const diff = fixtures ? scriptsIn(fixtures, fixtures, '2024-01-15T10:30:00Z') : [];
  return [...study, ...diff];
}

test('the browser build runs every conformance step script as the native build does', async () => {
  const t = tempDir('parity');
  const central = await startCentral(t.dir, { forms: [], roster: false });
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(`${central.url}/app/#/preview`);
    await page.waitForFunction(() => typeof window.enumera?.runSteps === 'function');
    const all = cases();
    assert.ok(all.length >= 18, `only ${all.length} scripts found`);
    console.log(`# ${all.length} step scripts`);
    if (!process.env.ENUMERA_WEB_FIXTURES) console.log('# ENUMERA_WEB_FIXTURES unset: the study\'s scripts only');
    const forms = new Map();
    for (const c of all) {
      if (!forms.has(c.form)) forms.set(c.form, [...readFileSync(c.form)]);
      const steps = JSON.parse(readFileSync(c.steps, 'utf8'));
      // The study's forms also with a language given up front, as `--lang` does.
      for (const lang of c.form.startsWith(instruments) ? [null, 'pt'] : [null]) {
        const native = formRun(c.form, c.steps, c.now, lang ? ['--lang', lang] : []);
        const web = await page.evaluate(
          ([bytes, name, s, options]) => window.enumera.runSteps(new Uint8Array(bytes), name, s, options),
          [forms.get(c.form), c.form.split('/').pop(), steps, lang ? { now: c.now, lang } : { now: c.now }],
        );
        if (JSON.stringify(web) !== JSON.stringify(native)) {
          mkdirSync(kept, { recursive: true });
          writeFileSync(join(kept, `${c.name}.web.json`), JSON.stringify(web, null, 1));
          writeFileSync(join(kept, `${c.name}.native.json`), JSON.stringify(native, null, 1));
        }
        assert.deepEqual(web, native, `${c.name}${lang ? ` --lang ${lang}` : ''}: the browser build differs (both kept in ${kept})`);
      }
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await central.stop();
    t.cleanup();
  }
});
