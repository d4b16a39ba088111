// Enumera in the browser. Exposes `window.enumera` at once (the page's test
// contract: `runSteps(form, name, steps, {now, lang})` gives the document
// `enumera form run` prints), registers the service worker that keeps the
// app usable offline, and draws the app.

import { render } from 'preact';
import { App } from './app';
import { engine } from './engine/api';
// Bengali labels render on devices without a Bengali font (downloaded only
// when Bengali text is shown; kept for offline use by the service worker).
import '@fontsource/noto-sans-bengali/bengali-400.css';
import './style.css';

declare global {
  interface Window {
    enumera: {
      runSteps(form: Uint8Array, fileName: string, steps: object[], options?: { now?: string; lang?: string; seed?: number }): Promise<object>;
      checkForm(form: Uint8Array, fileName: string): Promise<object>;
      version(): Promise<string>;
    };
  }
}

window.enumera = {
  runSteps: (form, fileName, steps, options = {}) => engine.runSteps(form, fileName, steps, options),
  checkForm: (form, fileName) => engine.checkForm(form, fileName),
  version: () => engine.version(),
};

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  // Relative: the app works wherever it is served (`/app/` by central).
  navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((e) => {
    console.warn('the app will not start offline: the service worker failed to register', e);
  });
}

const root = document.getElementById('app');
if (root) render(<App />, root);

// Once the first screen is up: compile the engine's main paths in the
// worker (engine/worker.ts, warmUp) before a form is opened.
const idle = (window as { requestIdleCallback?: (f: () => void, o?: object) => void }).requestIdleCallback;
const warm = () => void engine.warmUp().catch(() => undefined);
if (idle) idle(warm, { timeout: 2000 });
else setTimeout(warm, 500);
