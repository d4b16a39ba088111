// The outbox and sync: finalized responses waiting for central's receipt,
// those already confirmed, and sync over the network (the same protocol as
// `enumera device sync`) or by hand (a bundle file). A failed sync keeps
// everything and says what happens next.

import { useEffect, useState } from 'preact/hooks';
import { type DeviceInfo, type ResponseSummary, store, type SyncReport } from '../engine/api';
import { syncProblem, type Explained } from '../messages';
import { connection } from '../settings';

export function Outbox({ device }: { device: DeviceInfo }) {
  const [responses, setResponses] = useState<ResponseSummary[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; message: Explained } | null>(null);
  const load = () => void store.listResponses().then(setResponses);
  useEffect(load, []);
  const waiting = (responses ?? []).filter((r) => r.state === 'finalized');
  const sent = (responses ?? []).filter((r) => r.state === 'sent');
  const c = connection();

  const sync = async () => {
    if (!c) return;
    setBusy(true);
    setResult(null);
    try {
      const report: SyncReport = await store.sync(c.server, c.token, 'sync');
      const parts = [
        report.uploaded ? `${report.uploaded} response(s) sent and confirmed by central` : 'nothing to send',
        report.formsInstalled.length ? `${report.formsInstalled.length} new form(s)` : '',
        report.rosters.length ? `roster updated` : '',
        report.mediaFetched ? `${report.mediaFetched} form media file(s)` : '',
        ...report.mediaMissing.map((m) => `${m.name} of form ${m.formId} ${m.version} not fetched (${m.reason}; tried again at the next sync)`),
      ].filter(Boolean);
      setResult({ ok: true, message: { title: 'Synced', text: `${parts.join('; ')}.` } });
    } catch (e) {
      setResult({ ok: false, message: syncProblem(e, c.server, device.deviceId) });
    } finally {
      setBusy(false);
      load();
    }
  };

  const download = async () => {
    const { info, bytes } = await store.exportBundle(false);
    if (info.responses === 0) {
      setResult({ ok: true, message: { title: 'Nothing to export', text: 'Every finalized response has been confirmed by central.' } });
      return;
    }
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${device.name.replace(/[^A-Za-z0-9_-]+/g, '-')}-${info.firstSeq}-${info.lastSeq}.bundle`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setResult({
      ok: true,
      message: {
        title: 'Bundle saved',
        text: `${info.responses} response(s) in ${a.download}. They stay in the outbox until central's receipt comes back (a sync, or \`enumera device receipt\`).`,
      },
    });
  };

  return (
    <div data-screen="outbox" data-loaded={responses ? 'yes' : 'no'}>
      <header class="top">
        <a href="#/" class="back">← Home</a>
        <h1>Outbox and sync</h1>
      </header>
      <div class="card">
        <p>
          <strong data-outbox="waiting">{waiting.length}</strong> finalized response(s) waiting for central; <strong data-outbox="sent">{sent.length}</strong> confirmed sent.
        </p>
        {c ? (
          <button type="button" data-action="sync" disabled={busy} onClick={() => void sync()}>
            {busy ? 'Syncing…' : 'Sync now'}
          </button>
        ) : (
          <p class="hint">
            Not connected to central yet: <a href="#/setup">set up</a> first.
          </p>
        )}{' '}
        <button type="button" class="secondary" onClick={() => void download()}>
          Save a bundle file (no network)
        </button>
      </div>
      {result && (
        <div class={`card ${result.ok ? 'success' : 'problem'}`} role={result.ok ? 'status' : 'alert'} data-result={result.ok ? 'synced' : 'failed'}>
          <h2>{result.message.title}</h2>
          <p>{result.message.text}</p>
        </div>
      )}
      <h2>Waiting</h2>
      <ul class="rows">
        {waiting.map((r) => (
          <li key={r.instanceId} data-response={r.instanceId} data-state="finalized">
            {r.formId}
            {r.participantId ? ` · ${r.participantId}` : ''} · finalized {new Date(r.finalizedAt ?? r.updatedAt).toLocaleString()}
          </li>
        ))}
      </ul>
      <h2>Sent</h2>
      <ul class="rows">
        {sent.map((r) => (
          <li key={r.instanceId} data-response={r.instanceId} data-state="sent">
            {r.formId}
            {r.participantId ? ` · ${r.participantId}` : ''} · confirmed {new Date(r.sentAt ?? r.updatedAt).toLocaleString()}
          </li>
        ))}
      </ul>
    </div>
  );
}
