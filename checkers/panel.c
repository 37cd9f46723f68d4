/*
 * panel.c — the kit checkers draw their report panels with. See panel.h.
 * The figure is Porcupine's picture: the axis is the order of the events
 * involved, evenly spaced, since real time between them would squeeze
 * the bars that matter into slivers beside long quiet spans, and only the
 * order decides.
 */
#include "checkers/panel.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- Words ------------------------------------------------------------------- */

void panel_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

void panel_json_text(FILE *out, const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    panel_text(out, s ? s : "null");
    fl_free(s);
}

void panel_op_words(FILE *out, const json_t *op, bool with_process,
                   bool with_key)
{
    if (with_process)
        fprintf(out, "p%lld ",
                (long long)json_integer_value(json_object_get(op, "process")));
    const char *f = json_string_value(json_object_get(op, "f"));
    panel_text(out, f ? f : "?");
    const json_t *key = json_object_get(op, "key");
    if (with_key && key != NULL && !json_is_null(key)) {
        fputs(" key ", out);
        panel_json_text(out, key);
    }
    const json_t *value = json_object_get(op, "value");
    if (value != NULL && !json_is_null(value)) {
        fputc(' ', out);
        panel_json_text(out, value);
    }
    const json_t *output = json_object_get(op, "output");
    if (output != NULL && !json_equal(output, value)) {
        fputs(" \xe2\x86\x92 ", out); /* → */
        panel_json_text(out, output);
    }
}

const char *panel_verdict_of(const json_t *valid)
{
    return json_is_true(valid) ? "valid" : json_is_false(valid) ? "invalid"
                                                                : "unknown";
}

void panel_badge(FILE *out, const char *label, const char *verdict)
{
    fputs("<b>", out);
    panel_text(out, label);
    fprintf(out, "</b> <span class=\"badge %s\">%s</span> ", verdict, verdict);
}

/* ---- The figure ------------------------------------------------------------------ */

#define FIG_W 1100
#define FIG_LABEL 70   /* the lane labels' column */
#define FIG_LANE 52
#define FIG_TOP 28

/* Where the event with "index" idx sits; its index when the page cannot
 * tell (no history at hand). */
static int64_t tick(const checker_panel_env *env, int64_t idx)
{
    return env->tick_of_index ? env->tick_of_index(env->page, idx) : idx;
}

void panel_fig_add(panel_figure *g, const checker_panel_env *env,
                   const json_t *op, panel_fig_kind kind)
{
    if (g->n == PANEL_FIG_MAX || !json_is_object(op))
        return;
    const json_t *inv = json_object_get(op, "invoke_index");
    const json_t *done = json_object_get(op, "complete_index");
    int64_t start = tick(env, json_integer_value(inv));
    int64_t end = done ? tick(env, json_integer_value(done)) : -1;
    if (start < 0)
        start = json_integer_value(inv);
    g->ops[g->n++] = (panel_fig_op){op, kind, start, end};
    int64_t p = json_integer_value(json_object_get(op, "process"));
    for (size_t i = 0; i < g->nprocs; i++)
        if (g->procs[i] == p)
            return;
    size_t at = g->nprocs++;
    while (at > 0 && g->procs[at - 1] > p) {
        g->procs[at] = g->procs[at - 1];
        at--;
    }
    g->procs[at] = p;
}

static size_t lane_of(const panel_figure *g, const json_t *op)
{
    int64_t p = json_integer_value(json_object_get(op, "process"));
    for (size_t i = 0; i < g->nprocs; i++)
        if (g->procs[i] == p)
            return i;
    return 0;
}

static const char *const fig_fill[] = {"#cfe0f5", "#ffe0a8", "#f7a8a8",
                                       "#dcdcdc"};
static const char *const fig_stroke[] = {"#4a78b5", "#c98a1a", "#c0262d",
                                         "#777"};

/* The axis is the order of the events involved, evenly spaced, as in
 * Porcupine: real time between them would squeeze the bars that matter
 * into slivers beside long quiet spans, and only the order decides. */
typedef struct axis {
    int64_t ticks[2 * PANEL_FIG_MAX + 1]; /* distinct, rising */
    size_t n;
} axis;

static int cmp_tick(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void axis_build(axis *a, const panel_figure *g)
{
    a->n = 0;
    for (size_t i = 0; i < g->n; i++) {
        a->ticks[a->n++] = g->ops[i].start;
        if (g->ops[i].end >= 0)
            a->ticks[a->n++] = g->ops[i].end;
    }
    qsort(a->ticks, a->n, sizeof a->ticks[0], cmp_tick);
    size_t m = 0;
    for (size_t i = 0; i < a->n; i++)
        if (m == 0 || a->ticks[m - 1] != a->ticks[i])
            a->ticks[m++] = a->ticks[i];
    a->n = m;
}

/* t's place: its rank among the ticks; past the last for "never". */
static double x_of(const axis *a, int64_t t)
{
    size_t lo = 0, hi = a->n;
    while (t >= 0 && lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->ticks[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    double rank = t < 0 ? (double)a->n : (double)lo;
    return FIG_LABEL + 10 + (FIG_W - FIG_LABEL - 40) * rank /
                                (double)(a->n ? a->n : 1);
}

/* Labels alternate above and below the bars of a lane, so that the
 * words of neighbours do not run into each other. */
static void fig_bar(FILE *out, const panel_figure *g, const axis *a,
                    const panel_fig_op *o,
                    bool below, bool one_key)
{
    double y = FIG_TOP + (double)lane_of(g, o->op) * FIG_LANE;
    double x1 = x_of(a, o->start);
    double x2 = x_of(a, o->end);
    if (x2 - x1 < 3)
        x2 = x1 + 3;
    const char *type = json_string_value(json_object_get(o->op, "type"));
    bool info = type && strcmp(type, "info") == 0;
    fprintf(out, "<g class=\"op%s\"><title>", o->kind == PANEL_STUCK
                                                  ? " stuck" : "");
    panel_op_words(out, o->op, true, true);
    fprintf(out, " (%s, events %lld..", type ? type : "?",
            (long long)json_integer_value(json_object_get(o->op,
                                                          "invoke_index")));
    const json_t *done = json_object_get(o->op, "complete_index");
    if (done)
        fprintf(out, "%lld)", (long long)json_integer_value(done));
    else
        fputs(" never completed)", out);
    fprintf(out, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"16\" rx=\"3\" fill=\"%s\" stroke=\"%s\" stroke-width="
            "\"%d\"%s/>", x1, y + 16, x2 - x1, fig_fill[o->kind],
            fig_stroke[o->kind], o->kind == PANEL_STUCK ? 2 : 1,
            info ? " stroke-dasharray=\"4 3\"" : "");
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", x1 + 2,
            y + (below ? 45 : 12));
    panel_op_words(out, o->op, false, !one_key);
    if (info)
        fputs(" (info)", out);
    const json_t *state = json_object_get(o->op, "state");
    if (o->kind == PANEL_PLACED && state) {
        fputs(" \xe2\x87\x92 ", out); /* ⇒ */
        panel_json_text(out, state);
    }
    fputs("</text></g>\n", out);
}

/* The figure: lanes, bars, and (stuck_by >= 0) the line the stuck op had
 * to take effect by, labelled note. */
void panel_fig_draw(FILE *out, const panel_figure *g, const char *id,
                    const char *title, int64_t stuck_by, const json_t *note,
                    const char *note_words, bool one_key)
{
    if (g->n == 0)
        return;
    axis a;
    axis_build(&a, g);
    int h = FIG_TOP + (int)g->nprocs * FIG_LANE + (note ? 34 : 16);
    fputs("<figure><figcaption>", out);
    panel_text(out, title);
    fprintf(out, "</figcaption>\n<svg class=\"counterexample\" id=\"%s\" "
            "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\">\n", id, FIG_W, h, FIG_W, h);
    for (size_t i = 0; i < g->nprocs; i++) {
        double y = FIG_TOP + (double)i * FIG_LANE;
        fprintf(out, "<rect class=\"lane\" x=\"0\" y=\"%.1f\" width=\"%d\" "
                "height=\"%d\" fill=\"%s\"/><text class=\"lane-label\" x=\"6\" "
                "y=\"%.1f\">p%lld</text>\n", y, FIG_W, FIG_LANE,
                i % 2 ? "#f7f7f7" : "#ffffff", y + 28, (long long)g->procs[i]);
    }
    size_t seen[PANEL_FIG_MAX] = {0};
    for (size_t i = 0; i < g->n; i++) {
        size_t l = lane_of(g, g->ops[i].op);
        fig_bar(out, g, &a, &g->ops[i], seen[l]++ % 2 == 1, one_key);
    }
    if (stuck_by >= 0) {
        double x = x_of(&a, stuck_by);
        fprintf(out, "<line x1=\"%.1f\" y1=\"14\" x2=\"%.1f\" y2=\"%d\" "
                "stroke=\"#c0262d\" stroke-dasharray=\"5 4\"/><text x=\"%.1f\" "
                "y=\"12\" class=\"mark\">had to take effect by here</text>\n",
                x, x, h - 30, x > FIG_W - 200 ? x - 170 : x + 4);
    }
    if (note) {
        fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"states\">", FIG_LABEL,
                h - 12);
        panel_text(out, note_words);
        panel_json_text(out, note);
        fputs("</text>\n", out);
    }
    fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"axis\">events in "
            "real-time order (evenly spaced, not to scale) \xe2\x86\x92</text>\n",
            FIG_W - 370, h - (note ? 26 : 3));
    fputs("</svg></figure>\n", out);
}

/* The shrunk events ({index, process, type, f, value}) paired into ops. */
void panel_fig_shrunk(FILE *out, const checker_panel_env *env, const char *id,
                      const json_t *shrunk, const char *what)
{
    const json_t *events = json_object_get(shrunk, "events"), *e;
    json_t *ops = json_array();
    size_t i;
    json_array_foreach(events, i, e) {
        const char *type = json_string_value(json_object_get(e, "type"));
        if (type == NULL)
            continue;
        json_t *x = json_object_get(e, "process");
        if (strcmp(type, "invoke") == 0) {
            json_array_append_new(ops, json_pack(
                "{sOsOsOsssO}", "process", x, "f", json_object_get(e, "f"),
                "value", json_object_get(e, "value") ?: json_null(), "type",
                "info", "invoke_index", json_object_get(e, "index")));
            continue;
        }
        for (size_t j = json_array_size(ops); j-- > 0;) {
            json_t *o = json_array_get(ops, j);
            if (json_equal(json_object_get(o, "process"), x) &&
                !json_object_get(o, "complete_index")) {
                json_object_set_new(o, "type", json_string(type));
                json_object_set(o, "complete_index", json_object_get(e, "index"));
                if (strcmp(type, "ok") == 0)
                    json_object_set(o, "output", json_object_get(e, "value")
                                                     ?: json_null());
                break;
            }
        }
    }
    panel_figure g = {0};
    json_array_foreach(ops, i, e) panel_fig_add(&g, env, e, PANEL_PLAIN);
    char title[200];
    snprintf(title, sizeof title, "Shrunk: %zu events that are still %s%s",
             json_array_size(events), what,
             json_is_true(json_object_get(shrunk, "minimal"))
                 ? " (removing any one operation makes them valid)" : "");
    panel_fig_draw(out, &g, id, title, -1, NULL, NULL, false);
    json_decref(ops);
}

