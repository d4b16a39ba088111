// Files answering questions (issue 18): the bytes go to core's attach
// path (bindings/wasm/src/attachments.rs), which names the file as ODK
// does, applies `max-pixels` to photos, enforces the per-file and
// per-response limits and drops the file an answer no longer names, as
// on a tablet. Too large a file is refused with its question, name, size
// and the limit, in words shown under the question; nothing is kept.

import { EngineError } from '../engine/client';
import { store } from '../engine/api';

/** What every interview in this tab attaches through. */
interface Attaching {
  attach(ref: string, name: string, bytes: Uint8Array): Promise<{ name: string }>;
}

/**
 * Attachment limits for this browser, in bytes (`maxFile maxResponse`),
 * when a deployment wants smaller ones than core's (512 MiB a file, 1 GiB
 * a response): set in localStorage under this key.
 */
export const LIMITS_KEY = 'enumera.attachmentLimits';

let limitsApplied: string | null = null;

async function applyLimits(): Promise<void> {
  const wanted = localStorage.getItem(LIMITS_KEY);
  if (!wanted || wanted === limitsApplied) return;
  const [file, response] = wanted.trim().split(/\s+/).map(Number);
  if (Number.isFinite(file) && file > 0 && Number.isFinite(response) && response > 0) {
    await store.setAttachmentLimits(file, response);
    limitsApplied = wanted;
  }
}

/** Attaches `file` at `ref`; the answer (the file's name) on success. */
export async function attachFile(session: Attaching, ref: string, file: Blob & { name?: string }, name?: string): Promise<string> {
  await applyLimits();
  const fileName = name ?? file.name ?? 'file';
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    return (await session.attach(ref, fileName, bytes)).name;
  } catch (e) {
    if (e instanceof EngineError && e.kind === 'InvalidAnswer' && /may take at most/.test(String(e.info.reason))) {
      throw new Error(`${fileName} is too large for ${ref}: ${e.info.reason}. Nothing was kept.`);
    }
    throw e;
  }
}
