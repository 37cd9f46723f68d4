// Opens report.html files in headless Chromium from file:// and checks what
// a person would see (report/html.h): no console errors or exceptions, no
// request but the file itself, the counterexample SVG (invalid reports)
// and the three plots present, visible and drawn (canvas pixels), the
// quantile table, and "jump to anomaly" zooming the timeline onto the
// anomaly, outlined. Writes a full-page screenshot of each.
// Usage: node report_test.mjs valid|invalid REPORT.html SHOT.png [...]
// Prints "ok - NAME" / "not ok - NAME" (TAP, as tests/cli/*.sh do).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch } from './cdp.mjs';

let failures = 0;
function check(name, cond, detail) {
  if (cond) console.log(`ok - ${name}`);
  else { console.log(`not ok - ${name}${detail ? ` (${detail})` : ''}`); failures++; }
}

// Box and style of each selector's elements, and how many canvas pixels
// were drawn on (alpha > 0).
const INSPECT = `(() => {
  const box = (sel) => [...document.querySelectorAll(sel)].map((e) => {
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return { w: r.width, h: r.height, shown: s.display !== 'none' && s.visibility !== 'hidden' && +s.opacity > 0 };
  });
  const inked = (id) => {
    const c = document.getElementById(id);
    if (!c) return -1;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  };
  return {
    ready: !!(window.flReport && window.flReport.ready),
    svg: box('svg.counterexample'), stuck: box('svg.counterexample g.op.stuck rect'),
    canvases: Object.fromEntries(['timeline', 'latency', 'throughput'].map((id) => [id, { box: box('#' + id)[0], inked: inked(id) }])),
    quantiles: document.querySelectorAll('#quantiles tr').length,
    jumpDisabled: document.getElementById('jump-anomaly')?.disabled,
    anomalies: JSON.parse(document.getElementById('fl-data').textContent).anomaly.length,
  };
})()`;

// Pixels of the anomaly's outline (#ff00ff) around flReport.anomalyRect.
const OUTLINE = `(() => {
  const r = window.flReport.anomalyRect, c = document.getElementById('timeline');
  if (!r) return -1;
  const k = c.width / r.cssWidth;
  const x0 = Math.max(0, Math.floor((r.x - 5) * k)), y0 = Math.max(0, Math.floor((r.y - 5) * k));
  const w = Math.ceil((r.w + 10) * k), h = Math.ceil((r.h + 10) * k);
  const d = c.getContext('2d').getImageData(x0, y0, w, h).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] < 80 && d[i + 2] > 200) n++;
  return n;
})()`;

async function visit(browser, kind, file, shot) {
  const url = pathToFileURL(resolve(file)).href;
  const name = `${kind} ${file}`;
  const p = await browser.newPage();
  await p.init();
  await p.send('Page.navigate', { url });
  await p.waitFor('Page.loadEventFired');
  const info = await p.eval(INSPECT);
  check(`${name}: the script ran to the end (flReport.ready)`, info.ready);
  for (const id of ['timeline', 'latency', 'throughput']) {
    const c = info.canvases[id];
    check(`${name}: #${id} is visible`, c.box && c.box.shown && c.box.w > 100 && c.box.h > 50, JSON.stringify(c.box));
    check(`${name}: #${id} has drawn pixels`, c.inked > 500, `${c.inked} pixels`);
  }
  check(`${name}: latency quantiles table has rows`, info.quantiles >= 2, `${info.quantiles} rows`);
  if (kind === 'invalid') {
    check(`${name}: a counterexample SVG is visible`, info.svg.length > 0 && info.svg.every((b) => b.shown && b.w > 200 && b.h > 40), JSON.stringify(info.svg));
    check(`${name}: the op that cannot be placed is drawn`, info.stuck.length > 0 && info.stuck[0].w > 0 && info.stuck[0].h > 0, JSON.stringify(info.stuck));
    check(`${name}: the data names anomaly ops`, info.anomalies > 0);
    const before = await p.eval('({t0: flReport.view.t0, t1: flReport.view.t1})');
    // A real click, where the button is on screen.
    const at = await p.eval(`(() => { const b = document.getElementById('jump-anomaly');
      b.scrollIntoView({block: 'center'}); const r = b.getBoundingClientRect();
      return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()`);
    await p.click(at.x, at.y);
    const after = await p.eval('({t0: flReport.view.t0, t1: flReport.view.t1, jumped: !!flReport.jumped, rect: flReport.anomalyRect})');
    check(`${name}: jump to anomaly zooms the timeline in`, after.jumped && after.t1 - after.t0 < before.t1 - before.t0,
      `${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
    check(`${name}: the anomaly is in view after the jump`, after.rect && after.rect.w > 0, JSON.stringify(after.rect));
    const outline = await p.eval(OUTLINE);
    check(`${name}: the anomaly is outlined on the timeline`, outline > 10, `${outline} outline pixels`);
  } else {
    check(`${name}: no counterexample drawn`, info.svg.length === 0, `${info.svg.length} figures`);
    check(`${name}: jump to anomaly is disabled`, info.jumpDisabled === true);
  }
  const errors = p.events.filter((e) =>
    e.method === 'Runtime.exceptionThrown' ||
    (e.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(e.params.type)) ||
    (e.method === 'Log.entryAdded' && e.params.entry.level === 'error'));
  check(`${name}: no console errors`, errors.length === 0, JSON.stringify(errors.map((e) => e.params)).slice(0, 600));
  const requests = p.events.filter((e) => e.method === 'Network.requestWillBeSent').map((e) => e.params.request.url);
  check(`${name}: no request but the file itself`, requests.length >= 1 && requests.every((u) => u === url), requests.join(' '));
  await p.eval('window.scrollTo(0, 0)');
  const m = await p.send('Page.getLayoutMetrics');
  const height = Math.min(6000, Math.ceil((m.cssContentSize || m.contentSize).height));
  const png = await p.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width: 1300, height, scale: 1 } });
  writeFileSync(shot, Buffer.from(png.data, 'base64'));
  check(`${name}: screenshot written to ${shot}`, png.data.length > 10000);
}

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 3 !== 0) {
  console.error('usage: node report_test.mjs valid|invalid REPORT.html SHOT.png [...]');
  process.exit(64);
}
let browser;
try {
  browser = await launch();
} catch (e) {
  check(`chromium starts: ${e.message}`, false);
  process.exit(1);
}
try {
  for (let i = 0; i < args.length; i += 3) await visit(browser, args[i], args[i + 1], args[i + 2]);
} catch (e) {
  check(`browser session: ${e.message}`, false, browser.stderr().slice(-500));
} finally {
  await browser.close();
}
process.exit(failures ? 1 : 0);
