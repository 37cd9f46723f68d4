/*
 * compose.c — checkers over one history, needs resolved, verdicts
 * combined. See compose.h.
 */
#include "checkers/compose.h"
#include "base/alloc.h"

#include <string.h>

struct composition {
    compose_item *items;
    checker_result **results;
    size_t n;
};

static int duplicate(const compose_item *items, size_t n, fl_error *err)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (items[i].checker == items[j].checker)
                return fl_error_set(err, FL_EUSAGE, "checker \"%s\" given "
                                    "twice (results are kept by name)",
                                    items[i].checker->name);
    return FL_OK;
}

/* The item that can stand for what items[i] needs, or n. */
static size_t provider(const composition *c, size_t i)
{
    const checker *need = c->items[i].checker->needs;
    checker_options theirs;
    checker_needs_options(c->items[i].checker, &c->items[i].options, &theirs);
    for (size_t j = 0; j < c->n; j++)
        if (j != i && c->items[j].checker == need &&
            checker_options_same_question(&c->items[j].options, &theirs))
            return j;
    return c->n;
}

/* Run item i (and first the item it reuses) unless done. `depth` stops a
 * cycle of needs, which no registry line should make. */
static int run_item(const history *h, composition *c, size_t i, size_t depth,
                    fl_error *err)
{
    const compose_item *it = &c->items[i];
    if (c->results[i] != NULL)
        return FL_OK;
    if (depth > c->n)
        return fl_error_set(err, FL_EUSAGE, "%s: its needs form a cycle",
                            it->checker->name);
    int rc;
    if (it->checker->needs == NULL) {
        rc = checker_check_given(it->checker, h, &it->options, NULL,
                                 &c->results[i], err);
    } else {
        size_t j = provider(c, i);
        if (j == c->n) /* a private run, not one of ours */
            rc = checker_check(it->checker, h, &it->options, &c->results[i],
                               err);
        else if ((rc = run_item(h, c, j, depth + 1, err)) == FL_OK)
            rc = checker_check_given(it->checker, h, &it->options,
                                     c->results[j], &c->results[i], err);
    }
    return rc == FL_OK ? FL_OK : fl_error_wrap(err, "checker %s",
                                               it->checker->name);
}

int compose_run(const history *h, const compose_item *items, size_t n,
                composition **out, fl_error *err)
{
    *out = NULL;
    int rc = duplicate(items, n, err);
    if (rc != FL_OK)
        return rc;
    composition *c = fl_calloc(1, sizeof *c);
    if (c != NULL) {
        c->items = fl_malloc((n + 1) * sizeof *c->items);
        c->results = fl_calloc(n + 1, sizeof *c->results);
    }
    if (c == NULL || c->items == NULL || c->results == NULL) {
        compose_free(c);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    if (n > 0)
        memcpy(c->items, items, n * sizeof *items);
    c->n = n;
    for (size_t i = 0; i < n && rc == FL_OK; i++)
        rc = run_item(h, c, i, 0, err);
    if (rc != FL_OK) {
        compose_free(c);
        return rc;
    }
    *out = c;
    return FL_OK;
}

checker_verdict compose_verdict(const composition *c)
{
    checker_verdict v = CHECKER_VALID;
    for (size_t i = 0; i < c->n; i++)
        v = checker_verdict_combine(v, checker_result_verdict(c->results[i]));
    return v;
}

size_t compose_count(const composition *c)
{
    return c->n;
}

const checker_result *compose_result(const composition *c, size_t i)
{
    return i < c->n ? c->results[i] : NULL;
}

json_t *compose_json(const composition *c)
{
    json_t *checkers = json_object();
    for (size_t i = 0; checkers != NULL && i < c->n; i++)
        json_object_set(checkers, checker_result_name(c->results[i]),
                        checker_result_json(c->results[i]));
    return json_pack("{s:o,s:o}", "valid",
                     checker_verdict_json(compose_verdict(c)), "checkers",
                     checkers);
}

void compose_free(composition *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; c->results != NULL && i < c->n; i++)
        checker_result_free(c->results[i]);
    fl_free(c->results);
    fl_free(c->items);
    fl_free(c);
}
