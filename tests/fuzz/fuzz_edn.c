/*
 * libFuzzer target: arbitrary bytes as EDN. The raw parser and
 * history_read_edn (under every keys mode) must return FL_OK or an error
 * with a message, never crash, hang or leak; what the parser accepts must
 * survive edn_write/edn_parse unchanged, and an accepted history must
 * survive history_write_edn/history_read_edn.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/edn.h"
#include "history/history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void value_roundtrip(const json_t *v)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    fl_error err = {0};
    if (edn_write(out, v, &err) != FL_OK)
        abort();
    fclose(out);
    json_t *back = NULL;
    if (edn_parse(buf, len, "roundtrip", &back, &err) != FL_OK)
        abort();
    if (!json_equal(v, back))
        abort();
    json_decref(back);
    free(buf);
}

static void parse_raw(const uint8_t *data, size_t size)
{
    json_t *v = NULL;
    fl_error err = {0};
    int rc = edn_parse((const char *)data, size, "fuzz", &v, &err);
    if (rc == FL_OK)
        value_roundtrip(v);
    else if (v != NULL || err.msg[0] == '\0')
        abort();
    json_decref(v);
}

static bool same_value(const history *a, uint32_t ia, const history *b,
                       uint32_t ib)
{
    if (ia == HISTORY_NONE || ib == HISTORY_NONE)
        return ia == ib;
    return json_equal(history_value(a, ia), history_value(b, ib));
}

static void history_roundtrip(const history *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    fl_error err = {0};
    if (history_write_edn(h, out, &err) != FL_OK)
        abort();
    fclose(out);
    if (len == 0) {
        free(buf);
        if (history_len(h) != 0)
            abort();
        return;
    }
    FILE *in = fmemopen(buf, len, "r");
    history *back = NULL;
    /* read keyed events back as keyed, unkeyed ones as they are */
    bool keyed = false;
    for (size_t i = 0; i < history_len(h); i++)
        keyed |= history_events(h)[i].key != HISTORY_NONE;
    if (history_read_edn(in, "roundtrip",
                         keyed ? HISTORY_EDN_KEYS_YES : HISTORY_EDN_KEYS_NO,
                         &back, &err) != FL_OK)
        abort();
    fclose(in);
    if (history_len(back) != history_len(h))
        abort();
    const history_event *a = history_events(h), *b = history_events(back);
    for (size_t i = 0; i < history_len(h); i++)
        if (a[i].process != b[i].process || a[i].type != b[i].type ||
            a[i].index != b[i].index || a[i].time != b[i].time ||
            a[i].pair != b[i].pair ||
            strcmp(history_name(h, a[i].f), history_name(back, b[i].f)) != 0 ||
            !same_value(h, a[i].value, back, b[i].value) ||
            !same_value(h, a[i].key, back, b[i].key) ||
            !same_value(h, a[i].error, back, b[i].error))
            abort();
    history_free(back);
    free(buf);
}

static void read_history(const uint8_t *data, size_t size,
                         history_edn_keys keys)
{
    FILE *in = fmemopen((void *)data, size, "r");
    if (in == NULL)
        return;
    history *h = NULL;
    fl_error err = {0};
    int rc = history_read_edn(in, "fuzz", keys, &h, &err);
    fclose(in);
    if (rc == FL_OK) {
        history_roundtrip(h);
        history_free(h);
    } else if (h != NULL || err.msg[0] == '\0') {
        abort(); /* an error must leave no history and say why */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    parse_raw(data, size);
    read_history(data, size, HISTORY_EDN_KEYS_AUTO);
    read_history(data, size, data[0] & 1 ? HISTORY_EDN_KEYS_YES
                                          : HISTORY_EDN_KEYS_NO);
    return 0;
}
