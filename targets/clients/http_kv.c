/*
 * http_kv: the HTTP key-value client core. See http_kv.h.
 */
#include "targets/clients/http_kv.h"
#include "base/clock.h"

#include <stdio.h>
#include <string.h>

void http_kv_error(target_result *out, history_type type, const char *msg,
                   const char *detail, long status)
{
    out->type = type;
    out->error = json_pack("{s:s}", "error", msg);
    if (out->error && detail && *detail)
        json_object_set_new(out->error, "detail", json_string(detail));
    if (out->error && status)
        json_object_set_new(out->error, "status", json_integer(status));
}

void http_kv_unanswered(bool is_read, const http_answer *a,
                        target_result *out)
{
    memset(out, 0, sizeof *out);
    if (a->unbound) {
        http_kv_error(out, HISTORY_FAIL, TARGET_ERROR_UNBOUND, NULL, 0);
        return;
    }
    const char *why = a->timed_out ? "timeout"
                    : a->too_large ? "answer too large" : NULL;
    /* Reads change nothing, and a request never sent changes nothing:
     * both certainly did not happen. */
    if (is_read || !a->sent)
        http_kv_error(out, HISTORY_FAIL, why ? why : "no connection", NULL, 0);
    else
        http_kv_error(out, HISTORY_INFO, why ? why : "connection lost", NULL,
                      0);
}

void http_kv_key(const json_t *key, char *out, size_t size)
{
    if (json_is_integer(key))
        snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(key));
    else
        snprintf(out, size, "%s", json_string_value(key) ? json_string_value(key)
                                                         : "");
}

void http_kv_add(const json_t *element, int attempts, int request_timeout_ms,
                 http_kv_add_step step, void *ctx, target_result *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_integer(element)) {
        http_kv_error(out, HISTORY_FAIL, "rejected", "an add's element must "
                      "be an integer", 0);
        return;
    }
    rmw_add st;
    rmw_add_init(&st, json_integer_value(element));
    double deadline = fl_clock_mono_s() + 2.0 * request_timeout_ms / 1000.0;
    for (int i = 0; i < attempts; i++) {
        if (st.wait)
            fl_sleep_s(0.05);   /* no leader yet: let an election finish */
        int left_ms = (int)((deadline - fl_clock_mono_s()) * 1000);
        json_t *next = NULL;
        rmw_action act = rmw_add_next(&st, &next);
        if (act == RMW_DONE || left_ms < 50) {
            json_decref(next);
            break;
        }
        step(ctx, &st, act == RMW_CAS ? next : NULL,
             left_ms < request_timeout_ms ? left_ms : request_timeout_ms);
        json_decref(next);
    }
    rmw_add_give_up(&st);
    *out = st.result;
    memset(&st.result, 0, sizeof st.result);
    rmw_add_clear(&st);
}
