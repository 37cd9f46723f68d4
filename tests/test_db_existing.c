/*
 * --db existing's decisions, without SSH: which faults are refused and
 * why, what set-up and teardown do to a database faultline did not start
 * (nothing), and the commands themselves, run here under sh in a
 * directory standing for the node's (as the controller's SSH and the dead
 * man's switch would run them on a node). The user's commands only append
 * their name to a file, so each case can say exactly which ran.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/db_existing.h"
#include "nemesis/deadman.h"
#include "nemesis/fault.h"
#include "harness/target.h"

/* ---- which faults are allowed -------------------------------------------------------- */

static void managed_allows_everything(void **state)
{
    (void)state;
    fl_error err = {0};
    const target_db managed = {.mode = TARGET_DB_MANAGED};
    unsigned all;
    assert_int_equal(fault_parse(fault_builtin(), "partition,kill,pause", &all,
                                 &err), FL_OK);
    assert_int_equal(fault_check_db(fault_builtin(), all, NULL, &err), FL_OK);
    assert_int_equal(fault_check_db(fault_builtin(), all, &managed, &err), FL_OK);
}

static void existing_refuses_kill_without_both_commands(void **state)
{
    (void)state;
    fl_error err = {0};
    unsigned kill;
    assert_int_equal(fault_parse(fault_builtin(), "partition,kill", &kill,
                                 &err), FL_OK);
    target_db db = {.mode = TARGET_DB_EXISTING};
    assert_int_equal(fault_check_db(fault_builtin(), kill, &db, &err),
                     FL_EUSAGE);
    assert_non_null(strstr(err.msg, "--nemesis kill"));
    assert_non_null(strstr(err.msg, "--kill-cmd and --start-cmd"));
    db.kill_cmd = "systemctl kill -s KILL etcd";
    assert_int_equal(fault_check_db(fault_builtin(), kill, &db, &err),
                     FL_EUSAGE);
    assert_non_null(strstr(err.msg, "needs --start-cmd"));
    assert_null(strstr(err.msg, "--kill-cmd"));
    db.start_cmd = "systemctl start etcd";
    assert_int_equal(fault_check_db(fault_builtin(), kill, &db, &err), FL_OK);
}

static void existing_refuses_pause_without_both_commands(void **state)
{
    (void)state;
    fl_error err = {0};
    unsigned pause;
    assert_int_equal(fault_parse(fault_builtin(), "pause", &pause, &err), FL_OK);
    target_db db = {.mode = TARGET_DB_EXISTING, .kill_cmd = "k",
                    .start_cmd = "s", .resume_cmd = "r"};
    assert_int_equal(fault_check_db(fault_builtin(), pause, &db, &err),
                     FL_EUSAGE);
    assert_non_null(strstr(err.msg, "--nemesis pause"));
    assert_non_null(strstr(err.msg, "needs --pause-cmd"));
    db.pause_cmd = "p";
    assert_int_equal(fault_check_db(fault_builtin(), pause, &db, &err), FL_OK);
}

static void existing_allows_partitions_with_no_commands(void **state)
{
    (void)state;
    fl_error err = {0};
    unsigned part;
    assert_int_equal(fault_parse(fault_builtin(), "partition", &part, &err),
                     FL_OK);
    const target_db db = {.mode = TARGET_DB_EXISTING};
    assert_int_equal(fault_check_db(fault_builtin(), part, &db, &err), FL_OK);
    assert_int_equal(fault_check_db(fault_builtin(), 0, &db, &err), FL_OK);
}

/* ---- set-up and teardown through the seam ---------------------------------------------- */

/* A target whose db calls count themselves: existing mode must make none. */
static int calls;

static int counted(void *s, size_t n, fl_error *e)
{
    (void)s, (void)n, (void)e;
    calls++;
    return FL_OK;
}

static int c_create(const target_config *cfg, void **s, fl_error *e)
{
    (void)cfg, (void)e;
    *s = NULL;
    return FL_OK;
}

static void c_destroy(void *s) { (void)s; }

static char *c_rest(void *s, size_t n)
{
    (void)s, (void)n;
    calls++;
    return strdup("kill -9 everything");
}

/* The client remembers the last key it was sent. */
static json_int_t sent_key;

static int c_open(void *s, size_t n, void **cl, fl_error *e)
{
    (void)s, (void)n, (void)e;
    *cl = NULL;
    return FL_OK;
}

static void c_invoke(void *cl, const target_op *op, target_result *out)
{
    (void)cl;
    out->type = HISTORY_OK;
    if (strcmp(op->f, "txn") == 0) { /* a transaction: answered as sent */
        sent_key = json_integer_value(json_array_get(json_array_get(op->value,
                                                                    0), 1));
        out->value = json_deep_copy(op->value);
        return;
    }
    sent_key = json_integer_value(op->key);
}

static void c_close(void *cl) { (void)cl; }

static const target_vtable counting = {
    .name = "counting", .create = c_create, .destroy = c_destroy,
    .install = counted, .start = counted, .kill = counted, .pause = counted,
    .resume = counted, .wipe = counted, .rest_cmd = c_rest,
    .client_open = c_open, .client_invoke = c_invoke, .client_close = c_close,
};

/* What key the target's client is sent for workload key 7. */
static json_int_t key_sent_for_7(const target_db *db)
{
    fl_error err = {0};
    target *t;
    target_client *c;
    assert_int_equal(target_new(&counting, &(target_config){.db = db}, &t,
                                &err), FL_OK);
    assert_int_equal(target_client_open(t, 0, &c, &err), FL_OK);
    json_t *key = json_integer(7);
    target_op op = {.f = "read", .key = key, .value = json_null()};
    target_result r;
    target_client_invoke(c, &op, &r);
    assert_int_equal(json_integer_value(key), 7);   /* the history's own */
    json_decref(key);
    target_result_clear(&r);
    target_client_close(c);
    target_free(t);
    return sent_key;
}

static void existing_keys_are_offset_per_run(void **state)
{
    (void)state;
    const target_db managed = {.mode = TARGET_DB_MANAGED, .key_base = 1000};
    const target_db existing = {.mode = TARGET_DB_EXISTING,
                                .key_base = (json_int_t)5 << 16};
    assert_int_equal(key_sent_for_7(NULL), 7);
    assert_int_equal(key_sent_for_7(&managed), 7);
    assert_int_equal(key_sent_for_7(&existing), ((json_int_t)5 << 16) + 7);
}

/* A transaction's keys are inside its value: sent offset, answered back
 * as the history's. */
static void existing_txn_keys_are_offset_and_restored(void **state)
{
    (void)state;
    const target_db existing = {.mode = TARGET_DB_EXISTING, .key_base = 1000};
    fl_error err = {0};
    target *t;
    target_client *c;
    assert_int_equal(target_new(&counting, &(target_config){.db = &existing},
                                &t, &err), FL_OK);
    assert_int_equal(target_client_open(t, 0, &c, &err), FL_OK);
    json_t *v = json_loads("[[\"append\",7,1],[\"r\",\"s\",null]]", 0, NULL);
    target_op op = {.f = "txn", .value = v};
    target_result r;
    target_client_invoke(c, &op, &r);
    assert_int_equal(sent_key, 1007);
    assert_true(json_equal(r.value, v));
    target_result_clear(&r);
    json_decref(v);
    target_client_close(c);
    target_free(t);
}

static void existing_set_up_and_teardown_touch_nothing(void **state)
{
    (void)state;
    fl_error err = {0};
    const target_db db = {.mode = TARGET_DB_EXISTING};
    target *t;
    assert_int_equal(target_new(&counting, &(target_config){.db = &db}, &t,
                                &err), FL_OK);
    calls = 0;
    assert_int_equal(target_db_of(t)->mode, TARGET_DB_EXISTING);
    assert_int_equal(target_set_up(t, 0, &err), FL_OK);
    assert_int_equal(target_tear_down(t, 0, &err), FL_OK);
    assert_int_equal(target_install(t, 0, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "never installs"));
    assert_int_equal(target_wipe(t, 0, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "never wipes"));
    /* No command given: refused by name before any node is reached. */
    assert_int_equal(target_kill(t, 0, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "--kill-cmd"));
    assert_int_equal(target_pause(t, 0, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "--pause-cmd"));
    assert_int_equal(calls, 0);
    target_free(t);
}

static void managed_set_up_is_the_targets_own(void **state)
{
    (void)state;
    fl_error err = {0};
    target *t;
    assert_int_equal(target_new(&counting, &(target_config){0}, &t, &err),
                     FL_OK);
    calls = 0;
    assert_int_equal(target_set_up(t, 0, &err), FL_OK);
    assert_int_equal(calls, 4);   /* kill, wipe, install, start */
    assert_int_equal(target_tear_down(t, 0, &err), FL_OK);
    assert_int_equal(calls, 5);
    char *rest = target_rest_cmd(t, 0);
    assert_string_equal(rest, "kill -9 everything");
    free(rest);
    target_free(t);
}

/* ---- the commands, run under sh ----------------------------------------------------------- */

typedef struct node {
    char dir[64];
    char ran[128];            /* what the user's commands appended */
    char cmd[6][160];         /* kill, start, pause, resume, failing, ... */
    target_db db;
} node;

static int setup_node(void **state)
{
    node *n = calloc(1, sizeof *n);
    snprintf(n->dir, sizeof n->dir, "/tmp/fl-existing.XXXXXX");
    if (!mkdtemp(n->dir))
        return -1;
    snprintf(n->ran, sizeof n->ran, "%s/ran", n->dir);
    const char *names[] = {"kill", "start", "pause", "resume"};
    for (int i = 0; i < 4; i++)
        snprintf(n->cmd[i], sizeof n->cmd[i], "echo %s >>%s", names[i], n->ran);
    n->db = (target_db){.mode = TARGET_DB_EXISTING, .kill_cmd = n->cmd[0],
                        .start_cmd = n->cmd[1], .pause_cmd = n->cmd[2],
                        .resume_cmd = n->cmd[3]};
    *state = n;
    return 0;
}

static int teardown_node(void **state)
{
    node *n = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", n->dir);
    int rc = system(cmd);
    free(n);
    return rc == 0 ? 0 : -1;
}

/* Run cmd (owned) under sh; its exit status; stdout into out. */
static int run_sh(char *cmd, char *out, size_t size)
{
    assert_non_null(cmd);
    FILE *p = popen(cmd, "r");
    free(cmd);
    assert_non_null(p);
    size_t len = fread(out, 1, size - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* What the user's commands ran, in order, as "kill,start," ("" if none). */
static void ran(const node *n, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen(n->ran, "r");
    char line[64];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = ',';
        strncat(out, line, size - strlen(out) - 1);
    }
    if (f)
        fclose(f);
}

static bool marked(const node *n, const char *marker)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", n->dir, marker);
    return access(p, F_OK) == 0;
}

static void op(node *n, unsigned which, int want_rc)
{
    char out[256];
    assert_int_equal(run_sh(db_existing_op_cmd(n->dir, which,
                                               which == TARGET_DB_KILL ? n->db.kill_cmd
                                               : which == TARGET_DB_START ? n->db.start_cmd
                                               : which == TARGET_DB_PAUSE ? n->db.pause_cmd
                                                                          : n->db.resume_cmd),
                            out, sizeof out), want_rc);
}

static void kill_marks_then_start_undoes(void **state)
{
    node *n = *state;
    char seq[128];
    op(n, TARGET_DB_START, 0);              /* nothing faultline killed */
    ran(n, seq, sizeof seq);
    assert_string_equal(seq, "");
    op(n, TARGET_DB_KILL, 0);
    assert_true(marked(n, DB_EXISTING_KILLED));
    op(n, TARGET_DB_START, 0);
    assert_false(marked(n, DB_EXISTING_KILLED));
    op(n, TARGET_DB_START, 0);              /* once only */
    op(n, TARGET_DB_PAUSE, 0);
    assert_true(marked(n, DB_EXISTING_PAUSED));
    op(n, TARGET_DB_RESUME, 0);
    assert_false(marked(n, DB_EXISTING_PAUSED));
    ran(n, seq, sizeof seq);
    assert_string_equal(seq, "kill,start,pause,resume,");
}

static void a_failed_start_keeps_the_marker(void **state)
{
    node *n = *state;
    op(n, TARGET_DB_KILL, 0);
    snprintf(n->cmd[1], sizeof n->cmd[1], "echo no such unit; false");
    op(n, TARGET_DB_START, 1);
    assert_true(marked(n, DB_EXISTING_KILLED));   /* rest will try again */
}

/* The rest command, as the next run and the dead man's switch run it. */
static void rest(node *n, char *out, size_t size)
{
    assert_int_equal(run_sh(db_existing_rest_cmd(&n->db, n->dir), out, size),
                     0);
}

static void rest_with_nothing_done_runs_nothing(void **state)
{
    node *n = *state;
    char out[256], seq[128];
    rest(n, out, sizeof out);
    assert_non_null(strstr(out, "resumed=0 restarted=0 unrestored=0"));
    ran(n, seq, sizeof seq);
    assert_string_equal(seq, "");
}

static void rest_undoes_a_kill_and_a_pause_and_never_kills(void **state)
{
    node *n = *state;
    char out[256], seq[128];
    op(n, TARGET_DB_PAUSE, 0);
    op(n, TARGET_DB_KILL, 0);
    rest(n, out, sizeof out);
    assert_non_null(strstr(out, "resumed=1 restarted=1 unrestored=0"));
    ran(n, seq, sizeof seq);
    /* Resumed before restarted; the kill command ran once, by the fault. */
    assert_string_equal(seq, "pause,kill,resume,start,");
    assert_false(marked(n, DB_EXISTING_KILLED));
    assert_false(marked(n, DB_EXISTING_PAUSED));
    rest(n, out, sizeof out);                 /* at rest: nothing more */
    ran(n, seq, sizeof seq);
    assert_string_equal(seq, "pause,kill,resume,start,");
}

static void rest_never_holds_a_kill_command(void **state)
{
    node *n = *state;
    char *r = db_existing_rest_cmd(&n->db, n->dir);
    assert_non_null(r);
    assert_null(strstr(r, n->db.kill_cmd));
    assert_null(strstr(r, n->db.pause_cmd));
    assert_null(strstr(r, "kill -"));          /* no signal of its own */
    assert_null(strstr(r, "kill $"));
    /* Nor does the dead man's switch built from it. */
    char *script = deadman_script(n->dir, 10, r);
    assert_null(strstr(script, n->db.kill_cmd));
    assert_null(strstr(script, "kill -"));
    assert_null(strstr(script, "kill $"));
    free(script);
    free(r);
}

static void rest_without_a_command_says_what_it_cannot_undo(void **state)
{
    node *n = *state;
    char out[256], seq[128];
    op(n, TARGET_DB_KILL, 0);
    n->db.start_cmd = NULL;
    rest(n, out, sizeof out);
    assert_non_null(strstr(out, "restarted=0 unrestored=1"));
    assert_true(marked(n, DB_EXISTING_KILLED));
    ran(n, seq, sizeof seq);
    assert_string_equal(seq, "kill,");
}

static void dup_copies_every_field(void **state)
{
    (void)state;
    const char *paths[] = {"/var/log/etcd.log", "/tmp/x", NULL};
    target_db db = {.mode = TARGET_DB_EXISTING, .kill_cmd = "a",
                    .start_cmd = "b", .logs_cmd = "journalctl -u etcd",
                    .log_paths = paths};
    target_db *c = db_existing_dup(&db);
    assert_non_null(c);
    assert_int_equal(c->mode, TARGET_DB_EXISTING);
    assert_string_equal(c->kill_cmd, "a");
    assert_ptr_not_equal(c->kill_cmd, db.kill_cmd);
    assert_string_equal(c->start_cmd, "b");
    assert_null(c->pause_cmd);
    assert_string_equal(c->logs_cmd, "journalctl -u etcd");
    assert_string_equal(c->log_paths[1], "/tmp/x");
    assert_null(c->log_paths[2]);
    db_existing_free(c);
    assert_string_equal(db_existing_option(TARGET_DB_RESUME), "--resume-cmd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(managed_allows_everything),
        cmocka_unit_test(existing_refuses_kill_without_both_commands),
        cmocka_unit_test(existing_refuses_pause_without_both_commands),
        cmocka_unit_test(existing_allows_partitions_with_no_commands),
        cmocka_unit_test(existing_set_up_and_teardown_touch_nothing),
        cmocka_unit_test(managed_set_up_is_the_targets_own),
        cmocka_unit_test(existing_keys_are_offset_per_run),
        cmocka_unit_test(existing_txn_keys_are_offset_and_restored),
        cmocka_unit_test_setup_teardown(kill_marks_then_start_undoes,
                                        setup_node, teardown_node),
        cmocka_unit_test_setup_teardown(a_failed_start_keeps_the_marker,
                                        setup_node, teardown_node),
        cmocka_unit_test_setup_teardown(rest_with_nothing_done_runs_nothing,
                                        setup_node, teardown_node),
        cmocka_unit_test_setup_teardown(rest_undoes_a_kill_and_a_pause_and_never_kills,
                                        setup_node, teardown_node),
        cmocka_unit_test_setup_teardown(rest_never_holds_a_kill_command,
                                        setup_node, teardown_node),
        cmocka_unit_test_setup_teardown(rest_without_a_command_says_what_it_cannot_undo,
                                        setup_node, teardown_node),
        cmocka_unit_test(dup_copies_every_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
