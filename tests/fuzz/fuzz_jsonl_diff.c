/*
 * libFuzzer target: the JSONL reader's fast path (history_jsonl_fast.c)
 * against the jansson path it stands in for. Arbitrary bytes are read both
 * ways; the two must agree exactly: the same error code and message, or
 * the same events (every field, pool ids included), values, names and
 * warnings. A fast path that accepted a line jansson rejects, or read one
 * differently, fails here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"
#include "history/history_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int read_with(const uint8_t *data, size_t size, bool fast,
                     history **out, fl_error *err)
{
    FILE *in = fmemopen((void *)data, size, "r");
    if (in == NULL)
        abort();
    int rc = history_read_jsonl_with(in, "fuzz", fast, out, err);
    fclose(in);
    return rc;
}

static void same_histories(const history *a, const history *b)
{
    if (history_len(a) != history_len(b) ||
        history_value_count(a) != history_value_count(b) ||
        history_name_count(a) != history_name_count(b) ||
        history_pending(a) != history_pending(b) ||
        history_warning_count(a) != history_warning_count(b))
        abort();
    if (history_len(a) > 0 &&
        memcmp(history_events(a), history_events(b),
               history_len(a) * sizeof(history_event)) != 0)
        abort();
    for (size_t i = 0; i < history_value_count(a); i++) {
        const json_t *va = history_value(a, (uint32_t)i);
        const json_t *vb = history_value(b, (uint32_t)i);
        if (!json_equal(va, vb) || json_typeof(va) != json_typeof(vb))
            abort();
    }
    for (size_t i = 0; i < history_name_count(a); i++)
        if (strcmp(history_name(a, (uint32_t)i), history_name(b, (uint32_t)i)))
            abort();
    for (size_t i = 0; i < history_warning_count(a); i++)
        if (strcmp(history_warning(a, i), history_warning(b, i)) != 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    history *fast = NULL, *slow = NULL;
    fl_error fast_err = {0}, slow_err = {0};
    int fast_rc = read_with(data, size, true, &fast, &fast_err);
    int slow_rc = read_with(data, size, false, &slow, &slow_err);
    if (fast_rc != slow_rc || strcmp(fast_err.msg, slow_err.msg) != 0)
        abort();
    if (fast_rc == FL_OK)
        same_histories(fast, slow);
    history_free(fast);
    history_free(slow);
    return 0;
}
