// What the app remembers outside the device database: where central is and
// the device's token (set-up), and the screen each draft was left on. All
// small, all per origin (localStorage).

const SERVER = 'enumera.server';
const TOKEN = 'enumera.token';
const anchorKey = (id: string) => `enumera.anchor.${id}`;

export interface Connection {
  server: string;
  token: string;
}

export function connection(): Connection | null {
  const server = localStorage.getItem(SERVER);
  const token = localStorage.getItem(TOKEN);
  return server && token ? { server, token } : null;
}

export function saveConnection(c: Connection): void {
  localStorage.setItem(SERVER, c.server);
  localStorage.setItem(TOKEN, c.token);
}

export function forgetConnection(): void {
  localStorage.removeItem(SERVER);
  localStorage.removeItem(TOKEN);
}

/** The screen a draft was left on (its anchor), to resume there. */
export function lastAnchor(id: string): string | null {
  return localStorage.getItem(anchorKey(id));
}

export function saveAnchor(id: string, anchor: string): void {
  try {
    localStorage.setItem(anchorKey(id), anchor);
  } catch {
    // Only a convenience: resuming at the first screen loses nothing.
  }
}

export function forgetAnchor(id: string): void {
  localStorage.removeItem(anchorKey(id));
}
