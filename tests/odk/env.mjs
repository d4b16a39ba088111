// The browser-like global scope and the determinism the ODK engine needs in
// node, shared by run.mjs (differential tests) and bench.mjs (benchmarks).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Sets up globals, imports the engine from ENGINE_DIR/node_modules. */
export async function loadEngine(engineDir) {
  const nodeModules = join(engineDir, 'node_modules');
  const version = (pkg) => JSON.parse(readFileSync(join(nodeModules, pkg, 'package.json'), 'utf8')).version;

  // --- a browser-like global scope -------------------------------------------
  // The engine bundle builds a DOMParser and checks `document instanceof Node`
  // when it is imported, so the DOM must exist first. Node's own crypto, fetch,
  // URL, Blob and File are kept: only what Node lacks is taken from jsdom.
  const { JSDOM } = createRequire(join(engineDir, 'package.json'))('jsdom');
  const window = new JSDOM('<!DOCTYPE html><html><body></body></html>', { url: 'http://localhost/' }).window;
  for (const key of Object.getOwnPropertyNames(window)) {
    if (key in globalThis) continue;
    try {
      Object.defineProperty(globalThis, key, { configurable: true, writable: true, value: window[key] });
    } catch {
      // a few window properties refuse to be copied; the engine needs none of them
    }
  }
  globalThis.window = window;
  globalThis.document = window.document;
  // The bundled tree-sitter (emscripten) reads these CommonJS names when it
  // sees Node; its wasm is inlined, so placeholders suffice.
  globalThis.__dirname ??= '/';
  globalThis.module ??= { exports: {} };

  // --- determinism -------------------------------------------------------------
  const nowMs = Date.parse(process.env.ENUMERA_NOW ?? '2024-01-15T10:30:00Z');
  if (Number.isNaN(nowMs)) {
    console.error('ENUMERA_NOW is not a date');
    throw new Error('ENUMERA_NOW is not a date');
  }
  const RealDate = Date;
  globalThis.Date = class extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(nowMs);
      else super(...args);
    }
    static now() {
      return nowMs;
    }
  };
  // xorshift32 keeps random() repeatable; only repeatability matters here.
  let state = (Number(process.env.ENUMERA_SEED ?? 1) >>> 0) || 1;
  Math.random = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };

  // The plain ESM build ("default" condition): it bundles Solid's reactive
  // core; the "solid" condition would pull in Solid's server build, which never
  // recomputes.
  const engine = await import(pathToFileURL(join(nodeModules, '@getodk/xforms-engine/dist/index.js')).href);

  // After the import: the engine keeps its own reference for internal ids, so
  // only form-visible uuids (uuid(), instanceID) come from this counter.
  let uuids = 0;
  Object.defineProperty(globalThis.crypto, 'randomUUID', {
    configurable: true,
    writable: true,
    value: function randomUUID() {
      uuids += 1;
      return `00000000-0000-4000-8000-${uuids.toString(16).padStart(12, '0')}`;
    },
  });

  return { engine, version };
}
