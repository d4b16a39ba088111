// The interview: one response on this device, every answer committed to
// the device database before it shows as saved, resumed on the screen it
// was left on. The end screen finalizes, or lists what still blocks it
// with a way to each question.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { interview, type OutboxItem, type ReturnedResponse, store, type ValidationIssue } from '../engine/api';
import { EngineError } from '../engine/client';
import { forgetAnchor, lastAnchor, saveAnchor } from '../settings';
import { attachFile } from './attachments';
import { useAudit } from './audit';
import { useBackgroundAudio } from './recording';
import { Filler } from './filler';

export function InterviewScreen({ id }: { id: string }) {
  const session = useMemo(() => interview(id), [id]);
  const [state, setState] = useState<'loading' | 'open' | 'finalized' | 'missing'>('loading');
  const [title, setTitle] = useState('');
  const [problem, setProblem] = useState('');
  const [done, setDone] = useState<OutboxItem | null>(null);
  const [issues, setIssues] = useState<ValidationIssue[] | null>(null);
  const [labels, setLabels] = useState<Map<string, string>>(new Map());
  const [formHash, setFormHash] = useState('');
  // A correction of a returned response: the reviewer's comments, shown at
  // their questions and (those on the whole response) at the top.
  const [returned, setReturned] = useState<ReturnedResponse | null>(null);
  useEffect(() => {
    void store.returnCorrectedBy(id).then(setReturned, () => setReturned(null));
  }, [id]);
  const comments = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const c of returned?.comments ?? []) {
      if (c.reference) m.set(c.reference, [...(m.get(c.reference) ?? []), c.text]);
    }
    return m;
  }, [returned]);

  useEffect(() => {
    session
      .info()
      .then(async (i) => {
        const forms = await store.forms();
        setTitle(forms.filter((f) => f.formId === i.formId).pop()?.title || i.formId);
        setFormHash(i.formHash);
        setState(i.finalized ? 'finalized' : 'open');
      })
      .catch((e) => {
        setProblem(e instanceof Error ? e.message : String(e));
        setState(e instanceof EngineError && e.kind === 'NotEditable' ? 'finalized' : 'missing');
      });
  }, [session]);

  const attach = (ref: string, file: File) => attachFile(session, ref, file);
  // Label media: the form version's files, from the device store.
  const media = useMemo(() => (formHash ? (name: string) => store.formMedia(formHash, name) : undefined), [formHash]);
  // The form's audit and background recording, while the draft is open.
  const audit = useAudit(session, state === 'open');
  const recording = useBackgroundAudio(session, id, state === 'open');

  const finalize = async () => {
    try {
      if (!(await audit.beforeFinalize())) return;
      await recording.attach();
      setDone(await session.finalize());
      forgetAnchor(id);
      setState('finalized');
    } catch (e) {
      if (e instanceof EngineError && e.kind === 'Blocked') {
        // Each reason under its question's label, as the enumerator knows it.
        const tree = await session.hierarchy().catch(() => []);
        setLabels(new Map(tree.map((h) => [h.reference, h.label])));
        setIssues((e.info.issues as ValidationIssue[]) ?? []);
      } else {
        setProblem(e instanceof Error ? e.message : String(e));
      }
    }
  };

  if (state === 'loading') return <p class="loading">Opening the interview…</p>;
  if (state === 'missing') {
    return (
      <div class="card problem" role="alert">
        <h1>This interview is not on this device</h1>
        <p>{problem}</p>
        <a href="#/">Home</a>
      </div>
    );
  }
  if (state === 'finalized') {
    return (
      <div class="card success" data-screen="finalized" role="status">
        <h1>Finalized</h1>
        <p>
          {done
            ? `The response is finalized and waits in the outbox (number ${done.seq}) until central confirms it has it.`
            : 'This response is finalized and can no longer change.'}
        </p>
        <a class="button" href="#/outbox">
          Outbox and sync
        </a>{' '}
        <a class="button secondary" href="#/">
          Home
        </a>
      </div>
    );
  }
  return (
    <div class="interview" data-screen="interview" data-instance={id}>
      <header class="top">
        <a href="#/" class="back">← Home (the draft is kept)</a>
        <h1>{title}</h1>
      </header>
      {audit.dialogs}
      {recording.banner}
      {returned && (
        <div class="card returned" role="note" data-corrects={returned.instanceId}>
          <p>
            Returned by {returned.reviewer}: correct the questions marked below, then finalize again.
          </p>
          {returned.comments
            .filter((c) => !c.reference)
            .map((c, i) => (
              <p class="review-comment" data-comment-ref="" key={i}>
                {c.text}
              </p>
            ))}
        </div>
      )}
      <Filler
        session={session}
        comments={comments}
        start={lastAnchor(id)}
        attach={attach}
        media={media}
        onChange={(v) => {
          if (v.anchor) saveAnchor(id, v.anchor);
          audit.onView(v);
          setIssues(null);
        }}
        end={(_, jump) => (
          <div class="end" data-screen="end">
            <h2>End of the form</h2>
            {issues && issues.length > 0 && (
              <div class="blockers" role="alert" data-blockers={issues.length}>
                <p>It cannot be finalized yet:</p>
                <ul>
                  {issues.map((i) => (
                    <li key={i.reference}>
                      <button type="button" class="link" data-reference={i.reference} onClick={() => jump(i.reference)}>
                        {labels.get(i.reference) || i.reference}
                      </button>
                      : {i.text}
                    </li>
                  ))}
                </ul>
              </div>
            )}
            <p>Finalizing freezes the response and puts it in the outbox, signed (and sealed where the form says so).</p>
            <button type="button" data-action="finalize" onClick={() => void finalize()}>
              Finalize
            </button>
            {problem && <p class="problem" role="alert">{problem}</p>}
          </div>
        )}
      />
    </div>
  );
}
