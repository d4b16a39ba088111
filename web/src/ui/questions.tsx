// One question: its label, hint, control and messages, in an element
// marked `data-ref="<ODK reference>"` (the page's test contract), the
// control tied to the label by `<label for>` or `aria-labelledby`. Every
// widget hands its answer to `commit`, which resolves once the engine has
// written it to the device database; only then is it shown as saved.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChoiceItem, Question } from '../engine/api';
import { DrawPad, drawMode } from './drawing';
import { LabelMedia, type MediaReader } from './label-media';
import { decodeQr } from './qr';

/** Where an answer is: being written, written, or refused with why. */
export type SaveState = { kind: 'idle' } | { kind: 'saving' } | { kind: 'saved' } | { kind: 'error'; text: string };

export interface Commit {
  (ref: string, value: string): Promise<void>;
}

/** Text widgets that hold typing not yet committed register how to commit it now. */
export type Flushers = Map<string, () => Promise<void>>;

interface Props {
  q: Question;
  commit: Commit;
  state: SaveState;
  /** Show "required" messages (after the enumerator tried to move on). */
  showRequired: boolean;
  flushers: Flushers;
  /** Where files chosen for image/audio/file questions go. */
  attach?: (ref: string, file: File) => Promise<string>;
  /** Whether the answer is kept (an interview: "Saved") or only tried (the preview). */
  keeps?: boolean;
  /** Reads the form's media files its labels name (absent in the preview). */
  media?: MediaReader;
}

const ids = new Map<string, string>();
/** A stable element id per reference (references hold `/`, `[`, `]`). */
export function controlId(ref: string): string {
  let id = ids.get(ref);
  if (!id) {
    id = `q${ids.size + 1}-${ref.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '')}`;
    ids.set(ref, id);
  }
  return id;
}

const words = (appearance: string | null) => (appearance ?? '').split(/\s+/).filter(Boolean);

/** Types whose control is one element a `<label for>` can name. */
const SINGLE = new Set([
  'text', 'integer', 'decimal', 'date', 'time', 'date_time', 'range', 'barcode', 'geopoint',
  'geotrace', 'geoshape', 'image', 'audio', 'video', 'file', 'acknowledge', 'select_one_minimal',
  'select_multiple_minimal',
]);

export function QuestionView({ q, commit, state, showRequired, flushers, attach, keeps = true, media }: Props) {
  const id = controlId(q.reference);
  const labelId = `${id}-label`;
  const hintId = `${id}-hint`;
  const ap = words(q.appearance);
  const minimal = ap.includes('minimal');
  const kind = (q.questionType === 'select_one' || q.questionType === 'select_multiple') && minimal
    ? `${q.questionType}_minimal`
    : q.questionType;
  // A drawing pad is no element a `<label for>` can name: labelled by id.
  const single = SINGLE.has(kind) && !(kind === 'image' && drawMode(ap));
  const issue =
    q.issue && (q.issue.kind === 'constraint' ? q.value !== '' : showRequired) ? q.issue : null;
  const describedBy = [q.hint ? hintId : '', issue ? `${id}-issue` : ''].filter(Boolean).join(' ') || undefined;
  const set = (v: string) => commit(q.reference, v);
  const common = { id, labelId, describedBy, q, set, flushers, disabled: q.readonly };
  const label = (
    <>
      {q.label ?? q.reference}
      {q.required && <span class="req" aria-label="required"> *</span>}
    </>
  );
  return (
    <div
      class={`q q-${q.questionType}${issue ? ' q-invalid' : ''}`}
      data-ref={q.reference}
      data-type={q.questionType}
      data-appearance={q.appearance ?? ''}
      data-saved={state.kind === 'idle' ? '' : state.kind}
    >
      {single ? (
        <label id={labelId} for={id} class="q-label">{label}</label>
      ) : (
        <div id={labelId} class="q-label">{label}</div>
      )}
      {media && <LabelMedia q={q} read={media} />}
      {q.hint && <div id={hintId} class="q-hint">{q.hint}</div>}
      <Control kind={kind} ap={ap} common={common} attach={attach} />
      {issue && (
        <p id={`${id}-issue`} class="q-issue" role="alert">
          {issue.text}
        </p>
      )}
      <SaveLine state={state} keeps={keeps} />
    </div>
  );
}

function SaveLine({ state, keeps }: { state: SaveState; keeps: boolean }) {
  switch (state.kind) {
    case 'saving':
      return keeps ? <p class="q-save">Saving…</p> : null;
    case 'saved':
      return keeps ? <p class="q-save q-saved">Saved</p> : null;
    case 'error':
      return (
        <p class="q-save q-unsaved" role="alert">
          {state.text}
        </p>
      );
    default:
      return null;
  }
}

interface Common {
  id: string;
  labelId: string;
  describedBy?: string;
  q: Question;
  set: (v: string) => Promise<void>;
  flushers: Flushers;
  disabled: boolean;
}

function Control({ kind, ap, common, attach }: { kind: string; ap: string[]; common: Common; attach?: Props['attach'] }) {
  const { q } = common;
  switch (kind) {
    case 'text':
      return <TextInput {...common} multiline={ap.includes('multiline')} inputMode={ap.includes('numbers') ? 'numeric' : undefined} />;
    case 'integer':
      return <TextInput {...common} inputMode="numeric" />;
    case 'decimal':
      return <TextInput {...common} inputMode="decimal" />;
    case 'barcode':
      return <Barcode {...common} />;
    case 'geotrace':
    case 'geoshape':
      return <TextInput {...common} multiline placeholder="lat lon; lat lon; …" />;
    case 'date':
      return <Native {...common} type="date" />;
    case 'time':
      return <Native {...common} type="time" value={q.value.slice(0, 8)} />;
    case 'date_time':
      return <Native {...common} type="datetime-local" value={q.value.slice(0, 16)} />;
    case 'range':
      return <Range {...common} />;
    case 'note':
      return (
        <output class="q-note" aria-labelledby={common.labelId} id={common.id}>
          {q.value}
        </output>
      );
    case 'acknowledge':
      return <Acknowledge {...common} />;
    case 'select_one':
    case 'select_one_from_file':
      return ap.includes('autocomplete') ? <Autocomplete {...common} multiple={false} /> : <Choices {...common} multiple={false} ap={ap} />;
    case 'select_multiple':
    case 'select_multiple_from_file':
      return ap.includes('autocomplete') ? <Autocomplete {...common} multiple /> : <Choices {...common} multiple ap={ap} />;
    case 'select_one_minimal':
      return <Dropdown {...common} multiple={false} />;
    case 'select_multiple_minimal':
      return <Dropdown {...common} multiple />;
    case 'rank':
      return <Rank {...common} />;
    case 'geopoint':
      return <Geopoint {...common} />;
    case 'image': {
      const mode = drawMode(ap);
      if (mode) return <DrawPad {...common} mode={mode} attach={attach} />;
      return <FileInput {...common} kind={kind} attach={attach} />;
    }
    case 'audio':
    case 'video':
    case 'file':
      return <FileInput {...common} kind={kind} attach={attach} />;
    default:
      return <TextInput {...common} />;
  }
}

/**
 * The value a control shows: what the enumerator just picked while its
 * commit is under way, then what the engine holds. Without it a picked
 * radio would flick back until the engine answers.
 */
function usePicked(value: string, set: (v: string) => Promise<void>): [string, (v: string) => Promise<void>] {
  const [picked, setPicked] = useState<string | null>(null);
  const pick = async (v: string) => {
    setPicked(v);
    try {
      await set(v);
    } finally {
      setPicked(null);
    }
  };
  return [picked ?? value, pick];
}

/** Typing is committed half a second after it stops, on leaving the field, and on Enter. */
function TextInput(p: Common & { multiline?: boolean; inputMode?: string; placeholder?: string }) {
  const { q, set, flushers } = p;
  const [draft, setDraft] = useState(q.value);
  const dirty = useRef(false);
  const timer = useRef<number | undefined>(undefined);
  const latest = useRef(draft);
  useEffect(() => {
    if (!dirty.current) {
      setDraft(q.value);
      latest.current = q.value;
    }
  }, [q.value, q.reference]);
  const flush = async () => {
    window.clearTimeout(timer.current);
    if (!dirty.current) return;
    dirty.current = false;
    if (latest.current !== q.value) await set(latest.current);
  };
  useEffect(() => {
    flushers.set(q.reference, flush);
    return () => {
      flushers.delete(q.reference);
    };
  });
  const onInput = (e: Event) => {
    const v = (e.currentTarget as HTMLInputElement).value;
    setDraft(v);
    latest.current = v;
    dirty.current = true;
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void flush(), 500);
  };
  const props = {
    id: p.id,
    value: draft,
    disabled: p.disabled,
    placeholder: p.placeholder,
    'aria-describedby': p.describedBy,
    inputMode: p.inputMode as never,
    onInput,
    onBlur: () => void flush(),
  };
  return p.multiline ? (
    <textarea {...props} rows={3} />
  ) : (
    <input
      type="text"
      autocomplete="off"
      {...props}
      onKeyDown={(e) => {
        if (e.key === 'Enter') void flush();
      }}
    />
  );
}

/** Date and time pickers commit their value when it changes. */
function Native(p: Common & { type: string; value?: string }) {
  return (
    <input
      type={p.type}
      id={p.id}
      value={p.value ?? p.q.value}
      disabled={p.disabled}
      aria-describedby={p.describedBy}
      onChange={(e) => void p.set((e.currentTarget as HTMLInputElement).value)}
    />
  );
}

function Acknowledge(p: Common) {
  const [value, pick] = usePicked(p.q.value, p.set);
  return (
    <div class="q-ack">
      <input
        type="checkbox"
        id={p.id}
        checked={value === 'OK'}
        disabled={p.disabled}
        aria-describedby={p.describedBy}
        onChange={(e) => void pick((e.currentTarget as HTMLInputElement).checked ? 'OK' : '')}
      />
    </div>
  );
}

function Range(p: Common) {
  const prm = p.q.parameters;
  const start = prm.start ?? '1';
  const end = prm.end ?? '10';
  const step = prm.step ?? '1';
  const [shown, setShown] = useState(p.q.value);
  useEffect(() => setShown(p.q.value), [p.q.value]);
  return (
    <div class="q-range">
      <input
        type="range"
        id={p.id}
        min={Math.min(+start, +end)}
        max={Math.max(+start, +end)}
        step={step}
        value={shown || start}
        disabled={p.disabled}
        aria-describedby={p.describedBy}
        aria-valuetext={shown || 'not answered'}
        onInput={(e) => setShown((e.currentTarget as HTMLInputElement).value)}
        onChange={(e) => void p.set((e.currentTarget as HTMLInputElement).value)}
      />
      <output>{shown || '–'}</output>
    </div>
  );
}

function selected(q: Question): string[] {
  return q.value.split(/\s+/).filter(Boolean);
}

/** Radio buttons or checkboxes; `likert`, `horizontal` and `columns` lay them out. */
function Choices(p: Common & { multiple: boolean; ap: string[] }) {
  const { q, multiple } = p;
  const [value, choose] = usePicked(q.value, p.set);
  const chosen = value.split(/\s+/).filter(Boolean);
  const layout = p.ap.includes('likert')
    ? 'likert'
    : p.ap.some((a) => a.startsWith('horizontal') || a.startsWith('columns'))
      ? 'columns'
      : 'list';
  const pick = (c: ChoiceItem, on: boolean) => {
    if (!multiple) return choose(c.value);
    const next = q.choices.map((x) => x.value).filter((v) => (v === c.value ? on : chosen.includes(v)));
    return choose(next.join(' '));
  };
  return (
    <div
      role={multiple ? 'group' : 'radiogroup'}
      aria-labelledby={p.labelId}
      aria-describedby={p.describedBy}
      class={`q-choices q-${layout}`}
      id={p.id}
    >
      {q.choices.map((c, i) => {
        const cid = `${p.id}-c${i}`;
        return (
          <div class="q-choice" key={c.value}>
            <input
              type={multiple ? 'checkbox' : 'radio'}
              id={cid}
              name={p.id}
              value={c.value}
              checked={chosen.includes(c.value)}
              disabled={p.disabled}
              onChange={(e) => void pick(c, (e.currentTarget as HTMLInputElement).checked)}
            />
            <label for={cid}>{c.label}</label>
          </div>
        );
      })}
      {!multiple && chosen.length > 0 && !p.disabled && (
        <button type="button" class="q-clear" onClick={() => void choose('')}>
          Clear answer
        </button>
      )}
    </div>
  );
}

/** `minimal`: a drop-down list. */
function Dropdown(p: Common & { multiple: boolean }) {
  const { q } = p;
  const [value, choose] = usePicked(q.value, p.set);
  const chosen = value.split(/\s+/).filter(Boolean);
  return (
    <select
      id={p.id}
      multiple={p.multiple}
      disabled={p.disabled}
      aria-describedby={p.describedBy}
      onChange={(e) => {
        const el = e.currentTarget as HTMLSelectElement;
        const values = [...el.selectedOptions].map((o) => o.value).filter(Boolean);
        void choose(values.join(' '));
      }}
    >
      {!p.multiple && <option value="">—</option>}
      {q.choices.map((c) => (
        <option value={c.value} selected={chosen.includes(c.value)} key={c.value}>
          {c.label}
        </option>
      ))}
    </select>
  );
}

/** `autocomplete`: type to narrow the choices, then pick. */
function Autocomplete(p: Common & { multiple: boolean }) {
  const [filter, setFilter] = useState('');
  const f = filter.trim().toLowerCase();
  const q = { ...p.q, choices: p.q.choices.filter((c) => !f || c.label.toLowerCase().includes(f) || selected(p.q).includes(c.value)) };
  return (
    <div class="q-autocomplete">
      <input
        type="search"
        id={`${p.id}-filter`}
        aria-label="Type to filter the choices"
        placeholder="Type to filter…"
        value={filter}
        onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)}
      />
      <Choices {...p} q={q} ap={[]} />
    </div>
  );
}

/** `rank`: put every choice in order; the order is saved when confirmed. */
function Rank(p: Common) {
  const { q } = p;
  const initial = () => {
    const have = selected(q);
    return have.length ? have : q.choices.map((c) => c.value);
  };
  const [order, setOrder] = useState<string[]>(initial);
  useEffect(() => setOrder(initial()), [q.value, q.choices.length]);
  const labelOf = (v: string) => q.choices.find((c) => c.value === v)?.label ?? v;
  const move = (i: number, d: number) => {
    const next = [...order];
    const [x] = next.splice(i, 1);
    next.splice(i + d, 0, x);
    setOrder(next);
  };
  return (
    <div class="q-rank" role="group" aria-labelledby={p.labelId} id={p.id} data-value={q.value}>
      <ol>
        {order.map((v, i) => (
          <li key={v} data-value={v}>
            <span>{labelOf(v)}</span>
            <button type="button" aria-label={`Move ${labelOf(v)} up`} disabled={p.disabled || i === 0} onClick={() => move(i, -1)}>
              ↑
            </button>
            <button type="button" aria-label={`Move ${labelOf(v)} down`} disabled={p.disabled || i === order.length - 1} onClick={() => move(i, 1)}>
              ↓
            </button>
          </li>
        ))}
      </ol>
      <button type="button" disabled={p.disabled} onClick={() => void p.set(order.join(' '))}>
        {q.value ? 'Save the new order' : 'Save this order'}
      </button>
    </div>
  );
}

/** The browser's position, or typed in (`lat lon [alt [accuracy]]`). */
function Geopoint(p: Common) {
  const [note, setNote] = useState('');
  const locate = () => {
    if (!('geolocation' in navigator)) {
      setNote('This browser cannot give a location; type it in (latitude longitude).');
      return;
    }
    setNote('Finding the location…');
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const c = pos.coords;
        setNote(`Accuracy ${Math.round(c.accuracy)} m`);
        void p.set([c.latitude, c.longitude, c.altitude ?? 0, c.accuracy].join(' '));
      },
      (err) => setNote(`No location: ${err.message}. Type it in (latitude longitude), or try again outdoors.`),
      { enableHighAccuracy: true, timeout: 30_000, maximumAge: 0 },
    );
  };
  return (
    <div class="q-geo">
      <TextInput {...p} placeholder="latitude longitude" />
      <button type="button" disabled={p.disabled} onClick={locate}>
        Use this device's location
      </button>
      {note && <p class="q-note-line">{note}</p>}
    </div>
  );
}

/** A code typed in, or read from a photo of it where the browser can. */
function Barcode(p: Common) {
  const [note, setNote] = useState('');
  const read = async (file: File) => {
    setNote('Reading the code…');
    const text = await decodeQr(file).catch(() => null);
    if (text) {
      setNote('');
      await p.set(text);
    } else setNote('No code found in that photo; type it in.');
  };
  return (
    <div class="q-barcode">
      <TextInput {...p} />
      <label class="button">
        Scan from a photo
        <input
          type="file"
          accept="image/*"
          capture="environment"
          class="visually-hidden"
          disabled={p.disabled}
          onChange={(e) => {
            const f = (e.currentTarget as HTMLInputElement).files?.[0];
            if (f) void read(f);
          }}
        />
      </label>
      {note && <p class="q-note-line">{note}</p>}
    </div>
  );
}

const ACCEPT: Record<string, string> = { image: 'image/*', audio: 'audio/*', video: 'video/*', file: '' };

/** A photo, recording or file from the browser's camera, microphone or files. */
function FileInput(p: Common & { kind: string; attach?: Props['attach'] }) {
  const [note, setNote] = useState('');
  const onFile = async (file: File) => {
    if (!p.attach) {
      await p.set(file.name);
      return;
    }
    setNote('Saving the file…');
    try {
      const name = await p.attach(p.q.reference, file);
      setNote('');
      await p.set(name);
    } catch (e) {
      setNote(`Not saved: ${e instanceof Error ? e.message : e}`);
    }
  };
  const remove = async () => {
    setNote('');
    await p.set('');
  };
  return (
    <div class="q-file">
      <input
        type="file"
        id={p.id}
        accept={ACCEPT[p.kind] || undefined}
        {...(p.kind === 'file' ? {} : { capture: p.kind === 'image' || p.kind === 'video' ? 'environment' : 'user' })}
        disabled={p.disabled}
        aria-describedby={p.describedBy}
        onChange={(e) => {
          const input = e.currentTarget as HTMLInputElement;
          const f = input.files?.[0];
          // Emptied so that the same file chosen again, after a removal,
          // is a change too.
          input.value = '';
          if (f) void onFile(f);
        }}
      />
      {p.q.value && <p class="q-file-name">{p.q.value}</p>}
      {p.q.value && !p.disabled && (
        // Clearing the answer is enough: core drops the file once no
        // answer of the response names it, as on a tablet.
        <button type="button" class="q-clear" data-action="remove-file" onClick={() => void remove()}>
          Remove file
        </button>
      )}
      {note && <p class="q-note-line" role="status">{note}</p>}
    </div>
  );
}
