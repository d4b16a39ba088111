// Engine errors in words an enumerator or a researcher can act on: what
// happened, whether anything was lost (never, by design), and what to do.

import { EngineError } from './engine/client';

export interface Explained {
  title: string;
  text: string;
}

function field(e: EngineError, name: string): string {
  const v = e.info[name];
  return typeof v === 'string' ? v : v == null ? '' : String(v);
}

/** A failed sync or set-up check. `deviceId` names this device for the supervisor. */
export function syncProblem(e: unknown, server: string, deviceId: string): Explained {
  if (!(e instanceof EngineError)) {
    return { title: 'Sync failed', text: `${e}. Everything is kept on this device; try again.` };
  }
  const kept = 'Everything is kept on this device, and nothing is marked sent until central confirms it.';
  switch (e.kind) {
    case 'Network':
      return {
        title: 'Central could not be reached',
        text: `${field(e, 'detail') || e.message}. ${kept} Sync again when there is a connection: nothing will be lost or sent twice.`,
      };
    case 'Refused': {
      const status = Number(e.info.status);
      const code = field(e, 'code');
      if (status === 401) {
        return {
          title: 'Central does not accept this token',
          text: `The token is unknown to central or was revoked. Ask your supervisor for a new token for this device (device id ${deviceId}: \`enumera central token create --device ${deviceId}\`) and enter it in Set-up. ${kept}`,
        };
      }
      if (status === 403 && code === 'other_device') {
        return {
          title: 'This token belongs to another device',
          text: `Ask your supervisor for a token made for this device (device id ${deviceId}) and enter it in Set-up. ${kept}`,
        };
      }
      if (status === 403) {
        return {
          title: 'Central does not accept this device',
          text: `Central refused this device's key (${code}). Ask your supervisor to enrol device ${deviceId}. ${kept}`,
        };
      }
      if (status === 404) {
        return {
          title: `No Enumera central at ${server}`,
          text: `Check the address in Set-up (it is where this app was opened from). ${kept}`,
        };
      }
      if (status === 429) {
        return {
          title: "Today's limit at central is used",
          text: `Central takes only so much from one device a day. ${kept} Sync again tomorrow, or ask your supervisor to raise this device's quota.`,
        };
      }
      if (status === 413) {
        return {
          title: 'Too large for central',
          text: `A single response is larger than central accepts. Ask your supervisor to raise central's limit (--max-body-mib). ${kept}`,
        };
      }
      return {
        title: 'Central refused the data',
        text: `${field(e, 'detail') || e.message}. ${kept} Tell your supervisor, with this message.`,
      };
    }
    case 'BadReceipt':
      return {
        title: "Central's receipt could not be verified",
        text: `${field(e, 'reason') || e.message}. Nothing was marked sent. If central was replaced, enter the new central's key in Set-up (your supervisor has it: \`enumera central init\` printed it).`,
      };
    case 'Storage':
      return { title: 'This device could not save', text: `${field(e, 'reason') || e.message}. ${kept}` };
    default:
      return { title: 'Sync failed', text: `${e.message}. ${kept}` };
  }
}

/** Why the device database cannot be used: said before the first answer. */
export function storageProblem(e: unknown): Explained {
  const detail = e instanceof EngineError ? field(e, 'reason') || e.message : String(e);
  const lower = detail.toLowerCase();
  let why = 'This browser does not give Enumera storage that lasts.';
  if (lower.includes('nomodificationallowed') || lower.includes('in use') || lower.includes('locked') || lower.includes('busy')) {
    why = 'Enumera is already open in another tab or window of this browser, which holds its storage.';
  } else if (lower.includes('quota') || lower.includes('full')) {
    why = "This browser's storage for Enumera is full.";
  } else if (lower.includes('require') || lower.includes('not supported') || lower.includes('undefined') || lower.includes('is not a function')) {
    why = 'This browser (or a private window) does not offer the storage Enumera needs.';
  }
  return {
    title: 'Answers cannot be kept on this device',
    text: `${why} Do not start interviews here: they could not be saved. Close Enumera in other tabs, use a normal (not private) window of an up-to-date Chrome, Edge, Firefox or Safari, and free some space, then reload. (${detail})`,
  };
}

/** An answer that was not saved, shown at its question. */
export function answerProblem(e: unknown): string {
  if (!(e instanceof EngineError)) return `Not saved: ${e}`;
  switch (e.kind) {
    case 'InvalidAnswer':
      return `Not saved: ${field(e, 'reason') || e.message}.`;
    case 'Storage':
      return `Not saved: this device's storage failed (${field(e, 'reason') || e.message}). Answers saved before are kept.`;
    case 'NotEditable':
      return 'Not saved: this response is finalized and can no longer change.';
    default:
      return `Not saved: ${e.message}`;
  }
}
