/*
 * Tests of the parallel JSONL reader (history/history_jsonl_par.c): cut
 * anywhere, into any number of chunks, it must give exactly what the
 * one-thread reader gives — the same events (pool ids, pairs), values,
 * names and warnings, or the same error for the same line. The chunk
 * edges are where it can go wrong: a cut at a line's very start or end,
 * an invocation and its completion on either side, errors on both sides
 * (the first line's wins), CRLF line ends, time going backwards across
 * the edge, a truncated final line in the last chunk. Then a real file
 * large enough for history_read_jsonl to go parallel on its own, checked
 * both ways to the same verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkers/lin_model.h"
#include "checkers/linearizable.h"
#include "history/history.h"
#include "history/history_internal.h"
#include "history/history_jsonl_par.h"

/* ---- helpers -------------------------------------------------------------- */

typedef struct reading {
    int rc;
    history *h;
    fl_error err;
} reading;

static reading read_one_thread(const char *text, size_t len)
{
    reading r = {0};
    FILE *f = fmemopen((void *)text, len ? len : 1, "r");
    assert_non_null(f);
    if (len == 0)
        fgetc(f); /* fmemopen wants a byte; leave none unread */
    r.rc = history_read_jsonl_with(f, "mem.jsonl", true, &r.h, &r.err);
    fclose(f);
    return r;
}

static reading read_cuts(const char *text, size_t len, const size_t *cuts,
                         size_t ncuts)
{
    reading r = {0};
    r.rc = history_read_jsonl_split(text, len, "mem.jsonl", cuts, ncuts, &r.h,
                                    &r.err);
    return r;
}

static void same_histories(const history *a, const history *b)
{
    assert_int_equal(history_len(a), history_len(b));
    assert_int_equal(history_value_count(a), history_value_count(b));
    assert_int_equal(history_name_count(a), history_name_count(b));
    assert_int_equal(history_pending(a), history_pending(b));
    assert_int_equal(history_warning_count(a), history_warning_count(b));
    if (history_len(a) > 0)
        assert_memory_equal(history_events(a), history_events(b),
                            history_len(a) * sizeof(history_event));
    for (size_t i = 0; i < history_value_count(a); i++) {
        const json_t *va = history_value(a, (uint32_t)i);
        const json_t *vb = history_value(b, (uint32_t)i);
        assert_true(json_equal(va, vb));
        assert_int_equal(json_typeof(va), json_typeof(vb));
    }
    for (size_t i = 0; i < history_name_count(a); i++)
        assert_string_equal(history_name(a, (uint32_t)i),
                            history_name(b, (uint32_t)i));
    for (size_t i = 0; i < history_warning_count(a); i++)
        assert_string_equal(history_warning(a, i), history_warning(b, i));
}

static void same_readings(const reading *want, const reading *got)
{
    if (want->rc != got->rc || strcmp(want->err.msg, got->err.msg) != 0)
        fail_msg("one thread: rc %d \"%s\"; chunks: rc %d \"%s\"", want->rc,
                 want->err.msg, got->rc, got->err.msg);
    if (want->rc == FL_OK)
        same_histories(want->h, got->h);
    else
        assert_null(got->h);
}

/* text read in chunks at cuts[] gives what one thread gives; returns the
 * chunks' reading (the caller frees its history). */
static reading expect_same(const char *text, const size_t *cuts, size_t ncuts)
{
    size_t len = strlen(text);
    reading want = read_one_thread(text, len);
    reading got = read_cuts(text, len, cuts, ncuts);
    same_readings(&want, &got);
    history_free(want.h);
    return got;
}

static void expect_error(const char *text, const size_t *cuts, size_t ncuts,
                         const char *prefix)
{
    reading got = expect_same(text, cuts, ncuts);
    if (got.rc != FL_EDATA || strncmp(got.err.msg, prefix, strlen(prefix)))
        fail_msg("wanted an error beginning \"%s\", got rc %d \"%s\"", prefix,
                 got.rc, got.err.msg);
}

/* Where the n-th line (from 1) of text begins. */
static size_t line_offset(const char *text, int n)
{
    const char *p = text;
    for (int i = 1; i < n; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    return (size_t)(p - text);
}

/* A history in the recorder's shape and a few others: clients that retire
 * at info, a nemesis, keys of both types, cas values, blank lines, a line
 * for jansson (an escape), times that go backwards twice. */
static char *sample(int ops)
{
    size_t cap = (size_t)ops * 256 + 1024, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    int64_t proc[4] = {0, 1, 2, 3}, next = 4, t = 0;
    for (int i = 0; i < ops; i++) {
        int slot = i % 4;
        const char *f = i % 3 == 0 ? "read" : i % 3 == 1 ? "write" : "cas";
        char key[32], in[64], out[64];
        snprintf(key, sizeof key, i % 5 ? "%d" : "\"k%d\"", i % 7);
        if (i % 3 == 0)
            snprintf(in, sizeof in, "null");
        else if (i % 3 == 1)
            snprintf(in, sizeof in, "%d", i);
        else
            snprintf(in, sizeof in, "[%d,%d]", i, i + 1);
        if (i % 3 == 0)
            snprintf(out, sizeof out, "%d", i - 1);
        else
            snprintf(out, sizeof out, "%s", in);
        const char *done = i % 6 == 5 ? "info" : i % 11 == 3 ? "fail" : "ok";
        t += i % 17 == 9 ? -5000 : 1000; /* each client stamps its own */
        len += (size_t)snprintf(
            s + len, cap - len,
            "{\"index\":%d,\"time\":%lld,\"process\":%lld,\"type\":\"invoke\","
            "\"f\":\"%s\",\"key\":%s,\"value\":%s}\n",
            2 * i, (long long)t, (long long)proc[slot], f, key, in);
        if (i % 9 == 4)
            len += (size_t)snprintf(s + len, cap - len,
                                    "{\"process\":\"nemesis\",\"type\":\"info\","
                                    "\"f\":\"start\",\"value\":\"\\u0041ll\"}\n"
                                    "\n");
        len += (size_t)snprintf(
            s + len, cap - len,
            "{\"index\":%d,\"time\":%lld,\"process\":%lld,\"type\":\"%s\","
            "\"f\":\"%s\",\"key\":%s,\"value\":%s}\n",
            2 * i + 1, (long long)t + 500, (long long)proc[slot], done, f, key,
            out);
        if (strcmp(done, "info") == 0)
            proc[slot] = next++;
    }
    return s;
}

/* ---- cuts ------------------------------------------------------------------ */

/* One cut and two, at every byte of a small history. */
static void test_every_cut(void **state)
{
    (void)state;
    char *text = sample(12);
    size_t len = strlen(text);
    for (size_t a = 0; a <= len; a++) {
        history_free(expect_same(text, &a, 1).h);
        size_t two[2] = {a, len - a / 2};
        if (two[1] >= a)
            history_free(expect_same(text, two, 2).h);
    }
    free(text);
}

/* A cut at a line's first byte keeps it whole in the next chunk; one at
 * its newline (its last byte) moves past it: either way the invocation on
 * line 1 pairs with its completion on line 3. */
static void test_cut_at_line_edges(void **state)
{
    (void)state;
    const char *text =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":1}\n";
    size_t line2 = line_offset(text, 2), line3 = line_offset(text, 3);
    size_t cuts[][2] = {{line2, line3}, {line2 - 1, line3 - 1},
                        {line2 + 1, line3 + 1}, {0, line2}, {line3, line3},
                        {strlen(text), strlen(text)}};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        reading got = expect_same(text, cuts[i], 2);
        assert_int_equal(got.rc, FL_OK);
        assert_int_equal(history_len(got.h), 4);
        assert_int_equal(history_events(got.h)[0].pair, 2);
        assert_int_equal(history_events(got.h)[1].pair, 3);
        assert_int_equal(history_events(got.h)[2].index, 2);
        assert_int_equal(history_pending(got.h), 0);
        history_free(got.h);
    }
}

static void test_empty_and_blank(void **state)
{
    (void)state;
    size_t cuts[3] = {0, 0, 1};
    history_free(expect_same("", cuts, 3).h);
    history_free(expect_same("\n\n  \n", cuts, 3).h);
    reading got = read_cuts("", 0, cuts, 3);
    assert_int_equal(got.rc, FL_OK);
    assert_int_equal(history_len(got.h), 0);
    history_free(got.h);
}

/* ---- errors ------------------------------------------------------------------ */

/* Errors in chunks 1 and 2: chunk 1's line is reported, whichever thread
 * finishes first; an error in chunk 2 alone names its line in the file. */
static void test_first_error_wins(void **state)
{
    (void)state;
    const char *both =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n"
        "{\"process\":0,\"type\":\"bogus\",\"f\":\"read\"}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n"
        "hello\n";
    size_t cut = line_offset(both, 3);
    expect_error(both, &cut, 1, "mem.jsonl:2: field \"type\": unknown type");
    const char *second =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n"
        "\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"f\":1}\n";
    size_t cuts[2] = {line_offset(second, 3), line_offset(second, 4)};
    expect_error(second, cuts, 2, "mem.jsonl:5: duplicate object key");
}

/* Pairing is checked at the merge: a completion in chunk 2 with no
 * invocation is reported at its line, before a later parse error in the
 * same chunk, but after an earlier one. */
static void test_pairing_errors_in_later_chunks(void **state)
{
    (void)state;
    const char *orphan =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\n"
        "{\"process\":0,\"type\":\"nope\",\"f\":\"read\"}\n";
    size_t cut = line_offset(orphan, 2);
    expect_error(orphan, &cut, 1, "mem.jsonl:3: field \"type\": \"ok\" "
                                  "completion of \"read\" by process 0");
    const char *parse_first =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\n"
        "[1]\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\n";
    expect_error(parse_first, &cut, 1,
                 "mem.jsonl:3: expected a JSON object per line");
    const char *busy =
        "{\"process\":7,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n"
        "{\"process\":7,\"type\":\"invoke\",\"f\":\"read\"}\n";
    cut = line_offset(busy, 2);
    expect_error(busy, &cut, 1, "mem.jsonl:2: field \"process\": process 7 "
                                "invoked \"read\" while its \"write\" (index "
                                "0) was still in flight");
}

/* CRLF line ends, cut between the \r and the \n and just after. */
static void test_crlf(void **state)
{
    (void)state;
    const char *text =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\r\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\r\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\r\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":1}\r\n";
    size_t line2 = line_offset(text, 2);
    size_t cuts[][1] = {{line2 - 1}, {line2}, {line2 - 2}};
    for (size_t i = 0; i < 3; i++) {
        reading got = expect_same(text, cuts[i], 1);
        assert_int_equal(got.rc, FL_OK);
        assert_int_equal(history_len(got.h), 4);
        history_free(got.h);
    }
    const char *bad = "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\r\n"
                      "{\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\r\n"
                      "{\"process\":0\r\n";
    size_t cut = line_offset(bad, 2);
    expect_error(bad, &cut, 1, "mem.jsonl:3: malformed JSON");
}

/* A cut-off final line in the last chunk is dropped with the warning the
 * one-thread reader gives, naming its line in the file; a final line that
 * is garbage is an error there. */
static void test_truncated_final_line(void **state)
{
    (void)state;
    const char *cut_off =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"re";
    size_t cuts[2] = {line_offset(cut_off, 2), line_offset(cut_off, 3)};
    reading got = expect_same(cut_off, cuts, 2);
    assert_int_equal(got.rc, FL_OK);
    assert_int_equal(history_warning_count(got.h), 1);
    assert_non_null(strstr(history_warning(got.h, 0), "mem.jsonl:4: dropped a "
                                                      "truncated final line"));
    assert_int_equal(history_pending(got.h), 1);
    history_free(got.h);
    const char *garbage = "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n"
                          "\n"
                          "hello";
    size_t cut = line_offset(garbage, 2);
    expect_error(garbage, &cut, 1, "mem.jsonl:3: malformed JSON");
}

/* Time going backwards across the edge (the first event of chunk 2 is
 * older than the last of chunk 1) is counted once, at its line. */
static void test_time_backwards_at_the_edge(void **state)
{
    (void)state;
    const char *text =
        "{\"time\":10,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n"
        "{\"time\":20,\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\n"
        "{\"time\":15,\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n"
        "{\"time\":12,\"process\":1,\"type\":\"ok\",\"f\":\"read\"}\n";
    size_t cut = line_offset(text, 3);
    reading got = expect_same(text, &cut, 1);
    assert_int_equal(got.rc, FL_OK);
    assert_int_equal(history_warning_count(got.h), 1);
    assert_non_null(strstr(history_warning(got.h, 0),
                           "mem.jsonl:3: 2 events with a time earlier"));
    history_free(got.h);
}

/* ---- a real file: history_read_jsonl goes parallel by itself ---------------- */

static char *write_big(char *path)
{
    char *text = sample(1);
    size_t one = strlen(text);
    free(text);
    text = sample((int)(HISTORY_PAR_MIN_BYTES / 2 / one));
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    /* a line longer than a read block, then more short ones */
    fputs("{\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"log\",\"value\":\"",
          f);
    for (int i = 0; i < (3 << 20) / 64; i++)
        fputs("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
              f);
    fputs("\"}\n", f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* path from byte skip on `threads` threads (0: as history_read_jsonl
 * chooses, 1: the one-thread reader). */
static reading read_path(const char *path, int threads, long skip)
{
    reading r = {0};
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fseek(f, skip, SEEK_SET), 0);
    if (threads == 0)
        r.rc = history_read_jsonl(f, "big.jsonl", &r.h, &r.err);
    else if (threads == 1)
        r.rc = history_read_jsonl_with(f, "big.jsonl", true, &r.h, &r.err);
    else
        r.rc = history_read_jsonl_parallel(f, "big.jsonl", threads, &r.h,
                                           &r.err);
    assert_int_not_equal(r.rc, HISTORY_PAR_DECLINED);
    assert_int_equal(fgetc(f), EOF); /* each leaves the file at its end */
    fclose(f);
    return r;
}

/* The verdict as JSON, timings left out. */
static char *verdict_json(const history *h)
{
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.threads = 1;
    lin_result *r = NULL;
    fl_error err = {0};
    assert_int_equal(lin_check(h, &opt, &r, &err), FL_OK);
    json_t *o = lin_result_to_json(r, h);
    json_object_del(o, "elapsed_ms");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(o, "per_key"), k, v)
        json_object_del(v, "ms");
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    lin_result_free(r);
    return s;
}

static void test_big_file_same_both_ways(void **state)
{
    (void)state;
    char path[] = "/tmp/test_history_par-XXXXXX";
    char *text = write_big(path);
    reading one = read_path(path, 1, 0);
    assert_int_equal(one.rc, FL_OK);
    assert_int_equal(history_warning_count(one.h), 1); /* times backwards */
    char *want = verdict_json(one.h);
    for (int threads = 0; threads <= 3; threads += threads ? 1 : 2) {
        reading many = read_path(path, threads, 0);
        same_readings(&one, &many);
        char *got = verdict_json(many.h);
        assert_string_equal(want, got);
        free(got);
        history_free(many.h);
    }
    free(want);
    history_free(one.h);
    /* from where the stream already is: the start of line 3 */
    long skip = (long)line_offset(text, 3);
    one = read_path(path, 1, skip);
    reading many = read_path(path, 2, skip);
    same_readings(&one, &many);
    history_free(one.h);
    history_free(many.h);
    free(text);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_cut),
        cmocka_unit_test(test_cut_at_line_edges),
        cmocka_unit_test(test_empty_and_blank),
        cmocka_unit_test(test_first_error_wins),
        cmocka_unit_test(test_pairing_errors_in_later_chunks),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_truncated_final_line),
        cmocka_unit_test(test_time_backwards_at_the_edge),
        cmocka_unit_test(test_big_file_same_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
