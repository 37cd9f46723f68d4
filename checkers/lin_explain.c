/*
 * lin_explain.c — the counterexample in words (faultline check --explain).
 * It reads only the JSON result, so that what a person reads and what a
 * report draws come from the same evidence.
 */
#include "checkers/linearizable.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

static void print_json(FILE *out, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    fputs(s ? s : "?", out);
    fl_free(s);
}

/* "p3 cas [1,2] -> ok" and the event indices. */
static void print_op(FILE *out, const json_t *op)
{
    const char *type = json_string_value(json_object_get(op, "type"));
    fprintf(out, "p%lld %s ",
            (long long)json_integer_value(json_object_get(op, "process")),
            json_string_value(json_object_get(op, "f")));
    print_json(out, json_object_get(op, "value"));
    const json_t *output = json_object_get(op, "output");
    if (output != NULL && !json_equal(output, json_object_get(op, "value"))) {
        fputs(" -> ", out);
        print_json(out, output);
    }
    fprintf(out, "  (%s", type ? type : "?");
    const json_t *done = json_object_get(op, "complete_index");
    fprintf(out, ", events %lld..", (long long)json_integer_value(
                                        json_object_get(op, "invoke_index")));
    if (done != NULL)
        fprintf(out, "%lld)", (long long)json_integer_value(done));
    else
        fputs("never completed)", out);
}

static void explain_prefix(FILE *out, const json_t *ce)
{
    const json_t *prefix = json_object_get(ce, "prefix");
    long long total = json_integer_value(json_object_get(ce, "prefix_length"));
    fprintf(out, "  The longest linearization the search found places %lld "
                 "operation%s", total, total == 1 ? "" : "s");
    if (total == 0) {
        fputs(".\n", out);
        return;
    }
    if ((long long)json_array_size(prefix) < total)
        fprintf(out, "; the last %zu", json_array_size(prefix));
    fputs(":\n", out);
    size_t i;
    const json_t *op;
    json_array_foreach(prefix, i, op) {
        fputs("    ", out);
        print_op(out, op);
        fputs("\n        state after: ", out);
        print_json(out, json_object_get(op, "state"));
        fputc('\n', out);
    }
}

static void explain_stuck(FILE *out, const json_t *ce)
{
    fputs("  Then this operation cannot take effect anywhere before it "
          "completed:\n    ", out);
    print_op(out, json_object_get(ce, "op"));
    fputc('\n', out);
    const json_t *conc = json_object_get(ce, "concurrent"), *op;
    size_t i;
    if (json_array_size(conc) > 0) {
        fputs("  Operations still open at that point (tried in every "
              "order):\n", out);
        json_array_foreach(conc, i, op) {
            fputs("    ", out);
            print_op(out, op);
            fputc('\n', out);
        }
    }
    fputs("  States the object could be in when it had to take effect: ", out);
    print_json(out, json_object_get(ce, "states"));
    fputc('\n', out);
}

static void explain_shrunk(FILE *out, const json_t *shrunk)
{
    const json_t *events = json_object_get(shrunk, "events"), *e;
    size_t i;
    fprintf(out, "  Shrunk to %zu events that are still not linearizable%s:\n",
            json_array_size(events),
            json_is_true(json_object_get(shrunk, "minimal"))
                ? " (removing any one operation makes them linearizable)"
                : " (time ran out before it was minimal)");
    json_array_foreach(events, i, e) {
        fputs("    ", out);
        print_json(out, e);
        fputc('\n', out);
    }
}

int lin_result_explain(const lin_result *r, const history *h, FILE *out)
{
    json_t *res = lin_result_to_json(r, h);
    int rc = lin_explain_json(res, out);
    json_decref(res);
    return rc;
}

int lin_explain_json(const json_t *res, FILE *out)
{
    const json_t *ce = json_object_get(res, "counterexample");
    const json_t *per_key = json_object_get(res, "per_key"), *k;
    const char *name;
    json_object_foreach((json_t *)per_key, name, k) {
        const json_t *v = json_object_get(k, "valid");
        if (json_is_string(v))
            fprintf(out, "key %s: unknown: %s\n", name,
                    json_string_value(json_object_get(k, "reason")));
        else if (json_is_false(v))
            fprintf(out, "key %s: NOT linearizable (%lld operations)\n", name,
                    (long long)json_integer_value(json_object_get(k, "ops")));
    }
    if (json_is_object(ce)) {
        fputs("Counterexample", out);
        if (!json_is_null(json_object_get(ce, "key"))) {
            fputs(" for key ", out);
            print_json(out, json_object_get(ce, "key"));
        }
        fputs(":\n", out);
        if (json_is_string(json_object_get(ce, "why")))
            fprintf(out, "  Every value is written once, which decides it "
                         "(searched below on the operations involved): %s.\n",
                    json_string_value(json_object_get(ce, "why")));
        explain_prefix(out, ce);
        explain_stuck(out, ce);
        if (json_object_get(ce, "shrunk") != NULL)
            explain_shrunk(out, json_object_get(ce, "shrunk"));
    } else if (json_is_true(json_object_get(res, "valid"))) {
        fputs("linearizable: every key has a legal order.\n", out);
    }
    return ferror(out) ? FL_EIO : FL_OK;
}
