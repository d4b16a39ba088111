// The home screen: what is on this device (drafts, finalized waiting to be
// sent, sent) and the way to everything else.

import { useEffect, useState } from 'preact/hooks';
import { type DeviceInfo, type StateCounts, store } from '../engine/api';
import { connection } from '../settings';

export function Home({ device }: { device: DeviceInfo }) {
  const [counts, setCounts] = useState<StateCounts | null>(null);
  const [forms, setForms] = useState<number | null>(null);
  useEffect(() => {
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
      {forms === 0 && (
        <p class="hint">
          No forms on this device yet. {c ? 'Sync to fetch the forms central publishes.' : 'Set the device up with central to fetch its forms.'}
        </p>
      )}
    </div>
  );
}
