/*
 * The target seam without a network: the registry of targets, a target's
 * declared options as the command line stores them, what it supports, the
 * shared read-modify-write add, and the fake target.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "targets/clients/rmw.h"
#include "targets/registry.h"

static void test_registry(void **state)
{
    (void)state;
    assert_string_equal(targets_default(), "raftkv");
    const target_vtable *rk = targets_find("raftkv");
    assert_non_null(rk);
    assert_ptr_equal(targets_find(targets_default()), rk);
    assert_null(targets_find("nope"));
    assert_null(targets_find(""));
    bool fake_for_tests = false;
    for (size_t i = 0; i < targets_count(); i++) {
        const targets_entry *e = targets_at(i);
        assert_ptr_equal(targets_find(e->vt->name), e->vt);  /* unique */
        assert_non_null(e->vt->create);
        assert_non_null(e->vt->rest_cmd);
        if (strcmp(e->vt->name, "fake") == 0)
            fake_for_tests = e->for_tests;
        else if (strcmp(e->vt->name, "raftkv") == 0)
            assert_false(e->for_tests);
    }
    assert_true(fake_for_tests);   /* never a default, listed as such */
    assert_null(targets_at(targets_count()));
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void test_options_set(void **state)
{
    (void)state;
    const target_vtable *rk = targets_find("raftkv");
    json_t *o = NULL;
    fl_error err = {0};
    assert_int_equal(target_options_set(rk, &o, "bug", "stale-read", &err), FL_OK);
    assert_string_equal(str(o, "bug"), "stale-read");
    /* Single: the last one given counts, as getopt did. */
    assert_int_equal(target_options_set(rk, &o, "bug", "early-ack", &err), FL_OK);
    assert_string_equal(str(o, "bug"), "early-ack");
    /* --raftkv is stored as the option it stands for. */
    assert_int_equal(target_options_set(rk, &o, "raftkv", "/x/raftkv", &err), FL_OK);
    assert_string_equal(str(o, "binary"), "/x/raftkv");
    assert_null(json_object_get(o, "raftkv"));
    /* Unknown: a usage error naming the target. */
    assert_int_equal(target_options_set(rk, &o, "read-mode", "x", &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "target raftkv"));
    assert_non_null(strstr(err.msg, "--read-mode"));
    assert_int_equal(target_options_set(rk, &o, "bug", NULL, &err), FL_EUSAGE);
    assert_int_equal(json_object_size(o), 2);
    json_decref(o);
    /* The fake takes none. */
    o = NULL;
    assert_int_equal(target_options_set(targets_find("fake"), &o, "bug", "x",
                                        &err), FL_EUSAGE);
    assert_null(o);
}

/* A made-up target with one option of each type, and its struct. */
typedef struct toy_options {
    const char *path;
    int mode;
    bool fast;
    const char *note;
} toy_options;

static const target_option toy_options_table[] = {
    {.name = "path", .arg = "P", .help = "p", .chars = "/._-",
     .offset = offsetof(toy_options, path)},
    {.name = "mode", .type = TARGET_OPT_CHOICE, .arg = "M", .help = "m",
     .choices = (const char *const[]){"linearizable", "lease", NULL},
     .default_value = "linearizable", .offset = offsetof(toy_options, mode)},
    {.name = "fast", .type = TARGET_OPT_FLAG, .help = "a flag",
     .offset = offsetof(toy_options, fast)},
    {.name = "note", .arg = "N", .help = "n", .chars = " ", .empty_ok = true,
     .offset = offsetof(toy_options, note)},
    {.name = "m", .type = TARGET_OPT_CHOICE, .arg = "M", .help = "short",
     .alias_of = "mode"},
    {0},
};
static const char *const toy_ops[] = {"read", "write", "cas", NULL};
static const target_vtable toy = {.name = "toy", .options = toy_options_table,
                                  .options_size = sizeof(toy_options),
                                  .operations = toy_ops};

/* Parse {name: value} (value NULL: the flag) pairs; FL_OK leaves *out. */
static int parse_pairs(const target_vtable *vt, const char *const *pairs,
                       target_options **out, fl_error *err)
{
    json_t *o = NULL;
    int rc = FL_OK;
    for (size_t i = 0; rc == FL_OK && pairs && pairs[i]; i += 2)
        rc = target_options_set(vt, &o, pairs[i], pairs[i + 1], err);
    if (rc == FL_OK)
        rc = target_options_parse(vt, o, out, err);
    json_decref(o);
    return rc;
}

static void test_options_parse(void **state)
{
    (void)state;
    target_options *r = NULL;
    fl_error err = {0};
    /* Nothing given: the defaults, typed; a choice or text not given and
     * without a default reads -1 / NULL. */
    assert_int_equal(target_options_parse(&toy, NULL, &r, &err), FL_OK);
    const toy_options *v = target_options_values(r);
    assert_null(v->path);
    assert_int_equal(v->mode, 0);
    assert_false(v->fast);
    assert_null(v->note);
    assert_int_equal(json_object_size(target_options_json(r)), 1);
    target_options_free(r);
    /* Every type given: typed in the struct, and the same values as JSON
     * (test.json's record). */
    const char *const all[] = {"fast", NULL, "path", "/a/b-c", "m", "lease",
                               "note", "", NULL};
    assert_int_equal(parse_pairs(&toy, all, &r, &err), FL_OK);
    v = target_options_values(r);
    assert_string_equal(v->path, "/a/b-c");
    assert_int_equal(v->mode, 1);
    assert_true(v->fast);
    assert_string_equal(v->note, "");
    char *s = json_dumps(target_options_json(r), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"fast\":true,\"mode\":\"lease\",\"note\":\"\","
                           "\"path\":\"/a/b-c\"}");
    free(s);
    target_options_free(r);
    /* Bad values: a usage error naming the option and what it takes. */
    const char *const bad_choice[] = {"mode", "strict", NULL};
    assert_int_equal(parse_pairs(&toy, bad_choice, &r, &err), FL_EUSAGE);
    assert_null(r);
    assert_string_equal(err.msg, "target toy: --mode is linearizable or "
                                 "lease, not \"strict\"");
    const char *const bad_text[] = {"path", "/a;rm", NULL};
    assert_int_equal(parse_pairs(&toy, bad_text, &r, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "--path \"/a;rm\""));
    const char *const empty[] = {"path", "", NULL};
    assert_int_equal(parse_pairs(&toy, empty, &r, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "not empty"));
    /* A hand-made object is checked as strictly as the command line's. */
    json_t *o = json_pack("{s:s}", "fast", "yes");
    assert_int_equal(target_options_parse(&toy, o, &r, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "--fast"));
    json_decref(o);
    o = json_pack("{s:s}", "speed", "1");
    assert_int_equal(target_options_parse(&toy, o, &r, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "--speed"));
    json_decref(o);
    /* raftkv: a build that is not there cannot run (not a usage error)... */
    o = json_pack("{s:s}", "binary", "/nonexistent/raftkv");
    assert_int_not_equal(target_options_parse(targets_find("raftkv"), o, &r,
                                              &err), FL_OK);
    assert_int_not_equal(err.code, FL_EUSAGE);
    assert_non_null(strstr(err.msg, "/nonexistent/raftkv"));
    assert_null(r);
    /* ...but a bad --bug is one, found before the build is looked for. */
    json_object_set_new(o, "bug", json_string("slow-read"));
    assert_int_equal(target_options_parse(targets_find("raftkv"), o, &r, &err),
                     FL_EUSAGE);
    assert_non_null(strstr(err.msg, "--bug is stale-read, early-ack"));
    json_decref(o);
}

/* Every registered target's table: each line's field lies inside its
 * struct, its default is a value it takes (so the defaults parse), and
 * a value it refuses is a usage error naming it. */
static void test_options_tables(void **state)
{
    (void)state;
    for (size_t i = 0; i < targets_count(); i++) {
        const target_vtable *vt = targets_at(i)->vt;
        for (const target_option *o = vt->options; o && o->name; o++) {
            if (o->alias_of) {
                assert_non_null(target_option_find(vt, o->alias_of));
                continue;
            }
            size_t width = o->type == TARGET_OPT_TEXT ? sizeof(char *)
                         : o->type == TARGET_OPT_CHOICE ? sizeof(int)
                                                        : sizeof(bool);
            assert_true(o->offset + width <= vt->options_size);
            assert_non_null(o->help);
            if (o->type == TARGET_OPT_CHOICE) {
                assert_non_null(o->choices);
                bool listed = !o->default_value;
                for (size_t k = 0; o->choices[k]; k++)
                    listed |= o->default_value &&
                              strcmp(o->choices[k], o->default_value) == 0;
                assert_true(listed);
            }
            if (o->type == TARGET_OPT_FLAG ||
                (o->type == TARGET_OPT_TEXT && !o->chars))
                continue;
            const char *const bad[] = {o->name, "x;y", NULL};
            target_options *r = NULL;
            fl_error err = {0};
            assert_int_equal(parse_pairs(vt, bad, &r, &err), FL_EUSAGE);
            char want[64];
            snprintf(want, sizeof want, "target %s: --%s ", vt->name, o->name);
            assert_non_null(strstr(err.msg, want));
        }
    }
}

static void test_supports(void **state)
{
    (void)state;
    const char *missing;
    assert_true(target_supports_workload(&toy, "register", &missing));
    assert_false(target_supports_workload(&toy, "set", &missing));
    assert_string_equal(missing, "add");
    const target_vtable *rk = targets_find("raftkv");
    assert_true(target_supports_workload(rk, "set", &missing));
    assert_true(target_supports_workload(rk, "register", &missing));
}

/* The shared add, driven with outcomes as any target's client gives them. */
static target_result outcome(history_type type, const char *value)
{
    return (target_result){.type = type,
                           .value = value ? json_loads(value, JSON_DECODE_ANY, NULL)
                                          : NULL,
                           .error = type == HISTORY_OK ? NULL
                                    : json_pack("{s:s}", "error", "x")};
}

static void test_rmw(void **state)
{
    (void)state;
    rmw_add st;
    json_t *next;
    rmw_add_init(&st, 5);
    assert_int_equal(rmw_add_next(&st, &next), RMW_READ);
    target_result r = outcome(HISTORY_OK, "null");
    rmw_add_read_answer(&st, &r);
    assert_int_equal(rmw_add_next(&st, &next), RMW_CAS);
    assert_null(st.current);                      /* absent: create */
    char *s = json_dumps(next, JSON_COMPACT);
    assert_string_equal(s, "[5]");
    free(s);
    json_decref(next);
    /* Refused: another add came first, and the refusal says the set. */
    json_t *now = json_loads("[1]", 0, NULL);
    rmw_add_cas_refused(&st, true, now);
    json_decref(now);
    assert_int_equal(rmw_add_next(&st, &next), RMW_CAS);
    json_decref(next);
    /* Unknown, then the set shows it: ok. */
    r = outcome(HISTORY_INFO, NULL);
    rmw_add_cas_answer(&st, &r);
    assert_true(st.uncertain);
    assert_int_equal(rmw_add_next(&st, &next), RMW_READ);
    r = outcome(HISTORY_OK, "[1,5]");
    rmw_add_read_answer(&st, &r);
    assert_int_equal(rmw_add_next(&st, &next), RMW_DONE);
    assert_int_equal(st.result.type, HISTORY_OK);
    rmw_add_clear(&st);
    /* A refusal whose set is unknown: read again; give up after an unknown
     * outcome: info. */
    rmw_add_init(&st, 5);
    r = outcome(HISTORY_OK, "[2]");
    rmw_add_read_answer(&st, &r);
    rmw_add_cas_refused(&st, false, NULL);
    assert_int_equal(rmw_add_next(&st, &next), RMW_READ);
    r = outcome(HISTORY_FAIL, NULL);
    rmw_add_read_answer(&st, &r);                 /* nothing sent yet: fail */
    assert_true(st.done);
    assert_int_equal(st.result.type, HISTORY_FAIL);
    rmw_add_clear(&st);
    rmw_add_init(&st, 5);
    r = outcome(HISTORY_OK, "[2]");
    rmw_add_read_answer(&st, &r);
    r = outcome(HISTORY_INFO, NULL);
    rmw_add_cas_answer(&st, &r);
    rmw_add_give_up(&st);
    assert_int_equal(st.result.type, HISTORY_INFO);
    rmw_add_clear(&st);
}

/* As target_client_invoke does: the result starts empty. */
static void invoke(const target_vtable *vt, void *cl, target_op op,
                   target_result *r)
{
    memset(r, 0, sizeof *r);
    vt->client_invoke(cl, &op, r);
}

/* The fake: a register and a set, in process; no node is touched. */
static void test_fake(void **state)
{
    (void)state;
    const target_vtable *vt = targets_find("fake");
    void *db, *cl;
    fl_error err = {0};
    assert_int_equal(vt->create(&(target_config){0}, &db, &err), FL_OK);
    assert_int_equal(vt->client_open(db, 0, &cl, &err), FL_OK);
    json_t *k = json_integer(3), *v = json_integer(7);
    json_t *cas = json_pack("[i,i]", 7, 8), *bad = json_pack("[i,i]", 1, 2);
    target_result r;
    target_op w = {.f = "write", .key = k, .value = v};
    invoke(vt, cl, w, &r);
    assert_int_equal(r.type, HISTORY_OK);
    target_result_clear(&r);
    invoke(vt, cl, (target_op){.f = "cas", .key = k, .value = bad}, &r);
    assert_int_equal(r.type, HISTORY_FAIL);
    assert_true(r.refused);
    target_result_clear(&r);
    invoke(vt, cl, (target_op){.f = "cas", .key = k, .value = cas}, &r);
    assert_int_equal(r.type, HISTORY_OK);
    target_result_clear(&r);
    invoke(vt, cl, (target_op){.f = "read", .key = k}, &r);
    assert_int_equal(json_integer_value(r.value), 8);
    target_result_clear(&r);
    json_t *k2 = json_integer(4);
    invoke(vt, cl, (target_op){.f = "add", .key = k2, .value = v}, &r);
    target_result_clear(&r);
    invoke(vt, cl, (target_op){.f = "read", .key = k2}, &r);
    assert_int_equal(json_array_size(r.value), 1);
    target_result_clear(&r);
    char *rest = vt->rest_cmd(db, 0);
    assert_string_equal(rest, "echo running=0 stopped=0");
    free(rest);
    vt->client_close(cl);
    vt->destroy(db);
    json_decref(k), json_decref(k2), json_decref(v);
    json_decref(cas), json_decref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_options_set),
        cmocka_unit_test(test_options_parse),
        cmocka_unit_test(test_options_tables),
        cmocka_unit_test(test_supports),
        cmocka_unit_test(test_rmw),
        cmocka_unit_test(test_fake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
