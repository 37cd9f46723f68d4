/*
 * history_edn.c — Jepsen's history.edn: the reader (one top-level vector of
 * op maps, or one map after another; independent [k v] tuples) and the
 * writer (one op map per line, as Jepsen writes them).
 *
 * The reader decodes every op before appending any, because whether values
 * are independent tuples (HISTORY_EDN_KEYS_AUTO) is decided over the whole
 * file.
 */
#include "history/edn.h"
#include "base/alloc.h"
#include "history/history.h"
#include "history/history_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- Reading -------------------------------------------------------------- */

/* One decoded op. in.f, in.value and in.error point into the references
 * held here. */
typedef struct edn_op {
    long line;
    history_input in;
    json_t *f, *value, *error;
} edn_op;

typedef struct op_list {
    edn_op *ops;
    size_t len, cap;
} op_list;

static void ops_free(op_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        json_decref(l->ops[i].f);
        json_decref(l->ops[i].value);
        json_decref(l->ops[i].error);
    }
    fl_free(l->ops);
}

static const char *edn_kind(const edn_reader *r, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "a map";
    case JSON_ARRAY: return "a vector";
    case JSON_STRING: return edn_is_keyword(r, v) ? "a keyword" : "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a float";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "nil";
    }
    return "?";
}

/* An optional integer >= 0; absent leaves *out unchanged. */
static int int_field(const edn_reader *r, const json_t *o, const char *name,
                     int64_t *out, fl_error *err)
{
    const json_t *v = json_object_get(o, name);
    if (v == NULL)
        return FL_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return fl_error_set(err, FL_EDATA,
                            "field :%s: expected an integer >= 0, got %s", name,
                            json_is_integer(v) ? "a negative integer"
                                               : edn_kind(r, v));
    *out = json_integer_value(v);
    return FL_OK;
}

/* Jepsen's nemesis is :nemesis; any keyword process is treated as one. */
static int process_field(const edn_reader *r, const json_t *o, int64_t *out,
                         fl_error *err)
{
    const json_t *v = json_object_get(o, "process");
    if (v == NULL)
        return fl_error_set(err, FL_EDATA, "field :process: missing");
    if (json_is_string(v) && edn_is_keyword(r, v)) {
        *out = HISTORY_NEMESIS;
        return FL_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return fl_error_set(err, FL_EDATA,
                            "field :process: expected an integer or :nemesis, "
                            "got %s",
                            json_is_integer(v) ? "a negative integer"
                                               : edn_kind(r, v));
    *out = json_integer_value(v);
    return FL_OK;
}

static int type_field(const edn_reader *r, const json_t *o, history_type *out,
                      fl_error *err)
{
    const json_t *v = json_object_get(o, "type");
    if (v == NULL)
        return fl_error_set(err, FL_EDATA, "field :type: missing");
    if (!json_is_string(v))
        return fl_error_set(err, FL_EDATA,
                            "field :type: expected a keyword, got %s",
                            edn_kind(r, v));
    if (history_type_parse(json_string_value(v), out) == 0)
        return FL_OK;
    bool kw = edn_is_keyword(r, v);
    return fl_error_set(err, FL_EDATA,
                        "field :type: unknown type %s%.60s%s (expected "
                        ":invoke, :ok, :fail or :info)",
                        kw ? ":" : "\"", json_string_value(v), kw ? "" : "\"");
}

static int f_field(const edn_reader *r, const json_t *o, fl_error *err)
{
    const json_t *v = json_object_get(o, "f");
    if (v == NULL)
        return fl_error_set(err, FL_EDATA, "field :f: missing");
    if (!json_is_string(v) || json_string_length(v) == 0)
        return fl_error_set(err, FL_EDATA,
                            "field :f: expected a keyword or a string, got %s",
                            json_is_string(v) ? "an empty string"
                                              : edn_kind(r, v));
    return FL_OK;
}

/* Whether op's value can be read as an independent [key value] tuple. A
 * cas value is itself a pair, [old new]: as a tuple it must be
 * [key [old new]], or a register history of only cas ops would be split. */
static bool is_tuple(const edn_op *op)
{
    const json_t *v = op->value, *k = json_array_get(v, 0);
    if (!json_is_array(v) || json_array_size(v) != 2 ||
        !(json_is_string(k) || json_is_integer(k)))
        return false;
    const json_t *inner = json_array_get(v, 1);
    return strcmp(op->in.f, "cas") != 0 ||
           (json_is_array(inner) && json_array_size(inner) == 2);
}

static int tuple_field(const edn_reader *r, const json_t *value,
                       fl_error *err)
{
    if (!json_is_array(value) || json_array_size(value) != 2)
        return fl_error_set(err, FL_EDATA,
                            "field :value: expected an independent [key value] "
                            "tuple, got %s",
                            json_is_array(value) ? "a vector of another length"
                                                 : edn_kind(r, value));
    const json_t *k = json_array_get(value, 0);
    if (!json_is_string(k) && !json_is_integer(k))
        return fl_error_set(err, FL_EDATA,
                            "field :value: the key of an independent tuple "
                            "must be an integer, string or keyword, got %s",
                            edn_kind(r, k));
    return FL_OK;
}

/* Check one op map's fields into *op (which takes its own references). */
static int decode_op(const edn_reader *r, const json_t *o,
                     history_edn_keys keys, edn_op *op, fl_error *err)
{
    if (!json_is_object(o))
        return fl_error_set(err, FL_EDATA, "expected an op map, got %s",
                            edn_kind(r, o));
    history_input in = {.index = HISTORY_AUTO_INDEX, .time = HISTORY_NO_TIME};
    int rc;
    if ((rc = int_field(r, o, "index", &in.index, err)) ||
        (rc = int_field(r, o, "time", &in.time, err)) ||
        (rc = type_field(r, o, &in.type, err)) ||
        (rc = f_field(r, o, err)) ||
        (rc = process_field(r, o, &in.process, err)))
        return rc;
    json_t *value = json_object_get(o, "value");
    if (keys == HISTORY_EDN_KEYS_YES && in.process != HISTORY_NEMESIS &&
        (rc = tuple_field(r, value ? value : json_null(), err)) != FL_OK)
        return rc;
    op->f = json_incref(json_object_get(o, "f"));
    op->value = json_incref(value);
    op->error = json_incref(json_object_get(o, "error"));
    in.f = json_string_value(op->f);
    in.value = op->value;
    in.error = op->error;
    op->in = in;
    return FL_OK;
}

static int ops_push(op_list *l, fl_error *err)
{
    if (l->len < l->cap)
        return FL_OK;
    size_t ncap = l->cap ? l->cap * 2 : 256;
    edn_op *p = fl_realloc(l->ops, ncap * sizeof *p);
    if (p == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    l->ops = p;
    l->cap = ncap;
    return FL_OK;
}

/* The input ended inside a form. What a writer killed mid-write leaves is
 * a cut op map on the last line (Jepsen writes one op a line), or a
 * top-level vector cut between its maps: keep what came before, say so.
 * Any other unclosed form (a string open since line 1) is an error, and so
 * is a cut map spanning more than the last line: a string that never
 * closes swallows every line after it, and garbage is never an empty
 * valid history. */
static int drop_truncated(const edn_reader *r, const char *name, history *h,
                          const op_list *l, bool in_seq, fl_error *err)
{
    char msg[FL_ERROR_MSG_MAX + 128];
    int c = edn_reader_form_char(r);
    if (c != '{' && !(in_seq && c == EOF)) {
        snprintf(msg, sizeof msg, "%s", err->msg);
        return fl_error_set(err, FL_EDATA, "%s:%ld: unclosed form that is not "
                            "a cut-off op map (each op is a {...} map): %s",
                            name, edn_reader_line(r), msg);
    }
    if (c == '{' && edn_reader_line(r) < edn_reader_last_line(r)) {
        snprintf(msg, sizeof msg, "%s", err->msg);
        return fl_error_set(err, FL_EDATA, "%s:%ld: the op map begun here "
                            "never closes, and the input goes on to line %ld "
                            "(only the last line may be cut off): %s",
                            name, edn_reader_line(r), edn_reader_last_line(r),
                            msg);
    }
    snprintf(msg, sizeof msg,
             "%s; dropped the incomplete final form (the writer was stopped "
             "mid-write), kept the %zu complete events before it",
             err->msg, l->len);
    if (history_add_warning(h, msg) != 0)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    return FL_OK;
}

/* Read every op map: inside top-level vectors or lists, or bare. err is
 * never NULL here. */
static int read_ops(edn_reader *r, const char *name, history_edn_keys keys,
                    history *h, op_list *l, fl_error *err)
{
    bool in_seq = false;
    for (;;) {
        int rc;
        if (!in_seq && (rc = edn_reader_enter(r, &in_seq, err)) != FL_OK)
            return rc;
        json_t *form;
        if ((rc = edn_read(r, &form, err)) != FL_OK)
            return edn_reader_truncated(r)
                       ? drop_truncated(r, name, h, l, in_seq, err)
                       : rc;
        if (form == NULL && in_seq) {
            in_seq = false;
            continue;
        }
        if (form == NULL)
            return FL_OK;
        if ((rc = ops_push(l, err)) == FL_OK &&
            (rc = decode_op(r, form, keys, &l->ops[l->len], err)) == FL_OK)
            l->ops[l->len++].line = edn_reader_line(r);
        json_decref(form);
        if (rc != FL_OK)
            return fl_error_wrap(err, "%s:%ld", name, edn_reader_line(r));
    }
}

static bool use_keys(const op_list *l, history_edn_keys keys)
{
    if (keys != HISTORY_EDN_KEYS_AUTO)
        return keys == HISTORY_EDN_KEYS_YES;
    bool any = false;
    for (size_t i = 0; i < l->len; i++) {
        if (l->ops[i].in.process == HISTORY_NEMESIS)
            continue;
        if (!is_tuple(&l->ops[i]))
            return false;
        any = true;
    }
    return any;
}

static int append_ops(history *h, const char *name, const op_list *l,
                      bool keyed, fl_error *err)
{
    long first_backwards = 0;
    for (size_t i = 0; i < l->len; i++) {
        history_input in = l->ops[i].in;
        if (keyed && in.process != HISTORY_NEMESIS) {
            in.key = json_array_get(in.value, 0);
            in.value = json_array_get(in.value, 1);
        }
        int rc = history_append_shared(h, &in, err);
        if (rc != FL_OK)
            return fl_error_wrap(err, "%s:%ld", name, l->ops[i].line);
        if (first_backwards == 0 && history_time_backwards(h) > 0)
            first_backwards = l->ops[i].line;
    }
    return history_warn_time_backwards(h, name, first_backwards, err);
}

int history_read_edn(FILE *in, const char *name, history_edn_keys keys,
                     history **out, fl_error *err)
{
    fl_error local = {0};
    history *h = history_new();
    edn_reader *r = h ? edn_reader_new(in, name) : NULL;
    op_list l = {0};
    int rc = r ? read_ops(r, name, keys, h, &l, &local)
               : fl_error_set(&local, FL_ENOMEM, "out of memory");
    if (rc == FL_OK)
        rc = append_ops(h, name, &l, use_keys(&l, keys), &local);
    ops_free(&l);
    edn_reader_free(r);
    if (rc != FL_OK) {
        history_free(h);
        if (err != NULL)
            *err = local;
        return rc;
    }
    *out = h;
    return FL_OK;
}

/* ---- Writing -------------------------------------------------------------- */

/* A transaction's micro-ops as Elle writes them: [[:append 3 2] [:r 3
 * [1 2]]], the function a keyword (what a string would read back as; any
 * other value is written as it is). */
static int write_txn_value(FILE *out, const json_t *v, fl_error *err)
{
    if (!json_is_array(v))
        return edn_write(out, v, err);
    fputc('[', out);
    size_t i;
    const json_t *m;
    int rc = FL_OK;
    json_array_foreach(v, i, m) {
        const char *f = json_string_value(json_array_get(m, 0));
        if (i > 0)
            fputc(' ', out);
        if (!json_is_array(m) || f == NULL ||
            !edn_keyword_name_ok(f, strlen(f))) {
            rc = edn_write(out, m, err);
        } else {
            fprintf(out, "[:%s", f);
            for (size_t j = 1; rc == FL_OK && j < json_array_size(m); j++) {
                fputc(' ', out);
                rc = edn_write(out, json_array_get(m, j), err);
            }
            fputc(']', out);
        }
        if (rc != FL_OK)
            return rc;
    }
    fputc(']', out);
    return FL_OK;
}

static int write_event(const history *h, const history_event *e, FILE *out,
                       fl_error *err)
{
    fprintf(out, "{:index %lld", (long long)e->index);
    if (e->time != HISTORY_NO_TIME)
        fprintf(out, ", :time %lld", (long long)e->time);
    fprintf(out, ", :type :%s, :f ", history_type_name(e->type));
    const char *f = history_name(h, e->f);
    if (edn_keyword_name_ok(f, strlen(f)))
        fprintf(out, ":%s", f);
    else
        edn_write_string(out, f, strlen(f));
    if (e->process == HISTORY_NEMESIS)
        fputs(", :process :nemesis, :value ", out);
    else
        fprintf(out, ", :process %lld, :value ", (long long)e->process);
    int rc = FL_OK;
    if (e->key != HISTORY_NONE) {
        fputc('[', out);
        rc = edn_write(out, history_value(h, e->key), err);
        fputc(' ', out);
    }
    if (rc == FL_OK)
        rc = strcmp(f, "txn") == 0
                 ? write_txn_value(out, history_value(h, e->value), err)
                 : edn_write(out, history_value(h, e->value), err);
    if (e->key != HISTORY_NONE)
        fputc(']', out);
    if (rc == FL_OK && e->error != HISTORY_NONE) {
        fputs(", :error ", out);
        rc = edn_write(out, history_value(h, e->error), err);
    }
    fputs("}\n", out);
    return rc;
}

int history_write_edn(const history *h, FILE *out, fl_error *err)
{
    const history_event *events = history_events(h);
    for (size_t i = 0; i < history_len(h); i++) {
        int rc = write_event(h, &events[i], out, err);
        if (rc != FL_OK)
            return rc;
    }
    if (ferror(out))
        return fl_error_set(err, FL_EIO, "write failed: %s", strerror(errno));
    return FL_OK;
}
