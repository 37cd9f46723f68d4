/*
 * The daemon default's commands (targets/clients/daemon.h), run here under
 * sh in a temporary directory standing for a node's, as the controller's
 * SSH and the dead man's switch run them on a node: a start leaves one
 * process with its pid file, a second start finds it, STOP and CONT reach
 * it, rest counts and kills it, KILL removes the pid file. Both ways of
 * finding the process: by its command line and by the environment marker
 * (which also finds the children it forked).
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

#include "targets/clients/daemon.h"

/* cmd (freed) under sh; its stdout into out. The exit status. */
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

typedef struct node {
    char base[64];   /* the node directory; the node is base/n1 */
    char dir[96];
} node;

static int setup(void **state)
{
    node *n = calloc(1, sizeof *n);
    snprintf(n->base, sizeof n->base, "/tmp/fl-daemon-XXXXXX");
    if (!n || !mkdtemp(n->base))
        return -1;
    snprintf(n->dir, sizeof n->dir, "%s/n1", n->base);
    *state = n;
    return 0;
}

static int teardown(void **state)
{
    node *n = *state;
    char cmd[256], out[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", n->base);
    run_sh(strdup(cmd), out, sizeof out);
    free(n);
    return 0;
}

static char *rest(const daemon_spec *sp, const node *n)
{
    daemon_match m = daemon_match_of(sp, n->base, "n1");
    return daemon_rest_cmd(&m);
}

static char *signal_cmd(const daemon_spec *sp, const node *n, const char *sig)
{
    daemon_match m = daemon_match_of(sp, n->base, "n1");
    return daemon_signal_cmd(&m, sig);
}

static void lifecycle(const daemon_spec *sp, const node *n, const char *prep,
                      const char *command, const char *running)
{
    char out[256], pidfile[160];
    daemon_start parts = {.prepare = prep ? strdup(prep) : NULL,
                          .command = strdup(command)};
    assert_int_equal(run_sh(daemon_start_cmd(sp, n->base, "n1", parts), out,
                            sizeof out), 0);
    /* Until it runs (exec'd, and its child forked, if any): a process
     * still between fork and exec is not recognisable yet. */
    char wait[512];
    snprintf(wait, sizeof wait, "for i in $(seq 100); do [ -s %s/up ] && "
             "break; sleep 0.05; done; rm -f %s/up", n->dir, n->dir);
    run_sh(strdup(wait), out, sizeof out);
    snprintf(pidfile, sizeof pidfile, "%s/%s", n->dir, sp->pid_file);
    assert_int_equal(access(pidfile, R_OK), 0);
    /* A second start finds it. */
    parts = (daemon_start){.command = strdup(command)};
    assert_int_equal(run_sh(daemon_start_cmd(sp, n->base, "n1", parts), out,
                            sizeof out), 0);
    assert_non_null(strstr(out, "already running as"));
    /* Paused: rest counts it stopped, continues and kills it. */
    assert_int_equal(run_sh(signal_cmd(sp, n, "STOP"), out, sizeof out), 0);
    assert_int_equal(run_sh(rest(sp, n), out, sizeof out), 0);
    assert_non_null(strstr(out, running));
    assert_int_equal(access(pidfile, R_OK), -1);
    assert_int_equal(run_sh(rest(sp, n), out, sizeof out), 0);
    assert_string_equal(out, "running=0 stopped=0\n");
    /* Started again and killed: gone, pid file removed. */
    parts = (daemon_start){.command = strdup(command)};
    assert_int_equal(run_sh(daemon_start_cmd(sp, n->base, "n1", parts), out,
                            sizeof out), 0);
    assert_null(strstr(out, "already running"));
    run_sh(strdup(wait), out, sizeof out);
    assert_int_equal(run_sh(signal_cmd(sp, n, "KILL"), out, sizeof out), 0);
    assert_int_equal(access(pidfile, R_OK), -1);
    assert_int_equal(run_sh(rest(sp, n), out, sizeof out), 0);
    assert_string_equal(out, "running=0 stopped=0\n");
    /* The waiting shell says how it ended: SIGKILL is 128 + 9. */
    char exitfile[512];
    snprintf(exitfile, sizeof exitfile, "for i in $(seq 100); do [ -s %s/"
             TARGET_DB_EXIT_FILE " ] && break; sleep 0.05; done; cat %s/"
             TARGET_DB_EXIT_FILE, n->dir, n->dir);
    assert_int_equal(run_sh(strdup(exitfile), out, sizeof out), 0);
    assert_string_equal(out, "137\n");
}

static void test_by_cmdline(void **state)
{
    node *n = *state;
    static const daemon_spec sp = {
        .what = "fakedb", .cmdline_re = "^sh $d/fakedb.sh ",
        .pid_file = "fakedb.pid",
    };
    /* A started process whose command line names the node's directory. */
    lifecycle(&sp, n, "printf 'echo 1 > up; while :; do sleep 0.1; done\\n' "
              "> fakedb.sh",
              "sh $d/fakedb.sh", "running=1 stopped=1");
}

static void test_by_environ(void **state)
{
    node *n = *state;
    static const daemon_spec sp = {
        .what = "fakedb", .pid_file = "fakedb.pid", .by_environ = true,
    };
    /* A shell with a child: both are found by the marker, though neither
     * command line names the directory. */
    lifecycle(&sp, n, NULL, "sh -c 'sleep 600 & echo $! > up; wait'",
              "running=2 stopped=2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_by_cmdline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_by_environ, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
