/*
 * registry.c — the checkers by name, and running one. See checker.h.
 */
#include "checkers/checker.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "checkers/lin_model.h"

#include <stdlib.h>
#include <string.h>

/*
 * One line per checker: X(the `const checker` its file defines). The
 * order is the order of usage messages and of results.json's checkers.
 */
#define FL_CHECKERS(X)                                                        \
    X(checker_linearizable) /* checkers/linearizable.c, takes a model */     \
    X(checker_set)          /* checkers/set.c */                             \
    X(checker_sequential)   /* checkers/sequential.c, takes a model */     \
    X(checker_crash)        /* checkers/crash.c, run on every run */       \
    X(checker_elle)         /* checkers/elle*.c, transactions */

#define FL_CHECKER_DECLARE(c) extern const checker c;
#define FL_CHECKER_ENTRY(c) &c,
FL_CHECKERS(FL_CHECKER_DECLARE)
static const checker *const registry[] = {FL_CHECKERS(FL_CHECKER_ENTRY)};
#define NCHECKERS (sizeof registry / sizeof *registry)

void checker_options_init(checker_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->model = &lin_model_cas_register;
}

const char *const *checker_names(void)
{
    static const char *names[NCHECKERS + 1];
    for (size_t i = 0; i < NCHECKERS; i++)
        names[i] = registry[i]->name;
    return names;
}

int checker_find(const char *name, const checker **out, fl_error *err)
{
    *out = NULL;
    for (size_t i = 0; i < NCHECKERS; i++)
        if (strcmp(registry[i]->name, name) == 0) {
            *out = registry[i];
            return FL_OK;
        }
    char known[256] = "";
    for (size_t i = 0; i < NCHECKERS; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                 i ? ", " : "", registry[i]->name);
    return fl_error_set(err, FL_EUSAGE, "unknown checker \"%s\" (checkers: "
                        "%s)", name, known);
}

/* ---- Results -------------------------------------------------------------------- */

/* The words are written while the checker's own result is at hand, so a
 * result is plain data: no checker-specific state outlives the check. */
struct checker_result {
    const checker *by;
    checker_verdict verdict;
    json_t *json;
    char *summary, *explanation;
    size_t summary_len, explanation_len;
    checker_key_verdict *per_key; /* sorted by key */
    size_t nper_key;
    double elapsed_ms;
};

static int cmp_key_verdict(const void *x, const void *y)
{
    uint32_t a = ((const checker_key_verdict *)x)->key;
    uint32_t b = ((const checker_key_verdict *)y)->key;
    return (a > b) - (a < b);
}

/* Run c's check (h, given needed) or check_file (path) into a new
 * result; FL_OK with *out NULL when check_file declined. */
static int run(const checker *c, const history *h, const char *path,
               const checker_options *opt, const checker_result *needed,
               checker_result **out, fl_error *err)
{
    *out = NULL;
    checker_result *r = fl_calloc(1, sizeof *r);
    if (r == NULL)
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", c->name);
    r->by = c;
    checker_report rep = {
        .summary = open_memstream(&r->summary, &r->summary_len),
        .explain = open_memstream(&r->explanation, &r->explanation_len),
    };
    int64_t start = fl_clock_mono_ns();
    int rc = !rep.summary || !rep.explain ? FL_OK
           : path ? c->check_file(path, opt, &rep, err)
                  : c->check(h, opt, needed, &rep, err);
    r->elapsed_ms = (double)(fl_clock_mono_ns() - start) / 1e6;
    if (rc == CHECKER_DECLINED) {
        if (rep.summary)
            fclose(rep.summary);
        if (rep.explain)
            fclose(rep.explain);
        json_decref(rep.json);
        fl_free(rep.per_key);
        checker_result_free(r);
        return FL_OK;
    }
    /* the streams' buffers are only final once closed */
    bool words = rep.summary && fclose(rep.summary) == 0;
    words = rep.explain && fclose(rep.explain) == 0 && words;
    r->verdict = rep.verdict;
    r->json = rep.json;
    r->per_key = rep.per_key;
    r->nper_key = rep.per_key ? rep.nper_key : 0;
    if (r->nper_key > 1)
        qsort(r->per_key, r->nper_key, sizeof *r->per_key, cmp_key_verdict);
    if (rc == FL_OK && (!words || r->json == NULL))
        rc = fl_error_set(err, FL_ENOMEM, "%s: out of memory", c->name);
    if (rc != FL_OK) {
        checker_result_free(r);
        return rc;
    }
    *out = r;
    return FL_OK;
}

void checker_needs_options(const checker *c, const checker_options *opt,
                           checker_options *out)
{
    *out = *opt;
    if (c->needs_options != NULL)
        c->needs_options(opt, out);
}

/* Needs nest at most this deep: deeper is a cycle in the registry. */
#define MAX_NEEDS_DEPTH 8

static int check_needing(const checker *c, const history *h,
                         const checker_options *opt, size_t depth,
                         checker_result **out, fl_error *err)
{
    checker_result *needed = NULL;
    *out = NULL;
    if (depth > MAX_NEEDS_DEPTH)
        return fl_error_set(err, FL_EUSAGE, "%s: its needs form a cycle",
                            c->name);
    if (c->needs != NULL) {
        checker_options theirs;
        checker_needs_options(c, opt, &theirs);
        int rc = check_needing(c->needs, h, &theirs, depth + 1, &needed, err);
        if (rc != FL_OK)
            return rc;
    }
    int rc = checker_check_given(c, h, opt, needed, out, err);
    checker_result_free(needed);
    return rc;
}

int checker_check(const checker *c, const history *h,
                  const checker_options *opt, checker_result **out,
                  fl_error *err)
{
    return check_needing(c, h, opt, 0, out, err);
}

int checker_check_given(const checker *c, const history *h,
                        const checker_options *opt,
                        const checker_result *needed, checker_result **out,
                        fl_error *err)
{
    return run(c, h, NULL, opt, needed, out, err);
}

int checker_check_file(const checker *c, const char *path,
                       const checker_options *opt, checker_result **out,
                       fl_error *err)
{
    *out = NULL;
    return c->check_file && c->needs == NULL
               ? run(c, NULL, path, opt, NULL, out, err)
               : FL_OK;
}

bool checker_options_same_question(const checker_options *a,
                                   const checker_options *b)
{
    bool same_initial = a->initial == b->initial ||
                        (a->initial && b->initial &&
                         json_equal((json_t *)a->initial, (json_t *)b->initial));
    bool same_isolation = a->isolation == b->isolation ||
                          (a->isolation && b->isolation &&
                           strcmp(a->isolation, b->isolation) == 0);
    return a->model == b->model && same_initial &&
           a->nil_reads_unknown == b->nil_reads_unknown &&
           a->no_split == b->no_split && same_isolation;
}

const checker *checker_result_checker(const checker_result *r)
{
    return r->by;
}

checker_verdict checker_result_key_verdict(const checker_result *r,
                                           uint32_t key)
{
    checker_key_verdict k = {.key = key};
    const checker_key_verdict *v =
        r->nper_key ? bsearch(&k, r->per_key, r->nper_key, sizeof k,
                              cmp_key_verdict)
                    : NULL;
    return v ? v->verdict : CHECKER_UNKNOWN;
}

double checker_result_elapsed_ms(const checker_result *r)
{
    return r->elapsed_ms;
}

const char *checker_result_name(const checker_result *r)
{
    return r->by->name;
}

checker_verdict checker_result_verdict(const checker_result *r)
{
    return r->verdict;
}

json_t *checker_result_json(const checker_result *r)
{
    return r->json;
}

static int put(const char *text, size_t len, FILE *out)
{
    if (len > 0)
        fwrite(text, 1, len, out);
    return ferror(out) ? FL_EIO : FL_OK;
}

int checker_result_summary(const checker_result *r, FILE *out)
{
    return put(r->summary, r->summary_len, out);
}

int checker_result_explain(const checker_result *r, FILE *out)
{
    return put(r->explanation, r->explanation_len, out);
}

void checker_result_free(checker_result *r)
{
    if (r == NULL)
        return;
    json_decref(r->json);
    fl_free(r->per_key);
    free(r->summary);
    free(r->explanation);
    free(r);
}

/* ---- Naming keys ---------------------------------------------------------- */

/* Whether a string key, written bare, could be read as another key: an
 * integer's digits, the "*" of an unsplit history, or a quoted name. */
static bool name_ambiguous(const char *s)
{
    if (s[0] == '\0' || s[0] == '"' || strcmp(s, "*") == 0)
        return true;
    size_t i = s[0] == '-';
    if (s[i] == '\0')
        return false;
    while (s[i] >= '0' && s[i] <= '9')
        i++;
    return s[i] == '\0';
}

char *checker_key_name(const history *h, uint32_t key)
{
    if (key == HISTORY_NONE)
        return fl_strdup("*");
    const json_t *k = history_value(h, key);
    if (json_is_string(k) && !name_ambiguous(json_string_value(k)))
        return fl_strdup(json_string_value(k));
    return json_dumps(k, JSON_ENCODE_ANY);
}

json_t *checker_op_json(const history *h, size_t invoke_pos)
{
    const history_event *ev = history_events(h);
    const history_event *inv = &ev[invoke_pos];
    const history_event *done = inv->pair != HISTORY_NONE ? &ev[inv->pair] : NULL;
    json_t *o = json_object();
    json_object_set_new(o, "process", json_integer(inv->process));
    json_object_set_new(o, "f", json_string(history_name(h, inv->f)));
    if (inv->key != HISTORY_NONE)
        json_object_set(o, "key", (json_t *)history_value(h, inv->key));
    json_object_set(o, "value", (json_t *)history_value(h, inv->value));
    json_object_set_new(o, "type", json_string(done ? history_type_name(done->type)
                                                    : "info"));
    if (done != NULL && done->type == HISTORY_OK)
        json_object_set(o, "output", (json_t *)history_value(h, done->value));
    json_object_set_new(o, "invoke_index", json_integer(inv->index));
    if (done != NULL)
        json_object_set_new(o, "complete_index", json_integer(done->index));
    return o;
}
