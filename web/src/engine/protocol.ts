// The messages between the page and the engine worker (worker.ts): one
// request, one reply, matched by id. Errors travel as plain objects because
// structured cloning keeps only an Error's name and message, and the app
// needs the engine's `kind` and fields (bindings/wasm/src/errors.rs).

export interface Request {
  id: number;
  op: string;
  args: unknown[];
}

export interface ErrorInfo {
  kind: string;
  message: string;
  [field: string]: unknown;
}

export type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ErrorInfo };

/** A plain object with everything an error carries. */
export function errorInfo(e: unknown): ErrorInfo {
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    const info: ErrorInfo = {
      kind: typeof o.kind === 'string' ? o.kind : String(o.name ?? 'Error'),
      message: typeof o.message === 'string' ? o.message : String(e),
    };
    for (const [k, v] of Object.entries(o)) {
      if (k !== 'stack') info[k] = structuredCloneable(v);
    }
    return info;
  }
  return { kind: 'Error', message: String(e) };
}

function structuredCloneable(v: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(v));
  } catch {
    return String(v);
  }
}
