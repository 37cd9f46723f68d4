/*
 * sc_panel.c — the sequential checker's part of report.html: one badge
 * per guarantee it decided, the anomaly in words, the program-order
 * chains that conflict drawn, and the linearizability counterexample its
 * result carries (checkers/lin_panel.c draws that) unless the run's own
 * linearizable result, beside it in results.json, draws it already.
 */
#include "checkers/sequential.h"
#include "checkers/linearizable.h"
#include "checkers/panel.h"

#include <string.h>

/* "a read on key 7 returned 3". */
static void read_words(FILE *out, const json_t *rd)
{
    fputs("a read", out);
    const json_t *key = json_object_get(rd, "key");
    if (key && !json_is_null(key)) {
        fputs(" on key ", out);
        panel_json_text(out, key);
    }
    fputs(" returned ", out);
    panel_json_text(out, json_object_get(rd, "output"));
}

/* "... after the write of 5 (p2) had completed". */
static void stale_read_words(FILE *out, const json_t *stale)
{
    const json_t *w = json_object_get(stale, "newer_write");
    read_words(out, json_object_get(stale, "read"));
    fputs(" after the ", out);
    panel_text(out, json_string_value(json_object_get(w, "f")) ?: "write");
    fputs(" of ", out);
    panel_json_text(out, json_object_get(w, "value"));
    fprintf(out, " (p%lld) had completed",
            (long long)json_integer_value(json_object_get(w, "process")));
}

static void early_read_words(FILE *out, const json_t *early)
{
    read_words(out, json_object_get(early, "read"));
    fputs(" before any write of it had begun", out);
}

/* The linearizable part of a result: its "linearizable", or itself. */
static const json_t *lin_part(const json_t *res)
{
    const json_t *l = json_object_get(res, "linearizable");
    return json_is_object(l) ? l : res;
}

/* A result that decided both guarantees (`faultline check`'s default)
 * carries linearizability's verdict as its own; under the checker's name
 * alone, "sequential: invalid" would sit beside "but sequentially
 * consistent". So it shows one badge per guarantee. */
static void badges(FILE *out, const char *name, const json_t *res)
{
    const char *consistency =
        json_string_value(json_object_get(res, "consistency"));
    const json_t *sc = json_object_get(res, "sequential");
    if (consistency && strcmp(consistency, "both") == 0 && json_is_object(sc)) {
        panel_badge(out, checker_linearizable.name,
                    panel_verdict_of(json_object_get(res, "valid")));
        panel_badge(out, "sequential",
                    panel_verdict_of(json_object_get(sc, "valid")));
        return;
    }
    panel_badge(out, name, panel_verdict_of(json_object_get(res, "valid")));
}

static void real_time_words(FILE *out, const json_t *res)
{
    fputs("not linearizable, but sequentially consistent: ", out);
    const json_t *lin = lin_part(res);
    if (json_object_get(res, "stale_read"))
        stale_read_words(out, json_object_get(res, "stale_read"));
    else if (json_object_get(res, "early_read"))
        early_read_words(out, json_object_get(res, "early_read"));
    else if (json_is_object(json_object_get(lin, "counterexample")))
        lin_html_stuck(out, lin);
    else
        fputs("an operation took effect outside its real-time interval", out);
}

void sc_html_verdict(FILE *out, const char *name, const json_t *res,
                            const checker_panel_env *env)
{
    (void)env;
    const char *anomaly = json_string_value(json_object_get(res, "anomaly"));
    badges(out, name, res);
    if (anomaly && strcmp(anomaly, "none") == 0) {
        fputs("linearizable, hence sequentially consistent", out);
    } else if (anomaly && strcmp(anomaly, "real-time") == 0) {
        real_time_words(out, res);
    } else if (anomaly && strcmp(anomaly, "non-sequential") == 0) {
        fputs("not sequentially consistent (so not linearizable either): no "
              "single order keeps every process's program order", out);
        const json_t *sce = json_object_get(
            json_object_get(res, "sequential"), "counterexample");
        const json_t *op = json_object_get(sce, "op");
        const char *words = json_string_value(json_object_get(sce, "explanation"));
        if (words) { /* checkers/sc_graph's cycle, already in words */
            fputs(": ", out);
            panel_text(out, words);
        } else if (op) {
            fputs("; ", out);
            panel_op_words(out, op, true, true);
            fputs(" cannot be placed", out);
        }
    } else { /* undecided: what linearizability's search found */
        lin_html_words(out, panel_verdict_of(json_object_get(res, "valid")),
                       json_string_value(json_object_get(res, "reason")),
                       lin_part(res));
    }
}

static void sc_figure(FILE *out, const char *who, const json_t *ce,
                      const checker_panel_env *env)
{
    panel_figure g = {0};
    const json_t *stuck = json_object_get(ce, "op"), *c, *op;
    const json_t *stuck_inv = json_object_get(stuck, "invoke_index");
    size_t i, j, np = json_array_size(json_object_get(ce, "prefix"));
    json_array_foreach(json_object_get(ce, "prefix"), i, op)
        if (i + PANEL_FIG_PREFIX >= np)
            panel_fig_add(&g, env, op, PANEL_PLACED);
    json_array_foreach(json_object_get(ce, "chains"), i, c)
        json_array_foreach(json_object_get(c, "next"), j, op) {
            bool is = json_equal(json_object_get(op, "invoke_index"), stuck_inv);
            panel_fig_add(&g, env, op, is ? PANEL_STUCK : PANEL_OPEN);
        }
    json_array_foreach(json_object_get(ce, "cycle"), i, op)
        panel_fig_add(&g, env, op, PANEL_STUCK);
    char id[160], title[300];
    snprintf(id, sizeof id, "ce-%s", who);
    if (json_object_get(ce, "cycle") != NULL) /* checkers/sc_graph's */
        snprintf(title, sizeof title, "%s: operations each of which must "
                 "come before the next, the last before the first", who);
    else
        snprintf(title, sizeof title, "%s: the program-order chains that "
                 "conflict — blue: the last operations the longest order "
                 "placed (\xe2\x87\x92 the state they left); orange: each "
                 "process's next ones, in its program order; red: the "
                 "earliest that cannot be placed", who);
    panel_fig_draw(out, &g, id, title, -1, json_object_get(ce, "states"),
                   "the keys' states there: ", false);
    const json_t *shrunk = json_object_get(ce, "shrunk");
    if (json_is_object(shrunk)) {
        snprintf(id, sizeof id, "shrunk-%s", who);
        panel_fig_shrunk(out, env, id, shrunk, "not sequentially consistent");
    }
}

void sc_html_panel(FILE *out, const char *name, const json_t *res,
                          const checker_panel_env *env)
{
    const json_t *sce = json_object_get(json_object_get(res, "sequential"),
                                        "counterexample");
    if (json_is_object(sce))
        sc_figure(out, name, sce, env);
    /* what it needed is drawn by its own panel when the run has it */
    const char *needed = checker_sequential.needs->name;
    const json_t *lin = json_object_get(res, "linearizable");
    bool drawn = json_is_object(lin) &&
                 json_object_get(json_object_get(env->results, "checkers"),
                                 needed) != NULL;
    if (!drawn)
        lin_html_figure(out, name, json_object_get(lin_part(res),
                                                   "counterexample"),
                        json_is_object(sce) ? "-lin" : "", env);
}
