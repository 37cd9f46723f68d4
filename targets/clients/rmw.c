/*
 * rmw: the decisions of a set add by read-modify-write. See rmw.h.
 */
#include "targets/clients/rmw.h"

#include <string.h>

int rmw_set_with(const json_t *current, json_int_t element, json_t **next)
{
    *next = NULL;
    if (current && !json_is_array(current))
        return -1;
    size_t n = current ? json_array_size(current) : 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_array_get(current, i);
        if (!json_is_integer(x))
            return -1;
        if (json_integer_value(x) == element)
            return 1;
    }
    *next = current ? json_deep_copy(current) : json_array();
    if (!*next || json_array_append_new(*next, json_integer(element)) != 0) {
        json_decref(*next);
        *next = NULL;
        return -2;
    }
    return 0;
}

void rmw_add_init(rmw_add *st, json_int_t element)
{
    memset(st, 0, sizeof *st);
    st->element = element;
}

void rmw_add_clear(rmw_add *st)
{
    json_decref(st->current);
    st->current = NULL;
    target_result_clear(&st->result);
}

static void decide(rmw_add *st, history_type type, const char *why)
{
    st->done = true;
    st->result = (target_result){.type = type};
    if (type == HISTORY_OK)
        st->result.value = json_integer(st->element);
    else
        st->result.error = json_pack("{s:s}", "error", why);
}

/* A decision from the database itself: the step's own outcome. */
static void decide_with(rmw_add *st, target_result *r)
{
    st->done = true;
    st->result = *r;
    memset(r, 0, sizeof *r);
}

void rmw_add_abandon(rmw_add *st, const char *why)
{
    decide(st, st->uncertain ? HISTORY_INFO : HISTORY_FAIL, why);
}

rmw_action rmw_add_next(rmw_add *st, json_t **next)
{
    *next = NULL;
    if (st->done)
        return RMW_DONE;
    if (!st->known)
        return RMW_READ;
    switch (rmw_set_with(st->current, st->element, next)) {
    case 0:
        return RMW_CAS;
    case 1:     /* an earlier attempt of ours took effect */
        decide(st, HISTORY_OK, NULL);
        return RMW_DONE;
    case -1:
        rmw_add_abandon(st, "the key holds something other than an array "
                            "of integers");
        return RMW_DONE;
    default:
        rmw_add_abandon(st, "out of memory");
        return RMW_DONE;
    }
}

static void set_current(rmw_add *st, const json_t *v)
{
    json_decref(st->current);
    st->current = v && !json_is_null(v) ? json_incref((json_t *)v) : NULL;
    st->known = true;
}

void rmw_add_read_answer(rmw_add *st, target_result *r)
{
    st->wait = false;
    if (r->type == HISTORY_OK) {
        set_current(st, r->value);
    } else if (!st->uncertain) {
        /* Nothing of this add was sent yet: it certainly did not happen. */
        decide_with(st, r);
        return;
    } else {
        st->wait = true;
    }
    target_result_clear(r);
}

void rmw_add_cas_answer(rmw_add *st, target_result *r)
{
    st->wait = false;
    if (r->type == HISTORY_OK) {
        decide(st, HISTORY_OK, NULL);
    } else if (r->type == HISTORY_FAIL && !st->uncertain) {
        decide_with(st, r);
        return;
    } else {
        st->uncertain |= r->type == HISTORY_INFO;
        st->wait = r->type == HISTORY_FAIL;
        st->known = false;
    }
    target_result_clear(r);
}

void rmw_add_cas_refused(rmw_add *st, bool now_known, const json_t *now)
{
    st->wait = false;
    if (now_known)
        set_current(st, now);
    else
        st->known = false;
}

void rmw_add_give_up(rmw_add *st)
{
    if (!st->done)
        rmw_add_abandon(st, "gave up: contention or no leader");
}
