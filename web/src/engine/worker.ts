// The engine's dedicated worker: Enumera's Rust core compiled to
// WebAssembly (bindings/wasm), with the device database in the Origin
// Private File System, which only a dedicated worker may hold. The page
// asks it for everything through protocol.ts; each call that changes the
// database has committed (SQLite, synchronous=FULL) before its reply is
// posted, so the page shows an answer as saved only once it is on disk.

import init, {
  DeviceStore,
  Interview,
  Preview,
  SyncClient,
  checkForm,
  runSteps,
  version,
} from '../wasm/enumera_wasm.js';
import wasmUrl from '../wasm/enumera_wasm_bg.wasm?url';
import { errorInfo, type Reply, type Request } from './protocol';
import { FetchTransport } from './transport';

/** The one database file of this device, in the OPFS pool. */
const DATABASE = 'enumera-device.db';

const ready = init({ module_or_path: wasmUrl });

let store: DeviceStore | null = null;
const interviews = new Map<string, Interview>();
const previews = new Map<number, Preview>();
let nextPreview = 1;
let syncing = false;

function must(): DeviceStore {
  if (!store) throw Object.assign(new Error('the device store is not open'), { kind: 'Storage' });
  return store;
}

function interview(id: string): Interview {
  let iv = interviews.get(id);
  if (!iv) {
    iv = must().resumeInterview(id);
    interviews.set(id, iv);
  }
  return iv;
}

function preview(handle: number): Preview {
  const p = previews.get(handle);
  if (!p) throw Object.assign(new Error('that preview was closed'), { kind: 'NotFound' });
  return p;
}

/** What opening the store found: the device (null before set-up) and the room left. */
async function openStore() {
  if (!store) {
    // Say so plainly where the browser lacks what the store needs (an old
    // browser), rather than failing somewhere inside the VFS.
    const opfs = typeof navigator.storage?.getDirectory === 'function';
    const handles = typeof FileSystemFileHandle !== 'undefined' && 'createSyncAccessHandle' in FileSystemFileHandle.prototype;
    if (!opfs || !handles) {
      throw Object.assign(
        new Error('this browser is not supported: it has no Origin Private File System with sync access handles (Chrome or Edge 108, Firefox 111, Safari 16.4 or newer)'),
        { kind: 'Storage' },
      );
    }
    store = await DeviceStore.open(DATABASE);
    const problems = store.integrityCheck();
    if (problems.length) {
      throw Object.assign(new Error(`the device database is damaged: ${problems.join('; ')}`), {
        kind: 'Storage',
      });
    }
  }
  let device = null;
  try {
    device = store.device();
  } catch (e) {
    if ((e as { kind?: string }).kind !== 'NotInitialized') throw e;
  }
  return { device };
}

async function sync(server: string, token: string, what: 'sync' | 'upload' | 'fetchUpdates') {
  if (syncing) throw Object.assign(new Error('a sync is already running'), { kind: 'Internal' });
  syncing = true;
  const client = new SyncClient(must(), new FetchTransport(server), token);
  try {
    return await client[what]();
  } finally {
    client.free();
    syncing = false;
  }
}

/**
 * A small form run through the engine's main paths once, in idle time
 * after start: the browser compiles WebAssembly functions the first time
 * they run, so without this the enumerator's first form open would pay
 * for compiling the whole engine (about 100 ms on a slow machine).
 */
const WARM_UP_FORM = JSON.stringify({
  model_version: 1,
  form_id: 'warm_up',
  version: '1',
  title: 'warm up',
  root_name: 'data',
  settings: {},
  languages: ['English (en)', 'Portuguese (pt)'],
  children: [
    { name: 'n', label: { 'English (en)': 'N', 'Portuguese (pt)': 'N' }, kind: { kind: 'question', type: 'integer' }, row: 2, bind: { constraint: '. >= 0', required: 'true()' } },
    { name: 'c', label: { 'English (en)': 'C', 'Portuguese (pt)': 'C' }, kind: { kind: 'question', type: 'select_one', list: 'yn' }, row: 3, bind: { relevant: '${n} > 1' } },
    { name: 'x', kind: { kind: 'question', type: 'calculate' }, row: 4, bind: { calculate: 'if(${c} = "y", ${n} * 2, 0)' } },
    { name: 'r', label: { 'English (en)': 'R', 'Portuguese (pt)': 'R' }, kind: { kind: 'repeat' }, row: 5, children: [{ name: 't', label: { 'English (en)': 'T', 'Portuguese (pt)': 'T' }, kind: { kind: 'question', type: 'text' }, row: 6 }] },
  ],
  choices: {
    yn: {
      choices: [
        { name: 'y', label: { 'English (en)': 'Yes', 'Portuguese (pt)': 'Sim' }, row: 2 },
        { name: 'n', label: { 'English (en)': 'No', 'Portuguese (pt)': 'Não' }, row: 3 },
      ],
    },
  },
});

let warmed = false;
function warmUp() {
  if (warmed) return;
  warmed = true;
  const bytes = new TextEncoder().encode(WARM_UP_FORM);
  try {
    const check = checkForm(bytes, 'warm-up.json');
    if (!check.ok) throw new Error(check.diagnostics.map((d) => d.message).join('; '));
    const p = new Preview(bytes, 'warm-up.json');
    const v = p.view(undefined, 0, undefined, 0);
    p.set('/data/n', '3');
    p.set('/data/c', 'y');
    p.addRepeat('/data/r');
    p.view(v.anchor, 1, undefined, 0);
    p.leaves();
    p.submissionXml();
    p.free();
  } catch (e) {
    // Only a speed-up: the real form will say what is wrong, if anything.
    console.warn('engine warm-up:', e);
  }
}

type Op = (...args: any[]) => unknown;

const ops: Record<string, Op> = {
  version: () => version(),
  warmUp,
  runSteps: (form: Uint8Array, name: string, steps: object[], options: object) =>
    runSteps(form, name, steps, options ?? {}),
  checkForm: (form: Uint8Array, name: string) => checkForm(form, name),

  openStore,
  device: () => must().device(),
  initDevice: (name: string, enumerator: string | null) => must().initDevice(name, enumerator ?? undefined),
  trustCentral: (hex: string) => must().trustCentral(hex),
  centralTrust: () => must().centralTrust(),
  forms: () => must().forms(),
  installForm: (bytes: Uint8Array, name: string) => must().installFormBytes(bytes, name),
  listResponses: () => must().listResponses(),
  stateCounts: () => must().stateCounts(),
  discard: (id: string) => {
    interviews.get(id)?.free();
    interviews.delete(id);
    return must().discard(id);
  },
  importRoster: (json: Uint8Array) => must().importRoster(json),
  participants: () => must().participants(),
  outbox: (unsentOnly: boolean) => must().outbox(unsentOnly),
  formMedia: (formHash: string, name: string) => must().formMedia(formHash, name),
  formMediaList: (formHash: string) => must().formMediaList(formHash),
  exportBundle: (all: boolean) => must().exportBundle(all),
  sync,

  start: (formId: string, participant: string | null, round: number | null, preload: boolean) => {
    const iv = must().startInterview(formId, participant ?? undefined, round ?? undefined, preload);
    interviews.set(iv.instanceId, iv);
    return iv.instanceId;
  },
  assignments: () => must().assignments(),
  startAssigned: (assignmentId: string) => {
    const iv = must().startAssignedInterview(assignmentId);
    interviews.set(iv.instanceId, iv);
    return iv.instanceId;
  },
  returnedResponses: () => must().returnedResponses(),
  returnCorrectedBy: (draftId: string) => must().returnCorrectedBy(draftId),
  reopenReturned: (instanceId: string) => {
    const iv = must().reopenReturned(instanceId);
    interviews.set(iv.instanceId, iv);
    return iv.instanceId;
  },
  'interview.info': (id: string) => {
    const iv = interview(id);
    return { instanceId: iv.instanceId, formId: iv.formId, formHash: iv.formHash, finalized: iv.isFinalized() };
  },
  'interview.answer': (id: string, ref: string, value: string) => interview(id).answer(ref, value),
  'interview.set': (id: string, ref: string, value: string) => interview(id).set(ref, value),
  'interview.save': (id: string) => interview(id).save(),
  // Files and the background recording (issue 18), the audit (issue 17).
  'interview.attach': (id: string, ref: string, name: string, bytes: Uint8Array) => interview(id).attach(ref, name, bytes),
  'interview.backgroundAudio': (id: string) => interview(id).backgroundAudio(),
  'interview.auditNeeds': (id: string) => interview(id).auditNeeds(),
  'interview.show': (id: string, ref: string) => interview(id).show(ref),
  'interview.exit': (id: string) => interview(id).exit(),
  'interview.setUser': (id: string, user: string) => interview(id).setUser(user),
  'interview.setChangeReason': (id: string, reason: string) => interview(id).setChangeReason(reason),
  'interview.recordLocation': (id: string, location: string) => interview(id).recordLocation(location),
  setAttachmentLimits: (maxFile: number, maxResponse: number) => must().setAttachmentLimits(maxFile, maxResponse),
  'interview.addRepeat': (id: string, ref: string) => interview(id).addRepeat(ref),
  'interview.removeRepeat': (id: string, ref: string) => interview(id).removeRepeat(ref),
  'interview.setLanguage': (id: string, lang: string) => interview(id).setLanguage(lang),
  'interview.view': (id: string, anchor: string | null, offset: number, target: string | null, fallback: number) =>
    interview(id).view(anchor ?? undefined, offset, target ?? undefined, fallback),
  'interview.blockers': (id: string) => interview(id).blockers(),
  'interview.hierarchy': (id: string) => interview(id).hierarchy(),
  'interview.submissionXml': (id: string) => interview(id).submissionXml(),
  'interview.finalize': (id: string) => {
    const item = interview(id).finalize();
    interviews.get(id)?.free();
    interviews.delete(id);
    return item;
  },
  'interview.close': (id: string) => {
    interviews.get(id)?.free();
    interviews.delete(id);
  },

  'preview.open': (bytes: Uint8Array, name: string) => {
    const handle = nextPreview++;
    previews.set(handle, new Preview(bytes, name));
    return handle;
  },
  'preview.close': (handle: number) => {
    previews.get(handle)?.free();
    previews.delete(handle);
  },
  'preview.answer': (h: number, ref: string, value: string) => preview(h).answer(ref, value),
  'preview.set': (h: number, ref: string, value: string) => preview(h).set(ref, value),
  'preview.save': () => undefined,
  'preview.addRepeat': (h: number, ref: string) => preview(h).addRepeat(ref),
  'preview.removeRepeat': (h: number, ref: string) => preview(h).removeRepeat(ref),
  'preview.setLanguage': (h: number, lang: string) => preview(h).setLanguage(lang),
  'preview.view': (h: number, anchor: string | null, offset: number, target: string | null, fallback: number) =>
    preview(h).view(anchor ?? undefined, offset, target ?? undefined, fallback),
  'preview.leaves': (h: number) => preview(h).leaves(),
  'preview.blockers': (h: number) => preview(h).blockers(),
  'preview.hierarchy': (h: number) => preview(h).hierarchy(),
  'preview.submissionXml': (h: number) => preview(h).submissionXml(),
};

self.onmessage = async (event: MessageEvent<Request>) => {
  const { id, op, args } = event.data;
  let reply: Reply;
  try {
    await ready;
    const fn = ops[op];
    if (!fn) throw Object.assign(new Error(`unknown engine call ${op}`), { kind: 'Internal' });
    reply = { id, ok: true, value: await fn(...args) };
  } catch (e) {
    reply = { id, ok: false, error: errorInfo(e) };
  }
  (self as unknown as Worker).postMessage(reply);
};
