// The app's frame: which screen the address names (`#/...`), and the gate
// before any of the enumerator's screens: the device database must open in
// the browser's lasting storage, or the app says so plainly and offers no
// interview (answers there could not be kept). The researcher's preview
// (`?preview=PATH` or `#/preview`) needs no storage.

import { useEffect, useState } from 'preact/hooks';
import { type DeviceInfo, store, type StoreStatus } from './engine/api';
import { storageProblem, type Explained } from './messages';
import { navigate, useRoute } from './route';
import { connection } from './settings';
import { Drafts, Participants, StartForm } from './ui/lists';
import { Home } from './ui/home';
import { InterviewScreen } from './ui/interview';
import { Outbox } from './ui/outbox';
import { PreviewScreen } from './ui/preview';
import { Setup } from './ui/setup';

/** Less than this left in the browser's storage is worth saying before an interview. */
const LOW_SPACE = 50 * 1024 * 1024;

export function App() {
  const route = useRoute();
  const previewPath = new URLSearchParams(location.search).get('preview');
  if (previewPath !== null || route.startsWith('/preview')) {
    return (
      <main class="page">
        <PreviewScreen path={previewPath} />
      </main>
    );
  }
  return <Enumerator route={route} />;
}

function Enumerator({ route }: { route: string }) {
  const [status, setStatus] = useState<StoreStatus | null>(null);
  const [failure, setFailure] = useState<Explained | null>(null);
  const [online, setOnline] = useState(navigator.onLine);
  const [left, setLeft] = useState<number | null>(null);
  // Forms come only from central: until the device is connected, set-up is the screen.
  const [settingUp, setSettingUp] = useState(() => !connection());

  useEffect(() => {
    // Ask the browser not to evict the data under storage pressure.
    void navigator.storage?.persist?.().catch(() => false);
    store
      .open()
      .then(setStatus)
      .catch((e) => setFailure(storageProblem(e)));
    void navigator.storage
      ?.estimate?.()
      .then((e) => e.quota !== undefined && e.usage !== undefined && setLeft(e.quota - e.usage))
      .catch(() => undefined);
    const on = () => setOnline(navigator.onLine);
    addEventListener('online', on);
    addEventListener('offline', on);
    return () => {
      removeEventListener('online', on);
      removeEventListener('offline', on);
    };
  }, []);

  if (failure) {
    return (
      <main class="page">
        <div class="storage-failure" role="alert" data-storage="unavailable">
          <h1>{failure.title}</h1>
          <p>{failure.text}</p>
          <p>
            The <a href="#/preview">form preview</a> still works here: it keeps nothing.
          </p>
        </div>
      </main>
    );
  }
  if (!status) {
    return (
      <main class="page">
        <p class="loading">Opening this device's storage…</p>
      </main>
    );
  }
  const setDevice = (device: DeviceInfo) => setStatus({ ...status, device });
  const banner = (
    <>
      {!online && (
        <p class="banner offline" role="status" data-network="offline">
          Offline: everything you do is kept on this device. Sync when you are back online.
        </p>
      )}
      {left !== null && left < LOW_SPACE && (
        <p class="banner warning" role="alert" data-storage="low">
          Little storage left for Enumera in this browser ({Math.max(0, Math.round(left / 1024 / 1024))} MB). Sync and free space before the next interview: an answer that does not fit is refused, never silently lost.
        </p>
      )}
    </>
  );
  if (!status.device || settingUp || route.startsWith('/setup')) {
    const done = () => {
      setSettingUp(!connection());
      navigate('/');
    };
    return (
      <main class="page">
        {banner}
        <Setup device={status.device} onDevice={setDevice} onDone={done} />
      </main>
    );
  }
  const device = status.device;
  let body;
  if (route.startsWith('/interview/')) {
    body = <InterviewScreen id={decodeURIComponent(route.slice('/interview/'.length))} />;
  } else if (route.startsWith('/start')) {
    body = <StartForm />;
  } else if (route.startsWith('/participants')) {
    body = <Participants />;
  } else if (route.startsWith('/drafts')) {
    body = <Drafts />;
  } else if (route.startsWith('/outbox')) {
    body = <Outbox device={device} />;
  } else {
    body = <Home device={device} />;
  }
  return (
    <main class="page">
      {banner}
      {body}
    </main>
  );
}
