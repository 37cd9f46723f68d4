/*
 * html: report.html, one self-contained page a person reads a run from.
 *
 *   header          target, workload, nemesis, duration, how the run
 *                   ended, ops by type;
 *   verdicts        each checker's panel (checker.html_verdict and
 *                   html_panel, checkers/checker.h): its verdict in plain
 *                   words and its figures (counterexamples as SVG, drawn
 *                   with checkers/panel.h), from its stored result alone;
 *                   a checker without one gets a badge and the start of
 *                   its explanation; every checker's full explanation;
 *   timeline        every operation, one lane per client thread, nemesis
 *                   periods shaded and labelled, zoom / pan and "jump to
 *                   anomaly" (canvas, drawn by the page's script);
 *   plots           latency over time (log scale, ok/fail/info) and
 *                   throughput, nemesis shaded; latency quantiles per
 *                   operation (a table computed here);
 *   links           relative links to the raw history, test.json, the
 *                   node logs.
 *
 * Nothing is fetched: CSS and script are inlined (report/report.css and
 * report/report.js, compiled in by html_assets.c), the operations are
 * embedded as one JSON object of number columns (about 15 bytes an op),
 * which the script draws onto <canvas>, so a million operations stay
 * under 20 MB and open in a second or two.
 *
 * report_html() is pure: objects in, HTML out. report_write_dir()
 * (report/report.h) writes dir/report.html with it for every stored run;
 * `faultline report HISTORY` writes one for a bare history.
 */
#ifndef FL_REPORT_HTML_H
#define FL_REPORT_HTML_H

#include <stdio.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "history/history.h"

/* What a report is made of. Everything is borrowed. */
typedef struct report_html_input {
    const char *title;          /* the run's name, or the history's file */
    const history *h;           /* NULL: no timeline, plots or quantiles */
    const json_t *results;      /* results.json's object (required) */
    const json_t *test;         /* test.json's object, or NULL */
    /* Relative links (NULL: not shown): the history, test.json, and a
     * NULL-terminated list of other files (node logs, junit.xml, ...). */
    const char *history_href;
    const char *test_href;
    const char *const *files;
} report_html_input;

/* Write the page to out. FL_EUSAGE if in->results is not an object,
 * FL_ENOMEM, FL_EIO when out cannot be written. */
int report_html(const report_html_input *in, FILE *out, fl_error *err);

/* The report of a bare history: h checked into results (an object like
 * results.json's, {"valid", "checkers": {...}}), written to out_path
 * whole (aside, then renamed), with a link to history_path made relative
 * to out_path's folder. */
int report_html_write(const char *out_path, const char *history_path,
                      const history *h, const json_t *results,
                      fl_error *err);

#endif
