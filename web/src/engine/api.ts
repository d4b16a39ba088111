// Typed calls into the engine worker, named as the engine names them
// (DeviceStore, Interview, Preview, SyncClient in bindings/wasm).

import { call } from './client';
import type {
  AssignedWork,
  AttachedFile,
  AuditNeeds,
  BundleInfo,
  CentralTrust,
  DeviceInfo,
  FormCheck,
  FormMediaInfo,
  HierarchyEntry,
  InstalledForm,
  LeafState,
  OutboxItem,
  ParticipantInfo,
  Question,
  RecordingRequest,
  ResponseSummary,
  ReturnedResponse,
  RosterSummary,
  ScreenView,
  StateCounts,
  SyncReport,
  TrustReport,
  ValidationIssue,
} from '../wasm/enumera_wasm.js';

export type * from '../wasm/enumera_wasm.js';

export interface StoreStatus {
  device: DeviceInfo | null;
}

export const engine = {
  version: () => call<string>('version'),
  /** Runs the engine's main paths once, so the first real form opens fast. */
  warmUp: () => call<void>('warmUp'),
  runSteps: (form: Uint8Array, name: string, steps: object[], options: { now?: string; lang?: string; seed?: number }) =>
    call<object>('runSteps', form, name, steps, options),
  checkForm: (form: Uint8Array, name: string) => call<FormCheck>('checkForm', form, name),
};

export const store = {
  open: () => call<StoreStatus>('openStore'),
  /** How large attachments may be on this device, in bytes (core's defaults until set). */
  setAttachmentLimits: (maxFile: number, maxResponse: number) => call<void>('setAttachmentLimits', maxFile, maxResponse),
  device: () => call<DeviceInfo>('device'),
  initDevice: (name: string, enumerator: string | null) => call<DeviceInfo>('initDevice', name, enumerator),
  trustCentral: (hex: string) => call<TrustReport>('trustCentral', hex),
  centralTrust: () => call<CentralTrust | null>('centralTrust'),
  forms: () => call<InstalledForm[]>('forms'),
  installForm: (bytes: Uint8Array, name: string) => call<InstalledForm>('installForm', bytes, name),
  listResponses: () => call<ResponseSummary[]>('listResponses'),
  stateCounts: () => call<StateCounts>('stateCounts'),
  discard: (id: string) => call<void>('discard', id),
  importRoster: (json: Uint8Array) => call<RosterSummary>('importRoster', json),
  participants: () => call<ParticipantInfo[]>('participants'),
  outbox: (unsentOnly: boolean) => call<OutboxItem[]>('outbox', unsentOnly),
  /** A form media file (a label's image, audio, video) by form hash and name; `NotFound` when not here. */
  formMedia: (formHash: string, name: string) => call<Uint8Array>('formMedia', formHash, name),
  formMediaList: (formHash: string) => call<FormMediaInfo[]>('formMediaList', formHash),
  exportBundle: (all: boolean) => call<{ info: BundleInfo; bytes: Uint8Array }>('exportBundle', all),
  start: (formId: string, participant: string | null, round: number | null, preload: boolean) =>
    call<string>('start', formId, participant, round, preload),
  assignments: () => call<AssignedWork[]>('assignments'),
  /** Starts an assignment's interview; its instance id. */
  startAssigned: (assignmentId: string) => call<string>('startAssigned', assignmentId),
  returnedResponses: () => call<ReturnedResponse[]>('returnedResponses'),
  returnCorrectedBy: (draftId: string) => call<ReturnedResponse | null>('returnCorrectedBy', draftId),
  /** Reopens a returned response as a correction; the draft's instance id. */
  reopenReturned: (instanceId: string) => call<string>('reopenReturned', instanceId),
  sync: (server: string, token: string, what: 'sync' | 'upload' | 'fetchUpdates') =>
    call<SyncReport>('sync', server, token, what),
};

/** What the interview and the preview screens both drive. */
export interface Session {
  /** Answers and commits (resolves once saved). */
  answer(ref: string, value: string): Promise<Question>;
  /** Answers without committing yet: what follows shows at once... */
  set(ref: string, value: string): Promise<Question>;
  /** ... and this commits it (resolves once saved). */
  save(): Promise<void>;
  addRepeat(ref: string): Promise<string>;
  removeRepeat(ref: string): Promise<void>;
  setLanguage(lang: string): Promise<void>;
  view(anchor: string | null, offset: number, target: string | null, fallback: number): Promise<ScreenView>;
  blockers(): Promise<ValidationIssue[]>;
  hierarchy(): Promise<HierarchyEntry[]>;
  submissionXml(): Promise<string>;
}

export function interview(id: string): Session & {
  finalize(): Promise<OutboxItem>;
  /** Answers a file question with `bytes` through core's attach path. */
  attach(ref: string, name: string, bytes: Uint8Array): Promise<AttachedFile>;
  backgroundAudio(): Promise<RecordingRequest | null>;
  auditNeeds(): Promise<AuditNeeds>;
  show(ref: string): Promise<void>;
  exit(): Promise<void>;
  setUser(user: string): Promise<void>;
  setChangeReason(reason: string): Promise<void>;
  recordLocation(location: string): Promise<void>;
  info(): Promise<{ instanceId: string; formId: string; formHash: string; finalized: boolean }>;
  close(): Promise<void>;
} {
  const c = <T>(op: string, ...args: unknown[]) => call<T>(`interview.${op}`, id, ...args);
  return {
    answer: (ref, value) => c('answer', ref, value),
    set: (ref, value) => c('set', ref, value),
    save: () => c('save'),
    addRepeat: (ref) => c('addRepeat', ref),
    removeRepeat: (ref) => c('removeRepeat', ref),
    setLanguage: (lang) => c('setLanguage', lang),
    view: (anchor, offset, target, fallback) => c('view', anchor, offset, target, fallback),
    blockers: () => c('blockers'),
    hierarchy: () => c('hierarchy'),
    submissionXml: () => c('submissionXml'),
    finalize: () => c('finalize'),
    attach: (ref, name, bytes) => c('attach', ref, name, bytes),
    backgroundAudio: () => c('backgroundAudio'),
    auditNeeds: () => c('auditNeeds'),
    show: (ref) => c('show', ref),
    exit: () => c('exit'),
    setUser: (user) => c('setUser', user),
    setChangeReason: (reason) => c('setChangeReason', reason),
    recordLocation: (location) => c('recordLocation', location),
    info: () => c('info'),
    close: () => c('close'),
  };
}

export async function openPreview(bytes: Uint8Array, name: string): Promise<
  Session & { handle: number; leaves(): Promise<LeafState[]>; close(): Promise<void> }
> {
  const handle = await call<number>('preview.open', bytes, name);
  const c = <T>(op: string, ...args: unknown[]) => call<T>(`preview.${op}`, handle, ...args);
  return {
    handle,
    answer: (ref, value) => c('answer', ref, value),
    set: (ref, value) => c('set', ref, value),
    save: () => c('save'),
    addRepeat: (ref) => c('addRepeat', ref),
    removeRepeat: (ref) => c('removeRepeat', ref),
    setLanguage: (lang) => c('setLanguage', lang),
    view: (anchor, offset, target, fallback) => c('view', anchor, offset, target, fallback),
    blockers: () => c('blockers'),
    hierarchy: () => c('hierarchy'),
    submissionXml: () => c('submissionXml'),
    leaves: () => c('leaves'),
    close: () => c('close'),
  };
}
