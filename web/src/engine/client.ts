// The page's side of the engine worker: `call(op, ...args)` returns a
// promise of the worker's reply; an engine error rejects it with an
// `EngineError` whose `kind` is the engine's (InvalidAnswer, Storage,
// Network, Refused, ...; bindings/wasm/src/errors.rs).

import type { ErrorInfo, Reply, Request } from './protocol';

export class EngineError extends Error {
  readonly kind: string;
  readonly info: ErrorInfo;

  constructor(info: ErrorInfo) {
    super(info.message);
    this.kind = info.kind;
    this.info = info;
  }
}

let worker: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

function start(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'enumera-engine' });
  w.onmessage = (event: MessageEvent<Reply>) => {
    const reply = event.data;
    const pending = waiting.get(reply.id);
    if (!pending) return;
    waiting.delete(reply.id);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(new EngineError(reply.error));
  };
  w.onerror = (event) => {
    // The worker could not start (its script or module failed to load):
    // every call waiting now fails with that.
    const error = new EngineError({ kind: 'Internal', message: `the engine failed to start: ${event.message}` });
    for (const p of waiting.values()) p.reject(error);
    waiting.clear();
  };
  worker = w;
  return w;
}

export function call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
  const w = start();
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    const request: Request = { id, op, args };
    w.postMessage(request);
  });
}
