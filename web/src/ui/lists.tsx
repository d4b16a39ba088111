// Starting and resuming: the forms on the device, the roster of
// participants (start a form for one, carrying their earlier answers where
// the form marks them), and the drafts (resume exactly where left, or
// discard: kept until purged, never silently deleted).

import { useEffect, useMemo, useState } from 'preact/hooks';
import { type InstalledForm, type ParticipantInfo, type ResponseSummary, store } from '../engine/api';
import { navigate, routeParams, useRoute } from '../route';
import { forgetAnchor } from '../settings';

/** The newest version of each form. */
function latest(forms: InstalledForm[]): InstalledForm[] {
  const by = new Map<string, InstalledForm>();
  for (const f of forms) by.set(f.formId, f);
  return [...by.values()].sort((a, b) => a.title.localeCompare(b.title));
}

function who(p: ParticipantInfo): string {
  const shown = [...Object.values(p.personal), ...Object.values(p.display)].filter(Boolean);
  return shown.length ? `${p.id} · ${shown.join(' · ')}` : p.id;
}

export function StartForm() {
  const route = useRoute();
  const preset = routeParams(route).get('participant') ?? '';
  const [forms, setForms] = useState<InstalledForm[] | null>(null);
  const [people, setPeople] = useState<ParticipantInfo[]>([]);
  const [formId, setFormId] = useState('');
  const [participant, setParticipant] = useState(preset);
  const [round, setRound] = useState('');
  const [preload, setPreload] = useState(true);
  const [error, setError] = useState('');
  useEffect(() => {
    void store.forms().then((f) => {
      const l = latest(f);
      setForms(l);
      if (l.length === 1) setFormId(l[0].formId);
    });
    void store.participants().then(setPeople);
  }, []);
  const start = async (e: Event) => {
    e.preventDefault();
    try {
      const id = await store.start(formId, participant || null, round ? Number(round) : null, preload && !!participant);
      navigate(`/interview/${encodeURIComponent(id)}`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  if (!forms) return <p class="loading">Loading the forms…</p>;
  return (
    <div data-screen="start">
      <header class="top">
        <a href="#/" class="back">← Home</a>
        <h1>New interview</h1>
      </header>
      {forms.length === 0 ? (
        <p class="hint">No forms on this device yet: sync with central (Outbox and sync) to fetch them.</p>
      ) : (
        <form class="card" onSubmit={(e) => void start(e)}>
          <fieldset>
            <legend>Form</legend>
            {forms.map((f) => (
              <div class="q-choice" key={f.formId}>
                <input type="radio" name="form" id={`form-${f.formId}`} value={f.formId} checked={formId === f.formId} onChange={() => setFormId(f.formId)} />
                <label for={`form-${f.formId}`}>
                  {f.title} <span class="muted">({f.formId}, version {f.version})</span>
                </label>
              </div>
            ))}
          </fieldset>
          <label for="participant">Participant (optional)</label>
          <select id="participant" value={participant} onChange={(e) => setParticipant((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">— none —</option>
            {people.map((p) => (
              <option value={p.id} key={p.id}>
                {who(p)}
              </option>
            ))}
          </select>
          <label for="round">Round (optional)</label>
          <select id="round" value={round} onChange={(e) => setRound((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">—</option>
            <option value="1">1 (baseline)</option>
            <option value="2">2</option>
            <option value="3">3</option>
          </select>
          <div class="q-choice">
            <input type="checkbox" id="preload" checked={preload} onChange={(e) => setPreload((e.currentTarget as HTMLInputElement).checked)} />
            <label for="preload">Carry over this participant's earlier answers where the form asks for it</label>
          </div>
          <button type="submit" disabled={!formId} data-action="start">
            Start
          </button>
          {error && <p class="problem" role="alert">{error}</p>}
        </form>
      )}
    </div>
  );
}

export function Participants() {
  const [people, setPeople] = useState<ParticipantInfo[] | null>(null);
  const [filter, setFilter] = useState('');
  useEffect(() => void store.participants().then(setPeople), []);
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return (people ?? []).filter((p) => !f || who(p).toLowerCase().includes(f));
  }, [people, filter]);
  return (
    <div data-screen="participants">
      <header class="top">
        <a href="#/" class="back">← Home</a>
        <h1>Participants</h1>
      </header>
      <label for="people-filter">Find</label>
      <input id="people-filter" type="search" value={filter} onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} />
      {people && people.length === 0 && <p class="hint">No roster on this device yet: sync to fetch it from central.</p>}
      <ul class="rows">
        {shown.map((p) => (
          <li key={p.id} data-participant={p.id}>
            <span>{who(p)}</span>
            <a class="button small" href={`#/start?participant=${encodeURIComponent(p.id)}`}>
              Interview
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Drafts() {
  const [drafts, setDrafts] = useState<ResponseSummary[] | null>(null);
  const load = () => void store.listResponses().then((r) => setDrafts(r.filter((x) => x.state === 'draft')));
  useEffect(load, []);
  const discard = async (r: ResponseSummary) => {
    if (!confirm(`Discard this draft of ${r.formId}${r.participantId ? ` for ${r.participantId}` : ''}? It is kept on the device but will not be sent.`)) return;
    await store.discard(r.instanceId);
    forgetAnchor(r.instanceId);
    load();
  };
  return (
    <div data-screen="drafts">
      <header class="top">
        <a href="#/" class="back">← Home</a>
        <h1>Drafts</h1>
      </header>
      {drafts && drafts.length === 0 && <p class="hint">No drafts.</p>}
      <ul class="rows">
        {(drafts ?? []).map((r) => (
          <li key={r.instanceId} data-draft={r.instanceId}>
            <span>
              {r.formId}
              {r.participantId ? ` · ${r.participantId}` : ''} · <span class="muted">{new Date(r.updatedAt).toLocaleString()}</span>
            </span>
            <span class="row-actions">
              <a class="button small" href={`#/interview/${encodeURIComponent(r.instanceId)}`} data-action="resume">
                Resume
              </a>
              <button type="button" class="danger small" onClick={() => void discard(r)} data-action="discard">
                Discard
              </button>
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
