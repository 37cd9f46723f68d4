/*
 * elle_explain.c — what elle found, in words, JSON and a small SVG per
 * cycle; and the `elle` checker (checkers/checker.h) around elle_check.
 *
 * An edge's reason is not stored with the graph (that would double its
 * memory): it is found again here, for the few edges of the cycles shown,
 * from the two transactions' micro-ops and the keys' version orders.
 */
#include "checkers/elle_internal.h"
#include "checkers/checker.h"
#include "base/alloc.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LIST_SHOWN 8   /* elements of a list read shown in words */

static int64_t tname(const history *h, const elle_result *r, uint32_t t)
{
    return history_events(h)[r->txns[t].inv].index;
}

static void put_key(FILE *f, const elle_result *r, uint32_t k)
{
    const json_t *n = r->keys[k].name;
    if (json_is_integer(n))
        fprintf(f, "k%" PRId64, (int64_t)json_integer_value(n));
    else
        fprintf(f, "\"%s\"", json_string_value(n));
}

static void put_list(FILE *f, const int64_t *v, uint32_t n)
{
    fputc('[', f);
    for (uint32_t i = 0; i < n; i++) {
        if (n > LIST_SHOWN && i == LIST_SHOWN / 2) {
            fprintf(f, "%s... (%u more)", i ? " " : "", n - LIST_SHOWN);
            i = n - LIST_SHOWN / 2;
        }
        fprintf(f, "%s%" PRId64, i ? " " : "", v[i]);
    }
    fputc(']', f);
}

/* What mop m read, as "k3 = [1 2]" or "k3 = 4" or "k3 = null". */
static void put_read(FILE *f, const elle_result *r, const elle_mop *m)
{
    put_key(f, r, m->key);
    fputs(" = ", f);
    if (m->nil)
        fputs("null", f);
    else if (r->sum.list_append)
        put_list(f, &r->reads[m->r0], m->rn);
    else
        fprintf(f, "%" PRId64, m->v);
}

static uint32_t writer_txn(const elle_result *r, uint32_t k, int64_t v)
{
    const elle_write *w = elle_write_find(r, k, v);
    return w ? w->txn : ELLE_NONE;
}

#define FOR_MOPS(r, t, m)                                                     \
    for (const elle_mop *m = &(r)->mops[(r)->txns[t].mop0];                  \
         m < &(r)->mops[(r)->txns[t].mop0 + (r)->txns[t].nmop]; m++)

/* The reason for edge a -> b of class type, in words (false: none found,
 * which would be a bug in the inference). */
static bool list_step(FILE *f, const history *h, const elle_result *r,
                      uint32_t a, uint32_t b, uint8_t type)
{
    int64_t A = tname(h, r, a), B = tname(h, r, b);
    if (type == E_WW) {
        FOR_MOPS(r, b, m) {
            const elle_write *w = m->f == M_APPEND ? elle_write_find(r, m->key, m->v)
                                                   : NULL;
            uint32_t n;
            const int64_t *o = elle_order(r, m->key, &n);
            if (w == NULL || w->pos < 1 || writer_txn(r, m->key, o[w->pos - 1]) != a)
                continue;
            fprintf(f, "T%" PRId64 " appended %" PRId64 " to ", A, o[w->pos - 1]);
            put_key(f, r, m->key);
            fprintf(f, ", and T%" PRId64 " appended %" PRId64 " right after it "
                    "(ww)", B, m->v);
            return true;
        }
    } else if (type == E_WR || type == E_RW) {
        uint32_t reader = type == E_WR ? b : a;
        FOR_MOPS(r, reader, m) {
            if (m->f != M_READ || !m->external)
                continue;
            uint32_t n, len = m->rn - m->own;
            const int64_t *o = elle_order(r, m->key, &n);
            if (!elle_prefix(r, m, o))
                continue;
            if (type == E_WR && len > 0 && writer_txn(r, m->key, o[len - 1]) == a) {
                fprintf(f, "T%" PRId64 " appended %" PRId64 " to ", A,
                        o[len - 1]);
                put_key(f, r, m->key);
                fprintf(f, ", which T%" PRId64 " read (", B);
                put_read(f, r, m);
                fputs(") (wr)", f);
                return true;
            }
            if (type == E_RW && len < n && writer_txn(r, m->key, o[len]) == b) {
                fprintf(f, "T%" PRId64 " read ", A);
                put_read(f, r, m);
                fprintf(f, ", missing %" PRId64 ", which T%" PRId64 " appended "
                        "next (rw)", o[len], B);
                return true;
            }
        }
    }
    return false;
}

static bool register_step(FILE *f, const history *h, const elle_result *r,
                          uint32_t a, uint32_t b, uint8_t type)
{
    int64_t A = tname(h, r, a), B = tname(h, r, b);
    FOR_MOPS(r, type == E_RW ? a : b, m) {
        if (m->f != M_READ || !m->external)
            continue;
        const elle_mop *w2 = NULL; /* the other txn's write of the key */
        FOR_MOPS(r, type == E_RW ? b : b, x)
            if (x->f == M_WRITE && x->key == m->key && x->last_write)
                w2 = x;
        if (type == E_WR && !m->nil && writer_txn(r, m->key, m->v) == a) {
            fprintf(f, "T%" PRId64 " wrote ", A);
            put_read(f, r, m);
            fprintf(f, ", which T%" PRId64 " read (wr)", B);
            return true;
        }
        if (type == E_WW && !m->nil && w2 && writer_txn(r, m->key, m->v) == a) {
            fprintf(f, "T%" PRId64 " wrote ", A);
            put_read(f, r, m);
            fprintf(f, ", which T%" PRId64 " read and then overwrote with %"
                    PRId64 " (ww)", B, w2->v);
            return true;
        }
        if (type == E_RW && w2) {
            fprintf(f, "T%" PRId64 " read ", A);
            put_read(f, r, m);
            if (m->nil)
                fprintf(f, ", the initial state, which T%" PRId64 " overwrote "
                        "with %" PRId64 " (rw)", B, w2->v);
            else
                fprintf(f, ", which T%" PRId64 " (having read it too) overwrote "
                        "with %" PRId64 " (rw)", B, w2->v);
            return true;
        }
    }
    return false;
}

static void put_step(FILE *f, const history *h, const elle_result *r,
                     uint32_t a, uint32_t b, uint8_t type)
{
    int64_t A = tname(h, r, a), B = tname(h, r, b);
    if (type == E_RT) {
        const elle_txn *x = &r->txns[a];
        fprintf(f, "T%" PRId64 " completed (event %" PRId64 ") before T%" PRId64
                " was invoked (rt)", A,
                x->done != SIZE_MAX ? history_events(h)[x->done].index : -1, B);
        return;
    }
    bool said = r->sum.list_append ? list_step(f, h, r, a, b, type)
                                   : register_step(f, h, r, a, b, type);
    if (!said)
        fprintf(f, "T%" PRId64 " precedes T%" PRId64 " (%s)", A, B,
                type == E_WW ? "ww" : type == E_WR ? "wr" : "rw");
}

static const char *edge_name(uint8_t t)
{
    return t == E_WW ? "ww" : t == E_WR ? "wr" : t == E_RW ? "rw" : "rt";
}

static const char *anomaly_words(elle_anomaly a)
{
    switch (a) {
    case ELLE_G0: return "a cycle of write dependencies (dirty write)";
    case ELLE_G1A: return "aborted read: a value written by a transaction that failed";
    case ELLE_G1B: return "intermediate read: a value its writer overwrote in the same transaction";
    case ELLE_G1C: return "a cycle of write and read dependencies (circular information flow)";
    case ELLE_G_SINGLE: return "a cycle with exactly one anti-dependency (read skew)";
    case ELLE_G2_ITEM: return "a cycle with two or more anti-dependencies (write skew)";
    case ELLE_G0_RT: case ELLE_G1C_RT: case ELLE_G_SINGLE_RT:
    case ELLE_G2_ITEM_RT:
        return "a cycle that needs real-time order: a transaction took effect "
               "before one that completed before it began";
    case ELLE_INTERNAL: return "a read that disagrees with the transaction's own earlier reads and writes";
    case ELLE_GARBAGE: return "a read of a value no transaction wrote";
    case ELLE_DUPLICATE: return "a value appended (or present) more than once";
    default: return "two reads of a key that are not prefixes of one another";
    }
}

/* The words for a non-cycle finding. */
static void put_single(FILE *f, const history *h, const elle_result *r,
                       const elle_finding *x)
{
    uint32_t t = x->txns[0];
    const elle_mop *m = x->mop != ELLE_NONE ? &r->mops[x->mop] : NULL;
    fprintf(f, "T%" PRId64, tname(h, r, t));
    if (x->kind == ELLE_DUPLICATE && x->n == 2) {
        fprintf(f, " and T%" PRId64 " both wrote %" PRId64 " to ",
                tname(h, r, x->txns[1]), x->value);
        put_key(f, r, m->key);
        return;
    }
    fputs(" read ", f);
    if (m)
        put_read(f, r, m);
    switch (x->kind) {
    case ELLE_G1A:
        fprintf(f, ", but %" PRId64 " was written by T%" PRId64 ", which "
                "failed", x->value, tname(h, r, x->other));
        break;
    case ELLE_G1B:
        fprintf(f, ", but T%" PRId64 " %s %" PRId64 " and then %s ",
                tname(h, r, x->other), r->sum.list_append ? "appended" : "wrote",
                x->value, r->sum.list_append ? "appended to" : "wrote");
        put_key(f, r, m->key);
        fputs(" again in the same transaction", f);
        break;
    case ELLE_GARBAGE:
        fprintf(f, ", but no transaction wrote %" PRId64 " to ", x->value);
        put_key(f, r, m->key);
        break;
    case ELLE_DUPLICATE:
        fprintf(f, ", in which %" PRId64 " appears more than once", x->value);
        break;
    case ELLE_INCOMPATIBLE_ORDER:
        fprintf(f, ", while T%" PRId64 " read ", tname(h, r, x->other));
        put_read(f, r, &r->mops[x->other_mop]);
        fputs(": neither is a prefix of the other", f);
        break;
    default:
        fputs(", which its own earlier reads and writes of the key in the same "
              "transaction contradict", f);
        break;
    }
}

static char *words_of(const history *h, const elle_result *r,
                      const elle_finding *x, json_t *steps)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return NULL;
    fprintf(f, "%s: %s.", elle_anomaly_name(x->kind), anomaly_words(x->kind));
    if (x->types == NULL) {
        fputs("\n  ", f);
        put_single(f, h, r, x);
        fputc('.', f);
    } else {
        for (uint32_t i = 0; i < x->n; i++) {
            char *s = NULL;
            size_t sl = 0;
            FILE *sf = open_memstream(&s, &sl);
            if (sf == NULL)
                continue;
            put_step(sf, h, r, x->txns[i], x->txns[(i + 1) % x->n], x->types[i]);
            fclose(sf);
            fprintf(f, "\n  %s;", s);
            json_array_append_new(steps, json_string(s));
            free(s);
        }
        fputs("\n  hence ", f);
        for (uint32_t i = 0; i <= x->n; i++)
            fprintf(f, "%sT%" PRId64, i ? " < " : "",
                    tname(h, r, x->txns[i % x->n]));
        fputc('.', f);
    }
    fclose(f);
    return buf;
}

/* The cycle as a small self-contained SVG: txns on a circle, each edge an
 * arrow named by its class. Drawn from a finding's stored JSON (txns: the
 * transactions' numbers; edges: "ww", "wr", "rw" or "rt" from each to the
 * next), so a report of a stored run draws the same; anything else in
 * them is drawn as nothing, so no text of the file reaches the page. */
void elle_cycle_svg(FILE *f, const json_t *txns, const json_t *edges)
{
    size_t n = json_array_size(txns);
    if (n == 0 || json_array_size(edges) != n)
        return;
    double R = n <= 2 ? 50 : 22.0 * (double)n, c = R + 40;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"elle-cycle\" "
            "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">"
            "<defs><marker id=\"elle-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" "
            "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
            "<path d=\"M0,0L10,5L0,10z\"/></marker></defs>",
            2 * c, 2 * c, 2 * c, 2 * c);
    for (size_t i = 0; i < n; i++) {
        const char *t = json_string_value(json_array_get(edges, i));
        const char *col = !t ? NULL : !strcmp(t, "rw") ? "#c0392b"
                        : !strcmp(t, "wr") ? "#2471a3"
                        : !strcmp(t, "ww") ? "#1e8449"
                        : !strcmp(t, "rt") ? "#7f8c8d" : NULL;
        if (col == NULL)
            continue;
        double a0 = 2 * M_PI * (double)i / (double)n - M_PI / 2;
        double a1 = 2 * M_PI * (double)((i + 1) % n) / (double)n - M_PI / 2;
        double x0 = c + R * cos(a0), y0 = c + R * sin(a0);
        double x1 = c + R * cos(a1), y1 = c + R * sin(a1);
        double dx = x1 - x0, dy = y1 - y0, d = sqrt(dx * dx + dy * dy);
        double ux = d > 0 ? dx / d : 0, uy = d > 0 ? dy / d : 0;
        /* bend two-node cycles apart: offset each arrow sideways */
        double ox = n == 2 ? -uy * 10 : 0, oy = n == 2 ? ux * 10 : 0;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\" stroke-width=\"1.5\" marker-end=\"url(#elle-arrow)\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\" "
                "text-anchor=\"middle\">%s</text>",
                x0 + ux * 20 + ox, y0 + uy * 20 + oy, x1 - ux * 20 + ox,
                y1 - uy * 20 + oy, col, (x0 + x1) / 2 + ox * 2.2,
                (y0 + y1) / 2 + oy * 2.2 + 4, col, t);
    }
    for (size_t i = 0; i < n; i++) {
        double a0 = 2 * M_PI * (double)i / (double)n - M_PI / 2;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"18\" fill=\"#fff\" "
                "stroke=\"#333\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                "text-anchor=\"middle\">T%" JSON_INTEGER_FORMAT "</text>",
                c + R * cos(a0), c + R * sin(a0), c + R * cos(a0),
                c + R * sin(a0) + 4,
                json_integer_value(json_array_get(txns, i)));
    }
    fputs("</svg>", f);
}

static json_t *finding_json(const history *h, const elle_result *r,
                            const elle_finding *x)
{
    json_t *o = json_object(), *txns = json_array(), *ops = json_array();
    json_t *steps = json_array();
    for (uint32_t i = 0; i < x->n; i++) {
        json_array_append_new(txns, json_integer(tname(h, r, x->txns[i])));
        json_array_append_new(ops, checker_op_json(h, r->txns[x->txns[i]].inv));
    }
    if (x->other != ELLE_NONE && x->types == NULL) {
        json_array_append_new(txns, json_integer(tname(h, r, x->other)));
        json_array_append_new(ops, checker_op_json(h, r->txns[x->other].inv));
    }
    char *w = words_of(h, r, x, steps);
    json_object_set_new(o, "type", json_string(elle_anomaly_name(x->kind)));
    json_object_set_new(o, "txns", txns);
    if (x->types) {
        json_t *edges = json_array();
        for (uint32_t i = 0; i < x->n; i++)
            json_array_append_new(edges, json_string(edge_name(x->types[i])));
        json_object_set_new(o, "steps", steps);
        json_object_set_new(o, "edges", edges);
        char *svg = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&svg, &len);
        if (f) {
            elle_cycle_svg(f, txns, edges);
            fclose(f);
        }
        json_object_set_new(o, "svg", json_string(svg ? svg : ""));
        free(svg);
    } else {
        json_decref(steps);
    }
    json_object_set_new(o, "explanation", json_string(w ? w : ""));
    json_object_set_new(o, "ops", ops);
    free(w);
    return o;
}

/* The anomaly found that rules out the weakest model (ties: the first). */
static int weakest(const elle_result *r)
{
    int best = -1, best_m = -1;
    for (int a = 0; a < ELLE_N_ANOMALIES; a++) {
        if (r->sum.count[a] == 0)
            continue;
        int m = ELLE_N_MODELS - 1;
        while (m >= 0 && !elle_rules_out((elle_anomaly)a, (elle_model)m))
            m--;
        if (m > best_m)
            best = a, best_m = m;
    }
    return best;
}

json_t *elle_result_json(const elle_result *r, const history *h, elle_model m)
{
    json_t *o = json_object(), *types = json_array(), *counts = json_object();
    json_t *not = json_array(), *an = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "valid", json_boolean(elle_valid(r, m)));
    json_object_set_new(o, "consistency", json_string(elle_model_name(m)));
    json_object_set_new(o, "workload", json_string(r->sum.list_append
                                                       ? "list-append"
                                                       : "rw-register"));
    json_object_set_new(o, "txns", json_integer((json_int_t)r->sum.txns));
    json_object_set_new(o, "ok", json_integer((json_int_t)r->sum.ok));
    json_object_set_new(o, "failed", json_integer((json_int_t)r->sum.failed));
    json_object_set_new(o, "info", json_integer((json_int_t)r->sum.info));
    json_object_set_new(o, "committed", json_integer((json_int_t)r->sum.committed));
    for (int a = 0; a < ELLE_N_ANOMALIES; a++)
        if (r->sum.count[a]) {
            json_array_append_new(types, json_string(elle_anomaly_name(a)));
            json_object_set_new(counts, elle_anomaly_name(a),
                                json_integer((json_int_t)r->sum.count[a]));
        }
    for (int mm = 0; mm < ELLE_N_MODELS; mm++)
        if (!elle_valid(r, (elle_model)mm))
            json_array_append_new(not, json_string(elle_model_name(mm)));
    for (size_t i = 0; i < r->nfound; i++) {
        const char *name = elle_anomaly_name(r->found[i].kind);
        json_t *l = json_object_get(an, name);
        if (l == NULL)
            json_object_set_new(an, name, l = json_array());
        json_array_append_new(l, finding_json(h, r, &r->found[i]));
    }
    int w = weakest(r);
    json_object_set_new(o, "anomaly_types", types);
    json_object_set_new(o, "counts", counts);
    json_object_set_new(o, "not", not);
    json_object_set_new(o, "weakest_anomaly",
                        w >= 0 ? json_string(elle_anomaly_name(w)) : json_null());
    json_object_set_new(o, "anomalies", an);
    if (r->budget_spent)
        json_object_set_new(o, "search_budget_spent", json_true());
    return o;
}

/* ---- The checker ------------------------------------------------------------ */

static int explain_json(const json_t *res, FILE *out)
{
    const json_t *an = json_object_get(res, "anomalies");
    const char *m = json_string_value(json_object_get(res, "consistency"));
    const json_t *not = json_object_get(res, "not");
    if (json_array_size(not) == 0) {
        fprintf(out, "No anomaly found: the history is consistent with %s "
                "(and every weaker model) as far as its reads reveal.\n",
                m ? m : "the model");
        return FL_OK;
    }
    fprintf(out, "%s under %s. Weakest anomaly: %s; it rules out",
            json_is_true(json_object_get(res, "valid")) ? "Valid" : "Invalid",
            m ? m : "?", json_string_value(json_object_get(res, "weakest_anomaly")));
    size_t i;
    json_t *v;
    json_array_foreach(not, i, v)
        fprintf(out, "%s %s", i ? "," : "", json_string_value(v));
    fputs(".\n", out);
    const char *k;
    json_t *list;
    json_object_foreach((json_t *)an, k, list) {
        json_t *x;
        json_array_foreach(list, i, x)
            fprintf(out, "\n%s\n", json_string_value(json_object_get(x,
                                                                "explanation")));
    }
    return FL_OK;
}

static int model_of(const checker_options *opt, elle_model *m, fl_error *err)
{
    *m = ELLE_STRICT_SERIALIZABLE;
    if (opt->isolation && elle_model_parse(opt->isolation, m) != 0)
        return fl_error_set(err, FL_EUSAGE, "elle: unknown consistency model "
                            "\"%s\" (strict-serializable, serializable, "
                            "snapshot-isolation, repeatable-read, "
                            "read-committed, read-uncommitted)", opt->isolation);
    return FL_OK;
}

/* Fill the report from r (checked from h, or from a file: r's own small
 * history) and free r; rc is the check's. */
static int report(elle_result *r, const history *h, elle_model m, int rc,
                  checker_report *out, fl_error *err)
{
    if (rc == FL_ENOMEM) {
        fl_error_clear(err);
        out->verdict = CHECKER_UNKNOWN;
        out->json = json_pack("{s:s, s:s}", "valid", "unknown", "error",
                              "out of memory");
        fprintf(out->summary, "elle: unknown (out of memory)\n");
        return FL_OK;
    }
    if (rc != FL_OK)
        return rc;
    out->json = elle_result_json(r, h ? h : elle_result_history(r), m);
    out->verdict = elle_valid(r, m) ? CHECKER_VALID : CHECKER_INVALID;
    const elle_summary *s = elle_result_summary(r);
    fprintf(out->summary, "elle: %s under %s (%zu txns, %zu committed",
            checker_verdict_word(out->verdict), elle_model_name(m), s->txns,
            s->committed);
    for (int a = 0; a < ELLE_N_ANOMALIES; a++)
        if (s->count[a])
            fprintf(out->summary, "; %s x%zu", elle_anomaly_name(a), s->count[a]);
    fputs(")\n", out->summary);
    if (out->json)
        explain_json(out->json, out->explain);
    elle_result_free(r);
    return FL_OK;
}

static int check(const history *h, const checker_options *opt,
                 const checker_result *needed, checker_report *out,
                 fl_error *err)
{
    (void)needed;
    elle_model m;
    if (model_of(opt, &m, err) != FL_OK)
        return FL_EUSAGE;
    elle_result *r = NULL;
    int rc = elle_check(h, &r, err);
    return report(r, h, m, rc, out, err);
}

static int check_file(const char *path, const checker_options *opt,
                      checker_report *out, fl_error *err)
{
    elle_model m;
    if (model_of(opt, &m, err) != FL_OK)
        return FL_EUSAGE;
    elle_result *r = NULL;
    int rc = elle_check_jsonl(path, &r, err);
    if (rc == ELLE_DECLINED)
        return CHECKER_DECLINED;
    return report(r, NULL, m, rc, out, err);
}

const checker checker_elle = {
    .name = "elle",
    .about = "transactional isolation (list-append, rw-register): Adya's "
             "anomalies from an inferred dependency graph",
    .check = check,
    .explain_json = explain_json,
    .html_verdict = elle_html_verdict,
    .html_panel = elle_html_panel,
    .check_file = check_file,
};
