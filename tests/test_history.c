/*
 * Tests of the history module: building, pairing, interning, JSONL reading
 * (every class of bad input), the streaming recorder (also when killed),
 * subsets, and JSONL round trips of the shared corpus.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "history/history.h"
#include "history/history_internal.h"
#include "history/history_jsonl_fast.h"

/* ---- helpers -------------------------------------------------------------- */

static int read_text(const char *text, history **out, fl_error *err)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    int rc = history_read_jsonl(f, "mem.jsonl", out, err);
    fclose(f);
    return rc;
}

/* Reading text must fail with FL_EDATA and a message containing each of the
 * given fragments. */
static void expect_bad(const char *text, const char *frag1, const char *frag2)
{
    history *h = NULL;
    fl_error err = {0};
    int rc = read_text(text, &h, &err);
    if (rc != FL_EDATA || !strstr(err.msg, frag1) || !strstr(err.msg, frag2))
        fail_msg("input:\n%s\ngot rc=%d msg=\"%s\", wanted 65 with \"%s\" and "
                 "\"%s\"",
                 text, rc, err.msg, frag1, frag2);
    assert_null(h);
}

static void append_ok(history *h, int64_t process, history_type type,
                      const char *f, json_t *value)
{
    history_input in = {.index = HISTORY_AUTO_INDEX, .time = HISTORY_NO_TIME,
                        .process = process, .type = type, .f = f,
                        .value = value};
    fl_error err = {0};
    assert_int_equal(history_append(h, &in, &err), FL_OK);
    json_decref(value);
}

static const char *shared_dir(void)
{
    const char *s = getenv("SHARED");
    return s ? s : "../shared";
}

/* ---- building and pairing --------------------------------------------------- */

static void test_pairing(void **state)
{
    (void)state;
    history *h = history_new();
    append_ok(h, 0, HISTORY_INVOKE, "write", json_integer(1));
    append_ok(h, 1, HISTORY_INVOKE, "read", NULL);
    append_ok(h, 1, HISTORY_OK, "read", json_integer(1));
    append_ok(h, HISTORY_NEMESIS, HISTORY_INFO, "start-partition",
              json_string("halves"));
    assert_int_equal(history_pending(h), 1);
    append_ok(h, 0, HISTORY_INFO, "write", json_integer(1));
    assert_int_equal(history_pending(h), 0);

    const history_event *e = history_events(h);
    assert_int_equal(history_len(h), 5);
    assert_int_equal(e[0].pair, 4);
    assert_int_equal(e[4].pair, 0);
    assert_int_equal(e[1].pair, 2);
    assert_int_equal(e[2].pair, 1);
    assert_int_equal(e[3].pair, HISTORY_NONE);      /* nemesis: unpaired */
    assert_int_equal(e[3].process, HISTORY_NEMESIS);
    assert_int_equal(e[2].index, 2);                /* auto index */
    /* the invocation's value and the completion's are the same pooled value */
    assert_int_equal(e[0].value, e[4].value);
    assert_string_equal(history_name(h, e[1].f), "read");
    assert_int_equal(history_name_find(h, "read"), e[1].f);
    assert_int_equal(history_name_find(h, "cas"), HISTORY_NONE);
    assert_true(json_is_null(history_value(h, e[1].value)));
    history_free(h);
}

static void test_interning_is_structural(void **state)
{
    (void)state;
    history *h = history_new();
    json_t *a = json_pack("{s:i, s:[i,s]}", "x", 1, "y", 2, "z");
    json_t *b = json_pack("{s:[i,s], s:i}", "y", 2, "z", "x", 1);
    json_t *c = json_real(1.0);
    json_t *d = json_integer(1);
    uint32_t ia = history_value_intern(h, a), ib = history_value_intern(h, b);
    uint32_t ic = history_value_intern(h, c), id = history_value_intern(h, d);
    assert_int_equal(ia, ib);
    assert_int_not_equal(ic, id);   /* 1.0 and 1 are different JSON values */
    /* the pool keeps its own copy: mutating the caller's value changes nothing */
    json_object_set_new(a, "x", json_integer(99));
    assert_int_equal(json_integer_value(json_object_get(history_value(h, ia), "x")), 1);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    history_free(h);
}

static void test_append_rejects_without_changing(void **state)
{
    (void)state;
    history *h = history_new();
    append_ok(h, 3, HISTORY_INVOKE, "read", NULL);
    history_input in = {.index = HISTORY_AUTO_INDEX, .time = HISTORY_NO_TIME,
                        .process = 3, .type = HISTORY_INVOKE, .f = "write"};
    fl_error err = {0};
    assert_int_equal(history_append(h, &in, &err), FL_EDATA);
    assert_non_null(strstr(err.msg, "still in flight"));
    assert_int_equal(history_len(h), 1);
    in.type = HISTORY_OK;   /* completion with another f */
    assert_int_equal(history_append(h, &in, &err), FL_EDATA);
    assert_non_null(strstr(err.msg, "does not match"));
    in.f = "read";
    json_t *key = json_string("k");
    in.key = key;           /* completion with another key */
    assert_int_equal(history_append(h, &in, &err), FL_EDATA);
    assert_non_null(strstr(err.msg, "key"));
    json_decref(key);
    in.key = NULL;
    assert_int_equal(history_append(h, &in, &err), FL_OK);
    assert_int_equal(history_len(h), 2);
    history_free(h);
}

/* ---- JSONL fast path ------------------------------------------------------ */

static int read_text_with(const char *text, bool fast, history **out,
                          fl_error *err)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    int rc = history_read_jsonl_with(f, "mem.jsonl", fast, out, err);
    fclose(f);
    return rc;
}

/* The recorder's lines take the fast path; anything it cannot read exactly
 * as jansson would is left to jansson. */
static void test_fast_path_takes_recorder_lines(void **state)
{
    (void)state;
    static const char *const taken[] = {
        "{\"index\":3,\"time\":1712000,\"process\":2,\"type\":\"invoke\","
        "\"f\":\"cas\",\"key\":\"k1\",\"value\":[3,4]}\n",
        "{\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"start\","
        "\"value\":[[\"n1\"],[\"n2\",\"n3\"]],\"error\":null}",
        " { \"process\" : 0 , \"type\" : \"ok\" , \"f\" : \"r\" , \"key\" : -7 } \r\n",
    };
    static const char *const declined[] = {
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"r\\u0065ad\"}\n", /* escape */
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"r\",\"value\":1.5}\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"r\",\"value\":{\"a\":1}}\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"r\",\"f\":\"r\"}\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"r\",\"extra\":1}\n",
        "{\"process\":-1,\"type\":\"invoke\",\"f\":\"r\"}\n",
        "{\"process\":0,\"type\":\"done\",\"f\":\"r\"}\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"r\",\"key\":[1]}\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"r\",\"value\":01}\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"r\",\"value\":1234567890123456789}\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"r\"} x\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"r\"",
        "{\"type\":\"invoke\",\"f\":\"r\"}\n",
    };
    history_fast fast = {0};
    history_keyed_input in;
    for (size_t i = 0; i < sizeof taken / sizeof *taken; i++)
        if (!history_fast_scan(&fast, taken[i], strlen(taken[i]), &in))
            fail_msg("fast path declined: %s", taken[i]);
    for (size_t i = 0; i < sizeof declined / sizeof *declined; i++)
        if (history_fast_scan(&fast, declined[i], strlen(declined[i]), &in))
            fail_msg("fast path took: %s", declined[i]);
    assert_true(history_fast_scan(&fast, taken[0], strlen(taken[0]), &in));
    assert_string_equal(in.key.text, "sk1");
    assert_string_equal(in.value.text, "j[3,4]");
    assert_int_equal(in.base.time, 1712000);
    history_fast_free(&fast);
}

/* Whole histories read the same with and without the fast path: events,
 * pool ids, values, errors word for word. */
static void test_fast_path_matches_jansson(void **state)
{
    (void)state;
    static const char *const texts[] = {
        /* mixed key types stay distinct; -0 is 0 */
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"w\",\"key\":1,\"value\":-0}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"w\",\"key\":\"1\",\"value\":0}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"w\",\"key\":1,\"value\":[0, \"0\"]}\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"w\",\"key\":\"1\",\"value\":\"\\u0030\"}\n",
        /* a fast line's pairing error, then one jansson reads */
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"w\",\"key\":1}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"w\",\"key\":2}\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"w\",\"index\":-3}\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"\"}\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"w\",\"time\":5}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"w\",\"time\":4}\n"
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"w\",\"ti",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"w\"}\nhello",
        "{\"process\":5000000,\"type\":\"invoke\",\"f\":\"w\"}\n"
        "{\"process\":5000000,\"type\":\"invoke\",\"f\":\"w\"}\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        history *a = NULL, *b = NULL;
        fl_error ea = {0}, eb = {0};
        int ra = read_text_with(texts[i], true, &a, &ea);
        int rb = read_text_with(texts[i], false, &b, &eb);
        assert_int_equal(ra, rb);
        assert_string_equal(ea.msg, eb.msg);
        if (ra != FL_OK)
            continue;
        assert_int_equal(history_len(a), history_len(b));
        assert_int_equal(history_value_count(a), history_value_count(b));
        assert_int_equal(history_warning_count(a), history_warning_count(b));
        if (history_len(a) > 0)
            assert_memory_equal(history_events(a), history_events(b),
                                history_len(a) * sizeof(history_event));
        for (size_t v = 0; v < history_value_count(a); v++)
            assert_true(json_equal(history_value(a, (uint32_t)v),
                                   history_value(b, (uint32_t)v)));
        history_free(a);
        history_free(b);
    }
}

static void test_mixed_key_types_distinct_on_fast_path(void **state)
{
    (void)state;
    history *h = NULL;
    fl_error err = {0};
    assert_int_equal(
        read_text("{\"process\":0,\"type\":\"invoke\",\"f\":\"w\",\"key\":1}\n"
                  "{\"process\":1,\"type\":\"invoke\",\"f\":\"w\",\"key\":\"1\"}\n",
                  &h, &err),
        FL_OK);
    const history_event *e = history_events(h);
    assert_int_not_equal(e[0].key, e[1].key);
    assert_true(json_is_integer(history_value(h, e[0].key)));
    assert_true(json_is_string(history_value(h, e[1].key)));
    history_free(h);
}

/* ---- JSONL reading: every class of bad input ---------------------------- */

static void test_bad_json(void **state)
{
    (void)state;
    expect_bad("{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n"
               "{\"process\":0,\"type\":\"ok\" \"f\":\"read\"}\n",
               "mem.jsonl:2:", "malformed JSON");
    expect_bad("[1,2]\n", "mem.jsonl:1:", "object");
}

static void test_bad_type(void **state)
{
    (void)state;
    expect_bad("{\"process\":0,\"type\":\"done\",\"f\":\"read\"}\n",
               "mem.jsonl:1:", "unknown type \"done\"");
    expect_bad("{\"process\":0,\"type\":3,\"f\":\"read\"}\n", "\"type\"",
               "expected a string");
    expect_bad("{\"process\":0,\"f\":\"read\"}\n", "\"type\"", "missing");
}

static void test_completion_without_invocation(void **state)
{
    (void)state;
    expect_bad("{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n"
               "{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":1}\n"
               "{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":1}\n",
               "mem.jsonl:3:", "no invocation in flight");
}

static void test_busy_process(void **state)
{
    (void)state;
    expect_bad("{\"process\":4,\"type\":\"invoke\",\"f\":\"read\"}\n"
               "{\"process\":4,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n",
               "mem.jsonl:2:", "still in flight");
}

static void test_wrong_field_types(void **state)
{
    (void)state;
    expect_bad("{\"process\":\"p1\",\"type\":\"invoke\",\"f\":\"read\"}\n",
               "mem.jsonl:1:", "\"process\"");
    expect_bad("{\"process\":-2,\"type\":\"invoke\",\"f\":\"read\"}\n",
               "\"process\"", "negative");
    expect_bad("{\"process\":0,\"type\":\"invoke\",\"f\":7}\n", "\"f\"",
               "expected a string");
    expect_bad("{\"index\":\"3\",\"process\":0,\"type\":\"invoke\",\"f\":\"r\"}\n",
               "\"index\"", "expected an integer");
    expect_bad("{\"time\":-5,\"process\":0,\"type\":\"invoke\",\"f\":\"r\"}\n",
               "\"time\"", "negative");
    expect_bad("{\"process\":0,\"type\":\"invoke\",\"f\":\"r\",\"key\":[1]}\n",
               "\"key\"", "string or an integer");
    expect_bad("{\"type\":\"invoke\",\"f\":\"r\"}\n", "\"process\"",
               "missing");
}

static void test_truncated_final_line_is_dropped(void **state)
{
    (void)state;
    history *h = NULL;
    fl_error err = {0};
    const char *text = "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n"
                       "{\"process\":0,\"type\":\"ok\",\"f\":\"re";
    assert_int_equal(read_text(text, &h, &err), FL_OK);
    assert_int_equal(history_len(h), 1);
    assert_int_equal(history_pending(h), 1);  /* judged as info */
    assert_int_equal(history_warning_count(h), 1);
    assert_non_null(strstr(history_warning(h, 0), "mem.jsonl:2"));
    history_free(h);

    /* A cut line followed by more lines is corruption, not a killed writer. */
    expect_bad("{\"process\":0,\"type\":\"inv\n"
               "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n",
               "mem.jsonl:1:", "malformed JSON");
    /* A complete final line without its newline is fine. */
    assert_int_equal(read_text("\n{\"process\":0,\"type\":\"invoke\",\"f\":\"r\"}",
                               &h, &err),
                     FL_OK);
    assert_int_equal(history_len(h), 1);
    assert_int_equal(history_warning_count(h), 0);
    history_free(h);
}

static void test_garbage_final_line_is_an_error(void **state)
{
    (void)state;
    expect_bad("hello", "mem.jsonl:1:", "malformed JSON");
    size_t n = 1 << 20;
    char *xs = malloc(n + 1);
    assert_non_null(xs);
    memset(xs, 'x', n);
    xs[n] = '\0';
    expect_bad(xs, "mem.jsonl:1:", "malformed JSON");
    free(xs);
    /* after good lines, too: only a cut-off object is a killed recorder */
    expect_bad("{\"process\":0,\"type\":\"invoke\",\"f\":\"r\"}\n[1,",
               "mem.jsonl:2:", "malformed JSON");
    /* a whole object with more after it is not a prefix of one */
    expect_bad("{\"process\":0,\"type\":\"invoke\",\"f\":\"r\"} x",
               "mem.jsonl:1:", "malformed JSON");
}

/* Every cut of a recorder's line is still read as a dropped final line. */
static void test_every_cut_of_a_line_is_dropped(void **state)
{
    (void)state;
    const char *full = "{\"index\":0,\"time\":12,\"process\":0,\"type\":"
                       "\"invoke\",\"f\":\"cas\",\"key\":\"k\xc3\xa9\","
                       "\"value\":[true,-1.5e3],\"error\":null}";
    char cut[256];
    for (size_t n = 1; n < strlen(full); n++) {
        memcpy(cut, full, n);
        cut[n] = '\0';
        history *h = NULL;
        fl_error err = {0};
        if (read_text(cut, &h, &err) != FL_OK)
            fail_msg("cut at %zu (%s): %s", n, cut, err.msg);
        assert_int_equal(history_len(h), 0);
        assert_int_equal(history_warning_count(h), 1);
        assert_non_null(strstr(history_warning(h, 0), "truncated final line"));
        history_free(h);
    }
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    expect_bad("{\"process\":0,\"type\":\"invoke\",\"f\":\"r\",\"type\":\"ok\"}\n",
               "mem.jsonl:1:", "duplicate");
    /* also on a cut final line: that is bad data, not a cut */
    expect_bad("{\"process\":0,\"process\":1,\"type\":\"inv",
               "mem.jsonl:1:", "duplicate");
}

static void test_time_backwards_one_warning(void **state)
{
    (void)state;
    const char *text =
        "{\"time\":10,\"process\":0,\"type\":\"invoke\",\"f\":\"r\"}\n"
        "{\"time\":20,\"process\":1,\"type\":\"invoke\",\"f\":\"r\"}\n"
        "\n"
        "{\"time\":15,\"process\":0,\"type\":\"ok\",\"f\":\"r\"}\n"
        "{\"time\":30,\"process\":0,\"type\":\"invoke\",\"f\":\"r\"}\n"
        "{\"time\":25,\"process\":1,\"type\":\"ok\",\"f\":\"r\"}\n"
        "{\"time\":24,\"process\":0,\"type\":\"ok\",\"f\":\"r\"}\n";
    history *h = NULL;
    fl_error err = {0};
    assert_int_equal(read_text(text, &h, &err), FL_OK);
    assert_int_equal(history_len(h), 6);
    assert_int_equal(history_warning_count(h), 1);
    const char *w = history_warning(h, 0);
    if (!strstr(w, "mem.jsonl:4:") || !strstr(w, "3 events"))
        fail_msg("warning: %s", w);
    history_free(h);
    /* in order, or untimed: nothing to say */
    assert_int_equal(read_text("{\"time\":5,\"process\":0,\"type\":\"invoke\",\"f\":\"r\"}\n"
                               "{\"time\":5,\"process\":0,\"type\":\"ok\",\"f\":\"r\"}\n"
                               "{\"process\":0,\"type\":\"invoke\",\"f\":\"r\"}\n",
                               &h, &err),
                     FL_OK);
    assert_int_equal(history_warning_count(h), 0);
    history_free(h);
}

static void test_missing_file(void **state)
{
    (void)state;
    history *h = NULL;
    fl_error err = {0};
    assert_int_equal(history_read_file("/nonexistent/h.jsonl",
                                       HISTORY_FORMAT_UNKNOWN, &h, &err),
                     FL_ENOINPUT);
    assert_non_null(strstr(err.msg, "/nonexistent/h.jsonl"));
    assert_int_equal(history_read_file("h.txt", HISTORY_FORMAT_UNKNOWN, &h, &err),
                     FL_EUSAGE);
}

/* ---- Round trips ------------------------------------------------------------ */

/* Same events, field for field, with values compared as JSON. */
static void assert_same_history(const history *a, const history *b)
{
    assert_int_equal(history_len(a), history_len(b));
    const history_event *ea = history_events(a), *eb = history_events(b);
    for (size_t i = 0; i < history_len(a); i++) {
        assert_int_equal(ea[i].index, eb[i].index);
        assert_int_equal(ea[i].time, eb[i].time);
        assert_int_equal(ea[i].process, eb[i].process);
        assert_int_equal(ea[i].type, eb[i].type);
        assert_int_equal(ea[i].pair, eb[i].pair);
        assert_string_equal(history_name(a, ea[i].f), history_name(b, eb[i].f));
        assert_true(json_equal(history_value(a, ea[i].value),
                               history_value(b, eb[i].value)));
        assert_int_equal(ea[i].key == HISTORY_NONE, eb[i].key == HISTORY_NONE);
        if (ea[i].key != HISTORY_NONE)
            assert_true(json_equal(history_value(a, ea[i].key),
                                   history_value(b, eb[i].key)));
    }
}

static void roundtrip_jsonl(const char *path)
{
    history *h = NULL, *back = NULL;
    fl_error err = {0};
    if (history_read_file(path, HISTORY_FORMAT_UNKNOWN, &h, &err) != FL_OK)
        fail_msg("%s", err.msg);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    assert_int_equal(history_write_jsonl(h, mem, &err), FL_OK);
    fclose(mem);
    FILE *in = fmemopen(buf, len, "r");
    assert_int_equal(history_read_jsonl(in, path, &back, &err), FL_OK);
    fclose(in);
    assert_same_history(h, back);
    free(buf);
    history_free(h);
    history_free(back);
}

static void test_corpus_jsonl_roundtrip(void **state)
{
    (void)state;
    static const char *const sets[] = {"etcd", "kv"};
    int files = 0;
    for (size_t s = 0; s < 2; s++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/corpus/%s", shared_dir(), sets[s]);
        DIR *d = opendir(dir);
        if (d == NULL) {
            print_message("skipped: %s not found (set SHARED)\n", dir);
            skip();
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (history_format_of_path(de->d_name) != HISTORY_FORMAT_JSONL)
                continue;
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            roundtrip_jsonl(path);
            files++;
        }
        closedir(d);
    }
    assert_int_equal(files, 108);
}

/* ---- Subsets ---------------------------------------------------------------- */

static void test_subset_keeps_completions(void **state)
{
    (void)state;
    history *h = history_new();
    append_ok(h, 0, HISTORY_INVOKE, "write", json_integer(1));
    append_ok(h, 1, HISTORY_INVOKE, "read", NULL);
    append_ok(h, 0, HISTORY_OK, "write", json_integer(1));
    append_ok(h, 1, HISTORY_OK, "read", json_integer(1));
    bool keep[4] = {false, true, false, false};
    history *sub = NULL;
    fl_error err = {0};
    assert_int_equal(history_subset(h, keep, &sub, &err), FL_OK);
    assert_int_equal(history_len(sub), 2);
    const history_event *e = history_events(sub);
    assert_int_equal(e[0].index, 1);
    assert_int_equal(e[1].index, 3);
    assert_int_equal(e[0].pair, 1);
    assert_int_equal(json_integer_value(history_value(sub, e[1].value)), 1);
    history_free(sub);
    history_free(h);
}

/* ---- Streaming recorder ------------------------------------------------------ */

#define THREADS 4
#define PER_THREAD 500

typedef struct recorder_arg {
    history_writer *w;
    int process;
} recorder_arg;

static void *record_ops(void *p)
{
    recorder_arg *a = p;
    for (int i = 0; i < PER_THREAD; i++) {
        json_t *v = json_integer(a->process * 100000 + i);
        json_t *key = json_string("k");
        history_writer_record(a->w, a->process, HISTORY_INVOKE, "write", key, v,
                              NULL, NULL, NULL);
        history_writer_record(a->w, a->process, HISTORY_OK, "write", key, v,
                              NULL, NULL, NULL);
        json_decref(v);
        json_decref(key);
    }
    return NULL;
}

static void test_writer_concurrent(void **state)
{
    (void)state;
    char path[] = "/tmp/faultline-test-XXXXXX.jsonl";
    int fd = mkstemps(path, 6);
    assert_true(fd >= 0);
    close(fd);
    history_writer *w = NULL;
    fl_error err = {0};
    assert_int_equal(history_writer_open(path, &w, &err), FL_OK);
    pthread_t threads[THREADS];
    recorder_arg args[THREADS];
    for (int t = 0; t < THREADS; t++) {
        args[t] = (recorder_arg){w, t};
        pthread_create(&threads[t], NULL, record_ops, &args[t]);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    json_t *err_value = json_string("timeout");
    int64_t idx = -1;
    assert_int_equal(history_writer_record(w, HISTORY_NEMESIS, HISTORY_INFO,
                                           "kill", NULL, NULL, err_value, &idx,
                                           &err),
                     FL_OK);
    json_decref(err_value);
    assert_int_equal(idx, THREADS * PER_THREAD * 2);
    assert_int_equal(history_writer_close(w, &err), FL_OK);

    history *h = NULL;
    assert_int_equal(history_read_file(path, HISTORY_FORMAT_UNKNOWN, &h, &err),
                     FL_OK);
    assert_int_equal(history_len(h), THREADS * PER_THREAD * 2 + 1);
    assert_int_equal(history_pending(h), 0);
    const history_event *e = history_events(h);
    for (size_t i = 0; i < history_len(h); i++) {
        assert_int_equal(e[i].index, (int64_t)i);
        assert_true(e[i].time >= 0);
        if (i > 0)
            assert_true(e[i].time >= e[i - 1].time);  /* stamped under the lock */
    }
    assert_string_equal(json_string_value(history_value(h, e[history_len(h) - 1].error)),
                        "timeout");
    history_free(h);
    unlink(path);
}

/* A recorder killed with SIGKILL mid-test leaves a readable history. */
static void test_writer_killed_leaves_readable_prefix(void **state)
{
    (void)state;
    char path[] = "/tmp/faultline-kill-XXXXXX.jsonl";
    int fd = mkstemps(path, 6);
    assert_true(fd >= 0);
    close(fd);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        history_writer *w = NULL;
        if (history_writer_open(path, &w, NULL) != FL_OK)
            _exit(1);
        json_t *v = json_string("a value long enough to make lines of some size");
        for (long i = 0;; i++) {
            history_writer_record(w, i % 7, HISTORY_INVOKE, "write", NULL, v,
                                  NULL, NULL, NULL);
            if (i == 1000 && write(ready[1], "x", 1) != 1)
                _exit(1);
            history_writer_record(w, i % 7, HISTORY_OK, "write", NULL, v, NULL,
                                  NULL, NULL);
        }
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    close(ready[0]);
    close(ready[1]);

    history *h = NULL;
    fl_error err = {0};
    if (history_read_file(path, HISTORY_FORMAT_UNKNOWN, &h, &err) != FL_OK)
        fail_msg("%s", err.msg);
    assert_true(history_len(h) >= 2001);
    assert_true(history_pending(h) <= 1);
    history_free(h);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairing),
        cmocka_unit_test(test_interning_is_structural),
        cmocka_unit_test(test_append_rejects_without_changing),
        cmocka_unit_test(test_fast_path_takes_recorder_lines),
        cmocka_unit_test(test_fast_path_matches_jansson),
        cmocka_unit_test(test_mixed_key_types_distinct_on_fast_path),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_bad_type),
        cmocka_unit_test(test_completion_without_invocation),
        cmocka_unit_test(test_busy_process),
        cmocka_unit_test(test_wrong_field_types),
        cmocka_unit_test(test_truncated_final_line_is_dropped),
        cmocka_unit_test(test_garbage_final_line_is_an_error),
        cmocka_unit_test(test_every_cut_of_a_line_is_dropped),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_time_backwards_one_warning),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_corpus_jsonl_roundtrip),
        cmocka_unit_test(test_subset_keeps_completions),
        cmocka_unit_test(test_writer_concurrent),
        cmocka_unit_test(test_writer_killed_leaves_readable_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
