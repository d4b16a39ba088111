// The address names the screen: `#/`, `#/setup`, `#/start`, `#/participants`,
// `#/drafts`, `#/interview/ID`, `#/outbox`, `#/preview`. A hash keeps every
// screen one file for the server and the offline cache.

import { useEffect, useState } from 'preact/hooks';

export function useRoute(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.slice(1) || '/';
}

export function navigate(path: string): void {
  location.hash = path;
}

/** The `?a=b` part of a hash route. */
export function routeParams(route: string): URLSearchParams {
  const i = route.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : route.slice(i + 1));
}
