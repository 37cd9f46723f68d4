/*
 * lin_panel.c — the linearizable checker's part of report.html: its
 * verdict in words and its counterexample drawn (checkers/panel.h), from
 * its stored result alone. The sequential checker's panel
 * (checkers/sc_panel.c), whose result carries one of these, draws it with
 * the same two functions.
 */
#include "checkers/linearizable.h"
#include "base/alloc.h"
#include "checkers/panel.h"

#include <string.h>

/* The counterexample in one clause. */
static void stuck_words(FILE *out, const json_t *ce, bool colon)
{
    const json_t *op = json_object_get(ce, "op");
    if (op == NULL)
        return;
    fputs(colon ? ": " : "", out);
    panel_op_words(out, op, true, true);
    fputs(" cannot take effect anywhere before it completed", out);
    const json_t *states = json_object_get(ce, "states");
    if (json_is_array(states) && json_array_size(states) > 0) {
        fputs(" (the object could only hold ", out);
        panel_json_text(out, states);
        fputs(" then)", out);
    }
}

void lin_html_stuck(FILE *out, const json_t *lin)
{
    stuck_words(out, json_object_get(lin, "counterexample"), false);
}

void lin_html_words(FILE *out, const char *verdict, const char *reason,
                    const json_t *lin)
{
    if (strcmp(verdict, "valid") == 0) {
        fputs("linearizable", out);
    } else if (strcmp(verdict, "invalid") == 0) {
        const json_t *ce = json_object_get(lin, "counterexample");
        fputs("not linearizable", out);
        if (json_is_object(ce))
            stuck_words(out, ce, true);
        else if (reason) {
            fputs(": ", out);
            panel_text(out, reason);
        }
    } else {
        fputs("undecided", out);
        if (reason) {
            fputs(": ", out);
            panel_text(out, reason);
        }
    }
}

void lin_html_figure(FILE *out, const char *who, const json_t *ce,
                     const char *id_suffix, const checker_panel_env *env)
{
    if (!json_is_object(ce) || !json_is_object(json_object_get(ce, "op")))
        return;
    panel_figure g = {0};
    const json_t *prefix = json_object_get(ce, "prefix"), *op;
    size_t i, np = json_array_size(prefix);
    json_array_foreach(prefix, i, op)
        if (i + PANEL_FIG_PREFIX >= np)
            panel_fig_add(&g, env, op, PANEL_PLACED);
    json_array_foreach(json_object_get(ce, "concurrent"), i, op)
        panel_fig_add(&g, env, op, PANEL_OPEN);
    panel_fig_add(&g, env, json_object_get(ce, "op"), PANEL_STUCK);
    char id[160], title[300];
    const json_t *key = json_object_get(ce, "key");
    char *k = key && !json_is_null(key)
                  ? json_dumps(key, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(id, sizeof id, "ce-%s%s", who, id_suffix);
    snprintf(title, sizeof title, "%s: counterexample%s%s — the red operation "
             "cannot be placed; orange ones were still open; blue ones were "
             "the last placed (\xe2\x87\x92 the state they left)", who,
             k ? " on key " : "", k ? k : "");
    fl_free(k);
    const panel_fig_op *stuck = g.n ? &g.ops[g.n - 1] : NULL;
    panel_fig_draw(out, &g, id, title,
                   stuck && stuck->kind == PANEL_STUCK ? stuck->end : -1,
                   json_object_get(ce, "states"),
                   "states the object could be in when it had to take effect: ",
                   true);
    const json_t *shrunk = json_object_get(ce, "shrunk");
    if (json_is_object(shrunk)) {
        snprintf(id, sizeof id, "shrunk-%s%s", who, id_suffix);
        panel_fig_shrunk(out, env, id, shrunk, "not linearizable");
    }
}

/* ---- In the checker registry (checker.html_verdict, html_panel) ----------------- */

void lin_html_verdict(FILE *out, const char *name, const json_t *res,
                      const checker_panel_env *env)
{
    (void)env;
    const char *v = panel_verdict_of(json_object_get(res, "valid"));
    panel_badge(out, name, v);
    lin_html_words(out, v, json_string_value(json_object_get(res, "reason")),
                   res);
}

void lin_html_panel(FILE *out, const char *name, const json_t *res,
                    const checker_panel_env *env)
{
    lin_html_figure(out, name, json_object_get(res, "counterexample"), "", env);
}
