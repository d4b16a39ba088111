// The benchmark pages (web/bench/bench.mjs): Enumera's engine through the
// app's own worker, and ODK Web Forms' engine from the copy the tests
// install into $ENUMERA_CACHE (tests/odk/install.sh). Never part of the app.

import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const odk = process.env.ENUMERA_ODK_ENGINE;
if (!odk) throw new Error('ENUMERA_ODK_ENGINE: the folder tests/odk/install.sh prints');

export default defineConfig({
  root: __dirname,
  base: './',
  logLevel: 'warn',
  build: {
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    rollupOptions: { input: { enumera: resolve(__dirname, 'enumera.html'), odk: resolve(__dirname, 'odk.html') } },
  },
  resolve: { alias: { '@getodk/xforms-engine': resolve(odk, 'node_modules/@getodk/xforms-engine/dist/index.js') } },
  worker: { format: 'es' },
});
