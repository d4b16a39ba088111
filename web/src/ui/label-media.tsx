// Media in a question's label (issue 18, item 2), shown as ODK Web Forms and
// Enketo show them: the image (a link to the big image when the form gives
// one), an audio player, a video player. The files are form media the
// device fetched with the form at sync; each is read from the device store
// by name and shown from a blob URL, revoked when the question leaves the
// screen (or its names change with the language).

import { useEffect, useState } from 'preact/hooks';
import type { Question } from '../engine/api';

/** Reads a form media file of the open form by the name a question gives. */
export type MediaReader = (name: string) => Promise<Uint8Array>;

type Kind = 'image' | 'bigImage' | 'audio' | 'video';
const KINDS: Kind[] = ['image', 'bigImage', 'audio', 'video'];

/** The type a player needs (a blob has none of its own), from the name. */
function typeOf(name: string): string {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  const types: Record<string, string> = {
    png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml',
    mp3: 'audio/mpeg', m4a: 'audio/mp4', ogg: 'audio/ogg', oga: 'audio/ogg', wav: 'audio/wav', amr: 'audio/amr',
    mp4: 'video/mp4', webm: 'video/webm', '3gp': 'video/3gpp', mov: 'video/quicktime',
  };
  return types[ext] ?? 'application/octet-stream';
}

export function LabelMedia({ q, read }: { q: Question; read: MediaReader }) {
  const names = KINDS.map((k) => q[k]);
  const [urls, setUrls] = useState<Partial<Record<Kind, string>>>({});
  const [problems, setProblems] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    const made: string[] = [];
    setUrls({});
    setProblems([]);
    for (const kind of KINDS) {
      const name = q[kind];
      if (!name) continue;
      read(name).then(
        (bytes) => {
          const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: typeOf(name) }));
          if (!live) {
            URL.revokeObjectURL(url);
            return;
          }
          made.push(url);
          setUrls((u) => ({ ...u, [kind]: url }));
        },
        (e: unknown) => {
          if (live) setProblems((p) => [...p, `${name}: ${e instanceof Error ? e.message : String(e)}`]);
        },
      );
    }
    return () => {
      live = false;
      for (const url of made) URL.revokeObjectURL(url);
    };
    // The names are what the effect reads; `read` is the same form's.
  }, names);
  if (!names.some(Boolean)) return null;
  const image = urls.image && (
    <img class="q-media-image" src={urls.image} alt={q.image ?? ''} data-testid="label-media-image" data-name={q.image} />
  );
  return (
    <div class="q-media" data-testid="label-media">
      {urls.bigImage ? (
        <a href={urls.bigImage} target="_blank" rel="noopener" data-testid="label-media-big-image" data-name={q.bigImage}>
          {image ?? 'Larger image'}
        </a>
      ) : (
        image
      )}
      {urls.audio && <audio controls src={urls.audio} data-testid="label-media-audio" data-name={q.audio} />}
      {urls.video && <video controls src={urls.video} data-testid="label-media-video" data-name={q.video} />}
      {problems.map((p) => (
        <p class="q-media-missing" role="alert" key={p} data-testid="label-media-missing">
          Media not on this device (sync to fetch it): {p}
        </p>
      ))}
    </div>
  );
}
