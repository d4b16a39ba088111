// The audit log in the web app (ODK's `audit` meta question, issue 17):
// the interview reports each screen it shows and leaving the form, gives
// locations when the form's audit asks for them (the browser's
// geolocation, after it asks), asks who fills the form when the audit
// wants users named, and asks why a finalized or returned response is
// being changed before finalizing it again (track-changes-reasons). Core
// keeps the events with the answers; at finalize they become the
// response's `audit.csv` (bindings/wasm/src/audit.rs).

import { useEffect, useRef, useState } from 'preact/hooks';
import type { AuditNeeds, ScreenView } from '../engine/api';

interface Audited {
  auditNeeds(): Promise<AuditNeeds>;
  show(ref: string): Promise<void>;
  exit(): Promise<void>;
  setUser(user: string): Promise<void>;
  setChangeReason(reason: string): Promise<void>;
  recordLocation(location: string): Promise<void>;
}

/** The reference an audit `show` takes for a screen: its question or group. */
function screenRef(v: ScreenView): string | null {
  const s = v.screen;
  if (!s) return null;
  return s.kind === 'question' ? s.question.reference : s.reference;
}

export function useAudit(session: Audited, open: boolean) {
  const [needs, setNeeds] = useState<AuditNeeds | null>(null);
  const [askUser, setAskUser] = useState(false);
  const [reasonAsked, setReasonAsked] = useState<((reason: string | null) => void) | null>(null);
  const [text, setText] = useState('');
  const shown = useRef<string | null>(null);
  // The filler may keep the first render's callback: read these through refs.
  const audited = useRef(false);
  const lastView = useRef<ScreenView | null>(null);

  useEffect(() => {
    if (!open) return;
    let gone = false;
    void session.auditNeeds().then((n) => {
      if (gone) return;
      audited.current = n.audited;
      setNeeds(n);
      setAskUser(n.userNeeded);
      // The screen shown before the answer came.
      if (lastView.current) onView(lastView.current);
    }, () => undefined);
    // Leaving the form, by the app's links or by closing the tab.
    const leave = () => void session.exit().catch(() => undefined);
    window.addEventListener('pagehide', leave);
    return () => {
      gone = true;
      window.removeEventListener('pagehide', leave);
      shown.current = null;
      leave();
    };
  }, [session, open]);

  // Locations while the interview is open, no more often than the form asks.
  useEffect(() => {
    if (!open || !needs?.locations || !navigator.geolocation) return;
    let last = 0;
    const every = (needs.locationMinIntervalSeconds ?? 0) * 1000;
    const watch = navigator.geolocation.watchPosition(
      (p) => {
        if (Date.now() - last < every) return;
        last = Date.now();
        const c = p.coords;
        void session.recordLocation(`${c.latitude} ${c.longitude} ${c.altitude ?? 0} ${c.accuracy}`).catch(() => undefined);
      },
      () => undefined,
      { enableHighAccuracy: true },
    );
    return () => navigator.geolocation.clearWatch(watch);
  }, [session, open, needs]);

  /** Every screen shown: the audit's `question` / `group questions` events. */
  const onView = (v: ScreenView) => {
    lastView.current = v;
    if (!audited.current) return;
    const ref = screenRef(v);
    if (!ref || ref === shown.current) return;
    shown.current = ref;
    void session.show(ref).catch(() => undefined);
  };

  /** Before finalize: the change reason when core needs one; false if the enumerator cancelled. */
  const beforeFinalize = async (): Promise<boolean> => {
    const n = await session.auditNeeds().catch(() => null);
    if (!n?.changeReasonNeeded) return true;
    setText('');
    const reason = await new Promise<string | null>((resolve) => setReasonAsked(() => resolve));
    setReasonAsked(null);
    if (reason == null) return false;
    await session.setChangeReason(reason);
    return true;
  };

  const dialogs = (
    <>
      {open && askUser && (
        <form
          class="card audit-dialog"
          role="dialog"
          aria-labelledby="audit-user-label"
          data-dialog="audit-user"
          onSubmit={(e) => {
            e.preventDefault();
            const user = text.trim();
            if (!user) return;
            void session.setUser(user).then(() => {
              setAskUser(false);
              setText('');
            });
          }}
        >
          <label id="audit-user-label" for="audit-user">
            Who is filling in this form? (the form records it)
          </label>
          <input id="audit-user" value={text} onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} />
          <button type="submit" data-action="set-user">
            Continue
          </button>
        </form>
      )}
      {reasonAsked && (
        <form
          class="card audit-dialog"
          role="dialog"
          aria-labelledby="change-reason-label"
          data-dialog="change-reason"
          onSubmit={(e) => {
            e.preventDefault();
            if (text.trim()) reasonAsked(text.trim());
          }}
        >
          <label id="change-reason-label" for="change-reason">
            This response was finalized before: why is it being changed?
          </label>
          <textarea id="change-reason" value={text} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
          <button type="submit" data-action="set-change-reason">
            Save the reason and finalize
          </button>{' '}
          <button type="button" class="secondary" data-action="cancel-change-reason" onClick={() => reasonAsked(null)}>
            Cancel
          </button>
        </form>
      )}
    </>
  );

  return { onView, beforeFinalize, dialogs };
}
