/*
 * libFuzzer target: the JSONL reader's fast path (history_jsonl_fast.c)
 * against the jansson path it stands in for. Arbitrary bytes are read both
 * ways; the two must agree exactly: the same error code and message, or
 * the same events (every field, pool ids included), values, names and
 * warnings. And line by line: every line the fast path accepts, jansson
 * must parse and decode to the same fields, with the same pool keys — for
 * a whole file can hide a misread value behind an error both paths give
 * (a completion whose misread key no longer matches its invocation).
 * Then the parallel reader (history_jsonl_par.c) against the one-thread
 * one: cut into 2 and 4 chunks at places the input picks, it must give
 * the same error or the same history.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"
#include "history/history_internal.h"
#include "history/history_jsonl_fast.h"
#include "history/history_jsonl_par.h"

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

/* v's pool key is exactly k. */
static void same_key(const json_t *v, const history_pool_key *k)
{
    char stack[256], *text;
    size_t n = history_pool_key_of(v ? v : json_null(), stack, sizeof stack,
                                   &text);
    if (n == 0 || k->text == NULL || n != k->len ||
        memcmp(text, k->text, n) != 0 || k->text[n] != '\0')
        abort();
    if (text != stack)
        fl_free(text);
}

static void same_line(history_fast *fast, const char *line, size_t n)
{
    history_keyed_input in;
    if (!history_fast_scan(fast, line, n, &in))
        return;
    json_t *o = json_loadb(line, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                           NULL);
    history_input want;
    fl_error err = {0};
    if (o == NULL || history_jsonl_decode(o, &want, &err) != FL_OK)
        abort(); /* the fast path took a line jansson's refuses */
    if (want.index != in.base.index || want.time != in.base.time ||
        want.process != in.base.process || want.type != in.base.type ||
        strcmp(want.f, in.base.f) != 0 || (want.key == NULL) != (in.key.text == NULL) ||
        (want.error == NULL) != (in.error.text == NULL))
        abort();
    same_key(want.value, &in.value);
    if (want.key != NULL)
        same_key(want.key, &in.key);
    if (want.error != NULL)
        same_key(want.error, &in.error);
    json_decref(o);
}

static void same_lines(const uint8_t *data, size_t size)
{
    history_fast fast = {0};
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        same_line(&fast, p, n);
        p += n;
    }
    history_fast_free(&fast);
}

/* Cuts at offsets drawn from the input's own bytes (so the fuzzer steers
 * them onto line edges too), ascending. */
static void pick_cuts(const uint8_t *data, size_t size, size_t *cuts,
                      size_t n)
{
    uint64_t x = 1469598103934665603u;
    for (size_t i = 0; i < size && i < 64; i++)
        x = (x ^ data[size - 1 - i]) * 1099511628211u;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        cuts[i] = (size_t)((x >> 33) % (size + 1));
        for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            size_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    }
}

static void same_in_chunks(const uint8_t *data, size_t size, int want_rc,
                           const fl_error *want_err, const history *want,
                           size_t ncuts)
{
    size_t cuts[3];
    pick_cuts(data, size, cuts, ncuts);
    history *got = NULL;
    fl_error err = {0};
    int rc = history_read_jsonl_split((const char *)data, size, "fuzz", cuts,
                                      ncuts, &got, &err);
    if (rc != want_rc || strcmp(err.msg, want_err->msg) != 0)
        abort();
    if (rc == FL_OK)
        same_histories(want, got);
    history_free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    same_lines(data, size);
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
    same_in_chunks(data, size, fast_rc, &fast_err, fast, 1);
    same_in_chunks(data, size, fast_rc, &fast_err, fast, 3);
    history_free(fast);
    history_free(slow);
    return 0;
}
