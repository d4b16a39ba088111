// Screenshots of the main screens, at a phone's size (360×800) and a
// tablet's (800×1280), taken by the tests as they go. Always written to
// web/test-results/screens/; with ENUMERA_UPDATE_SCREENSHOTS=1 also to
// docs/web/, which docs/WEB.md shows (commit them then).

import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repo } from './harness.mjs';

export const PHONE = { width: 360, height: 800 };
export const TABLET = { width: 800, height: 1280 };

const out = join(repo, 'web/test-results/screens');
const docs = join(repo, 'docs/web');

/** `at`: a selector scrolled to the top first (default: the page's top). */
export async function shot(page, name, at = null) {
  mkdirSync(out, { recursive: true });
  const before = page.viewportSize() ?? PHONE;
  for (const [size, viewport] of [['phone', PHONE], ['tablet', TABLET]]) {
    await page.setViewportSize(viewport);
    // Let the layout settle and the fonts arrive.
    await page.evaluate(() => document.fonts.ready);
    await page.evaluate((sel) => {
      const el = sel && document.querySelector(sel);
      if (el) el.scrollIntoView({ block: 'start' });
      else window.scrollTo(0, 0);
    }, at);
    await page.waitForTimeout(150);
    const file = join(out, `${name}-${size}.png`);
    await page.screenshot({ path: file });
    if (process.env.ENUMERA_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(docs, { recursive: true });
      copyFileSync(file, join(docs, `${name}-${size}.png`));
    }
  }
  await page.setViewportSize(before);
}
