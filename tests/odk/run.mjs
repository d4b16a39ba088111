#!/usr/bin/env node
// Loads an XForm into ODK Web Forms' engine (@getodk/xforms-engine), applies
// optional steps, and prints the state of every node as one JSON document.
//
//   node run.mjs FORM.xml [STEPS.json]
//   node run.mjs --batch JOBS.json     JOBS: [{"form": PATH, "steps": PATH|LIST|null,
//                                      "trace": BOOL}, ...]; prints a JSON list, one
//                                      result per job (one process: the engine loads once)
//   node run.mjs --trace FORM.xml [STEPS.json]
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
//   {"add_repeat": "/data/rep", "count": 2}      append two
//   {"remove_repeat": "/data/rep", "index": 2}   1-based; or "/data/rep[2]"
//   {"clear": "/data/age"}                       the same as setting ''
//   {"set_language": "English (en)"}
// Output: {engine, load: {status, error}, steps: [{ok, error}], nodes: [...]}
// where each node is {ref, type, relevant, required, readonly, value,
// constraint_valid, required_valid} (value and validity on leaves only).
// With --trace (or "trace": true in a job) also:
//   trace: [leaves before any step, leaves after step 1, ...], each a list of
//          {ref, type, relevant, required, readonly, value, constraint_valid,
//          required_valid, label, options, violation_message} in document order, value being the
//          engine's string value as the user sees it (empty while non-relevant);
//   submission: the instance XML the engine would submit (non-relevant nodes
//          left out), or null when it cannot make one.
// Exit status: 0 loaded, 2 the engine could not load the form, 1 usage error.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
async function runOne(formPath, steps, trace = false) {
const out = {
  engine: engineVersions,
  load: { status: null, error: null },
  steps: [],
  nodes: [],
};
// Attachments (`jr://file/places.csv`) are read from the form's folder.
const fetchFormAttachment = async (url) => {
  const name = decodeURIComponent(String(url.href ?? url).split('/').pop());
  const path = join(dirname(formPath), name);
  return existsSync(path) ? new Response(readFileSync(path)) : new Response('', { status: 404 });
};
const form = await engine.loadForm(readFileSync(formPath, 'utf8'), { fetchFormAttachment });
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
  if (map.has(ref)) return map.get(ref);
  // Unindexed steps mean the first instance of each repeat on the way.
  const segs = ref.split('/').filter(Boolean);
  let path = '';
  segs.forEach((seg, i) => {
    path += `/${seg}`;
    if (i < segs.length - 1 && !seg.endsWith(']') && map.has(`${path}[1]`)) path += '[1]';
  });
  return map.get(path);
};

const LEAF_TYPES = new Set(['input', 'select', 'model-value', 'note', 'range', 'rank', 'trigger', 'upload']);
const textOf = (t) => {
  try {
    return t?.asString ?? null;
  } catch {
    return null;
  }
};
// Every leaf as the user sees it now.
const leaves = () => {
  const list = [];
  const walk = (n) => {
    const s = n.currentState;
    if (LEAF_TYPES.has(n.nodeType)) {
      const v = n.validationState;
      const rec = {
        ref: s.reference,
        type: n.nodeType,
        relevant: s.relevant,
        required: s.required,
        readonly: s.readonly,
        value: typeof s.instanceValue === 'string' ? s.instanceValue : null,
        constraint_valid: v?.constraint?.valid ?? true,
        required_valid: v?.required?.valid ?? true,
        label: textOf(s.label),
        violation_message: v?.violation ? textOf(v.violation.message) : null,
      };
      if (n.nodeType === 'select' || n.nodeType === 'rank') rec.options = (s.valueOptions ?? []).map((o) => o.value);
      list.push(rec);
    }
    for (const c of s.children ?? []) walk(c);
  };
  walk(root);
  return list;
};
if (trace) out.trace = [leaves()];

for (const step of steps) {
  const rec = { step, ok: true, error: null };
  try {
    if ('clear' in step) step.set = step.clear, step.value = '';
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
      if (node.nodeType === 'repeat-range:controlled') throw new Error(`${step.add_repeat} is a count-controlled repeat`);
      node.addInstances(undefined, step.count ?? 1);
    } else if ('remove_repeat' in step) {
      let node = find(step.remove_repeat);
      let index0 = (step.index ?? 1) - 1;
      if (node?.nodeType === 'repeat-instance') {
        index0 = node.parent.currentState.children.indexOf(node);
        node = node.parent;
      }
      if (!node?.removeInstances) throw new Error(`no user-controlled repeat ${step.remove_repeat}`);
      if (node.nodeType === 'repeat-range:controlled') throw new Error(`${step.remove_repeat} is a count-controlled repeat`);
      if (index0 < 0 || index0 >= node.currentState.children.length) throw new Error(`no instance ${index0 + 1} of ${step.remove_repeat}`);
      node.removeInstances(index0);
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
  if (trace) out.trace.push(leaves());
}
if (trace) {
  try {
    const payload = await root.prepareInstancePayload();
    out.submission = await payload.data[0].get('xml_submission_file').text();
  } catch (e) {
    out.submission = null;
    out.submission_error = String(e?.message ?? e);
  }
}

const LEAVES = LEAF_TYPES;
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
      results.push(await runOne(job.form, Array.isArray(job.steps) ? job.steps : readSteps(job.steps), job.trace === true));
    } catch (e) {
      results.push({ engine: engineVersions, load: { status: 'failure', error: String(e?.message ?? e) }, steps: [], nodes: [] });
    }
  }
  process.stdout.write(toJson(results) + '\n');
} else {
  const traced = args[0] === '--trace';
  const rest = traced ? args.slice(1) : args;
  const result = await runOne(rest[0], readSteps(rest[1]), traced);
  process.stdout.write(toJson(result) + '\n');
  process.exit(result.load.status === 'failure' ? 2 : 0);
}
