// The home screen: what is on this device (drafts, finalized waiting to be
// sent, sent) and the way to everything else.

import { useEffect, useState } from 'preact/hooks';
import { type AssignedWork, type DeviceInfo, type ReturnedResponse, type StateCounts, store } from '../engine/api';
import { navigate } from '../route';
import { connection } from '../settings';

export function Home({ device }: { device: DeviceInfo }) {
  const [counts, setCounts] = useState<StateCounts | null>(null);
  const [forms, setForms] = useState<number | null>(null);
  const [work, setWork] = useState<AssignedWork[]>([]);
  const [returned, setReturned] = useState<ReturnedResponse[]>([]);
  const [problem, setProblem] = useState('');
  useEffect(() => {
    void store.assignments().then(setWork);
    void store.returnedResponses().then(setReturned);
    void store.stateCounts().then(setCounts);
    void store.forms().then((f) => setForms(new Set(f.map((x) => x.formId)).size));
  }, []);
  const c = connection();
  return (
    <div class="home" data-screen="home">
      <header class="top">
        <h1>Enumera</h1>
        <p class="device">
          {device.name}
          {device.enumeratorId ? ` · ${device.enumeratorId}` : ''}
        </p>
      </header>
      <dl class="counts" aria-label="Responses on this device">
        <div>
          <dt>Drafts</dt>
          <dd data-count="draft">{counts?.draft ?? '…'}</dd>
        </div>
        <div>
          <dt>To send</dt>
          <dd data-count="finalized">{counts?.finalized ?? '…'}</dd>
        </div>
        <div>
          <dt>Sent</dt>
          <dd data-count="sent">{counts?.sent ?? '…'}</dd>
        </div>
      </dl>
      <nav class="menu">
        <a class="button big" href="#/start" data-nav="start">
          New interview
        </a>
        <a class="button" href="#/participants" data-nav="participants">
          Participants
        </a>
        <a class="button" href="#/drafts" data-nav="drafts">
          Drafts{counts?.draft ? ` (${counts.draft})` : ''}
        </a>
        <a class="button" href="#/outbox" data-nav="outbox">
          Outbox and sync{counts?.finalized ? ` (${counts.finalized} to send)` : ''}
        </a>
        <a class="button secondary" href="#/setup" data-nav="setup">
          Set-up
        </a>
        <a class="button secondary" href="#/preview" data-nav="preview">
          Try a form (preview)
        </a>
      </nav>
      {returned.some((r) => r.status !== 'corrected') && (
        <section class="returned-list" aria-label="Returned by a supervisor">
          <h2>Returned by a supervisor</h2>
          <ul>
            {returned
              .filter((r) => r.status !== 'corrected')
              .map((r) => (
                <li key={r.instanceId} data-returned={r.instanceId} data-status={r.status}>
                  <p>
                    {r.formId}
                    {r.participantId ? ` · ${r.participantId}` : ''}
                    {r.round ? ` · round ${r.round}` : ''} — returned by {r.reviewer}
                  </p>
                  <ul class="comments">
                    {r.comments.map((c, i) => (
                      <li key={i} class="review-comment" data-comment-ref={c.reference ?? ''}>
                        {c.reference ? <code>{c.reference}</code> : null} {c.text}
                      </li>
                    ))}
                  </ul>
                  <button
                    type="button"
                    data-action="reopen"
                    onClick={() =>
                      void (r.status === 'reopened' && r.correctionId
                        ? Promise.resolve(r.correctionId)
                        : store.reopenReturned(r.instanceId)
                      ).then(
                        (draft) => navigate(`/interview/${encodeURIComponent(draft)}`),
                        (e) => setProblem(e instanceof Error ? e.message : String(e)),
                      )
                    }
                  >
                    {r.status === 'reopened' ? 'Continue the correction' : 'Reopen and correct'}
                  </button>
                </li>
              ))}
          </ul>
        </section>
      )}
      {work.length > 0 && (
        <section class="assignments" aria-label="Assignments">
          <h2>Assignments</h2>
          <ul>
            {work.map((a) => (
              <li key={a.assignmentId} data-assignment={a.assignmentId} data-done={String(a.done)}>
                <span>
                  {a.formId}
                  {a.participantId ? ` · ${a.participantId}` : a.quantity ? ` · ${a.finalized}/${a.quantity}` : ''}
                  {a.round ? ` · round ${a.round}` : ''}
                  {a.done ? ' · done' : a.started ? ' · started' : ''}
                </span>{' '}
                {!a.done && (
                  <button
                    type="button"
                    data-action="start-assignment"
                    onClick={() =>
                      void store.startAssigned(a.assignmentId).then(
                        (id) => navigate(`/interview/${encodeURIComponent(id)}`),
                        (e) => setProblem(e instanceof Error ? e.message : String(e)),
                      )
                    }
                  >
                    Start
                  </button>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {forms === 0 && (
        <p class="hint">
          No forms on this device yet. {c ? 'Sync to fetch the forms central publishes.' : 'Set the device up with central to fetch its forms.'}
        </p>
      )}
    </div>
  );
}
