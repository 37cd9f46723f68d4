/* report.html's script (report/html.h); inlined into every report.
 * Reads the operations from #fl-data (number columns: start times as
 * deltas, latencies, lanes, types, f and key indices) and draws the
 * timeline, the latency and the throughput plots on canvases. It fetches
 * nothing. window.flReport tells a test or a benchmark what was drawn. */
(function () {
  'use strict';
  var R = window.flReport = { ready: false, at: { start: performance.now() } };
  var D = JSON.parse(document.getElementById('fl-data').textContent);
  R.at.parsed = performance.now();
  if (!D.start) { R.ready = true; R.drawnAt = performance.now(); return; }
  var n = D.n, span = Math.max(1, D.span);
  var start = new Float64Array(n), end = new Float64Array(n);
  var maxLat = 0, t = 0;
  for (var i = 0; i < n; i++) {
    t += D.start[i];
    start[i] = t;
    var l = D.lat[i];
    end[i] = l < 0 ? -1 : t + l;
    if (l > maxLat) maxLat = l;
  }
  R.at.decoded = performance.now();
  var lane = D.lane, type = D.type, nl = Math.max(1, D.lanes.length);
  var COLORS = ['#2e7d32', '#c0262d', '#e69500'], TYPES = ['ok', 'fail', 'info'];
  var NEMESIS = 'rgba(120, 60, 200, 0.13)';
  /* Each kind of fault (a period's row, report/html_internal.h) its own
   * hue and label line: faults overlap, and their bands must not merge. */
  var KIND_RGB = ['120, 60, 200', '0, 120, 190', '200, 110, 0', '0, 140, 90',
                  '190, 40, 110', '100, 100, 100', '150, 130, 0', '40, 60, 160'];
  function kindRgb(row) { return KIND_RGB[(row || 0) % KIND_RGB.length]; }

  function fmt(tk) {
    if (!D.timed) return Math.round(tk) + ' ev';
    var s = tk / 1e6;
    return (Math.abs(s) >= 10 ? s.toFixed(1) : s.toFixed(3)) + ' s';
  }
  function fmtLat(tk) {
    if (!D.timed) return tk + ' ev';
    return tk >= 1000 ? (tk / 1000).toFixed(tk >= 1e5 ? 0 : 1) + ' ms' : tk + ' \u00b5s';
  }
  function setup(c, h) {
    var dpr = window.devicePixelRatio || 1, w = c.clientWidth || 1200;
    c.style.height = h + 'px';
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    var ctx = c.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px system-ui, sans-serif';
    return { ctx: ctx, w: w, h: h, c: c, dpr: dpr };
  }
  /* Operations are set as pixels, not drawn as paths: a million rects in
   * a Path2D cost the rasterizer seconds; a pixel buffer costs a pass. */
  var PIX = [0xff327d2e, 0xff2d26c0, 0xff0095e6]; /* COLORS as ABGR */
  function pixels(g) {
    var img = g.ctx.createImageData(g.c.width, g.c.height);
    var buf = new Uint32Array(img.data.buffer), W = g.c.width, H = g.c.height, k = g.dpr;
    return {
      rect: function (x, y, w, h, color) {
        var x0 = Math.max(0, Math.floor(x * k)), x1 = Math.min(W, Math.max(x0 + 1, Math.floor((x + w) * k)));
        var y0 = Math.max(0, Math.floor(y * k)), y1 = Math.min(H, Math.max(y0 + 1, Math.floor((y + h) * k)));
        for (var yy = y0; yy < y1; yy++) buf.fill(color, yy * W + x0, yy * W + x1);
      },
      put: function () { g.ctx.putImageData(img, 0, 0); },
    };
  }
  /* The first op invoked at or after tk (ops are in invocation order). */
  function lowerBound(tk) {
    var lo = 0, hi = n;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (start[mid] < tk) lo = mid + 1; else hi = mid; }
    return lo;
  }
  /* Every period a translucent band in its kind's hue (overlaps show as
   * both hues), a solid strip on its kind's line at the top, and its
   * label on that line. */
  function shade(g, x0, x1, X, top, bottom, labels) {
    D.nemesis.forEach(function (p) {
      if (p[1] < x0 || p[0] > x1) return;
      var a = X(Math.max(p[0], x0)), b = X(Math.min(p[1], x1)), w = Math.max(2, b - a);
      g.ctx.fillStyle = 'rgba(' + kindRgb(p[3]) + ', 0.11)';
      g.ctx.fillRect(a, top, w, bottom - top);
      g.ctx.fillStyle = 'rgba(' + kindRgb(p[3]) + ', 0.75)';
      g.ctx.fillRect(a, top + 12 * (p[3] || 0), w, 2);
    });
    if (!labels) return;
    /* A label stays within its band (at least 60 px): the next band on
     * its line starts where it ends. */
    D.nemesis.forEach(function (p) {
      if (p[1] < x0 || p[0] > x1) return;
      var a = X(Math.max(p[0], x0)), b = X(Math.min(p[1], x1)), y = top + 12 * (p[3] || 0);
      g.ctx.save();
      g.ctx.beginPath();
      g.ctx.rect(a, y, Math.max(60, b - a), 13);
      g.ctx.clip();
      g.ctx.fillStyle = 'rgb(' + kindRgb(p[3]) + ')';
      g.ctx.fillText(p[2], a + 3, y + 11);
      g.ctx.restore();
    });
  }
  function timeAxis(g, x0, x1, X, y) {
    var ctx = g.ctx;
    ctx.fillStyle = '#444';
    ctx.strokeStyle = '#bbb';
    ctx.beginPath(); ctx.moveTo(X(x0), y); ctx.lineTo(X(x1), y); ctx.stroke();
    var ticks = 8;
    for (var k = 0; k <= ticks; k++) {
      var tk = x0 + (x1 - x0) * k / ticks, x = X(tk);
      ctx.fillRect(x, y, 1, 4);
      ctx.fillText(fmt(tk), Math.min(x, g.w - 60), y + 14);
    }
  }
  function legend(g, x, y) {
    for (var k = 0; k < 3; k++) {
      g.ctx.fillStyle = COLORS[k];
      g.ctx.fillRect(x + k * 50, y - 8, 9, 9);
      g.ctx.fillStyle = '#333';
      g.ctx.fillText(TYPES[k], x + k * 50 + 12, y);
    }
    g.ctx.fillStyle = NEMESIS;
    g.ctx.fillRect(x + 150, y - 8, 9, 9);
    g.ctx.fillStyle = '#333';
    g.ctx.fillText('nemesis', x + 162, y);
  }

  /* ---- Timeline ---------------------------------------------------------- */
  var TL = document.getElementById('timeline');
  var LEFT = 56, TOP = 16;
  var laneH = Math.max(2, Math.min(14, Math.floor(560 / nl)));
  var view = R.view = { t0: 0, t1: span };
  var tlg = null;
  function tlX(tk) { return LEFT + (tlg.w - LEFT - 8) * (tk - view.t0) / (view.t1 - view.t0); }
  function drawTimeline() {
    var h = TOP + nl * laneH + 24;
    tlg = setup(TL, h);
    var ctx = tlg.ctx, bottom = TOP + nl * laneH, px = pixels(tlg), k;
    var from = lowerBound(view.t0 - maxLat), to = lowerBound(view.t1 + 1), shown = 0;
    var hgt = Math.max(1, laneH - (laneH > 4 ? 2 : 0));
    for (var i = from; i < to; i++) {
      var e = end[i] < 0 ? span : end[i];
      if (e < view.t0) continue;
      var x1 = tlX(start[i]), x2 = tlX(e);
      px.rect(Math.max(LEFT, x1), TOP + lane[i] * laneH, Math.max(1, Math.min(tlg.w, x2) - Math.max(LEFT, x1)), hgt, PIX[type[i]]);
      shown++;
    }
    px.put();
    for (k = 0; k < nl; k += 2) { ctx.fillStyle = 'rgba(0, 0, 0, 0.035)'; ctx.fillRect(LEFT, TOP + k * laneH, tlg.w - LEFT, laneH); }
    shade(tlg, view.t0, view.t1, tlX, TOP, bottom, true);
    R.anomalyRect = null;
    D.anomaly.forEach(function (a, j) {
      var e = end[a] < 0 ? span : end[a];
      if (e < view.t0 || start[a] > view.t1) return;
      var x1 = tlX(start[a]), x2 = Math.max(x1 + 2, tlX(e)), y = TOP + lane[a] * laneH;
      ctx.strokeStyle = '#ff00ff';
      ctx.lineWidth = 3;
      ctx.strokeRect(x1 - 2, y - 2, x2 - x1 + 4, hgt + 4);
      if (j === 0) R.anomalyRect = { x: x1, y: y, w: x2 - x1, h: hgt, cssWidth: tlg.w };
    });
    ctx.lineWidth = 1;
    ctx.fillStyle = '#333';
    var every = Math.ceil(11 / laneH);
    for (k = 0; k < nl; k += every)
      ctx.fillText('p' + D.lanes[k][0] + (D.lanes[k][1] > 1 ? '+' : ''), 2, TOP + k * laneH + Math.min(laneH, 11));
    timeAxis(tlg, view.t0, view.t1, tlX, bottom + 2);
    legend(tlg, tlg.w - 240, 11);
    R.timelineOps = shown;
    document.getElementById('view-label').textContent =
      fmt(view.t0) + ' \u2013 ' + fmt(view.t1) + ': ' + shown + ' of ' + n + ' operations';
  }
  function zoom(factor, centre) {
    var c = centre === undefined ? (view.t0 + view.t1) / 2 : centre;
    var w = Math.max(4, Math.min(span, (view.t1 - view.t0) * factor));
    view.t0 = Math.max(0, Math.min(span - w, c - (c - view.t0) * w / (view.t1 - view.t0)));
    view.t1 = view.t0 + w;
    drawTimeline();
  }
  document.getElementById('zoom-in').onclick = function () { zoom(0.25); };
  document.getElementById('zoom-out').onclick = function () { zoom(4); };
  document.getElementById('zoom-all').onclick = function () { view.t0 = 0; view.t1 = span; drawTimeline(); };
  var jump = document.getElementById('jump-anomaly');
  if (!D.anomaly.length) { jump.disabled = true; jump.title = 'no anomaly in this run'; }
  jump.onclick = function () {
    var a = D.anomaly[0], e = end[a] < 0 ? span : end[a];
    var lo = start[a], hi = e;
    D.anomaly.forEach(function (b) { lo = Math.min(lo, start[b]); hi = Math.max(hi, end[b] < 0 ? start[b] : end[b]); });
    var pad = Math.max((hi - lo) * 0.6, span / 5000, 4);
    view.t0 = Math.max(0, lo - pad);
    view.t1 = Math.min(span, hi + pad);
    drawTimeline();
    R.jumped = true;
    TL.scrollIntoView({ block: 'center' });
  };
  TL.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var r = TL.getBoundingClientRect();
    var c = view.t0 + (view.t1 - view.t0) * (ev.clientX - r.left - LEFT) / (r.width - LEFT - 8);
    zoom(ev.deltaY < 0 ? 0.7 : 1.4, c);
  }, { passive: false });
  var drag = null;
  TL.addEventListener('mousedown', function (ev) { drag = { x: ev.clientX, t0: view.t0, t1: view.t1 }; });
  window.addEventListener('mouseup', function () { drag = null; });
  var tip = document.getElementById('tip');
  TL.addEventListener('mousemove', function (ev) {
    var r = TL.getBoundingClientRect();
    if (drag) {
      var dt = (drag.x - ev.clientX) * (drag.t1 - drag.t0) / (r.width - LEFT - 8);
      var w = drag.t1 - drag.t0;
      view.t0 = Math.max(0, Math.min(span - w, drag.t0 + dt));
      view.t1 = view.t0 + w;
      drawTimeline();
      return;
    }
    var ln = Math.floor((ev.clientY - r.top - TOP) / laneH);
    var tk = view.t0 + (view.t1 - view.t0) * (ev.clientX - r.left - LEFT) / (r.width - LEFT - 8);
    var slack = (view.t1 - view.t0) * 2 / r.width, found = -1;
    for (var i = lowerBound(tk - maxLat - slack), to = lowerBound(tk + slack + 1); i < to; i++)
      if (lane[i] === ln && start[i] - slack <= tk && (end[i] < 0 ? span : end[i]) + slack >= tk) found = i;
    if (found < 0) { tip.style.display = 'none'; return; }
    var key = D.key[found] >= 0 ? ' key ' + JSON.stringify(D.keys[D.key[found]]) : '';
    tip.textContent = D.fnames[D.f[found]] + key + ': ' + TYPES[type[found]] + '\n' +
      'lane of p' + D.lanes[ln][0] + '\n' + fmt(start[found]) +
      (end[found] < 0 ? ', never completed' : ', took ' + fmtLat(end[found] - start[found]));
    tip.style.left = (ev.pageX + 12) + 'px';
    tip.style.top = (ev.pageY + 12) + 'px';
    tip.style.display = 'block';
  });
  TL.addEventListener('mouseleave', function () { tip.style.display = 'none'; });

  /* ---- Latency: one point per completed op, log scale --------------------- */
  function drawLatency() {
    var g = setup(document.getElementById('latency'), 260), ctx = g.ctx;
    var top = 16, bottom = g.h - 22, lo = Infinity, hi = 1;
    for (var i = 0; i < n; i++) if (end[i] >= 0) { var l = Math.max(1, end[i] - start[i]); if (l < lo) lo = l; if (l > hi) hi = l; }
    if (lo === Infinity) lo = 1;
    var llo = Math.log10(lo), lhi = Math.max(llo + 1, Math.log10(hi) + 0.05);
    var X = function (tk) { return LEFT + (g.w - LEFT - 8) * tk / span; };
    var Y = function (l) { return bottom - (bottom - top) * (Math.log10(Math.max(1, l)) - llo) / (lhi - llo); };
    var px = pixels(g);
    for (i = 0; i < n; i++) {
      if (end[i] < 0) continue;
      px.rect(X(end[i]) - 1, Y(end[i] - start[i]) - 1, 2, 2, PIX[type[i]]);
    }
    px.put();
    shade(g, 0, span, X, top, bottom, true);
    ctx.fillStyle = '#444';
    for (var p = Math.ceil(llo); p <= lhi; p++) {
      var y = Y(Math.pow(10, p));
      ctx.fillRect(LEFT - 4, y, 4, 1);
      ctx.fillText(fmtLat(Math.pow(10, p)), 2, y + 4);
    }
    timeAxis(g, 0, span, X, bottom + 2);
    legend(g, g.w - 240, 11);
  }

  /* ---- Throughput: completions per second (or per bin of events) ----------- */
  function drawThroughput() {
    var g = setup(document.getElementById('throughput'), 200), ctx = g.ctx;
    var top = 16, bottom = g.h - 22, bins = Math.max(10, Math.min(300, Math.floor((g.w - LEFT) / 4)));
    var counts = [new Float64Array(bins), new Float64Array(bins), new Float64Array(bins)], peak = 1;
    for (var i = 0; i < n; i++) {
      if (end[i] < 0) continue;
      var b = Math.min(bins - 1, Math.floor(end[i] / span * bins));
      counts[type[i]][b]++;
    }
    var per = D.timed ? 1e6 / (span / bins) : 1;
    for (var k = 0; k < 3; k++) for (var b2 = 0; b2 < bins; b2++) peak = Math.max(peak, counts[k][b2] * per);
    var X = function (tk) { return LEFT + (g.w - LEFT - 8) * tk / span; };
    var Y = function (v) { return bottom - (bottom - top) * v / peak; };
    shade(g, 0, span, X, top, bottom, true);
    for (k = 0; k < 3; k++) {
      ctx.strokeStyle = COLORS[k];
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (b = 0; b < bins; b++) {
        var x = X((b + 0.5) * span / bins), y = Y(counts[k][b] * per);
        if (b) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      }
      ctx.stroke();
    }
    ctx.lineWidth = 1;
    ctx.fillStyle = '#444';
    ctx.fillText(Math.round(peak) + (D.timed ? ' ops/s' : ' ops/bin'), 2, top + 8);
    ctx.fillText('0', 2, bottom);
    timeAxis(g, 0, span, X, bottom + 2);
    legend(g, g.w - 240, 11);
  }

  function drawAll() {
    drawTimeline(); R.at.timeline = performance.now();
    drawLatency(); R.at.latency = performance.now();
    drawThroughput(); R.at.throughput = performance.now();
  }
  drawAll();
  var resized = null;
  window.addEventListener('resize', function () { clearTimeout(resized); resized = setTimeout(drawAll, 150); });
  R.ready = true;
  R.drawnAt = performance.now();
})();
