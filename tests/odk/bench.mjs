#!/usr/bin/env node
// Times ODK Web Forms' engine on one form and one answer sequence, for the
// side-by-side benchmark (benches/benches/engines.rs). Prints one JSON line:
// {import_ms, load_ms, create_ms, set_ms: [...], peak_rss_mb}.
//
//   ENUMERA_ODK_ENGINE=DIR node bench.mjs FORM.xml ANSWERS.json
//   ANSWERS.json: [["/data/q0001", "42"], ...]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadEngine } from './env.mjs';

const [formPath, answersPath] = process.argv.slice(2);
const engineDir = process.env.ENUMERA_ODK_ENGINE;
if (!formPath || !answersPath || !engineDir) {
  console.error('usage: ENUMERA_ODK_ENGINE=DIR node bench.mjs FORM.xml ANSWERS.json');
  process.exit(1);
}
let t = performance.now();
const { engine } = await loadEngine(engineDir);
const importMs = performance.now() - t;

t = performance.now();
const form = await engine.loadForm(readFileSync(formPath, 'utf8'));
const loadMs = performance.now() - t;
if (form.status === 'failure') {
  console.error(`the engine could not load the form: ${form.error?.message ?? form.error}`);
  process.exit(2);
}
t = performance.now();
const { root } = form.createInstance({ preloadProperties: { deviceID: 'bench' } });
const createMs = performance.now() - t;

const byRef = new Map();
const visit = (n) => {
  byRef.set(n.currentState.reference, n);
  for (const c of n.currentState.children ?? []) visit(c);
};
visit(root);

const setMs = [];
for (const [ref, value] of JSON.parse(readFileSync(answersPath, 'utf8'))) {
  const node = byRef.get(ref);
  if (!node) continue;
  t = performance.now();
  if (node.nodeType === 'select') node.selectValue(value);
  else node.setValue(value);
  setMs.push(performance.now() - t);
}
const peakRssMb = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ import_ms: importMs, load_ms: loadMs, create_ms: createMs, set_ms: setMs, peak_rss_mb: peakRssMb }));
