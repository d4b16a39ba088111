// Builds the app into dist/app (embedded by central/build.rs, served under
// /app/). Two small plugins, no dependencies: the service worker gets the
// list of this build's files (so the app starts offline), and every text
// and .wasm file gets a gzip copy that central serves to browsers that
// accept it.

import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const out = 'dist/app';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** Writes sw.js with this build's file list, then the gzip copies. */
function offline(): Plugin {
  return {
    name: 'enumera-offline',
    apply: 'build',
    closeBundle() {
      const all = files(out).filter((f) => !f.endsWith('.gz') && !f.endsWith('sw.js'));
      const list = all.map((f) => relative(out, f).split('\\').join('/')).sort();
      const hash = createHash('sha256');
      for (const f of all.sort()) hash.update(readFileSync(f));
      const version = hash.digest('hex').slice(0, 16);
      const sw = readFileSync('src/sw.js', 'utf8')
        .replace('__ENUMERA_VERSION__', version)
        .replace('__ENUMERA_FILES__', JSON.stringify(list));
      writeFileSync(join(out, 'sw.js'), sw);
      for (const f of files(out)) {
        if (/\.(html|js|css|wasm|json|webmanifest|svg)$/.test(f)) {
          writeFileSync(`${f}.gz`, gzipSync(readFileSync(f), { level: 9 }));
        }
      }
    },
  };
}

export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: out,
    emptyOutDir: true,
    target: 'es2022',
    // The .wasm must stay a file: the engine streams and compiles it.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  worker: { format: 'es' },
  plugins: [offline()],
});
