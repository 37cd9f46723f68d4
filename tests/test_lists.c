/*
 * Every list a user reads comes from its registry: each target, workload,
 * fault kind, checker and model registered appears in the `--help` that
 * offers it (read from the built binaries, as a user would) and on its
 * line of ARCHITECTURE.md's "What is registered". A new registry entry
 * that a help text or the architecture leaves out fails here.
 *
 * The binaries are $BUILD/asan/faultline and faultline-harness (BUILD
 * defaults to build; `make unit-tests` builds them first); the tests run
 * from the repository's root, where ARCHITECTURE.md is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/checker.h"
#include "checkers/linearizable.h"
#include "nemesis/fault.h"
#include "targets/registry.h"
#include "workloads/workload.h"

/* The whole output of cmd (or the file path when cmd is NULL). Caller
 * frees. */
static char *slurp(const char *cmd, const char *path)
{
    FILE *f = cmd ? popen(cmd, "r") : fopen(path, "r");
    if (!f)
        fail_msg("cannot %s %s", cmd ? "run" : "open", cmd ? cmd : path);
    size_t cap = 1 << 16, len = 0, n;
    char *s = malloc(cap);
    assert_non_null(s);
    while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            s = realloc(s, cap *= 2);
            assert_non_null(s);
        }
    }
    s[len] = '\0';
    if (cmd)
        assert_int_equal(pclose(f), 0);
    else
        fclose(f);
    assert_true(len > 0);
    return s;
}

static char *help_of(const char *binary, const char *command)
{
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/asan/%s %s --help 2>&1", build, binary,
             command);
    return slurp(cmd, NULL);
}

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Whether name occurs in text as a whole word. */
static bool has_word(const char *text, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = text; (p = strstr(p, name)); p++)
        if ((p == text || !word_char(p[-1])) && !word_char(p[len]))
            return true;
    return false;
}

static void expect_word(const char *text, const char *name, const char *where)
{
    if (!has_word(text, name))
        fail_msg("\"%s\" is registered but missing from %s", name, where);
}

/* The line of ARCHITECTURE.md's "What is registered" that begins with
 * "- what " (e.g. "- targets "): a new string, or a failure. */
static char *registered_line(const char *doc, const char *what)
{
    const char *sec = strstr(doc, "\n## What is registered");
    if (!sec)
        fail_msg("ARCHITECTURE.md has no \"## What is registered\" section");
    char prefix[64];
    snprintf(prefix, sizeof prefix, "\n- %s ", what);
    const char *p = strstr(sec, prefix);
    const char *end = strstr(sec + 1, "\n## ");
    if (!p || (end && p > end))
        fail_msg("ARCHITECTURE.md's \"What is registered\" has no line "
                 "\"- %s ...\"", what);
    /* The entry runs to the next item or the end of the section. */
    const char *stop = strstr(p + 1, "\n- ");
    const char *blank = strstr(p + 1, "\n\n");
    if (!stop || (blank && blank < stop))
        stop = blank;
    size_t len = stop ? (size_t)(stop - p) : strlen(p);
    char *s = strndup(p, len);
    assert_non_null(s);
    return s;
}

/* Whether `name` (in backticks) is on the line. */
static void expect_listed(const char *line, const char *name,
                          const char *what)
{
    char quoted[128];
    snprintf(quoted, sizeof quoted, "`%s`", name);
    if (!strstr(line, quoted))
        fail_msg("%s \"%s\" is registered but not listed on ARCHITECTURE.md's "
                 "\"- %s\" line", what, name, what);
}

static void test_test_help_lists_targets_workloads_faults(void **state)
{
    (void)state;
    char *help = help_of("faultline-harness", "test");
    for (size_t i = 0; i < targets_count(); i++)
        expect_word(help, targets_at(i)->vt->name, "`faultline test --help`");
    for (const char *const *w = workload_names(); *w; w++)
        expect_word(help, *w, "`faultline test --help`");
    const fault_table *t = fault_builtin();
    for (size_t k = 0; k < t->count; k++)
        expect_word(help, t->kinds[k]->name, "`faultline test --help`");
    free(help);
}

/* Every command that takes the checker options lists each registered
 * checker and model in its --help: check, report, analyze (the checking
 * binary) and test (the harness). */
static void test_check_help_lists_checkers_models(void **state)
{
    (void)state;
    static const char *const cmds[][2] = {
        {"faultline", "check"}, {"faultline", "report"},
        {"faultline", "analyze"}, {"faultline-harness", "test"},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char where[64];
        snprintf(where, sizeof where, "`faultline %s --help`", cmds[i][1]);
        char *help = help_of(cmds[i][0], cmds[i][1]);
        for (const char *const *c = checker_names(); *c; c++)
            expect_word(help, *c, where);
        for (const char *const *m = lin_model_names(); *m; m++)
            expect_word(help, *m, where);
        free(help);
    }
}

/* Each target's options, with each choice they take, in `faultline test
 * --target NAME --help` (from its option table). */
static void test_target_help_lists_options(void **state)
{
    (void)state;
    for (size_t i = 0; i < targets_count(); i++) {
        const target_vtable *vt = targets_at(i)->vt;
        char cmd[128], where[192];
        snprintf(cmd, sizeof cmd, "test --target %s", vt->name);
        snprintf(where, sizeof where, "`faultline %s --help`", cmd);
        char *help = help_of("faultline-harness", cmd);
        for (const target_option *o = vt->options; o && o->name; o++) {
            char flag[64];
            snprintf(flag, sizeof flag, "--%s", o->name);
            expect_word(help, flag, where);
            for (size_t k = 0; o->choices && o->choices[k]; k++)
                expect_word(help, o->choices[k], where);
        }
        free(help);
    }
}

static void test_architecture_lists_every_registry(void **state)
{
    (void)state;
    char *doc = slurp(NULL, "ARCHITECTURE.md");
    char *line = registered_line(doc, "targets");
    for (size_t i = 0; i < targets_count(); i++)
        expect_listed(line, targets_at(i)->vt->name, "targets");
    free(line);
    line = registered_line(doc, "workloads");
    for (const char *const *w = workload_names(); *w; w++)
        expect_listed(line, *w, "workloads");
    free(line);
    line = registered_line(doc, "checkers");
    for (const char *const *c = checker_names(); *c; c++)
        expect_listed(line, *c, "checkers");
    free(line);
    line = registered_line(doc, "models");
    for (const char *const *m = lin_model_names(); *m; m++)
        expect_listed(line, *m, "models");
    free(line);
    line = registered_line(doc, "fault kinds");
    const fault_table *t = fault_builtin();
    for (size_t k = 0; k < t->count; k++)
        expect_listed(line, t->kinds[k]->name, "fault kinds");
    free(line);
    free(doc);
}

/* The checks above can fail: a name no registry has is found missing. */
static void test_a_missing_name_is_caught(void **state)
{
    (void)state;
    assert_false(has_word("partition, kill, pause", "clock-skew"));
    assert_false(has_word("power-loss", "power"));
    assert_true(has_word("kill -9", "kill"));
    const char *doc = "x\n## What is registered\n\n- fault kinds (t): `kill`,\n"
                      "  `pause`\n- models: `set`\n\n## Next\n";
    char *line = registered_line(doc, "fault kinds");
    assert_non_null(strstr(line, "`pause`"));
    assert_null(strstr(line, "`set`"));
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_test_help_lists_targets_workloads_faults),
        cmocka_unit_test(test_check_help_lists_checkers_models),
        cmocka_unit_test(test_target_help_lists_options),
        cmocka_unit_test(test_architecture_lists_every_registry),
        cmocka_unit_test(test_a_missing_name_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
