// Times ODK Web Forms' engine (@getodk/xforms-engine) in the same Chromium,
// as tests/odk/bench.mjs does in node: the form loaded and an instance
// created (`open`), then each answer set (the engine's reactive state
// recomputed; its screen is Vue's, not measured).

// @ts-expect-error: resolved by web/bench/vite.config.ts to the cache's copy.
import { loadForm } from '@getodk/xforms-engine';

declare global {
  interface Window {
    bench(form: string, answers: string, mode?: 'preview' | 'interview'): Promise<{ open: number; times: number[]; saved?: number[] }>;
  }
}

window.bench = async (formUrl, answersUrl) => {
  const xml = await (await fetch(formUrl)).text();
  const answers: [string, string][] = await (await fetch(answersUrl)).json();
  const t = performance.now();
  const form = await loadForm(xml);
  if (form.status === 'failure') throw new Error(`ODK's engine could not load the form: ${form.error?.message ?? form.error}`);
  const { root } = form.createInstance({ preloadProperties: { deviceID: 'bench' } });
  const open = performance.now() - t;
  const byRef = new Map<string, any>();
  const visit = (n: any) => {
    byRef.set(n.currentState.reference, n);
    for (const c of n.currentState.children ?? []) visit(c);
  };
  visit(root);
  const times: number[] = [];
  for (const [ref, value] of answers) {
    const node = byRef.get(ref);
    if (!node) continue;
    const s = performance.now();
    if (node.nodeType === 'select') node.selectValue(value);
    else node.setValue(value);
    times.push(performance.now() - s);
  }
  return { open, times };
};
