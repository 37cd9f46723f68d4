/*
 * Tests of the EDN module (every construct, every class of bad input, the
 * writer) and of history_read_edn/history_write_edn: both Jepsen shapes,
 * independent tuples, killed writers, bad fields, and round trips of the
 * shared corpus through EDN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/edn.h"
#include "history/history.h"

/* ---- helpers -------------------------------------------------------------- */

/* Parsing text must give the JSON value written as json. */
static void parse_ok(const char *text, const char *json)
{
    json_t *got = NULL;
    fl_error err = {0};
    if (edn_parse(text, strlen(text), "mem.edn", &got, &err) != FL_OK)
        fail_msg("parsing %s: %s", text, err.msg);
    json_t *want = json_loads(json, JSON_DECODE_ANY, NULL);
    assert_non_null(want);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_ENCODE_ANY);
        fail_msg("parsing %s: got %s, wanted %s", text, g, json);
    }
    json_decref(got);
    json_decref(want);
}

/* Parsing text must fail with FL_EDATA and a message holding both
 * fragments. */
static void parse_bad(const char *text, const char *frag1, const char *frag2)
{
    json_t *got = NULL;
    fl_error err = {0};
    int rc = edn_parse(text, strlen(text), "mem.edn", &got, &err);
    if (rc != FL_EDATA || !strstr(err.msg, frag1) || !strstr(err.msg, frag2))
        fail_msg("input:\n%s\ngot rc=%d msg=\"%s\", wanted 65 with \"%s\" and "
                 "\"%s\"",
                 text, rc, err.msg, frag1, frag2);
    assert_null(got);
}

static int read_hist(const char *text, history_edn_keys keys, history **out,
                     fl_error *err)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    int rc = history_read_edn(f, "h.edn", keys, out, err);
    fclose(f);
    return rc;
}

static history *read_hist_ok(const char *text, history_edn_keys keys)
{
    history *h = NULL;
    fl_error err = {0};
    if (read_hist(text, keys, &h, &err) != FL_OK)
        fail_msg("%s", err.msg);
    return h;
}

static void hist_bad(const char *text, const char *frag1, const char *frag2)
{
    history *h = NULL;
    fl_error err = {0};
    int rc = read_hist(text, HISTORY_EDN_KEYS_AUTO, &h, &err);
    if (rc != FL_EDATA || !strstr(err.msg, frag1) || !strstr(err.msg, frag2))
        fail_msg("input:\n%s\ngot rc=%d msg=\"%s\", wanted 65 with \"%s\" and "
                 "\"%s\"",
                 text, rc, err.msg, frag1, frag2);
    assert_null(h);
}

/* EDN text of v. Caller frees. */
static char *edn_text(const json_t *v)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    fl_error err = {0};
    assert_int_equal(edn_write(mem, v, &err), FL_OK);
    fclose(mem);
    return buf;
}

static const char *shared_dir(void)
{
    const char *s = getenv("SHARED");
    return s ? s : "../shared";
}

/* ---- the parser ------------------------------------------------------------- */

static void test_scalars(void **state)
{
    (void)state;
    parse_ok("nil", "null");
    parse_ok("true", "true");
    parse_ok("false", "false");
    parse_ok("42", "42");
    parse_ok("-7", "-7");
    parse_ok("+3", "3");
    parse_ok("0", "0");
    parse_ok("42N", "42");
    parse_ok("9223372036854775807", "9223372036854775807");
    parse_ok("-9223372036854775808", "-9223372036854775808");
    parse_ok("1.5", "1.5");
    parse_ok("-2.5e3", "-2500.0");
    parse_ok("1E-2", "0.01");
    parse_ok("1e3", "1000.0");
    parse_ok("2.5M", "2.5");
    parse_ok("7M", "7.0");
    parse_ok("\"plain\"", "\"plain\"");
    parse_ok("\"\"", "\"\"");
    parse_ok("[\"\" \"\"]", "[\"\",\"\"]");
    parse_ok("\"q\\\" b\\\\ n\\n t\\t r\\r \\u00e9 \\ud83d\\ude00\"",
             "\"q\\\" b\\\\ n\\n t\\t r\\r \\u00e9 \\ud83d\\ude00\"");
    parse_ok("\"multi\nline\"", "\"multi\\nline\"");
    parse_ok("\"raw é\"", "\"raw \\u00e9\"");
    parse_ok("\\a", "\"a\"");
    parse_ok("\\newline", "\"\\n\"");
    parse_ok("\\space", "\" \"");
    parse_ok("\\tab", "\"\\t\"");
    parse_ok("\\u00e9", "\"\\u00e9\"");
    parse_ok("\\é", "\"\\u00e9\"");
    parse_ok(":foo", "\"foo\"");
    parse_ok(":foo/bar", "\"foo/bar\"");
    parse_ok(":start-partition!", "\"start-partition!\"");
    parse_ok("foo", "\"foo\"");
    parse_ok("ns/sym", "\"ns/sym\"");
    parse_ok("-", "\"-\"");
    parse_ok("#inst \"2024-04-01T12:00:00.000-00:00\"",
             "\"2024-04-01T12:00:00.000-00:00\"");
    parse_ok("#uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\"",
             "\"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\"");
    parse_ok("#my.app/tag [1 2]", "[1,2]");
}

static void test_collections(void **state)
{
    (void)state;
    parse_ok("[]", "[]");
    parse_ok("[1 (2 3) #{4} {}]", "[1,[2,3],[4],{}]");
    parse_ok("[1,2,,3]", "[1,2,3]");
    parse_ok("{:a 1, \"b\" 2, 3 :c, [1 \"x\"] nil, nil 1, :ns/k 0}",
             "{\"a\":1,\"b\":2,\"3\":\"c\",\"[1 \\\"x\\\"]\":null,"
             "\"nil\":1,\"ns/k\":0}");
    parse_ok("; a comment\n[1 ; another\n 2] ; trailing", "[1,2]");
    parse_ok("[1 #_ 2 3]", "[1,3]");
    parse_ok("[1 #_ #_ 2 3 4]", "[1,4]");
    parse_ok("[1 #_ [nested {:x 1}] 2]", "[1,2]");
    parse_ok("#_ :dropped 5", "5");
    parse_ok("{:a #_ :b 1}", "{\"a\":1}");
    parse_ok("[\\a\\b]", "[\"a\",\"b\"]");
    parse_ok("[:a:b]", "[\"a:b\"]");
    parse_ok("{:value #{[0 1]}}", "{\"value\":[[0,1]]}");
    parse_ok("#jepsen.history.Op{:index 0, :f :read}",
             "{\"index\":0,\"f\":\"read\"}");
    /* nesting up to the cap is fine */
    char deep[2 * EDN_MAX_DEPTH + 1];
    memset(deep, '[', EDN_MAX_DEPTH);
    memset(deep + EDN_MAX_DEPTH, ']', EDN_MAX_DEPTH);
    deep[2 * EDN_MAX_DEPTH] = '\0';
    json_t *v = NULL;
    fl_error err = {0};
    assert_int_equal(edn_parse(deep, strlen(deep), "d", &v, &err), FL_OK);
    json_decref(v);
}

static void test_bad_input(void **state)
{
    (void)state;
    parse_bad("\n\n  \"abc", "mem.edn:3:", "end of input inside the string "
                                           "opened at line 3, column 3");
    parse_bad("[1\n 2", "mem.edn:2:", "expected ] to close the vector opened "
                                      "at line 1, column 1");
    parse_bad("{:a 1\n", "mem.edn:2:", "expected } to close the map");
    parse_bad("(1 2", "mem.edn:1:", "expected ) to close the list");
    parse_bad("\n\"a\\qb\"", "mem.edn:2:4:", "bad escape \\q");
    parse_bad("\"\\u12x4\"", "mem.edn:1:", "expected 4 hex digits");
    parse_bad("\"\\udc00\"", "mem.edn:1:", "lone surrogate");
    parse_bad("[1 2]]", "mem.edn:1:6:", "unexpected ]: nothing to close");
    parse_bad("[1\n 2}", "mem.edn:2:3:", "unexpected }: expected ]");
    parse_bad("\n\n{:a 1 :b}", "mem.edn:3:9:", "odd number of forms");
    parse_bad("{:a 1 :a 2}", "mem.edn:1:", "duplicate map key a");
    parse_bad("{:a 1 \"a\" 2}", "mem.edn:1:", "duplicate map key a");
    parse_bad("{\"a\\u0000b\" 1}", "mem.edn:1:", "map key contains a NUL");
    parse_bad("12x", "mem.edn:1:", "bad number 12x");
    parse_bad("\n1.5N", "mem.edn:2:", "bad number 1.5N");
    parse_bad("007", "mem.edn:1:", "leading zero");
    parse_bad("1e", "mem.edn:1:", "exponent without digits");
    parse_bad("1/2", "mem.edn:1:", "bad number 1/2");
    parse_bad("99999999999999999999", "mem.edn:1:", "does not fit in 64 bits");
    parse_bad("99999999999999999999N", "mem.edn:1:", "does not fit");
    parse_bad("1e999", "mem.edn:1:", "out of range");
    parse_bad("##Inf", "mem.edn:1:", "no JSON equivalent");
    parse_bad("#", "mem.edn:1:", "end of input");
    parse_bad("#!x", "mem.edn:1:", "unknown dispatch #!");
    parse_bad("[#_]", "mem.edn:1:", "#_ must be followed by a form");
    parse_bad("[#inst]", "mem.edn:1:", "#inst must be followed by a form");
    parse_bad("\\bogus", "mem.edn:1:", "unknown character literal \\bogus");
    parse_bad(":", "mem.edn:1:", "a keyword needs a name");
    parse_bad("::auto", "mem.edn:1:", "auto-resolved");
    parse_bad("\"\xff\"", "mem.edn:1:", "not valid UTF-8");
    parse_bad("[1 \x01]", "mem.edn:1:4:", "unexpected byte 0x01");
    parse_bad("'quoted", "mem.edn:1:1:", "unexpected '");
    parse_bad("1 2", "mem.edn:1:", "expected end of input");
    parse_bad("   ", "mem.edn:1:", "expected a form");
    parse_bad("", "mem.edn:1:1:", "expected a form");

    char deep[EDN_MAX_DEPTH + 2];
    memset(deep, '[', EDN_MAX_DEPTH + 1);
    deep[EDN_MAX_DEPTH + 1] = '\0';
    parse_bad(deep, "mem.edn:1:257:", "nested deeper than 256 levels");
    char tags[3 * EDN_MAX_DEPTH + 8];
    tags[0] = '\0';
    for (int i = 0; i <= EDN_MAX_DEPTH; i++)
        strcat(tags, "#t ");
    strcat(tags, "1");
    parse_bad(tags, "mem.edn:1:", "nested deeper");
}

static void test_truncated_flag(void **state)
{
    (void)state;
    static const struct { const char *text; bool truncated; } cases[] = {
        {"[1 2", true}, {"{:a \"b", true}, {"{:a", true}, {"#inst", true},
        {"[1 2}", false}, {"\"\\q\"", false}, {"12x", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = fmemopen((void *)cases[i].text, strlen(cases[i].text), "r");
        edn_reader *r = edn_reader_new(f, "t.edn");
        json_t *v;
        fl_error err = {0};
        assert_int_equal(edn_read(r, &v, &err), FL_EDATA);
        if (edn_reader_truncated(r) != cases[i].truncated)
            fail_msg("%s: truncated should be %d (%s)", cases[i].text,
                     cases[i].truncated, err.msg);
        edn_reader_free(r);
        fclose(f);
    }
}

static void test_stream_lines_and_keywords(void **state)
{
    (void)state;
    const char *text = "1\n\n{:type :invoke, :f \"read\", :v [:x \"y\"]}\n"
                       "  [2 3] 4\n";
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    edn_reader *r = edn_reader_new(f, "s.edn");
    json_t *v;
    fl_error err = {0};
    assert_int_equal(edn_read(r, &v, &err), FL_OK);
    assert_int_equal(json_integer_value(v), 1);
    assert_int_equal(edn_reader_line(r), 1);
    json_decref(v);

    assert_int_equal(edn_read(r, &v, &err), FL_OK);
    assert_int_equal(edn_reader_line(r), 3);
    assert_true(edn_is_keyword(r, json_object_get(v, "type")));
    assert_false(edn_is_keyword(r, json_object_get(v, "f")));
    json_t *vec = json_object_get(v, "v");
    assert_true(edn_is_keyword(r, json_array_get(vec, 0)));
    assert_false(edn_is_keyword(r, json_array_get(vec, 1)));
    json_decref(v);

    bool entered;
    assert_int_equal(edn_reader_enter(r, &entered, &err), FL_OK);
    assert_true(entered);
    assert_int_equal(edn_reader_enter(r, &entered, &err), FL_EUSAGE);
    assert_int_equal(edn_read(r, &v, &err), FL_OK);
    assert_int_equal(json_integer_value(v), 2);
    assert_int_equal(edn_reader_line(r), 4);
    json_decref(v);
    assert_int_equal(edn_read(r, &v, &err), FL_OK);
    assert_int_equal(json_integer_value(v), 3);
    json_decref(v);
    assert_int_equal(edn_read(r, &v, &err), FL_OK);
    assert_null(v);       /* the closing ] */
    assert_int_equal(edn_reader_enter(r, &entered, &err), FL_OK);
    assert_false(entered); /* 4 is not a sequence */
    assert_int_equal(edn_read(r, &v, &err), FL_OK);
    assert_int_equal(json_integer_value(v), 4);
    json_decref(v);
    assert_int_equal(edn_read(r, &v, &err), FL_OK);
    assert_null(v);
    edn_reader_free(r);
    fclose(f);
}

/* ---- the writer --------------------------------------------------------------- */

static void test_writer(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"a\":1,\"b c\":[1.0,\"x\\\"y\\\\\\n\",null,true,false],"
                           "\"0k\":2.5,\"ns/k\":\"\\t\\u0001\",\"n\":{\"k\":-2}}",
                           0, NULL);
    assert_non_null(v);
    char *text = edn_text(v);
    assert_string_equal(text, "{:a 1, \"b c\" [1.0 \"x\\\"y\\\\\\n\" nil true false], "
                              "\"0k\" 2.5, :ns/k \"\\t\\u0001\", :n {:k -2}}");
    json_t *back = NULL;
    fl_error err = {0};
    assert_int_equal(edn_parse(text, strlen(text), "w", &back, &err), FL_OK);
    assert_true(json_equal(v, back));
    json_decref(back);
    json_decref(v);
    free(text);

    /* a NUL inside a string survives */
    json_t *nul = json_stringn("a\0b", 3);
    text = edn_text(nul);
    assert_string_equal(text, "\"a\\u0000b\"");
    assert_int_equal(edn_parse(text, strlen(text), "w", &back, &err), FL_OK);
    assert_true(json_equal(nul, back));
    json_decref(back);
    json_decref(nul);
    free(text);
}

static void test_reals_read_back_identically(void **state)
{
    (void)state;
    static const double cases[] = {0.1, 1.0, -0.0, 1e300, 5e-324, 1e21,
                                   123456789.123456789, 2.0 / 3.0, -1e-7};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = json_real(cases[i]);
        char *text = edn_text(v);
        json_t *back = NULL;
        fl_error err = {0};
        assert_int_equal(edn_parse(text, strlen(text), "r", &back, &err), FL_OK);
        assert_true(json_is_real(back));
        if (memcmp(&cases[i], &(double){json_real_value(back)},
                   sizeof(double)) != 0)
            fail_msg("%.17g wrote as %s and read back as %.17g", cases[i], text,
                     json_real_value(back));
        json_decref(v);
        json_decref(back);
        free(text);
    }
}

static void test_keyword_names(void **state)
{
    (void)state;
    static const char *const ok[] = {"read", "cas", "start-partition", "a/b",
                                     "ok?", "x.y", "-", "+a", "_"};
    static const char *const no[] = {"", "0", "0k", "-1", "a b", "a/", "/a",
                                     "a/b/c", "é", ":a", "a\"", "a,b", "#a"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!edn_keyword_name_ok(ok[i], strlen(ok[i])))
            fail_msg("%s should be a keyword", ok[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (edn_keyword_name_ok(no[i], strlen(no[i])))
            fail_msg("\"%s\" should not be a keyword", no[i]);
}

/* ---- history_read_edn ------------------------------------------------------- */

/* A Jepsen independent register test: nemesis events, :info ops, errors. */
static const char jepsen_sample[] =
    "[{:type :invoke, :f :read, :value [0 nil], :process 0, :time 1000, :index 0}\n"
    " {:type :invoke, :f :write, :value [1 3], :process 1, :time 1100, :index 1}\n"
    " {:type :info, :f :start, :value nil, :process :nemesis, :time 1200, :index 2}\n"
    " {:type :ok, :f :read, :value [0 2], :process 0, :time 1300, :index 3}\n"
    " {:type :info, :f :write, :value [1 3], :process 1, :time 1400, :index 4, :error :timeout}\n"
    " {:type :info, :f :start, :value {:isolated {\"n1\" #{\"n2\" \"n3\"}}}, :process :nemesis, :time 1500, :index 5}\n"
    " {:type :invoke, :f :cas, :value [1 [3 4]], :process 6, :time 1600, :index 6}\n"
    " {:type :fail, :f :cas, :value [1 [3 4]], :process 6, :time 1700, :index 7, :error [:cas-failed \"x\"]}\n"
    " {:type :info, :f :stop, :value :network-healed, :process :nemesis, :time 1800, :index 8}]\n";

static void assert_value(const history *h, uint32_t id, const char *json)
{
    json_t *want = json_loads(json, JSON_DECODE_ANY, NULL);
    assert_non_null(want);
    if (!json_equal(history_value(h, id), want)) {
        char *got = json_dumps(history_value(h, id), JSON_ENCODE_ANY);
        fail_msg("got %s, wanted %s", got, json);
    }
    json_decref(want);
}

static void test_jepsen_sample_keys(void **state)
{
    (void)state;
    for (int mode = HISTORY_EDN_KEYS_AUTO; mode <= HISTORY_EDN_KEYS_YES; mode++) {
        history *h = read_hist_ok(jepsen_sample, (history_edn_keys)mode);
        const history_event *e = history_events(h);
        assert_int_equal(history_len(h), 9);
        assert_int_equal(e[0].time, 1000);
        assert_int_equal(e[0].process, 0);
        assert_value(h, e[0].key, "0");
        assert_value(h, e[0].value, "null");
        assert_value(h, e[3].value, "2");
        assert_int_equal(e[0].pair, 3);
        assert_int_equal(e[2].process, HISTORY_NEMESIS);
        assert_int_equal(e[2].type, HISTORY_INFO);
        assert_int_equal(e[2].key, HISTORY_NONE);
        assert_string_equal(history_name(h, e[2].f), "start");
        assert_value(h, e[5].value, "{\"isolated\":{\"n1\":[\"n2\",\"n3\"]}}");
        assert_value(h, e[4].error, "\"timeout\"");
        assert_int_equal(e[4].type, HISTORY_INFO);
        assert_int_equal(e[4].pair, 1);
        assert_value(h, e[6].key, "1");
        assert_value(h, e[6].value, "[3,4]");
        assert_value(h, e[7].error, "[\"cas-failed\",\"x\"]");
        assert_value(h, e[8].value, "\"network-healed\"");
        assert_int_equal(history_pending(h), 0);
        assert_int_equal(history_warning_count(h), 0);
        history_free(h);
    }
    history *h = read_hist_ok(jepsen_sample, HISTORY_EDN_KEYS_NO);
    const history_event *e = history_events(h);
    assert_int_equal(e[0].key, HISTORY_NONE);
    assert_value(h, e[0].value, "[0,null]");
    assert_value(h, e[6].value, "[1,[3,4]]");
    history_free(h);
}

static void test_keys_auto_needs_every_client_tuple(void **state)
{
    (void)state;
    /* an etcd cas-register history: cas values are pairs, reads are nil */
    const char *text =
        "{:type :invoke, :f :cas, :value [1 2], :process 0}\n"
        "{:type :ok, :f :cas, :value [1 2], :process 0}\n"
        "{:type :invoke, :f :read, :value nil, :process 1}\n"
        "{:type :ok, :f :read, :value 2, :process 1}\n";
    history *h = read_hist_ok(text, HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_events(h)[0].key, HISTORY_NONE);
    assert_value(h, history_events(h)[0].value, "[1,2]");
    history_free(h);
    /* keyword and string keys become strings */
    h = read_hist_ok("{:type :invoke, :f :r, :value [:k nil], :process 0}\n"
                     "{:type :ok, :f :r, :value [:k 1], :process 0}\n"
                     "{:type :info, :f :kill, :process :nemesis}\n",
                     HISTORY_EDN_KEYS_AUTO);
    assert_value(h, history_events(h)[1].key, "\"k\"");
    history_free(h);
    /* YES insists */
    history *bad = NULL;
    fl_error err = {0};
    assert_int_equal(read_hist("{:type :invoke, :f :r, :value nil, :process 0}\n"
                               "{:type :invoke, :f :r, :value [nil 1], :process 1}\n",
                               HISTORY_EDN_KEYS_YES, &bad, &err),
                     FL_EDATA);
    assert_non_null(strstr(err.msg, "h.edn:1: field :value: expected an "
                                    "independent [key value] tuple, got nil"));
    assert_int_equal(read_hist("{:type :invoke, :f :r, :value [{} 1], :process 1}\n",
                               HISTORY_EDN_KEYS_YES, &bad, &err),
                     FL_EDATA);
    assert_non_null(strstr(err.msg, "h.edn:1: field :value: the key"));
    assert_null(bad);
}

static void test_both_shapes_agree(void **state)
{
    (void)state;
    history *vec = read_hist_ok(jepsen_sample, HISTORY_EDN_KEYS_AUTO);
    /* the same ops, one map per line, with a comment, in a list */
    char lines[sizeof jepsen_sample + 32];
    strcpy(lines, "; history\n");
    strcat(lines, jepsen_sample + 1);
    *strrchr(lines, ']') = '\n';
    history *per_line = read_hist_ok(lines, HISTORY_EDN_KEYS_AUTO);
    char list[sizeof jepsen_sample];
    strcpy(list, jepsen_sample);
    list[0] = '(';
    *strrchr(list, ']') = ')';
    history *as_list = read_hist_ok(list, HISTORY_EDN_KEYS_AUTO);
    const history *hs[] = {per_line, as_list};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(history_len(hs[k]), history_len(vec));
        for (size_t i = 0; i < history_len(vec); i++) {
            const history_event *a = &history_events(vec)[i];
            const history_event *b = &history_events(hs[k])[i];
            assert_int_equal(a->pair, b->pair);
            assert_int_equal(a->time, b->time);
            assert_true(json_equal(history_value(vec, a->value),
                                   history_value(hs[k], b->value)));
        }
    }
    history_free(vec);
    history_free(per_line);
    history_free(as_list);
    /* Jepsen's newer stores tag each op */
    history *tagged = read_hist_ok(
        "[#jepsen.history.Op{:index 0, :type :invoke, :f :read, :process 0}\n"
        " #jepsen.history.Op{:index 1, :type :ok, :f :read, :process 0, :value 3}]",
        HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_len(tagged), 2);
    assert_int_equal(history_events(tagged)[0].pair, 1);
    history_free(tagged);
    history *empty = read_hist_ok("[]\n", HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_len(empty), 0);
    history_free(empty);
    empty = read_hist_ok("; nothing\n", HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_len(empty), 0);
    history_free(empty);
}

static void test_truncated_final_form(void **state)
{
    (void)state;
    /* one map per line, the writer killed mid-map */
    history *h = read_hist_ok("{:type :invoke, :f :read, :process 0, :value nil}\n"
                              "{:type :ok, :f :read, :process 0, :val",
                              HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_len(h), 1);
    assert_int_equal(history_pending(h), 1);
    assert_int_equal(history_warning_count(h), 1);
    assert_non_null(strstr(history_warning(h, 0), "h.edn:2:"));
    assert_non_null(strstr(history_warning(h, 0), "dropped the incomplete"));
    history_free(h);
    /* inside a string */
    h = read_hist_ok("{:type :invoke, :f :read, :process 0}\n{:type :ok, :f \"re",
                     HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_len(h), 1);
    assert_int_equal(history_warning_count(h), 1);
    history_free(h);
    /* one vector, EOF before ]: every complete map is kept */
    h = read_hist_ok("[{:type :invoke, :f :read, :process 0}\n"
                     " {:type :ok, :f :read, :process 0, :value 1}\n",
                     HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_len(h), 2);
    assert_int_equal(history_warning_count(h), 1);
    assert_non_null(strstr(history_warning(h, 0), "expected ] to close"));
    history_free(h);
    h = read_hist_ok("[{:type :invoke, :f :read, :process 0}\n {:type :ok, :f",
                     HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_len(h), 1);
    history_free(h);
    /* corruption that is not a cut is still an error */
    hist_bad("{:type :invoke, :f :read, :process 0}]\n", "h.edn:1:", "unexpected ]");
}

static void test_unclosed_garbage_is_an_error(void **state)
{
    (void)state;
    /* a string open since line 1 is not a cut-off op map */
    hist_bad("\"hello\n{:type :invoke, :f :read, :process 0}\n", "h.edn:1:",
             "not a cut-off op map");
    hist_bad("{:type :invoke, :f :read, :process 0}\n#{1 2", "h.edn:2:",
             "not a cut-off op map");
    hist_bad("[{:type :invoke, :f :read, :process 0}\n \"abc", "h.edn:2:",
             "not a cut-off op map");
    /* a cut-off last event is still accepted */
    history *h = read_hist_ok("{:type :invoke, :f :read, :process 0}\n"
                              "{:type :ok, :f :read, :value \"ab",
                              HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_len(h), 1);
    assert_int_equal(history_warning_count(h), 1);
    history_free(h);
}

static void test_keys_auto_keeps_cas_pairs(void **state)
{
    (void)state;
    /* a register history of only cas ops: [old new], not [key value] */
    const char *text =
        "{:type :invoke, :f :cas, :value [1 2], :process 0}\n"
        "{:type :ok, :f :cas, :value [1 2], :process 0}\n"
        "{:type :invoke, :f :cas, :value [2 3], :process 1}\n"
        "{:type :fail, :f :cas, :value [2 3], :process 1}\n";
    history *h = read_hist_ok(text, HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_events(h)[0].key, HISTORY_NONE);
    assert_value(h, history_events(h)[0].value, "[1,2]");
    history_free(h);
    /* independent cas ops, [key [old new]], are still split */
    h = read_hist_ok("{:type :invoke, :f :cas, :value [7 [1 2]], :process 0}\n"
                     "{:type :ok, :f :cas, :value [7 [1 2]], :process 0}\n",
                     HISTORY_EDN_KEYS_AUTO);
    assert_value(h, history_events(h)[0].key, "7");
    assert_value(h, history_events(h)[0].value, "[1,2]");
    history_free(h);
}

static void test_time_backwards_one_warning(void **state)
{
    (void)state;
    history *h = read_hist_ok(
        "{:type :invoke, :f :read, :process 0, :time 50}\n"
        "{:type :invoke, :f :read, :process 1, :time 40}\n"
        "{:type :ok, :f :read, :process 1, :time 30}\n"
        "{:type :ok, :f :read, :process 0, :time 60}\n",
        HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_len(h), 4);
    assert_int_equal(history_warning_count(h), 1);
    const char *w = history_warning(h, 0);
    if (!strstr(w, "h.edn:2:") || !strstr(w, "2 events"))
        fail_msg("warning: %s", w);
    history_free(h);
}

static void test_bad_fields(void **state)
{
    (void)state;
    const char *ok = "{:type :invoke, :f :read, :process 0}\n";
    char text[512];
    snprintf(text, sizeof text, "%s%s", ok, "{:type :done, :f :read, :process 0}\n");
    hist_bad(text, "h.edn:2: field :type: unknown type :done",
             "(expected :invoke, :ok, :fail or :info)");
    hist_bad("\n\n{:type :invoke, :f :read, :process \"p1\"}",
             "h.edn:3: field :process: expected an integer or :nemesis, got a string",
             "");
    hist_bad("{:type :invoke, :f :read, :process -2}", "h.edn:1: field :process:",
             "negative");
    hist_bad("{:type \"nope\", :f :read, :process 0}", "field :type: unknown type \"nope\"", "");
    hist_bad("{:type 3, :f :read, :process 0}", "h.edn:1: field :type: expected a keyword",
             "an integer");
    hist_bad("{:f :read, :process 0}", "h.edn:1: field :type: missing", "");
    hist_bad("{:type :invoke, :process 0}", "h.edn:1: field :f: missing", "");
    hist_bad("{:type :invoke, :f [1], :process 0}", "h.edn:1: field :f: expected",
             "a vector");
    hist_bad("{:type :invoke, :f :r}", "h.edn:1: field :process: missing", "");
    hist_bad("{:type :invoke, :f :r, :process 0, :time :later}",
             "h.edn:1: field :time: expected an integer >= 0, got a keyword", "");
    hist_bad("{:type :invoke, :f :r, :process 0, :index 1.5}",
             "h.edn:1: field :index:", "a float");
    hist_bad("[{:type :invoke, :f :r, :process 0}\n 42]", "h.edn:2: expected an op map",
             "an integer");
    /* pairing errors come from history_append, with the line */
    snprintf(text, sizeof text, "%s%s", ok, "{:type :ok, :f :write, :process 0}\n");
    hist_bad(text, "h.edn:2: field \"f\"", "does not match");
    hist_bad("{:type :ok, :f :r, :process 3}", "h.edn:1:", "no invocation in flight");
    hist_bad("{:type :invoke, :f :r, :process 0}\n\n{:type :invoke, :f :r, :process 0}",
             "h.edn:3:", "still in flight");
    /* syntax errors carry the column too */
    hist_bad("{:type :invoke, :f :r, :process 0}\n{:type :ok :f}", "h.edn:2:14:",
             "odd number of forms");
}

/* ---- history_write_edn ------------------------------------------------------ */

static char *write_edn(const history *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    fl_error err = {0};
    assert_int_equal(history_write_edn(h, mem, &err), FL_OK);
    fclose(mem);
    return buf;
}

static void test_write_jepsen_style(void **state)
{
    (void)state;
    history *h = history_new();
    json_t *k = json_string("k1"), *v = json_pack("[i,i]", 3, 4);
    json_t *err_v = json_string("timeout");
    history_input in = {.index = 3, .time = 1712000, .process = 2,
                        .type = HISTORY_INVOKE, .f = "cas", .key = k, .value = v};
    fl_error err = {0};
    assert_int_equal(history_append(h, &in, &err), FL_OK);
    in = (history_input){.index = 4, .time = HISTORY_NO_TIME,
                         .process = HISTORY_NEMESIS, .type = HISTORY_INFO,
                         .f = "start partition", .value = NULL};
    assert_int_equal(history_append(h, &in, &err), FL_OK);
    in = (history_input){.index = 5, .time = 1712999, .process = 2,
                         .type = HISTORY_INFO, .f = "cas", .key = k, .value = v,
                         .error = err_v};
    assert_int_equal(history_append(h, &in, &err), FL_OK);
    char *text = write_edn(h);
    assert_string_equal(text,
        "{:index 3, :time 1712000, :type :invoke, :f :cas, :process 2, :value [\"k1\" [3 4]]}\n"
        "{:index 4, :type :info, :f \"start partition\", :process :nemesis, :value nil}\n"
        "{:index 5, :time 1712999, :type :info, :f :cas, :process 2, :value [\"k1\" [3 4]], :error \"timeout\"}\n");
    history *back = read_hist_ok(text, HISTORY_EDN_KEYS_AUTO);
    assert_int_equal(history_len(back), 3);
    const history_event *e = history_events(back);
    assert_string_equal(history_name(back, e[1].f), "start partition");
    assert_int_equal(e[1].time, HISTORY_NO_TIME);
    assert_value(back, e[2].key, "\"k1\"");
    assert_value(back, e[2].error, "\"timeout\"");
    assert_int_equal(e[2].index, 5);
    history_free(back);
    free(text);
    json_decref(k);
    json_decref(v);
    json_decref(err_v);
    history_free(h);
}

/* ---- Round trips of the corpus -------------------------------------------------- */

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
        assert_int_equal(ea[i].error == HISTORY_NONE, eb[i].error == HISTORY_NONE);
        if (ea[i].error != HISTORY_NONE)
            assert_true(json_equal(history_value(a, ea[i].error),
                                   history_value(b, eb[i].error)));
    }
}

static char *write_jsonl(const history *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    fl_error err = {0};
    assert_int_equal(history_write_jsonl(h, mem, &err), FL_OK);
    fclose(mem);
    return buf;
}

/* JSONL -> memory -> EDN -> memory -> JSONL: same events, same bytes. */
static void roundtrip_edn(const char *path)
{
    history *h = NULL, *back = NULL;
    fl_error err = {0};
    if (history_read_file(path, HISTORY_FORMAT_UNKNOWN, &h, &err) != FL_OK)
        fail_msg("%s", err.msg);
    char *edn = write_edn(h);
    FILE *in = fmemopen(edn, strlen(edn), "r");
    if (history_read_edn(in, path, HISTORY_EDN_KEYS_AUTO, &back, &err) != FL_OK)
        fail_msg("%s", err.msg);
    fclose(in);
    assert_same_history(h, back);
    char *a = write_jsonl(h), *b = write_jsonl(back);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(edn);
    history_free(h);
    history_free(back);
}

static void test_corpus_edn_roundtrip(void **state)
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
            roundtrip_edn(path);
            files++;
        }
        closedir(d);
    }
    assert_int_equal(files, 108);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_collections),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_truncated_flag),
        cmocka_unit_test(test_stream_lines_and_keywords),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_reals_read_back_identically),
        cmocka_unit_test(test_keyword_names),
        cmocka_unit_test(test_jepsen_sample_keys),
        cmocka_unit_test(test_keys_auto_needs_every_client_tuple),
        cmocka_unit_test(test_both_shapes_agree),
        cmocka_unit_test(test_truncated_final_form),
        cmocka_unit_test(test_unclosed_garbage_is_an_error),
        cmocka_unit_test(test_keys_auto_keeps_cas_pairs),
        cmocka_unit_test(test_time_backwards_one_warning),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_write_jepsen_style),
        cmocka_unit_test(test_corpus_edn_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
