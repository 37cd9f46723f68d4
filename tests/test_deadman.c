/*
 * The dead man's switch's shell side, run here on this machine (as the
 * controller's SSH would run it on a node): a watcher whose lease is
 * renewed stays quiet; one whose lease goes stale rests the node once and
 * says so; stopping it never rests. The rest command here only writes a
 * file. Expiry is 2 s, so each case waits a few seconds (bounded polls,
 * never an assertion on how long something took).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nemesis/deadman.h"

#define EXPIRE_S 2

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static bool exists_in(const char *dir, const char *file)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    return access(p, F_OK) == 0;
}

/* Wait (at most limit_s) until dir/file exists. */
static bool appears(const char *dir, const char *file, double limit_s)
{
    for (double t = 0; t < limit_s; t += 0.1) {
        if (exists_in(dir, file))
            return true;
        nap(0.1);
    }
    return exists_in(dir, file);
}

static void sh(const char *cmd)
{
    assert_int_equal(system(cmd), 0);
}

static char *arm(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/fl-deadman.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char rest[600];
    snprintf(rest, sizeof rest, "echo rested >>%s/rested", dir);
    char *cmd = deadman_arm_cmd(dir, EXPIRE_S, rest);
    assert_non_null(cmd);
    sh(cmd);
    free(cmd);
    return dir;
}

static void cleanup(const char *dir)
{
    char *stop = deadman_stop_cmd(dir), cmd[600];
    sh(stop);
    free(stop);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    sh(cmd);
}

/* Output of a renewal. */
static char *renew(const char *dir)
{
    char *cmd = deadman_renew_cmd(dir);
    FILE *p = popen(cmd, "r");
    free(cmd);
    assert_non_null(p);
    char *out = calloc(1, 64);
    size_t n = fread(out, 1, 63, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

static void test_renewed_never_fires(void **state)
{
    (void)state;
    char dir[64];
    arm(dir, sizeof dir);
    for (int i = 0; i < 16; i++) {          /* 4 s: twice the expiry */
        char *out = renew(dir);
        assert_string_equal(out, "");
        free(out);
        nap(0.25);
    }
    assert_false(exists_in(dir, "rested"));
    assert_false(exists_in(dir, "deadman.fired"));
    cleanup(dir);
}

static void test_stale_lease_rests_once(void **state)
{
    (void)state;
    char dir[64];
    arm(dir, sizeof dir);
    assert_true(appears(dir, "deadman.fired", 4 * EXPIRE_S + 5));
    assert_true(appears(dir, "deadman.rested", 5));
    assert_true(exists_in(dir, "rested"));
    char *out = renew(dir);
    assert_non_null(strstr(out, "fired"));  /* the controller learns it */
    free(out);
    nap(1.5);                               /* the watcher has exited */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(wc -l < %s/rested) -eq 1", dir);
    sh(cmd);
    cleanup(dir);
}

static void test_stop_never_rests(void **state)
{
    (void)state;
    char dir[64];
    arm(dir, sizeof dir);
    char *stop = deadman_stop_cmd(dir);
    sh(stop);
    free(stop);
    nap(EXPIRE_S + 2.5);
    assert_false(exists_in(dir, "rested"));
    assert_false(exists_in(dir, "deadman.fired"));
    cleanup(dir);
}

static void test_rearm_replaces_old_watcher(void **state)
{
    (void)state;
    char dir[64];
    arm(dir, sizeof dir);
    char rest[600];
    snprintf(rest, sizeof rest, "echo second >>%s/rested", dir);
    char *cmd = deadman_arm_cmd(dir, EXPIRE_S, rest);
    sh(cmd);
    free(cmd);
    assert_true(appears(dir, "deadman.fired", 4 * EXPIRE_S + 5));
    nap(1.5);
    char check[256];
    /* Only the new watcher rested the node: the old one was stopped. */
    snprintf(check, sizeof check, "test \"$(cat %s/rested)\" = second", dir);
    sh(check);
    cleanup(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_renewed_never_fires),
        cmocka_unit_test(test_stale_lease_rests_once),
        cmocka_unit_test(test_stop_never_rests),
        cmocka_unit_test(test_rearm_replaces_old_watcher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
