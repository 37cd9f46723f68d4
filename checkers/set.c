/*
 * set: Jepsen's set checker, key by key. See set.h for the rules.
 *
 * Two passes. The first walks the history once, filing every add (with its
 * outcome and positions) and the last ok read under its key. The second
 * judges each key with sorted arrays: the adds sorted by element, the read
 * sorted and deduplicated, so each question ("was this element read?",
 * "was this element ever added before the read ended?") is a binary search.
 */
#include "checkers/set.h"
#include "checkers/checker.h"
#include "base/alloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SET_LIST_MAX 100   /* elements listed per category per key */

typedef struct set_add {
    int64_t element;
    history_type outcome;   /* OK, FAIL or INFO (never completed: INFO) */
    size_t invoke_pos;
    size_t complete_pos;    /* SIZE_MAX when never completed */
} set_add;

typedef struct elem_list {
    int64_t *v;
    size_t n, cap;
} elem_list;

enum { LOST, UNEXPECTED, FAILED, RECOVERED, N_LISTS };
static const char *const list_names[N_LISTS] = {"lost", "unexpected",
                                                "failed", "recovered"};

typedef struct set_key {
    uint32_t key;               /* value id in the history, or HISTORY_NONE */
    char *name;
    set_add *adds;
    size_t n_adds, cap_adds;
    bool read;                  /* an ok read exists */
    size_t read_invoke, read_complete;
    int64_t read_index;         /* the final read's event index */
    uint32_t read_value;
    size_t acknowledged, ok;
    elem_list lists[N_LISTS];
    checker_verdict verdict;
} set_key;

struct set_result {
    set_key *keys;
    size_t n_keys;
    checker_verdict verdict;
};

/* ---- small helpers ------------------------------------------------------------ */

static int push_elem(elem_list *l, int64_t v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        int64_t *nv = fl_realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return FL_ENOMEM;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return FL_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_add(const void *a, const void *b)
{
    return cmp_i64(&((const set_add *)a)->element,
                   &((const set_add *)b)->element);
}

static bool contains(const int64_t *sorted, size_t n, int64_t v)
{
    return n && bsearch(&v, sorted, n, sizeof v, cmp_i64) != NULL;
}

/* ---- pass 1: file adds and final reads under their keys ------------------------- */

typedef struct filing {
    const history *h;
    set_result *r;
    uint32_t *slot_of;          /* key value id -> keys index + 1 (0: none) */
    uint32_t no_key_slot;
} filing;

static set_key *key_for(filing *fl, uint32_t key, fl_error *err)
{
    uint32_t *slot = key == HISTORY_NONE ? &fl->no_key_slot
                                         : &fl->slot_of[key];
    if (*slot)
        return &fl->r->keys[*slot - 1];
    set_key *nk = fl_realloc(fl->r->keys, (fl->r->n_keys + 1) * sizeof *nk);
    if (!nk) {
        fl_error_set(err, FL_ENOMEM, "set checker: out of memory");
        return NULL;
    }
    fl->r->keys = nk;
    set_key *k = &nk[fl->r->n_keys];
    memset(k, 0, sizeof *k);
    k->key = key;
    if (!(k->name = checker_key_name(fl->h, key))) {
        fl_error_set(err, FL_ENOMEM, "set checker: out of memory");
        return NULL;
    }
    *slot = (uint32_t)++fl->r->n_keys;
    return k;
}

static int file_add(filing *fl, set_key *k, size_t pos, fl_error *err)
{
    const history_event *ev = history_events(fl->h);
    const history_event *e = &ev[pos];
    const json_t *v = history_value(fl->h, e->value);
    if (!json_is_integer(v))
        return fl_error_set(err, FL_EDATA, "event index %" PRId64 ": field "
                            "\"value\": an add's element must be an integer, "
                            "not %s", e->index, history_json_kind(v));
    if (k->n_adds == k->cap_adds) {
        size_t cap = k->cap_adds ? 2 * k->cap_adds : 64;
        set_add *na = fl_realloc(k->adds, cap * sizeof *na);
        if (!na)
            return fl_error_set(err, FL_ENOMEM, "set checker: out of memory");
        k->adds = na;
        k->cap_adds = cap;
    }
    bool done = e->pair != HISTORY_NONE;
    k->adds[k->n_adds++] = (set_add){
        .element = json_integer_value(v),
        .outcome = done ? ev[e->pair].type : HISTORY_INFO,
        .invoke_pos = pos,
        .complete_pos = done ? e->pair : SIZE_MAX,
    };
    if (done && ev[e->pair].type == HISTORY_OK)
        k->acknowledged++;
    return FL_OK;
}

static int file_events(filing *fl, fl_error *err)
{
    const history *h = fl->h;
    const history_event *ev = history_events(h);
    uint32_t add = history_name_find(h, "add");
    uint32_t read = history_name_find(h, "read");
    for (size_t i = 0; i < history_len(h); i++) {
        const history_event *e = &ev[i];
        if (e->process == HISTORY_NEMESIS || (e->f != add && e->f != read))
            continue;
        bool add_invoke = e->f == add && e->type == HISTORY_INVOKE;
        bool read_ok = e->f == read && e->type == HISTORY_OK;
        if (!add_invoke && !read_ok)
            continue;
        set_key *k = key_for(fl, e->key, err);
        if (!k)
            return FL_ENOMEM;
        if (add_invoke) {
            int rc = file_add(fl, k, i, err);
            if (rc != FL_OK)
                return rc;
        } else {
            k->read = true;
            k->read_invoke = e->pair;
            k->read_complete = i;
            k->read_index = e->index;
            k->read_value = e->value;
        }
    }
    return FL_OK;
}

/* ---- pass 2: judge each key ------------------------------------------------------------ */

/* The final read as a sorted array of distinct elements. */
static int read_elements(const history *h, const set_key *k, int64_t **out,
                         size_t *n, fl_error *err)
{
    const json_t *v = history_value(h, k->read_value);
    *out = NULL;
    *n = 0;
    if (json_is_null(v))
        return FL_OK;
    if (!json_is_array(v))
        return fl_error_set(err, FL_EDATA, "event index %" PRId64 ": field "
                            "\"value\": a set read must return an array, not "
                            "%s", k->read_index, history_json_kind(v));
    size_t len = json_array_size(v);
    int64_t *r = fl_malloc((len ? len : 1) * sizeof *r);
    if (!r)
        return fl_error_set(err, FL_ENOMEM, "set checker: out of memory");
    for (size_t i = 0; i < len; i++) {
        const json_t *x = json_array_get(v, i);
        if (!json_is_integer(x)) {
            fl_free(r);
            return fl_error_set(err, FL_EDATA, "event index %" PRId64 ": "
                                "field \"value\": element %zu of a set read "
                                "is %s, not an integer", k->read_index, i,
                                history_json_kind(x));
        }
        r[i] = json_integer_value(x);
    }
    qsort(r, len, sizeof *r, cmp_i64);
    size_t m = 0;
    for (size_t i = 0; i < len; i++)
        if (m == 0 || r[m - 1] != r[i])
            r[m++] = r[i];
    *out = r;
    *n = m;
    return FL_OK;
}

/* What the adds of one element (adds[lo..hi)) mean for the final read. */
static int judge_element(set_key *k, size_t lo, size_t hi, const int64_t *read,
                         size_t n_read, int64_t *attempted, size_t *n_attempted)
{
    bool acked_before_read = false, tried_before_read_end = false;
    bool any_ok = false, any_info = false;
    for (size_t i = lo; i < hi; i++) {
        const set_add *a = &k->adds[i];
        if (a->invoke_pos > k->read_complete)
            continue;
        tried_before_read_end = true;
        any_ok |= a->outcome == HISTORY_OK;
        any_info |= a->outcome == HISTORY_INFO;
        acked_before_read |= a->outcome == HISTORY_OK &&
                             a->complete_pos < k->read_invoke;
    }
    int64_t elem = k->adds[lo].element;
    if (!tried_before_read_end)
        return FL_OK;
    attempted[(*n_attempted)++] = elem;
    if (!contains(read, n_read, elem))
        return acked_before_read ? push_elem(&k->lists[LOST], elem) : FL_OK;
    if (any_ok) {
        k->ok++;
        return FL_OK;
    }
    return push_elem(&k->lists[any_info ? RECOVERED : FAILED], elem);
}

static int judge_key(const history *h, set_key *k, fl_error *err)
{
    if (!k->read) {
        k->verdict = k->n_adds ? CHECKER_UNKNOWN : CHECKER_VALID;
        return FL_OK;
    }
    int64_t *read = NULL, *attempted = NULL;
    size_t n_read, n_attempted = 0;
    int rc = read_elements(h, k, &read, &n_read, err);
    if (rc != FL_OK)
        return rc;
    if (k->n_adds)
        qsort(k->adds, k->n_adds, sizeof *k->adds, cmp_add);
    attempted = fl_malloc((k->n_adds ? k->n_adds : 1) * sizeof *attempted);
    if (!attempted)
        rc = FL_ENOMEM;
    for (size_t lo = 0, hi; rc == FL_OK && lo < k->n_adds; lo = hi) {
        for (hi = lo + 1; hi < k->n_adds &&
                          k->adds[hi].element == k->adds[lo].element; hi++)
            ;
        rc = judge_element(k, lo, hi, read, n_read, attempted, &n_attempted);
    }
    /* attempted is sorted: it was filled in element order. */
    for (size_t i = 0; rc == FL_OK && i < n_read; i++)
        if (!contains(attempted, n_attempted, read[i]))
            rc = push_elem(&k->lists[UNEXPECTED], read[i]);
    fl_free(read);
    fl_free(attempted);
    if (rc != FL_OK)
        return fl_error_set(err, FL_ENOMEM, "set checker: out of memory");
    k->verdict = k->lists[LOST].n || k->lists[UNEXPECTED].n ||
                 k->lists[FAILED].n ? CHECKER_INVALID : CHECKER_VALID;
    return FL_OK;
}

int set_check(const history *h, set_result **out, fl_error *err)
{
    *out = NULL;
    set_result *r = fl_calloc(1, sizeof *r);
    uint32_t *slot_of = fl_calloc(history_value_count(h) + 1, sizeof *slot_of);
    if (!r || !slot_of) {
        fl_free(r);
        fl_free(slot_of);
        return fl_error_set(err, FL_ENOMEM, "set checker: out of memory");
    }
    filing fl = {.h = h, .r = r, .slot_of = slot_of};
    int rc = file_events(&fl, err);
    fl_free(slot_of);
    r->verdict = CHECKER_VALID;
    for (size_t i = 0; rc == FL_OK && i < r->n_keys; i++) {
        rc = judge_key(h, &r->keys[i], err);
        r->verdict = checker_verdict_combine(r->verdict, r->keys[i].verdict);
    }
    if (rc != FL_OK) {
        set_result_free(r);
        return rc;
    }
    *out = r;
    return FL_OK;
}

checker_verdict set_result_verdict(const set_result *r)
{
    return r->verdict;
}

void set_result_free(set_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_keys; i++) {
        set_key *k = &r->keys[i];
        fl_free(k->name);
        fl_free(k->adds);
        for (int l = 0; l < N_LISTS; l++)
            fl_free(k->lists[l].v);
    }
    fl_free(r->keys);
    fl_free(r);
}

/* ---- reporting ---------------------------------------------------------------------------- */

static json_t *list_json(const elem_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n && i < SET_LIST_MAX; i++)
        json_array_append_new(a, json_integer(l->v[i]));
    return a;
}

static json_t *key_json(const set_key *k)
{
    json_t *o = json_pack("{s:o,s:I,s:I,s:I}",
                          "valid", checker_verdict_json(k->verdict),
                          "attempt_count", (json_int_t)k->n_adds,
                          "acknowledged_count", (json_int_t)k->acknowledged,
                          "ok_count", (json_int_t)k->ok);
    if (!o)
        return NULL;
    for (int l = 0; l < N_LISTS; l++) {
        char name[32];
        snprintf(name, sizeof name, "%s_count", list_names[l]);
        json_object_set_new(o, name, json_integer((json_int_t)k->lists[l].n));
        if (k->lists[l].n)
            json_object_set_new(o, list_names[l], list_json(&k->lists[l]));
    }
    if (k->read)
        json_object_set_new(o, "final_read_index",
                            json_integer((json_int_t)k->read_index));
    else if (k->n_adds)
        json_object_set_new(o, "error", json_string("never read: no read of "
                            "this key succeeded"));
    return o;
}

/* The counts over every key, for the result's top level and summary. */
typedef struct set_totals {
    size_t attempts, acked, ok, unread, lists[N_LISTS];
} set_totals;

static set_totals totals_of(const set_result *r)
{
    set_totals t = {0};
    for (size_t i = 0; i < r->n_keys; i++) {
        const set_key *k = &r->keys[i];
        t.attempts += k->n_adds;
        t.acked += k->acknowledged;
        t.ok += k->ok;
        t.unread += !k->read && k->n_adds;
        for (int l = 0; l < N_LISTS; l++)
            t.lists[l] += k->lists[l].n;
    }
    return t;
}

json_t *set_result_to_json(const set_result *r)
{
    set_totals t = totals_of(r);
    json_t *per_key = json_object();
    for (size_t i = 0; per_key && i < r->n_keys; i++)
        json_object_set_new(per_key, r->keys[i].name, key_json(&r->keys[i]));
    json_t *o = json_pack("{s:o,s:s,s:I,s:I,s:I,s:I,s:I,s:o}",
                          "valid", checker_verdict_json(r->verdict),
                          "checker", "set",
                          "keys", (json_int_t)r->n_keys,
                          "attempt_count", (json_int_t)t.attempts,
                          "acknowledged_count", (json_int_t)t.acked,
                          "ok_count", (json_int_t)t.ok,
                          "never_read_keys", (json_int_t)t.unread,
                          "per_key", per_key);
    for (int l = 0; o && l < N_LISTS; l++) {
        char name[32];
        snprintf(name, sizeof name, "%s_count", list_names[l]);
        json_object_set_new(o, name, json_integer((json_int_t)t.lists[l]));
    }
    return o;
}

int set_result_summary(const set_result *r, FILE *out)
{
    set_totals t = totals_of(r);
    fprintf(out, "set: %s — %zu adds, %zu acknowledged, %zu lost, %zu "
            "unexpected, %zu failed but read, %zu keys never read\n",
            checker_verdict_word(r->verdict), t.attempts, t.acked,
            t.lists[LOST], t.lists[UNEXPECTED], t.lists[FAILED], t.unread);
    return ferror(out) ? FL_EIO : FL_OK;
}

static void explain_list(FILE *out, const char *what, const json_t *key,
                         const char *list)
{
    char count[32];
    snprintf(count, sizeof count, "%s_count", list);
    json_int_t n = json_integer_value(json_object_get(key, count));
    const json_t *l = json_object_get(key, list);
    if (!n)
        return;
    fprintf(out, "  %lld %s:", (long long)n, what);
    for (size_t i = 0; i < json_array_size(l) && i < 20; i++)
        fprintf(out, " %lld",
                (long long)json_integer_value(json_array_get(l, i)));
    fprintf(out, "%s\n", n > 20 ? " ..." : "");
}

int set_explain_json(const json_t *res, FILE *out)
{
    const char *name;
    const json_t *k;
    json_object_foreach((json_t *)json_object_get(res, "per_key"), name, k) {
        if (json_is_true(json_object_get(k, "valid")))
            continue;
        const json_t *read = json_object_get(k, "final_read_index");
        if (read == NULL) {
            fprintf(out, "key %s: %lld adds but no read succeeded: cannot "
                    "judge\n", name, (long long)json_integer_value(
                        json_object_get(k, "attempt_count")));
            continue;
        }
        fprintf(out, "key %s: the final read (event index %lld) "
                "disagrees with the adds:\n", name,
                (long long)json_integer_value(read));
        explain_list(out, "acknowledged adds lost (ok before the read began, "
                     "missing from it)", k, "lost");
        explain_list(out, "elements read that no add could have written", k,
                     "unexpected");
        explain_list(out, "elements read whose adds all failed", k, "failed");
    }
    return ferror(out) ? FL_EIO : FL_OK;
}

int set_result_explain(const set_result *r, FILE *out)
{
    json_t *res = set_result_to_json(r);
    if (res == NULL)
        return FL_ENOMEM;
    int rc = set_explain_json(res, out);
    json_decref(res);
    return rc;
}

/* ---- In the checker registry -------------------------------------------------------------- */

static int registry_check(const history *h, const checker_options *opt,
                          const checker_result *needed, checker_report *out,
                          fl_error *err)
{
    (void)opt; /* nothing to choose: adds and reads are judged as they are */
    (void)needed;
    set_result *r;
    int rc = set_check(h, &r, err);
    if (rc != FL_OK)
        return rc;
    out->verdict = r->verdict;
    out->json = set_result_to_json(r);
    rc = set_result_summary(r, out->summary);
    if (rc == FL_OK)
        rc = set_result_explain(r, out->explain);
    set_result_free(r);
    return rc;
}

const checker checker_set = {
    .name = "set",
    .about = "Jepsen's checker/set: adds, then final reads",
    .check = registry_check,
    .explain_json = set_explain_json,
};
