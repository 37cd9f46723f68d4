/*
 * sc_explain.c — sequential consistency's verdict, anomaly and
 * counterexample in words (faultline check --explain), from the JSON
 * result alone. See sequential.h.
 */
#include "checkers/sequential.h"
#include "base/alloc.h"

#include <string.h>

static void print_json(FILE *out, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    fputs(s ? s : "?", out);
    fl_free(s);
}

/* "p3 read -> 1  (ok, events 4..7)", as lin_explain writes operations. */
static void print_op(FILE *out, const json_t *op)
{
    const char *type = json_string_value(json_object_get(op, "type"));
    fprintf(out, "p%lld %s ",
            (long long)json_integer_value(json_object_get(op, "process")),
            json_string_value(json_object_get(op, "f")));
    const json_t *key = json_object_get(op, "key");
    if (key != NULL) {
        fputs("key ", out);
        print_json(out, key);
        fputc(' ', out);
    }
    print_json(out, json_object_get(op, "value"));
    const json_t *output = json_object_get(op, "output");
    if (output != NULL && !json_equal(output, json_object_get(op, "value"))) {
        fputs(" -> ", out);
        print_json(out, output);
    }
    fprintf(out, "  (%s, events %lld..", type ? type : "?",
            (long long)json_integer_value(json_object_get(op, "invoke_index")));
    const json_t *done = json_object_get(op, "complete_index");
    if (done != NULL)
        fprintf(out, "%lld)", (long long)json_integer_value(done));
    else
        fputs("never completed)", out);
}

static void explain_real_time(FILE *out, const json_t *res)
{
    const json_t *stale = json_object_get(res, "stale_read");
    const json_t *early = json_object_get(res, "early_read");
    fputs("Sequentially consistent: yes, but not linearizable: some "
          "operation took effect outside its real-time interval.\n", out);
    if (stale != NULL) {
        fputs("  A stale read:\n    ", out);
        print_op(out, json_object_get(stale, "read"));
        fputs("\n  began after this write had completed:\n    ", out);
        print_op(out, json_object_get(stale, "newer_write"));
        fputs("\n  and every write of the value it read had completed "
              "before that write began.\n", out);
    } else if (early != NULL) {
        fputs("  A write seen before it began:\n    ", out);
        print_op(out, json_object_get(early, "read"));
        fputs("\n  completed before the first write of that value "
              "began:\n    ", out);
        print_op(out, json_object_get(early, "write"));
        fputc('\n', out);
    }
}

static void explain_prefix(FILE *out, const json_t *ce)
{
    const json_t *prefix = json_object_get(ce, "prefix"), *op;
    long long total = json_integer_value(json_object_get(ce, "prefix_length"));
    size_t i;
    fprintf(out, "  The longest order the search built places %lld "
                 "operation%s%s", total, total == 1 ? "" : "s",
            total == 0 ? ".\n" : "");
    if (total == 0)
        return;
    if ((long long)json_array_size(prefix) < total)
        fprintf(out, "; the last %zu", json_array_size(prefix));
    fputs(":\n", out);
    json_array_foreach(prefix, i, op) {
        fputs("    ", out);
        print_op(out, op);
        fputs("  state after: ", out);
        print_json(out, json_object_get(op, "state"));
        fputc('\n', out);
    }
}

static void explain_chains(FILE *out, const json_t *ce)
{
    const json_t *chains = json_object_get(ce, "chains"), *c, *op;
    size_t i, j;
    if (json_object_get(ce, "op") != NULL) {
        fputs("  Then no process can go on; the earliest operation left "
              "that cannot be placed:\n    ", out);
        print_op(out, json_object_get(ce, "op"));
        fputc('\n', out);
    }
    fputs("  The processes' program-order chains that conflict (each "
          "one's next operations):\n", out);
    json_array_foreach(chains, i, c) {
        fprintf(out, "    p%lld, after %lld placed:\n",
                (long long)json_integer_value(json_object_get(c, "process")),
                (long long)json_integer_value(json_object_get(c, "placed")));
        json_array_foreach(json_object_get(c, "next"), j, op) {
            fputs("      ", out);
            print_op(out, op);
            fputc('\n', out);
        }
    }
    fputs("  The keys' states there: ", out);
    print_json(out, json_object_get(ce, "states"));
    fputc('\n', out);
}

/* A cycle of ops each forced before the next (or an op observing what
 * nothing wrote): the words, then the ops. */
static void explain_cycle(FILE *out, const json_t *ce)
{
    const json_t *cycle = json_object_get(ce, "cycle"), *op;
    size_t i;
    fprintf(out, "  %s.\n", json_string_value(json_object_get(ce, "explanation")));
    if (cycle == NULL) {
        fputs("    ", out);
        print_op(out, json_object_get(ce, "op"));
        fputc('\n', out);
        return;
    }
    fputs("  Each operation below must come before the next, and the last "
          "before the first:\n", out);
    json_array_foreach(cycle, i, op) {
        fputs("    ", out);
        print_op(out, op);
        fprintf(out, "  (%s)\n", json_string_value(json_object_get(op, "why")));
    }
}

static void explain_shrunk(FILE *out, const json_t *shrunk)
{
    const json_t *events = json_object_get(shrunk, "events"), *e;
    size_t i;
    fprintf(out, "  Shrunk to %zu events that are still not sequentially "
                 "consistent%s:\n", json_array_size(events),
            json_is_true(json_object_get(shrunk, "minimal"))
                ? " (removing any one operation makes them consistent)"
                : " (time ran out before it was minimal)");
    json_array_foreach(events, i, e) {
        fputs("    ", out);
        print_json(out, e);
        fputc('\n', out);
    }
}

static void explain_non_sequential(FILE *out, const json_t *ce)
{
    fputs("Sequentially consistent: no: no single order of the operations "
          "keeps every process's program order and is legal", out);
    const json_t *keys = json_object_get(ce, "keys");
    /* The names are checker_key_name's: a string key already quoted. */
    if (json_array_size(keys) > 1) {
        fputs(" (keys ", out);
        for (size_t i = 0; i < json_array_size(keys); i++)
            fprintf(out, "%s%s", i ? ", " : "",
                    json_string_value(json_array_get(keys, i)));
        fputs(" together, though each key alone may have one)", out);
    } else if (json_array_size(keys) == 1) {
        fprintf(out, " for key %s",
                json_string_value(json_array_get(keys, 0)));
    }
    fputs(".\n", out);
    if (json_object_get(ce, "explanation") != NULL) /* checkers/sc_graph */
        explain_cycle(out, ce);
    else {
        explain_prefix(out, ce);
        explain_chains(out, ce);
    }
    if (json_object_get(ce, "shrunk") != NULL)
        explain_shrunk(out, json_object_get(ce, "shrunk"));
}

int sc_explain(const json_t *res, FILE *out)
{
    const char *anomaly = json_string_value(json_object_get(res, "anomaly"));
    const json_t *sc = json_object_get(res, "sequential");
    const json_t *ce = json_object_get(sc, "counterexample");
    if (anomaly == NULL)
        anomaly = "unknown";
    if (strcmp(anomaly, "none") == 0)
        fputs("Sequentially consistent: yes (the history is linearizable).\n",
              out);
    else if (strcmp(anomaly, "real-time") == 0)
        explain_real_time(out, res);
    else if (json_is_object(ce))
        explain_non_sequential(out, ce);
    else if (json_is_false(json_object_get(sc, "valid")))
        fputs("Sequentially consistent: no.\n", out);
    else
        fprintf(out, "Sequentially consistent: unknown: %s.\n",
                json_string_value(json_object_get(sc, "reason"))
                    ? json_string_value(json_object_get(sc, "reason"))
                    : "the linearizability check did not finish");
    return ferror(out) ? FL_EIO : FL_OK;
}
