/*
 * libFuzzer target: arbitrary bytes as a JSONL history. Reading must return
 * FL_OK or an error, never crash or leak; whatever it accepts must survive
 * a write/read round trip unchanged, and the set checker (which reads
 * values no parser has vetted: elements, read arrays) must judge it or
 * reject it with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/set.h"
#include "history/history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const history *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    fl_error err = {0};
    if (history_write_jsonl(h, out, &err) != FL_OK)
        abort();
    fclose(out);
    FILE *in = fmemopen(buf, len ? len : 1, "r");
    history *back = NULL;
    if (len == 0) {
        free(buf);
        fclose(in);
        if (history_len(h) != 0)
            abort();
        return;
    }
    if (history_read_jsonl(in, "roundtrip", &back, &err) != FL_OK)
        abort();
    fclose(in);
    if (history_len(back) != history_len(h))
        abort();
    const history_event *a = history_events(h), *b = history_events(back);
    for (size_t i = 0; i < history_len(h); i++) {
        if (a[i].process != b[i].process || a[i].type != b[i].type ||
            a[i].index != b[i].index || a[i].pair != b[i].pair ||
            !json_equal(history_value(h, a[i].value),
                        history_value(back, b[i].value)))
            abort();
    }
    history_free(back);
    free(buf);
}

static void judge_as_set(const history *h)
{
    set_result *r = NULL;
    fl_error err = {0};
    if (set_check(h, &r, &err) != FL_OK) {
        if (r != NULL || err.msg[0] == '\0')
            abort();
        return;
    }
    json_t *j = set_result_to_json(r);
    if (j == NULL)
        abort();
    json_decref(j);
    set_result_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *in = fmemopen((void *)data, size, "r");
    if (in == NULL)
        return 0;
    history *h = NULL;
    fl_error err = {0};
    int rc = history_read_jsonl(in, "fuzz", &h, &err);
    fclose(in);
    if (rc == FL_OK) {
        roundtrip(h);
        judge_as_set(h);
        history_free(h);
    } else if (h != NULL || err.msg[0] == '\0') {
        abort(); /* an error must leave no history and say why */
    }
    return 0;
}
