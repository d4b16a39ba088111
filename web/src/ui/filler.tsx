// Filling a form, screen by screen: shared by the enumerator's interview
// (answers committed to the device database) and the researcher's preview
// (nothing kept). Moves with Back / Next (refused, with the messages at the
// questions, while the screen has a broken constraint or an empty required
// question), adds and removes repeat instances, switches language, jumps
// to any question, and shows progress.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { HierarchyEntry, Question, ScreenView, Session } from '../engine/api';
import { answerProblem } from '../messages';
import type { MediaReader } from './label-media';
import { type Flushers, QuestionView, type SaveState } from './questions';

interface Props {
  session: Session;
  /** Where to open (a saved anchor), if anywhere. */
  start?: string | null;
  /** Called after every change and move (to save the anchor, refresh a side panel). */
  onChange?: (view: ScreenView) => void;
  /** What to show past the last screen. */
  end: (view: ScreenView, jump: (ref: string) => void) => ComponentChildren;
  attach?: (ref: string, file: File) => Promise<string>;
  /** Language to switch to on opening. */
  language?: string | null;
  /** Whether answers are kept (an interview) or only tried (the preview). */
  keeps?: boolean;
  /** A reviewer's comments by question reference (a returned response's correction). */
  comments?: Map<string, string[]>;
  /** Reads the form's label media (an interview on this device). */
  media?: MediaReader;
}

export function Filler({ session, start, onChange, end, attach, language, keeps = true, comments, media }: Props) {
  const [view, setView] = useState<ScreenView | null>(null);
  const [states, setStates] = useState<Record<string, SaveState>>({});
  const [showRequired, setShowRequired] = useState(false);
  const [jump, setJump] = useState<HierarchyEntry[] | null>(null);
  const [problem, setProblem] = useState('');
  // Commits answered so far (saved or refused): tests wait on it.
  const [commits, setCommits] = useState(0);
  const flushers = useRef<Flushers>(new Map()).current;
  const inFlight = useRef(new Set<Promise<void>>()).current;
  const current = useRef<ScreenView | null>(null);

  const show = (v: ScreenView, keepMessages = false) => {
    if (!keepMessages && v.anchor !== current.current?.anchor) {
      setShowRequired(false);
      setStates({});
    }
    current.current = v;
    setView(v);
    onChange?.(v);
    // The first field of a new screen is where typing goes.
    if (!keepMessages) {
      requestAnimationFrame(() => {
        const first = document.querySelector<HTMLElement>('.screen .q input:not([type=hidden]), .screen .q select, .screen .q textarea');
        first?.focus({ preventScroll: true });
        document.querySelector('.screen')?.scrollIntoView({ block: 'start' });
      });
    }
  };

  const go = async (anchor: string | null, offset: number, target: string | null = null) => {
    try {
      const v = await session.view(anchor, offset, target, current.current?.index ?? 0);
      show(v);
      setProblem('');
    } catch (e) {
      setProblem(answerProblem(e));
    }
  };

  useEffect(() => {
    void (async () => {
      if (language) await session.setLanguage(language).catch(() => undefined);
      await go(start ?? null, 0);
    })();
  }, [session]);

  const refresh = async () => {
    const v = current.current;
    const next = await session.view(v?.anchor ?? null, 0, null, v?.index ?? 0);
    show(next, true);
  };

  /**
   * Three calls sent at once, answered in order by the worker: the answer
   * (refused here if it does not fit), the screen as it now stands, shown
   * at once, and the commit, after which the question says "Saved".
   */
  const commit = (ref: string, value: string) => {
    const p = (async () => {
      setStates((s) => ({ ...s, [ref]: { kind: 'saving' } }));
      const v = current.current;
      const given = session.set(ref, value);
      const screen = session.view(v?.anchor ?? null, 0, null, v?.index ?? 0);
      const saved = session.save();
      // Nothing is left unhandled whichever fails first.
      for (const p of [screen, saved]) p.catch(() => undefined);
      try {
        await given;
        show(await screen, true);
        await saved;
        setStates((s) => ({ ...s, [ref]: { kind: 'saved' } }));
      } catch (e) {
        setStates((s) => ({ ...s, [ref]: { kind: 'error', text: answerProblem(e) } }));
      } finally {
        setCommits((n) => n + 1);
      }
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  };

  /** Every typed answer committed, every commit answered. */
  const settle = async () => {
    await Promise.all([...flushers.values()].map((f) => f()));
    await Promise.all([...inFlight]);
  };

  const questions = (v: ScreenView | null): Question[] => {
    const s = v?.screen;
    if (!s) return [];
    return s.kind === 'question' ? [s.question] : s.kind === 'fieldList' ? s.questions : [];
  };

  const next = async () => {
    await settle();
    const v = current.current;
    if (!v) return;
    const stuck = questions(v).some((q) => q.relevant && q.issue && (q.issue.kind === 'required' || q.value !== ''));
    const unsaved = questions(v).some((q) => states[q.reference]?.kind === 'error');
    if (stuck || unsaved) {
      setShowRequired(true);
      return;
    }
    await go(v.anchor, 1);
  };

  const back = async () => {
    await settle();
    const v = current.current;
    if (v) await go(v.anchor || null, -1, null);
  };

  const addRepeat = async (ref: string) => {
    await settle();
    try {
      const instance = await session.addRepeat(ref);
      await go(null, 0, instance);
    } catch (e) {
      setProblem(answerProblem(e));
    }
  };

  const removeRepeat = async (ref: string, label: string) => {
    if (!confirm(`Remove ${label} and every answer in it?`)) return;
    await settle();
    try {
      await session.removeRepeat(ref);
      await go(null, 0);
    } catch (e) {
      setProblem(answerProblem(e));
    }
  };

  const setLanguage = async (lang: string) => {
    await settle();
    await session.setLanguage(lang);
    await refresh();
  };

  const openJump = async () => {
    await settle();
    setJump(await session.hierarchy());
  };

  const jumpTo = async (ref: string) => {
    setJump(null);
    await go(null, 0, ref);
  };

  if (!view) return <p class="loading">Opening the form…</p>;
  const p = view.progress;
  const s = view.screen;
  return (
    <div class="filler">
      <div class="filler-bar">
        {view.languages.length > 1 && (
          <label class="lang">
            <span>Language</span>
            <select value={view.language ?? ''} onChange={(e) => void setLanguage((e.currentTarget as HTMLSelectElement).value)}>
              {view.languages.map((l) => (
                <option value={l} key={l}>
                  {l}
                </option>
              ))}
            </select>
          </label>
        )}
        <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={p.asked} aria-valuenow={p.answered} aria-label="Answered">
          <div class="progress-fill" style={{ width: `${p.asked ? (100 * p.answered) / p.asked : 0}%` }} />
          <span>
            {p.answered} of {p.asked} answered · screen {Math.min(view.index + 1, view.count)} of {view.count}
          </span>
        </div>
        <button type="button" class="secondary" onClick={() => void openJump()}>
          Go to a question
        </button>
      </div>
      {jump && (
        <div class="jump" role="dialog" aria-label="Go to a question">
          <div class="jump-head">
            <strong>Go to a question</strong>
            <button type="button" class="secondary" onClick={() => setJump(null)}>
              Close
            </button>
          </div>
          <button
            type="button"
            class="secondary small"
            data-action="jump-end"
            onClick={() => {
              setJump(null);
              void go(null, 1_000_000);
            }}
          >
            Go to the end (finalize)
          </button>
          <ul>
            {jump
              .filter((h) => h.relevant)
              .map((h) => (
                <li style={{ paddingLeft: `${h.depth * 1}em` }} key={h.reference}>
                  <button type="button" class="link" data-jump={h.reference} onClick={() => void jumpTo(h.reference)}>
                    {h.label || h.reference}
                  </button>
                  {h.kind !== 'group' && h.kind !== 'repeat' && <span class="jump-state">{h.answered ? '✓' : ''}</span>}
                </li>
              ))}
          </ul>
        </div>
      )}
      <section class="screen" data-anchor={view.anchor} data-index={view.index} data-commits={commits} aria-live="polite">
        {view.breadcrumbs.length > 0 && <p class="crumbs">{view.breadcrumbs.join(' › ')}</p>}
        {s?.kind === 'fieldList' && s.label && <h2 class="group-label">{s.label}</h2>}
        {s && s.kind !== 'addRepeat' &&
          questions(view)
            .filter((q) => q.relevant)
            .map((q) => (
              <div key={q.reference}>
                {comments?.get(q.reference)?.map((text, i) => (
                  <p class="review-comment" role="note" data-comment-ref={q.reference} key={i}>
                    Supervisor: {text}
                  </p>
                ))}
                <QuestionView
                  q={q}
                  commit={commit}
                  state={states[q.reference] ?? { kind: 'idle' }}
                  showRequired={showRequired}
                  flushers={flushers}
                  attach={attach}
                  keeps={keeps}
                  media={media}
                />
              </div>
            ))}
        {s?.kind === 'addRepeat' && (
          <div class="add-repeat" data-repeat={s.reference} data-count={s.count}>
            <p>
              {s.count === 0 ? `Add a ${s.label}?` : `Add another ${s.label}? (${s.count} so far)`}
            </p>
            <button type="button" data-action="add-repeat" onClick={() => void addRepeat(s.reference)}>
              Add {s.label}
            </button>
            <button type="button" class="secondary" data-action="no-more" onClick={() => void go(view.anchor, 1)}>
              No, go on
            </button>
          </div>
        )}
        {!s && end(view, (ref) => void jumpTo(ref))}
        {view.repeat && !view.repeat.countControlled && s && s.kind !== 'addRepeat' && (
          <button
            type="button"
            class="danger small"
            data-action="remove-repeat"
            onClick={() => void removeRepeat(view.repeat!.reference, `${view.repeat!.label} ${view.repeat!.position}`)}
          >
            Remove {view.repeat.label} {view.repeat.position}
          </button>
        )}
        {problem && (
          <p class="problem" role="alert">
            {problem}
          </p>
        )}
      </section>
      <nav class="filler-nav">
        <button type="button" class="secondary" data-action="back" disabled={view.index === 0} onClick={() => void back()}>
          ← Back
        </button>
        {s && (
          <button type="button" data-action="next" onClick={() => void next()}>
            Next →
          </button>
        )}
      </nav>
    </div>
  );
}
