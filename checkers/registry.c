/*
 * registry.c — the checkers by name, and running one. See checker.h.
 */
#include "checkers/checker.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

/*
 * One line per checker: X(the `const checker` its file defines). The
 * order is the order of usage messages and of results.json's checkers.
 */
#define FL_CHECKERS(X)                                                        \
    X(checker_linearizable) /* checkers/linearizable.c, takes a model */     \
    X(checker_set)          /* checkers/set.c */                             \
    X(checker_sequential)   /* checkers/sequential.c, takes a model */   \
    X(checker_elle)         /* checkers/elle*.c, transactions */

#define FL_CHECKER_DECLARE(c) extern const checker c;
#define FL_CHECKER_ENTRY(c) &c,
FL_CHECKERS(FL_CHECKER_DECLARE)
static const checker *const registry[] = {FL_CHECKERS(FL_CHECKER_ENTRY)};
#define NCHECKERS (sizeof registry / sizeof *registry)

void checker_options_init(checker_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->model = "cas-register";
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
};

/* Run c's check (h) or check_file (path) into a new result. */
static int run(const checker *c, const history *h, const char *path,
               const checker_options *opt, checker_result **out,
               fl_error *err)
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
    int rc = !rep.summary || !rep.explain ? FL_OK
           : path ? c->check_file(path, opt, &rep, err)
                  : c->check(h, opt, &rep, err);
    if (rc == CHECKER_DECLINED) {
        if (rep.summary)
            fclose(rep.summary);
        if (rep.explain)
            fclose(rep.explain);
        json_decref(rep.json);
        r->json = NULL;
        checker_result_free(r);
        return FL_OK;
    }
    /* the streams' buffers are only final once closed */
    bool words = rep.summary && fclose(rep.summary) == 0;
    words = rep.explain && fclose(rep.explain) == 0 && words;
    r->verdict = rep.verdict;
    r->json = rep.json;
    if (rc == FL_OK && (!words || r->json == NULL))
        rc = fl_error_set(err, FL_ENOMEM, "%s: out of memory", c->name);
    if (rc != FL_OK) {
        checker_result_free(r);
        return rc;
    }
    *out = r;
    return FL_OK;
}

int checker_check(const checker *c, const history *h,
                  const checker_options *opt, checker_result **out,
                  fl_error *err)
{
    return run(c, h, NULL, opt, out, err);
}

int checker_check_file(const checker *c, const char *path,
                       const checker_options *opt, checker_result **out,
                       fl_error *err)
{
    *out = NULL;
    return c->check_file ? run(c, NULL, path, opt, out, err) : FL_OK;
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
