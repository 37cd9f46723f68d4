// A headless Chromium driven over the Chrome DevTools Protocol on a pipe
// (--remote-debugging-pipe: NUL-terminated JSON on fds 3 and 4), with
// nothing but Node's own modules: no npm package, no WebSocket, no port.
// Used by tests/browser/report_test.mjs and bench/report_open.mjs.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launch({ width = 1300, height = 900 } = {}) {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing (make deps installs Debian's chromium)`);
  const profile = mkdtempSync('/tmp/fl-chromium-');
  const proc = spawn(CHROMIUM, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe',
    `--user-data-dir=${profile}`, '--no-first-run', '--no-default-browser-check',
    '--disable-extensions', '--disable-background-networking', '--disable-sync',
    '--disable-component-update', '--mute-audio', '--hide-scrollbars',
    `--window-size=${width},${height}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const out = proc.stdio[3], inp = proc.stdio[4];
  let nextId = 1, buf = Buffer.alloc(0);
  const pending = new Map(), listeners = [];
  inp.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    let z;
    while ((z = buf.indexOf(0)) >= 0) {
      const msg = JSON.parse(buf.subarray(0, z).toString('utf8'));
      buf = buf.subarray(z + 1);
      if (msg.id !== undefined && pending.has(msg.id)) {
        const { resolve, reject, method } = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
        else resolve(msg.result);
      } else if (msg.method) {
        for (const l of listeners) l(msg);
      }
    }
  });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  function send(method, params = {}, sessionId) {
    const id = nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, method });
      out.write(JSON.stringify(msg) + '\0');
    });
  }
  const browser = {
    send,
    on(fn) { listeners.push(fn); },
    stderr: () => stderr,
    async newPage() {
      const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
      return page(browser, sessionId, width, height);
    },
    async close() {
      try { await Promise.race([send('Browser.close'), exited]); } catch (e) { /* gone */ }
      proc.kill('SIGKILL');
      await exited;
      // Chromium's helper processes may still be writing to the profile
      // for a moment after the browser itself has exited.
      rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    },
  };
  return browser;
}

function page(browser, sessionId, width, height) {
  const events = [];
  const waiters = [];
  browser.on((msg) => {
    if (msg.sessionId !== sessionId) return;
    events.push(msg);
    for (const w of waiters.slice()) if (w.match(msg)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(msg); }
  });
  const send = (m, p) => browser.send(m, p, sessionId);
  return {
    events,
    send,
    waitFor(method, timeoutMs = 30000) {
      const seen = events.find((e) => e.method === method);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { match: (m) => m.method === method, resolve };
        waiters.push(w);
        setTimeout(() => reject(new Error(`no ${method} in ${timeoutMs} ms`)), timeoutMs).unref();
      });
    },
    // network: false for timing (the Network domain keeps every body).
    async init({ network = true } = {}) {
      await send('Page.enable');
      await send('Runtime.enable');
      await send('Log.enable');
      if (network) await send('Network.enable');
      await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    },
    async eval(expr) {
      const r = await send('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
      if (r.exceptionDetails) throw new Error(`${expr}: ${r.exceptionDetails.exception?.description || r.exceptionDetails.text}`);
      return r.result.value;
    },
    async click(x, y) {
      for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased'])
        await send('Input.dispatchMouseEvent', { type, x, y, button: 'left', clickCount: 1 });
    },
  };
}
