/*
 * panel: the kit a checker draws its part of report.html with
 * (checker.html_verdict and checker.html_panel, checkers/checker.h): the
 * page's escapers, an operation in words, a verdict badge, and the
 * counterexample figure after Porcupine's: each operation involved a bar
 * from its invocation to its completion, one lane per process, on an axis
 * of the events' order (checker_panel_env.tick_of_index places them).
 *
 * report/ provides the environment and calls the panels of whatever
 * checkers a results.json holds; it names none of them. A panel reads
 * only its stored JSON result (and env->results), so a stored run's page
 * is drawn again the same.
 *
 * Ownership: nothing is allocated past a call; a panel_figure borrows the
 * JSON operations added to it.
 */
#ifndef FL_PANEL_H
#define FL_PANEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "checkers/checker.h"

/* HTML text or attribute value: & < > " ' escaped. */
void panel_text(FILE *out, const char *s);
/* A JSON value compact, as HTML text. */
void panel_json_text(FILE *out, const json_t *v);
/* An operation of a counterexample ({process, f, key, value, output,
 * type}, checker_op_json's) in words, as HTML text: "p3 read key 1 → 2". */
void panel_op_words(FILE *out, const json_t *op, bool with_process,
                    bool with_key);

/* A result's "valid" as "valid", "invalid" or "unknown". */
const char *panel_verdict_of(const json_t *valid);
/* "<b>label</b> <span class="badge VERDICT">VERDICT</span> ". */
void panel_badge(FILE *out, const char *label, const char *verdict);

/* ---- The counterexample figure ---------------------------------------------- */

#define PANEL_FIG_MAX 40   /* operations in one figure */
#define PANEL_FIG_PREFIX 6 /* placed operations drawn before the stuck one */

typedef enum panel_fig_kind {
    PANEL_PLACED, /* blue: placed before the stuck one, with its state */
    PANEL_OPEN,   /* orange: still open when it had to take effect */
    PANEL_STUCK,  /* red: the one that cannot be placed */
    PANEL_PLAIN,  /* grey */
} panel_fig_kind;

typedef struct panel_fig_op {
    const json_t *op; /* borrowed */
    panel_fig_kind kind;
    int64_t start, end; /* ticks; end -1: never completed */
} panel_fig_op;

typedef struct panel_figure {
    panel_fig_op ops[PANEL_FIG_MAX];
    size_t n;
    int64_t procs[PANEL_FIG_MAX];
    size_t nprocs;
} panel_figure;

/* Add op (checker_op_json's shape) to g, placed by env; ignored past
 * PANEL_FIG_MAX or if op is not an object. */
void panel_fig_add(panel_figure *g, const checker_panel_env *env,
                   const json_t *op, panel_fig_kind kind);

/* Draw g as <figure><svg id=id>: lanes, bars, and (stuck_by >= 0) the
 * line the stuck op had to take effect by; note (may be NULL) printed
 * after note_words under the lanes. one_key: leave keys out of labels.
 * Nothing when g is empty. */
void panel_fig_draw(FILE *out, const panel_figure *g, const char *id,
                    const char *title, int64_t stuck_by, const json_t *note,
                    const char *note_words, bool one_key);

/* A shrunk history ({"minimal", "events": [history events]}) as a figure
 * of its operations, titled "Shrunk: N events that are still WHAT". */
void panel_fig_shrunk(FILE *out, const checker_panel_env *env, const char *id,
                      const json_t *shrunk, const char *what);

#endif
