// Device set-up: the device makes its identity (id and signing key) here,
// then enrols with central: central's address and the device token the
// supervisor made for this device id, typed, pasted or read from a QR code,
// and optionally central's public key, so that only receipts signed by that
// central are ever trusted. Connecting fetches central's forms and rosters,
// which also proves the address and the token.

import { useState } from 'preact/hooks';
import { type DeviceInfo, store } from '../engine/api';
import { EngineError } from '../engine/client';
import { syncProblem, type Explained } from '../messages';
import { connection, saveConnection } from '../settings';
import { decodeQr, parseEnrolment } from './qr';

interface Props {
  device: DeviceInfo | null;
  onDevice: (d: DeviceInfo) => void;
  /** Set-up is over: the home screen. */
  onDone: () => void;
}

export function Setup({ device, onDevice, onDone }: Props) {
  return (
    <div class="setup" data-screen="setup">
      <header class="top">
        <h1>Set up this device</h1>
      </header>
      {device ? <Enrol device={device} onDevice={onDevice} onDone={onDone} /> : <Identity onDevice={onDevice} />}
    </div>
  );
}

function Identity({ onDevice }: { onDevice: (d: DeviceInfo) => void }) {
  const [name, setName] = useState('');
  const [enumerator, setEnumerator] = useState('');
  const [error, setError] = useState('');
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      onDevice(await store.initDevice(name.trim() || 'browser', enumerator.trim() || null));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <form onSubmit={(e) => void create(e)} class="card">
      <p>This browser becomes an Enumera device: it gets its own id and signing key, kept in its storage.</p>
      <label for="device-name">Name of this device (the tablet's label)</label>
      <input id="device-name" value={name} required onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
      <label for="enumerator-id">Your enumerator id (optional)</label>
      <input id="enumerator-id" value={enumerator} onInput={(e) => setEnumerator((e.currentTarget as HTMLInputElement).value)} />
      <button type="submit" data-action="create-device">
        Create this device
      </button>
      {error && <p class="problem" role="alert">{error}</p>}
    </form>
  );
}

function Enrol({ device, onDevice, onDone }: Props & { device: DeviceInfo }) {
  const saved = connection();
  const [server, setServer] = useState(saved?.server ?? location.origin);
  const [token, setToken] = useState(saved?.token ?? '');
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; message: Explained } | null>(null);

  const scan = async (file: File) => {
    const text = await decodeQr(file).catch(() => null);
    const found = text ? parseEnrolment(text) : null;
    if (!found) {
      setResult({ ok: false, message: { title: 'No set-up code found', text: 'Take the photo again, closer, with the whole code in view; or type the token.' } });
      return;
    }
    if (found.server) setServer(found.server);
    if (found.token) setToken(found.token);
    if (found.key) setKey(found.key);
    setResult(null);
  };

  const connect = async (e: Event) => {
    e.preventDefault();
    setResult(null);
    let base: URL;
    try {
      base = new URL(server.trim());
    } catch {
      setResult({ ok: false, message: { title: 'That is not an address', text: 'Central\'s address looks like https://central.example.org' } });
      return;
    }
    if (base.origin !== location.origin) {
      setResult({
        ok: false,
        message: {
          title: 'This app syncs with the central it came from',
          text: `It was opened from ${location.origin}. To use the central at ${base.origin}, open ${base.origin}/app/ on this device instead.`,
        },
      });
      return;
    }
    setBusy(true);
    // Pinned before anything is fetched, as `enumera device init
    // --central-key` does: from then on only this central's receipts
    // let responses leave the device.
    let reopened = 0;
    if (key.trim()) {
      try {
        reopened = (await store.trustCentral(key.trim())).reopened.length;
      } catch (err) {
        setResult({ ok: false, message: { title: "Central's key is not right", text: String((err instanceof EngineError && err.info.reason) || (err as Error).message) } });
        setBusy(false);
        return;
      }
    }
    try {
      const report = await store.sync(base.origin, token.trim(), 'fetchUpdates');
      saveConnection({ server: base.origin, token: token.trim() });
      onDevice(await store.device());
      const people = report.rosters.reduce((n, r) => n + r.summary.added + r.summary.updated + r.summary.unchanged, 0);
      const refused = report.formsRefused.map((f) => ` Form ${f.form.formId} ${f.form.version} was left out: ${f.reason}.`).join('');
      const media = report.mediaFetched ? ` ${report.mediaFetched} form media file(s) fetched.` : '';
      const mediaMissing = report.mediaMissing.map((m) => ` ${m.name} of form ${m.formId} ${m.version} did not arrive (${m.reason}); tried again at the next sync.`).join('');
      const again = reopened ? ` ${reopened} response(s) another central had acknowledged will be sent to this one.` : '';
      setResult({
        ok: true,
        message: {
          title: 'Connected to central',
          text: `${report.formsInstalled.length} new form(s) installed, ${report.formsPresent} already here; ${people} participant(s) on the roster.${media}${mediaMissing}${refused}${again}`,
        },
      });
    } catch (err) {
      setResult({ ok: false, message: syncProblem(err, base.origin, device.deviceId) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <div class="card">
        <p>
          This device's id (give it to your supervisor, who makes a token for it with{' '}
          <code>enumera central token create --device {device.deviceId}</code>):
        </p>
        <p class="device-id" data-device-id={device.deviceId}>
          <code>{device.deviceId}</code>
        </p>
        <button type="button" class="secondary small" onClick={() => void navigator.clipboard?.writeText(device.deviceId)}>
          Copy the id
        </button>
      </div>
      <form class="card" onSubmit={(e) => void connect(e)}>
        <label for="server">Central's address</label>
        <input id="server" type="url" value={server} required onInput={(e) => setServer((e.currentTarget as HTMLInputElement).value)} />
        <label for="token">Device token</label>
        <input id="token" value={token} required autocomplete="off" spellcheck={false} onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)} />
        <label class="button secondary" for="scan">
          Read the supervisor's set-up code (QR)
        </label>
        <input
          id="scan"
          type="file"
          accept="image/*"
          capture="environment"
          class="visually-hidden"
          onChange={(e) => {
            const f = (e.currentTarget as HTMLInputElement).files?.[0];
            if (f) void scan(f);
          }}
        />
        <label for="central-key">Central's public key (optional: 64 hex digits, from `enumera central init`)</label>
        <input id="central-key" value={key} autocomplete="off" spellcheck={false} placeholder={device.centralKey ?? ''} onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)} />
        <p class="hint" data-central-key={device.centralKey ?? ''} data-pinned={String(device.centralKeyPinned)}>
          {device.centralKey
            ? `Receipts are checked against central's key ${device.centralKey.slice(0, 12)}… (${device.centralKeyPinned ? 'pinned at set-up' : 'learned from its first receipt'}).`
            : 'Without it, the first receipt teaches this device central\'s key.'}
        </p>
        <button type="submit" disabled={busy} data-action="connect">
          {busy ? 'Connecting…' : 'Connect to central'}
        </button>
      </form>
      {result && (
        <div class={`card ${result.ok ? 'success' : 'problem'}`} role={result.ok ? 'status' : 'alert'} data-result={result.ok ? 'connected' : 'failed'}>
          <h2>{result.message.title}</h2>
          <p>{result.message.text}</p>
          {result.ok && (
            <button type="button" data-action="done" onClick={onDone}>
              Start working
            </button>
          )}
        </div>
      )}
      {saved && !result && (
        <p>
          <button type="button" class="link" onClick={onDone}>
            Back to the home screen
          </button>
        </p>
      )}
    </>
  );
}
