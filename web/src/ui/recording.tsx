// The form's background recording (ODK's `background-audio`, issue 18):
// when the form asks for one, the interview records the whole sitting with
// MediaRecorder, after the browser asks the enumerator for the microphone.
//
// Chunks go to the Origin Private File System every two seconds
// (`enumera-recordings/<instance>/<segment>-<chunk>`), so a reload, a
// closed tab or a crash loses at most the last two seconds; the next
// sitting records a new segment. At finalize the segments are joined in
// order and attached once through core's ordinary attach path (limits,
// hash, sealing, sync, export), then the chunks are removed. Why at
// finalize and not at every save: each attach stores a whole new file (a
// growing recording stored again and again), and the chunks already keep
// it safe between saves. A recording of several sittings is several WebM
// streams one after another (docs/WEB.md, "Background audio").

import { useEffect, useRef, useState } from 'preact/hooks';
import type { RecordingRequest } from '../engine/api';
import { attachFile } from './attachments';

/** ODK's qualities as bitrates (Opus in WebM, what browsers record). */
export const BITRATES: Record<string, number> = { 'voice-only': 16_000, low: 24_000, normal: 64_000, high: 128_000 };

const ROOT = 'enumera-recordings';

interface Recordable {
  backgroundAudio(): Promise<RecordingRequest | null>;
  attach(ref: string, name: string, bytes: Uint8Array): Promise<{ name: string }>;
}

async function folder(instanceId: string, create: boolean): Promise<FileSystemDirectoryHandle | null> {
  try {
    const root = await navigator.storage.getDirectory();
    const all = await root.getDirectoryHandle(ROOT, { create });
    return await all.getDirectoryHandle(instanceId.replace(/[^A-Za-z0-9-]/g, '_'), { create });
  } catch {
    return null;
  }
}

/** The chunk files in recording order: `<segment>-<chunk>`, numerically. */
async function chunks(dir: FileSystemDirectoryHandle): Promise<{ name: string; key: [number, number] }[]> {
  const out: { name: string; key: [number, number] }[] = [];
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) {
    const m = name.match(/^(\d+)-(\d+)$/);
    if (m) out.push({ name, key: [Number(m[1]), Number(m[2])] });
  }
  return out.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1]);
}

export type RecordingState = 'none' | 'asking' | 'recording' | 'refused' | 'unsupported';

/**
 * Records while `open` (the interview is a draft on screen). `attach()`
 * stops, joins the segments and attaches them; call it before finalize.
 */
export function useBackgroundAudio(session: Recordable, instanceId: string, open: boolean) {
  const [state, setState] = useState<RecordingState>('none');
  const [problem, setProblem] = useState('');
  const request = useRef<RecordingRequest | null>(null);
  const recorder = useRef<MediaRecorder | null>(null);
  const writes = useRef<Promise<void>>(Promise.resolve());

  useEffect(() => {
    if (!open) return;
    let stopped = false;
    let stream: MediaStream | null = null;
    void (async () => {
      const asked = await session.backgroundAudio().catch(() => null);
      request.current = asked;
      if (!asked || stopped) return;
      if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) {
        setState('unsupported');
        return;
      }
      setState('asking');
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch {
        setState('refused');
        return;
      }
      const dir = await folder(instanceId, true);
      if (stopped || !dir) {
        stream.getTracks().forEach((t) => t.stop());
        if (!dir) setState('unsupported');
        return;
      }
      const done = await chunks(dir);
      const segment = done.length ? done[done.length - 1].key[0] + 1 : 1;
      let n = 0;
      const type = MediaRecorder.isTypeSupported('audio/webm;codecs=opus') ? 'audio/webm;codecs=opus' : '';
      const r = new MediaRecorder(stream, {
        ...(type ? { mimeType: type } : {}),
        audioBitsPerSecond: BITRATES[asked.quality] ?? BITRATES['voice-only'],
      });
      r.ondataavailable = (e) => {
        if (!e.data.size) return;
        const name = `${segment}-${++n}`;
        writes.current = writes.current.then(async () => {
          const file = await dir.getFileHandle(name, { create: true });
          const w = await file.createWritable();
          await w.write(e.data);
          await w.close();
        }).catch((err) => setProblem(`the recording could not be saved: ${err}`));
      };
      r.start(2000);
      recorder.current = r;
      setState('recording');
    })();
    return () => {
      stopped = true;
      const r = recorder.current;
      recorder.current = null;
      if (r && r.state !== 'inactive') r.stop();
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, [session, instanceId, open]);

  /** Stops recording and attaches every segment; nothing when the form asks for none. */
  const attach = async (): Promise<void> => {
    const asked = request.current ?? (await session.backgroundAudio().catch(() => null));
    if (!asked) return;
    const r = recorder.current;
    if (r && r.state !== 'inactive') {
      await new Promise<void>((resolve) => {
        r.addEventListener('stop', () => resolve(), { once: true });
        r.stop();
      });
      r.stream.getTracks().forEach((t) => t.stop());
    }
    recorder.current = null;
    await writes.current;
    const dir = await folder(instanceId, false);
    if (!dir) return;
    const parts = await chunks(dir);
    if (!parts.length) return;
    const blobs = await Promise.all(parts.map(async (p) => (await dir.getFileHandle(p.name)).getFile()));
    await attachFile(session, asked.reference, new Blob(blobs, { type: 'audio/webm' }), 'recording.webm');
    // Attached and committed: the chunks are no longer needed.
    const root = await navigator.storage.getDirectory();
    const all = await root.getDirectoryHandle(ROOT);
    await all.removeEntry(dir.name, { recursive: true }).catch(() => undefined);
    setState('none');
  };

  const banner =
    state === 'none' ? null : (
      <p class={`card recording${state === 'refused' || problem ? ' problem' : ''}`} role="status" data-recording={state}>
        {state === 'asking' && 'This form records the interview: allow the microphone when the browser asks.'}
        {state === 'recording' && 'Recording the interview (kept on this device as it goes).'}
        {state === 'refused' &&
          'This form records the interview, but the microphone was not allowed. Allow it in the browser’s site settings and reopen the interview.'}
        {state === 'unsupported' && 'This form records the interview, but this browser cannot record here.'}
        {problem && ` ${problem}`}
      </p>
    );

  return { state, attach, banner };
}
