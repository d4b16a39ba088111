#!/usr/bin/env node
// Loads an XForm into ODK Web Forms' engine (@getodk/xforms-engine), applies
// optional steps, and prints the state of every node as one JSON document.
//
//   node run.mjs FORM.xml [STEPS.json]
//   node run.mjs --batch JOBS.json     JOBS: [{"form": PATH, "steps": PATH|null}, ...]
//                                      prints a JSON list, one result per job
//                                      (one process: the engine loads once)
//
// Environment:
//   ENUMERA_ODK_ENGINE  directory holding node_modules (from install.sh; required)
//   ENUMERA_NOW         frozen clock, ISO 8601 (default 2024-01-15T10:30:00Z)
//   ENUMERA_SEED        seed for Math.random (default 1)
//   TZ                  the zone dates are read in (set it; the default is the machine's)
//
// STEPS.json is a list of objects, applied in order:
//   {"set": "/data/age", "value": "34"}          input, range, select (value list or
//                                                space-separated string), trigger
//   {"add_repeat": "/data/rep"}                  append one instance
//   {"remove_repeat": "/data/rep", "index": 2}   1-based
//   {"set_language": "English (en)"}
// Output: {engine, load: {status, error}, steps: [{ok, error}], nodes: [...]}
// where each node is {ref, type, relevant, required, readonly, value,
// constraint_valid, required_valid} (value and validity on leaves only).
// Exit status: 0 loaded, 2 the engine could not load the form, 1 usage error.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// stdout carries only the JSON document.
for (const k of ['log', 'info', 'debug', 'warn']) console[k] = (...a) => console.error(...a);

const args = process.argv.slice(2);
const engineDir = process.env.ENUMERA_ODK_ENGINE;
if (args.length === 0 || !engineDir || (args[0] === '--batch' && !args[1])) {
  console.error('usage: ENUMERA_ODK_ENGINE=DIR node run.mjs FORM.xml [STEPS.json] | --batch JOBS.json');
  process.exit(1);
}
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
  process.exit(1);
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

// --- run ---------------------------------------------------------------------
const engineVersions = { '@getodk/xforms-engine': version('@getodk/xforms-engine'), jsdom: version('jsdom'), node: process.versions.node };
const toJson = (v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 1);

/** Loads one form, applies its steps, returns the result object. */
async function runOne(formPath, steps) {
const out = {
  engine: engineVersions,
  load: { status: null, error: null },
  steps: [],
  nodes: [],
};
const form = await engine.loadForm(readFileSync(formPath, 'utf8'));
out.load.status = form.status;
out.load.error = form.error ? String(form.error.message ?? form.error) : null;
if (form.status === 'failure') return out;
let root;
try {
  root = form.createInstance({ preloadProperties: { deviceID: 'enumera-test' } }).root;
} catch (e) {
  out.load.status = 'failure';
  out.load.error = String(e?.message ?? e);
  return out;
}

const byRef = () => {
  const map = new Map();
  const visit = (n) => {
    map.set(n.currentState.reference, n);
    for (const c of n.currentState.children ?? []) visit(c);
  };
  visit(root);
  return map;
};
const find = (ref) => {
  const map = byRef();
  // Unindexed paths mean the first instance of each repeat on the way.
  return map.get(ref) ?? map.get(ref.replace(/\/([^/[\]]+)(?=\/|$)/g, (m, name) => (map.has(`${m}[1]`) ? `${m}[1]` : m)));
};

for (const step of steps) {
  const rec = { step, ok: true, error: null };
  try {
    if ('set' in step) {
      const node = find(step.set);
      if (!node) throw new Error(`no node ${step.set}`);
      const v = step.value;
      switch (node.nodeType) {
        case 'select': {
          const list = Array.isArray(v) ? v : String(v ?? '').split(/\s+/).filter(Boolean);
          if (node.selectValues) node.selectValues(list);
          else node.selectValue(list[0] ?? null);
          break;
        }
        case 'trigger':
          node.setValue(v === true || v === 'OK' || v === 'true');
          break;
        case 'rank':
          node.setValues(Array.isArray(v) ? v : String(v ?? '').split(/\s+/).filter(Boolean));
          break;
        default:
          if (typeof node.setValue !== 'function') throw new Error(`${step.set} cannot be set (${node.nodeType})`);
          node.setValue(v == null ? '' : String(v));
      }
    } else if ('add_repeat' in step) {
      const node = find(step.add_repeat);
      if (!node?.addInstances) throw new Error(`no user-controlled repeat ${step.add_repeat}`);
      node.addInstances();
    } else if ('remove_repeat' in step) {
      const node = find(step.remove_repeat);
      if (!node?.removeInstances) throw new Error(`no user-controlled repeat ${step.remove_repeat}`);
      node.removeInstances((step.index ?? 1) - 1);
    } else if ('set_language' in step) {
      const lang = root.languages.find((l) => l.language === step.set_language);
      if (!lang) throw new Error(`no language ${step.set_language}`);
      root.setLanguage(lang);
    } else {
      throw new Error('unknown step');
    }
  } catch (e) {
    rec.ok = false;
    rec.error = String(e?.message ?? e);
  }
  out.steps.push(rec);
}

const LEAVES = new Set(['input', 'select', 'model-value', 'note', 'range', 'rank', 'trigger', 'upload']);
const visit = (n) => {
  const s = n.currentState;
  const rec = { ref: s.reference, type: n.nodeType, relevant: s.relevant, required: s.required, readonly: s.readonly };
  if (LEAVES.has(n.nodeType)) {
    rec.value = n.instanceState?.instanceValue ?? (typeof s.instanceValue === 'string' ? s.instanceValue : null);
    if (rec.value == null) rec.value = s.instanceValue ?? null;
    const v = n.validationState;
    rec.constraint_valid = v?.constraint?.valid ?? true;
    rec.required_valid = v?.required?.valid ?? true;
  }
  out.nodes.push(rec);
  for (const c of s.children ?? []) visit(c);
};
visit(root);
return out;
}

const readSteps = (p) => (p ? JSON.parse(readFileSync(p, 'utf8')) : []);
if (args[0] === '--batch') {
  const jobs = JSON.parse(readFileSync(args[1], 'utf8'));
  const results = [];
  for (const job of jobs) {
    try {
      results.push(await runOne(job.form, Array.isArray(job.steps) ? job.steps : readSteps(job.steps)));
    } catch (e) {
      results.push({ engine: engineVersions, load: { status: 'failure', error: String(e?.message ?? e) }, steps: [], nodes: [] });
    }
  }
  process.stdout.write(toJson(results) + '\n');
} else {
  const result = await runOne(args[0], readSteps(args[1]));
  process.stdout.write(toJson(result) + '\n');
  process.exit(result.load.status === 'failure' ? 2 : 0);
}
