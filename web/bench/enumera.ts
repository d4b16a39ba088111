// Times Enumera's WebAssembly engine as the web app drives it: through its
// dedicated worker, from the page. `open`: the form's bytes handed over
// until its first screen is back; an answer: handed over until the screen
// it changes is back (what the enumerator waits for), and until it is
// saved. In the preview nothing is stored; in an interview each answer is
// committed to the device database in the Origin Private File System
// (synchronous=FULL) before the app says "Saved".

import { interview, openPreview, store, type Session } from '../src/engine/api';
import { call } from '../src/engine/client';

type Answers = [string, string][];

async function run(session: Session, answers: Answers) {
  let view = await session.view(null, 0, null, 0);
  const times: number[] = [];
  const saved: number[] = [];
  for (const [ref, value] of answers) {
    // As the app does (web/src/ui/filler.tsx): three calls at once.
    const t = performance.now();
    const given = session.set(ref, value);
    const screen = session.view(view.anchor, 0, null, view.index);
    const commit = session.save();
    await given;
    view = await screen;
    times.push(performance.now() - t);
    await commit;
    saved.push(performance.now() - t);
  }
  return { times, saved };
}

declare global {
  interface Window {
    bench(form: string, answers: string, mode?: 'preview' | 'interview'): Promise<{ open: number; times: number[]; saved?: number[] }>;
  }
}

window.bench = async (formUrl, answersUrl, mode) => {
  const bytes = new Uint8Array(await (await fetch(formUrl)).arrayBuffer());
  const answers: Answers = await (await fetch(answersUrl)).json();
  await call('version'); // the worker and its module are up
  // As the app does once its first screen is up (src/main.tsx).
  await call('warmUp');
  if (mode !== 'interview') {
    const t = performance.now();
    const session = await openPreview(bytes, 'large.json');
    await session.view(null, 0, null, 0);
    const open = performance.now() - t;
    const { times } = await run(session, answers);
    await session.close();
    return { open, times };
  }
  const status = await store.open();
  if (!status.device) await store.initDevice('bench', null);
  const form = await store.installForm(bytes, 'large.json');
  const t = performance.now();
  const id = await store.start(form.formId, null, null, false);
  const session = interview(id);
  await session.view(null, 0, null, 0);
  const open = performance.now() - t;
  const { times, saved } = await run(session, answers);
  await session.close();
  return { open, times, saved };
};
