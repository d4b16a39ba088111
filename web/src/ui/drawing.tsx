// Image questions drawn on screen (issue 18): ODK's `signature`, `draw`
// and `annotate` appearances. The enumerator (or the informant, for a
// consent signature) draws with a finger, pen or mouse; "Save" hands a PNG
// (annotate: a JPEG, as photos are) to the same attach path as a chosen
// file, so limits, names and `max-pixels` are core's, as on a tablet.
// An empty pad is not saved: a blank signature would read as consent.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { Question } from '../engine/api';

/** The appearances drawn here rather than chosen as a file. */
export const DRAWN = ['signature', 'draw', 'annotate'] as const;
export type DrawMode = (typeof DRAWN)[number];

export function drawMode(appearances: string[]): DrawMode | null {
  return DRAWN.find((a) => appearances.includes(a)) ?? null;
}

interface Props {
  id: string;
  labelId: string;
  describedBy?: string;
  q: Question;
  mode: DrawMode;
  disabled: boolean;
  set: (v: string) => Promise<void>;
  attach?: (ref: string, file: File) => Promise<string>;
}

/** Pad size in CSS pixels; the bitmap follows the screen's pixel ratio. */
const WIDTH = 320;
const HEIGHT = 200;
/** An annotated photo keeps its own pixels, up to this on its longer side. */
const PHOTO_MAX = 2048;
const TALLEST = 480;

const WORDS: Record<DrawMode, { save: string; again: string }> = {
  signature: { save: 'Save signature', again: 'Sign again' },
  draw: { save: 'Save drawing', again: 'Draw again' },
  annotate: { save: 'Save picture', again: 'Annotate again' },
};

export function DrawPad(p: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const last = useRef<{ x: number; y: number } | null>(null);
  const [marked, setMarked] = useState(false);
  const [note, setNote] = useState('');
  const [redo, setRedo] = useState(false);
  const showPad = !p.q.value || redo;

  // A white page (a transparent PNG shows black in some viewers), with the
  // bitmap at the screen's resolution so strokes stay sharp.
  // `size` is the pad on screen (CSS pixels); `ratio` bitmap pixels to one
  // of them, so strokes look the same on screen whatever is kept.
  const [size, setSize] = useState({ w: WIDTH, h: HEIGHT });
  const blank = (w = WIDTH, h = HEIGHT, ratio = window.devicePixelRatio || 1) => {
    const c = canvas.current;
    const g = c?.getContext('2d');
    if (!c || !g) return;
    setSize({ w, h });
    c.width = Math.round(w * ratio);
    c.height = Math.round(h * ratio);
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, w, h);
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.lineWidth = p.mode === 'signature' ? 2.5 : 3;
    g.strokeStyle = p.mode === 'annotate' ? '#d0021b' : '#111';
    setMarked(false);
  };
  useEffect(() => {
    if (showPad) blank();
  }, [showPad]);

  const at = (e: PointerEvent) => {
    const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    return { x: ((e.clientX - r.left) * size.w) / r.width, y: ((e.clientY - r.top) * size.h) / r.height };
  };
  const stroke = (to: { x: number; y: number }) => {
    const g = canvas.current?.getContext('2d');
    const from = last.current;
    if (!g || !from) return;
    g.beginPath();
    g.moveTo(from.x, from.y);
    // A tap is a dot: a zero-length line with round caps.
    g.lineTo(to.x + (to.x === from.x && to.y === from.y ? 0.01 : 0), to.y);
    g.stroke();
    last.current = to;
    setMarked(true);
  };

  /**
   * annotate: a photo under the strokes. The pad takes the photo's shape
   * and its bitmap the photo's pixels (up to PHOTO_MAX), so the kept
   * picture is the photo, marked, not a thumbnail of it.
   */
  const underlay = async (file: File) => {
    const g = canvas.current?.getContext('2d');
    if (!g) return;
    try {
      const image = await createImageBitmap(file);
      const long = Math.max(image.width, image.height);
      const pixels = Math.min(1, PHOTO_MAX / long);
      // As wide as the pad, or as tall as a phone screen takes.
      const fit = Math.min(WIDTH / image.width, TALLEST / image.height);
      const w = Math.round(image.width * fit);
      const h = Math.round(image.height * fit);
      blank(w, h, (image.width * pixels) / w);
      g.drawImage(image, 0, 0, w, h);
      image.close();
      setMarked(true);
      setNote('');
    } catch {
      setNote(`${file.name} could not be read as a picture.`);
    }
  };

  const save = async () => {
    const c = canvas.current;
    if (!c) return;
    if (!marked) {
      setNote(p.mode === 'signature' ? 'Nothing signed yet: sign in the box first.' : 'Nothing drawn yet.');
      return;
    }
    const type = p.mode === 'annotate' ? 'image/jpeg' : 'image/png';
    const blob = await new Promise<Blob | null>((done) => c.toBlob(done, type, 0.9));
    if (!blob) {
      setNote('Not saved: this browser could not make the picture.');
      return;
    }
    const file = new File([blob], `${p.mode}.${type === 'image/png' ? 'png' : 'jpg'}`, { type });
    setNote('Saving…');
    try {
      // The preview keeps no files: the name alone, as for a chosen file.
      const name = p.attach ? await p.attach(p.q.reference, file) : file.name;
      await p.set(name);
      setNote('');
      setRedo(false);
    } catch (e) {
      setNote(`Not saved: ${e instanceof Error ? e.message : e}`);
    }
  };

  if (!showPad) {
    return (
      <div class="q-file q-drawn">
        <p class="q-file-name">{p.q.value}</p>
        {!p.disabled && (
          <div class="q-draw-actions">
            <button type="button" class="q-clear" data-action="draw-again" onClick={() => setRedo(true)}>
              {WORDS[p.mode].again}
            </button>
            <button type="button" class="q-clear" data-action="remove-file" onClick={() => void p.set('')}>
              Remove file
            </button>
          </div>
        )}
        {note && <p class="q-note-line" role="status">{note}</p>}
      </div>
    );
  }
  return (
    <div class="q-draw">
      <canvas
        ref={canvas}
        id={p.id}
        class="q-draw-pad"
        data-draw-pad={p.mode}
        role="img"
        aria-labelledby={p.labelId}
        aria-describedby={p.describedBy}
        style={{ width: `${size.w}px`, height: `${size.h}px` }}
        onPointerDown={(e) => {
          if (p.disabled) return;
          (e.currentTarget as HTMLCanvasElement).setPointerCapture(e.pointerId);
          setNote('');
          last.current = at(e);
          stroke(at(e));
        }}
        onPointerMove={(e) => {
          if (last.current) stroke(at(e));
        }}
        onPointerUp={() => {
          last.current = null;
        }}
        onPointerCancel={() => {
          last.current = null;
        }}
      />
      <div class="q-draw-actions">
        {p.mode === 'annotate' && (
          <label class="button secondary small">
            Choose a photo
            <input
              type="file"
              accept="image/*"
              capture="environment"
              class="visually-hidden"
              disabled={p.disabled}
              onChange={(e) => {
                const input = e.currentTarget as HTMLInputElement;
                const f = input.files?.[0];
                input.value = '';
                if (f) void underlay(f);
              }}
            />
          </label>
        )}
        <button type="button" class="secondary small" data-action="draw-clear" disabled={p.disabled} onClick={() => blank()}>
          Clear
        </button>
        <button type="button" class="small" data-action="draw-save" disabled={p.disabled} onClick={() => void save()}>
          {WORDS[p.mode].save}
        </button>
        {redo && (
          <button type="button" class="q-clear" data-action="draw-keep" onClick={() => setRedo(false)}>
            Keep {p.q.value}
          </button>
        )}
      </div>
      {note && <p class="q-note-line" role="status">{note}</p>}
    </div>
  );
}
