// What the browser tests share: Debian's Chromium driven by playwright-core,
// a real `enumera central serve` on a free port, the `enumera` binary for
// everything else, and throwaway folders. scripts/test-web.sh sets
// ENUMERA_BIN (the binary with the app embedded) and runs these files.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const instruments = join(repo, 'instruments/p2p-sanitation');
export const bin = process.env.ENUMERA_BIN ?? join(repo, 'target/debug/enumera');
export const chromiumPath = process.env.ENUMERA_CHROMIUM ?? '/usr/bin/chromium';
/** The study's frozen clock (instruments/p2p-sanitation/README.md). */
export const STUDY_NOW = '2026-11-29T10:30:00Z';

/** Flags for headless Chromium on a machine with no network but localhost. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function tempDir(name) {
  const dir = mkdtempSync(join(tmpdir(), `enumera-web-${name}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }) };
}

/** Runs `enumera ARGS`; returns stdout. Throws with stderr on failure. */
export function enumera(...args) {
  try {
    return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  } catch (e) {
    throw new Error(`enumera ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** A central database with the study's instruments published, serving on a free port. */
export async function startCentral(dir, { forms = ['capacity', 'capacity_sealed', 'registration', 'practice_followup', 'event_feedback', 'kii'], roster = true } = {}) {
  const db = join(dir, 'central.db');
  const key = JSON.parse(enumera('central', '--db', db, 'init', '--json')).central_public_key;
  for (const f of forms) enumera('central', '--db', db, 'publish', join(instruments, `${f}.xlsx`));
  if (roster) {
    const path = join(dir, 'roster.json');
    const people = {
      participants: [
        { id: 'BD-0113', display: { local_government: 'Jhenaidah', role: 'technical' }, personal: { name: 'Rahim Uddin' } },
        { id: 'MZ-0042', display: { local_government: 'Beira', role: 'planning' }, personal: { name: 'Ana Matsinhe' } },
        { id: 'MZ-0007', display: { local_government: 'Quelimane', role: 'finance' }, personal: { name: 'João Sitoe' } },
      ],
    };
    (await import('node:fs')).writeFileSync(path, JSON.stringify(people));
    enumera('central', '--db', db, 'roster', 'publish', path, '--name', 'p2p');
  }
  const server = await serve(db);
  return { db, key, ...server };
}

/** `enumera central serve` on a free port; resolves once it listens. */
export function serve(db, extra = [], listen = '127.0.0.1:0') {
  // For working on the app: serve a fresh `vite build` without rebuilding the binary.
  if (process.env.ENUMERA_WEB_DIR) extra = [...extra, '--web-dir', process.env.ENUMERA_WEB_DIR];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['central', '--db', db, 'serve', '--listen', listen, ...extra], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const timer = setTimeout(() => reject(new Error(`central did not start: ${err}`)), 20_000);
    child.stderr.on('data', (chunk) => {
      err += chunk;
      const m = err.match(/listening on (http:\/\/\S+)\r?\n/);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          child,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', done);
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`central exited (${code}): ${err}`)));
  });
}

/** `extraArgs`: more Chromium flags (fake media devices for recording tests). */
export async function launch(extraArgs = []) {
  return chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, ...extraArgs] });
}

/** A browser with its own profile folder, so its storage outlives a closed context. */
export async function launchPersistent(profile, options = {}) {
  mkdirSync(profile, { recursive: true });
  return chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    args: chromiumArgs,
    viewport: { width: 360, height: 800 },
    ...options,
  });
}

/** Fails the test on any error the page or its worker logs. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|net::ERR_/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && errors.push(`worker: ${m.text()}`)));
  return errors;
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** The steps of one of the study's step scripts. */
export function studySteps(name) {
  return readJson(join(instruments, 'steps', `${name}.json`));
}

/** What `enumera form run FORM STEPS --now NOW` prints. */
export function formRun(form, stepsPath, now = STUDY_NOW, extra = []) {
  return JSON.parse(enumera('form', 'run', form, stepsPath, '--now', now, ...extra));
}
