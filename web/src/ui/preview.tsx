// The researcher's preview: drop an XLSForm (.xlsx) or an instrument
// (.json), or open `?preview=PATH` (a file on this server), and fill it at
// once with the engine the tablets run. Beside the form: every question's
// state (relevant, required, value, constraint) and the submission XML, in
// any of the form's languages; a form that does not import lists every
// problem with its sheet and cell. Nothing is kept.

import { useEffect, useState } from 'preact/hooks';
import { engine, type FormCheck, type LeafState, openPreview, type Session } from '../engine/api';
import { Filler } from './filler';

type Opened = Session & { leaves(): Promise<LeafState[]>; close(): Promise<void> };

interface Loaded {
  name: string;
  bytes: Uint8Array;
  check: FormCheck;
}

export function PreviewScreen({ path }: { path: string | null }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [problem, setProblem] = useState('');
  const [busy, setBusy] = useState(false);

  const load = async (bytes: Uint8Array, name: string) => {
    setProblem('');
    setBusy(true);
    try {
      setLoaded({ name, bytes, check: await engine.checkForm(bytes, name) });
    } catch (e) {
      setLoaded(null);
      setProblem(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (!path) return;
    const url = new URL(path, location.href);
    if (url.origin !== location.origin) {
      setProblem(`The preview opens files from this server only (${location.origin}), not ${url.origin}.`);
      return;
    }
    void (async () => {
      try {
        const r = await fetch(url, { cache: 'no-store' });
        if (!r.ok) throw new Error(`${url.pathname}: ${r.status} ${r.statusText}`);
        const name = decodeURIComponent(url.pathname.split('/').pop() || 'form');
        await load(new Uint8Array(await r.arrayBuffer()), name);
      } catch (e) {
        setProblem(`Cannot read ${path}: ${e instanceof Error ? e.message : e}`);
      }
    })();
  }, [path]);

  const onFiles = (files: FileList | null | undefined) => {
    const f = files?.[0];
    if (f) void f.arrayBuffer().then((b) => load(new Uint8Array(b), f.name));
  };

  return (
    <div class="preview" data-screen="preview">
      <header class="top">
        <a href="#/" class="back" onClick={() => history.replaceState(null, '', location.pathname)}>
          ← Enumera
        </a>
        <h1>Form preview</h1>
      </header>
      <div
        class="drop"
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => {
          e.preventDefault();
          onFiles(e.dataTransfer?.files);
        }}
      >
        <label for="preview-file">Drop an XLSForm (.xlsx) or an Enumera instrument (.json) here, or choose one</label>
        <input id="preview-file" type="file" accept=".xlsx,.xls,.json" onChange={(e) => onFiles((e.currentTarget as HTMLInputElement).files)} />
        {busy && <p class="loading">Reading the form…</p>}
      </div>
      {problem && <p class="problem" role="alert">{problem}</p>}
      {loaded && <Checked loaded={loaded} key={`${loaded.name}-${loaded.bytes.length}-${loaded.check.version}`} />}
    </div>
  );
}

function Diagnostics({ check }: { check: FormCheck }) {
  if (!check.diagnostics.length) return null;
  const errors = check.diagnostics.filter((d) => d.severity === 'error').length;
  return (
    <div class={`card ${errors ? 'problem' : ''}`} data-diagnostics={check.diagnostics.length} role={errors ? 'alert' : undefined}>
      <h2>
        {errors
          ? `${check.fileName} cannot be filled: ${errors} error(s)`
          : `${check.fileName}: ${check.diagnostics.length} warning(s)`}
      </h2>
      <table class="diag">
        <thead>
          <tr>
            <th>Where</th>
            <th></th>
            <th>Problem</th>
          </tr>
        </thead>
        <tbody>
          {check.diagnostics.map((d, i) => (
            <tr key={i} data-diagnostic={d.severity} data-location={d.location}>
              <td>
                <code>{d.location || d.sheet}</code>
              </td>
              <td>{d.severity}</td>
              <td>{d.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Checked({ loaded }: { loaded: Loaded }) {
  const { check } = loaded;
  const [session, setSession] = useState<Opened | null>(null);
  const [leaves, setLeaves] = useState<LeafState[]>([]);
  const [xml, setXml] = useState('');
  const [tab, setTab] = useState<'state' | 'xml' | 'steps'>('state');
  const [error, setError] = useState('');
  const [round, setRound] = useState(0);

  useEffect(() => {
    if (!check.ok) return;
    let opened: Opened | null = null;
    void openPreview(loaded.bytes, loaded.name)
      .then((s) => {
        opened = s;
        setSession(s);
      })
      .catch((e) => setError(e instanceof Error ? e.message : String(e)));
    return () => void opened?.close();
  }, [loaded, round]);

  const refresh = async () => {
    if (!session) return;
    setLeaves(await session.leaves());
    setXml(await session.submissionXml());
  };

  return (
    <>
      <Diagnostics check={check} />
      {error && <p class="problem" role="alert">{error}</p>}
      {check.ok && session && (
        <div class="preview-grid">
          <div class="preview-form">
            <p class="muted">
              {check.title} · {check.formId} · version {check.version}{' '}
              <button type="button" class="secondary small" onClick={() => setRound((n) => n + 1)}>
                Start again
              </button>
            </p>
            <Filler
              session={session}
              keeps={false}
              onChange={() => void refresh()}
              end={() => (
                <div class="end" data-screen="end">
                  <h2>End of the form</h2>
                  <p>In the app this is where the enumerator finalizes. The submission is on the right.</p>
                </div>
              )}
            />
          </div>
          <aside class="panel" aria-label="Question states and submission">
            <div class="tabs" role="tablist">
              <button type="button" role="tab" aria-selected={tab === 'state'} onClick={() => setTab('state')}>
                Questions
              </button>
              <button type="button" role="tab" aria-selected={tab === 'xml'} onClick={() => setTab('xml')}>
                Submission XML
              </button>
              <button type="button" role="tab" aria-selected={tab === 'steps'} onClick={() => setTab('steps')}>
                Run a step script
              </button>
            </div>
            {tab === 'state' && <LeafTable leaves={leaves} />}
            {tab === 'xml' && <pre class="xml" data-panel="xml">{xml}</pre>}
            {tab === 'steps' && <Steps loaded={loaded} languages={check.languages} />}
          </aside>
        </div>
      )}
    </>
  );
}

function LeafTable({ leaves }: { leaves: LeafState[] }) {
  return (
    <table class="leaves" data-panel="state">
      <thead>
        <tr>
          <th>Question</th>
          <th>Relevant</th>
          <th>Required</th>
          <th>Value</th>
          <th>Constraint</th>
        </tr>
      </thead>
      <tbody>
        {leaves.map((l) => (
          <tr key={l.ref} data-leaf={l.ref} class={l.relevant ? '' : 'irrelevant'}>
            <td>
              <code>{l.ref}</code>
            </td>
            <td data-col="relevant">{l.relevant ? 'yes' : 'no'}</td>
            <td data-col="required">{l.required ? (l.required_valid ? 'yes' : 'yes, empty') : 'no'}</td>
            <td data-col="value">{l.value}</td>
            <td data-col="constraint">{l.constraint_valid ? 'ok' : l.violation_message ?? 'broken'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Runs a step script (`enumera form run`'s format) on this form. */
function Steps({ loaded, languages }: { loaded: Loaded; languages: string[] }) {
  const [script, setScript] = useState('[\n  {"set": "/data/QUESTION", "value": "..."}\n]');
  const [now, setNow] = useState('');
  const [lang, setLang] = useState('');
  const [out, setOut] = useState('');
  const run = async () => {
    try {
      const steps = JSON.parse(script);
      const doc = (await window.enumera.runSteps(loaded.bytes, loaded.name, steps, {
        ...(now ? { now } : {}),
        ...(lang ? { lang } : {}),
      })) as { steps: { ok: boolean; error: string | null; index: number }[] };
      const failed = doc.steps.filter((s) => !s.ok);
      setOut(
        `${doc.steps.length - failed.length} of ${doc.steps.length} steps applied${failed.map((f) => `\nstep ${f.index}: ${f.error}`).join('')}\n\n${JSON.stringify(doc, null, 1)}`,
      );
    } catch (e) {
      setOut(`Not run: ${e instanceof Error ? e.message : e}`);
    }
  };
  return (
    <div class="steps" data-panel="steps">
      <label for="steps-script">Steps (JSON, as `enumera form run` reads them)</label>
      <textarea id="steps-script" rows={8} value={script} onInput={(e) => setScript((e.currentTarget as HTMLTextAreaElement).value)} />
      <label for="steps-now">Clock (ISO 8601, optional)</label>
      <input id="steps-now" value={now} placeholder="2024-01-15T10:30:00Z" onInput={(e) => setNow((e.currentTarget as HTMLInputElement).value)} />
      <label for="steps-lang">Language</label>
      <select id="steps-lang" value={lang} onChange={(e) => setLang((e.currentTarget as HTMLSelectElement).value)}>
        <option value="">default</option>
        {languages.map((l) => (
          <option value={l} key={l}>
            {l}
          </option>
        ))}
      </select>
      <button type="button" onClick={() => void run()}>
        Run
      </button>
      {out && <pre class="steps-out">{out}</pre>}
    </div>
  );
}
