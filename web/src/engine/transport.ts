// The HTTP transport the engine's sync client drives (bindings/wasm/src/
// sync.rs): core builds each request to central and reads each reply; this
// only moves bytes with fetch. A rejected promise is a network failure;
// every status, 4xx and 5xx included, is an answer for core to read.

import type { HttpRequest, HttpResponse, HttpTransport } from '../wasm/enumera_wasm.js';

/** Longest wait for a reply: a listing or a form, then an upload. */
const GET_TIMEOUT_MS = 60_000;
const UPLOAD_TIMEOUT_MS = 600_000;

export class FetchTransport implements HttpTransport {
  private readonly base: string;

  /** `base`: central's address (`https://central.example/`), the origin the app came from. */
  constructor(base: string) {
    this.base = base.replace(/\/+$/, '');
  }

  async send(request: HttpRequest): Promise<HttpResponse> {
    const controller = new AbortController();
    const limit = request.method === 'GET' ? GET_TIMEOUT_MS : UPLOAD_TIMEOUT_MS;
    const timer = setTimeout(() => controller.abort(), limit);
    try {
      const response = await fetch(this.base + request.path, {
        method: request.method,
        headers: request.headers,
        body: request.method === 'GET' ? undefined : (request.body as BodyInit),
        signal: controller.signal,
        // Never a cached answer, never someone else's cookie, never
        // followed elsewhere: the bytes go to central or nowhere.
        cache: 'no-store',
        credentials: 'omit',
        redirect: 'error',
      });
      const body = new Uint8Array(await response.arrayBuffer());
      return { status: response.status, headers: [...response.headers.entries()], body };
    } catch (e) {
      if (controller.signal.aborted) {
        throw new Error(`no reply from central within ${limit / 1000} s`);
      }
      throw new Error(`cannot reach central at ${this.base} (${e instanceof Error ? e.message : e})`);
    } finally {
      clearTimeout(timer);
    }
  }
}
