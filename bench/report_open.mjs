// How long headless Chromium takes to open a report.html (bench/bench_report.sh):
// from navigation start to the load event, and to the end of the report
// script's first drawing of the timeline and plots (flReport.drawnAt, on
// the page's own clock). Prints figures; asserts nothing.
// Usage: node bench/report_open.mjs REPORT.html [RUNS]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch } from '../tests/browser/cdp.mjs';

const file = process.argv[2], runs = +(process.argv[3] || 3);
const url = pathToFileURL(resolve(file)).href;
const browser = await launch();
const rows = [];
try {
  for (let i = 0; i < runs; i++) {
    const p = await browser.newPage();
    await p.init({ network: false });
    const wall0 = Date.now();
    await p.send('Page.navigate', { url });
    await p.waitFor('Page.loadEventFired', 120000);
    let r;
    while (!(r = await p.eval('window.flReport && window.flReport.ready ? {drawn: flReport.drawnAt, at: flReport.at, load: performance.getEntriesByType("navigation")[0].loadEventEnd} : null')))
      await new Promise((s) => setTimeout(s, 20));
    rows.push({ load: r.load, drawn: r.drawn, wall: Date.now() - wall0, at: r.at });
  }
} finally {
  await browser.close();
}
const a = rows[rows.length - 1].at, f = (x) => x.toFixed(0);
console.log(`  last run, page clock (ms): script began ${f(a.start)}, data parsed ${f(a.parsed)}, decoded ${f(a.decoded)}, ` +
  `timeline drawn ${f(a.timeline)}, latency ${f(a.latency)}, throughput ${f(a.throughput)}`);
const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)];
console.log(`open ${file}: median of ${runs}: first drawn ${med('drawn').toFixed(0)} ms, ` +
  `load event ${med('load').toFixed(0)} ms (page clock), ${med('wall')} ms wall incl. CDP`);
