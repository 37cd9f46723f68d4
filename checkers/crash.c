/*
 * crash: the database's crashes, from the history and the logs. See
 * crash.h.
 */
#include "checkers/crash.h"
#include "checkers/checker.h"

#include <string.h>

#define CRASHED_F "crashed"

json_t *crash_events(const history *h)
{
    json_t *arr = json_array();
    uint32_t f = history_name_find(h, CRASHED_F);
    const history_event *ev = history_events(h);
    for (size_t i = 0; arr && f != HISTORY_NONE && i < history_len(h); i++) {
        if (ev[i].process != HISTORY_NEMESIS || ev[i].f != f)
            continue;
        const json_t *v = history_value(h, ev[i].value);
        json_t *c = json_is_object(v) ? json_deep_copy(v)
                                      : json_pack("{s:O}", "how", v);
        if (!c || json_array_append_new(arr, c) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *crash_result(const json_t *crashes, const json_t *log_lines,
                     const char *target, bool allowed, checker_verdict *v)
{
    bool any = json_array_size(crashes) || json_array_size(log_lines);
    *v = any && !allowed ? CHECKER_INVALID : CHECKER_VALID;
    json_t *r = json_pack("{s:o,s:o,s:o,s:b}", "valid",
                          checker_verdict_json(*v), "crashes",
                          crashes ? json_incref((json_t *)crashes)
                                  : json_array(),
                          "log_lines",
                          log_lines ? json_incref((json_t *)log_lines)
                                    : json_array(),
                          "allowed", allowed);
    if (r && target)
        json_object_set_new(r, "target", json_string(target));
    if (r && any && allowed)
        json_object_set_new(r, "warning", json_string(
            "the database crashed or logged an internal error; allowed by "
            "--allow-crashes"));
    return r;
}

checker_verdict crash_result_verdict(const json_t *result)
{
    const json_t *v = json_object_get(result, "valid");
    return json_is_true(v) ? CHECKER_VALID
           : json_is_false(v) ? CHECKER_INVALID : CHECKER_UNKNOWN;
}

int crash_summary_json(const json_t *result, FILE *out)
{
    size_t c = json_array_size(json_object_get(result, "crashes")),
           l = json_array_size(json_object_get(result, "log_lines"));
    if (!c && !l)
        fprintf(out, "crash: valid — no crash, no log line matching a crash "
                "pattern\n");
    else
        fprintf(out, "crash: %s — %zu crash%s, %zu log line%s matching a "
                "crash pattern%s\n",
                checker_verdict_word(crash_result_verdict(result)), c,
                c == 1 ? "" : "es", l, l == 1 ? "" : "s",
                json_is_true(json_object_get(result, "allowed"))
                    ? " (allowed: --allow-crashes)" : "");
    return ferror(out) ? FL_EIO : FL_OK;
}

int crash_explain_json(const json_t *result, FILE *out)
{
    const char *target = json_string_value(json_object_get(result, "target"));
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(result, "crashes"), i, c) {
        const char *node = json_string_value(json_object_get(c, "node"));
        const char *how = json_string_value(json_object_get(c, "how"));
        const json_t *at = json_object_get(c, "at_s");
        fprintf(out, "database crashed: %s's %s %s", node ? node : "a node",
                target ? target : "database", how ? how : "ended");
        if (json_is_number(at))
            fprintf(out, " at %.1f s", json_number_value(at));
        fputs(", not by the nemesis\n", out);
    }
    const json_t *lines = json_object_get(result, "log_lines");
    if (json_array_size(lines))
        fputs("log lines matching a crash pattern:\n", out);
    json_array_foreach(lines, i, c)
        fprintf(out, "  %s %s:%lld: %s\n",
                json_string_value(json_object_get(c, "node")),
                json_string_value(json_object_get(c, "file")),
                (long long)json_integer_value(json_object_get(c, "line")),
                json_string_value(json_object_get(c, "text")));
    const char *warning = json_string_value(json_object_get(result,
                                                            "warning"));
    if (warning)
        fprintf(out, "warning: %s\n", warning);
    return ferror(out) ? FL_EIO : FL_OK;
}

/* ---- In the checker registry ----------------------------------------------------- */

/* From the history alone (`faultline check --checker crash`); a run's
 * store adds the log lines and the run's allowance. */
static int registry_check(const history *h, const checker_options *opt,
                          const checker_result *needed, checker_report *out,
                          fl_error *err)
{
    (void)opt;
    (void)needed;
    json_t *crashes = crash_events(h);
    json_t *r = crashes ? crash_result(crashes, NULL, NULL, false,
                                       &out->verdict) : NULL;
    json_decref(crashes);
    if (!r)
        return fl_error_set(err, FL_ENOMEM, "crash: out of memory");
    out->json = r;
    int rc = crash_summary_json(r, out->summary);
    if (rc == FL_OK)
        rc = crash_explain_json(r, out->explain);
    return rc;
}

const checker checker_crash = {
    .name = CRASH_CHECKER_NAME,
    .about = "the database crashed: processes that ended, or nodes that "
             "stopped serving, when the nemesis did not do it",
    .check = registry_check,
    .explain_json = crash_explain_json,
};
