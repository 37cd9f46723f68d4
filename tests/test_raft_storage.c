/*
 * Tests of raft_storage: append and recover, a torn final record cut at every
 * byte offset, a corrupt middle record, snapshots with compaction, a crash
 * between snapshot and log rewrite, received snapshots, and the volatile_vote
 * seeded bug.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "targets/raftkv/raft_storage.h"

/* ---- helpers ---------------------------------------------------------------- */

static char *make_dir(void)
{
    char tmpl[] = "/tmp/raft_storage_XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void remove_dir(char *dir)
{
    const char *names[] = {"log", "log.tmp", "snapshot", "snapshot.tmp"};
    char p[512];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    free(dir);
}

static raft_storage *open_ok(const char *dir, bool volatile_vote)
{
    raft_storage_options o = {.bug_volatile_vote = volatile_vote};
    raft_storage *st = NULL;
    fl_error err = {0};
    int rc = raft_storage_open(dir, &o, &st, &err);
    if (rc != FL_OK)
        fail_msg("open %s: %s", dir, err.msg);
    return st;
}

/* Entries index first..last in term `term`, payload "e<index>". */
static void save_entries(raft_storage *st, uint64_t first, uint64_t last,
                         uint64_t term, uint64_t truncate_from)
{
    size_t n = (size_t)(last - first + 1);
    raft_entry *e = calloc(n, sizeof *e);
    char (*payload)[16] = calloc(n, 16);
    assert_true(e && payload);
    for (size_t i = 0; i < n; i++) {
        snprintf(payload[i], 16, "e%llu", (unsigned long long)(first + i));
        e[i] = (raft_entry){.term = term, .index = first + i,
                            .len = (uint32_t)strlen(payload[i]),
                            .data = (uint8_t *)payload[i]};
    }
    raft_ready rd = {.entries = e, .n_entries = n,
                     .truncate_from = truncate_from,
                     .hard_state_changed = true,
                     .hard_state = {.term = term, .vote = 2}};
    fl_error err = {0};
    int rc = raft_storage_save_ready(st, &rd, &err);
    if (rc != FL_OK)
        fail_msg("save: %s", err.msg);
    free(e);
    free(payload);
}

static void expect_log(const raft_storage *st, uint64_t snap_index,
                       uint64_t last, uint64_t term)
{
    raft_restore r;
    raft_storage_restore(st, &r);
    assert_int_equal(r.snapshot.index, snap_index);
    assert_int_equal(r.n_entries, last - snap_index);
    for (size_t i = 0; i < r.n_entries; i++) {
        char want[16];
        snprintf(want, sizeof want, "e%llu",
                 (unsigned long long)(snap_index + 1 + i));
        assert_int_equal(r.entries[i].index, snap_index + 1 + i);
        assert_int_equal(r.entries[i].len, strlen(want));
        assert_memory_equal(r.entries[i].data, want, strlen(want));
        if (term)
            assert_int_equal(r.entries[i].term, term);
    }
}

static off_t file_size(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    return sb.st_size;
}

static void truncate_file(const char *dir, const char *name, off_t size)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    assert_int_equal(truncate(p, size), 0);
}

/* XOR the byte at `at` of dir/name with mask. */
static void flip_bits(const char *dir, const char *name, off_t at,
                      uint8_t mask)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, at), 1);
    b ^= mask;
    assert_int_equal(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_append_recover(void **state)
{
    (void)state;
    char *dir = make_dir();
    raft_storage *st = open_ok(dir, false);
    save_entries(st, 1, 5, 1, 0);
    save_entries(st, 6, 9, 2, 0);
    raft_storage_close(st);

    st = open_ok(dir, false);
    expect_log(st, 0, 9, 0);
    raft_restore r;
    raft_storage_restore(st, &r);
    assert_int_equal(r.hard_state.term, 2);
    assert_int_equal(r.hard_state.vote, 2);
    assert_int_equal(raft_storage_cut_bytes(st), 0);
    /* Overwrite a suffix, as a follower does on a conflict. */
    save_entries(st, 7, 8, 3, 7);
    raft_storage_close(st);

    st = open_ok(dir, false);
    expect_log(st, 0, 8, 0);
    raft_storage_restore(st, &r);
    assert_int_equal(r.entries[6].term, 3);
    assert_int_equal(r.entries[5].term, 2);
    raft_storage_close(st);
    remove_dir(dir);
}

/* A crash mid-append leaves any prefix of the last record: recovery must keep
 * every earlier record and cut the rest, at every possible offset. */
static void test_torn_tail_cut(void **state)
{
    (void)state;
    char *dir = make_dir();
    raft_storage *st = open_ok(dir, false);
    save_entries(st, 1, 4, 1, 0);
    raft_storage_close(st);
    off_t good = file_size(dir, "log");
    st = open_ok(dir, false);
    save_entries(st, 5, 5, 1, 0); /* hard state record + entry record */
    raft_storage_close(st);
    off_t full = file_size(dir, "log");

    for (off_t cut = good + 1; cut < full; cut++) {
        char *d2 = make_dir();
        char cmd[1100];
        snprintf(cmd, sizeof cmd, "cp %s/log %s/log", dir, d2);
        assert_int_equal(system(cmd), 0);
        truncate_file(d2, "log", cut);
        st = open_ok(d2, false);
        raft_restore r;
        raft_storage_restore(st, &r);
        assert_int_equal(r.n_entries, 4);
        expect_log(st, 0, 4, 1);
        /* Only a cut exactly after the 21-byte hard state record leaves
         * nothing torn. */
        assert_true(raft_storage_cut_bytes(st) > 0 || cut == good + 21);
        /* The file was cut: appending goes on cleanly after it. */
        uint64_t kept = r.n_entries;
        save_entries(st, kept + 1, kept + 1, 1, 0);
        raft_storage_close(st);
        st = open_ok(d2, false);
        expect_log(st, 0, kept + 1, 1);
        assert_int_equal(raft_storage_cut_bytes(st), 0);
        raft_storage_close(st);
        remove_dir(d2);
    }
    /* Zeros after the last record (a crashed append's unwritten blocks)
     * are a torn tail, not corruption. */
    {
        char p[512];
        snprintf(p, sizeof p, "%s/log", dir);
        FILE *f = fopen(p, "ab");
        assert_non_null(f);
        for (int i = 0; i < 4096; i++)
            fputc(0, f);
        fclose(f);
        st = open_ok(dir, false);
        expect_log(st, 0, 5, 1);
        assert_int_equal(raft_storage_cut_bytes(st), 4096);
        raft_storage_close(st);
    }
    /* A garbled (not short) final record is cut too. */
    flip_bits(dir, "log", full - 2, 0x5a);
    st = open_ok(dir, false);
    expect_log(st, 0, 4, 1);
    assert_true(raft_storage_cut_bytes(st) > 0);
    raft_storage_close(st);
    remove_dir(dir);
}

static void test_corrupt_middle_is_error(void **state)
{
    (void)state;
    char *dir = make_dir();
    raft_storage *st = open_ok(dir, false);
    save_entries(st, 1, 3, 1, 0);
    save_entries(st, 4, 6, 1, 0);
    raft_storage_close(st);
    flip_bits(dir, "log", 12, 0x5a); /* inside the first record's payload */
    fl_error err = {0};
    st = NULL;
    assert_int_equal(raft_storage_open(dir, NULL, &st, &err), FL_EDATA);
    assert_null(st);
    assert_non_null(strstr(err.msg, "byte 0"));
    assert_non_null(strstr(err.msg, "corrupt"));
    remove_dir(dir);
}

/* A flipped bit in a record's length field that makes it run past the end
 * of the file looks like a torn final record, but good records follow it:
 * recovery must refuse, not cut them (found by the bitflip fault: raftkv
 * cut 7467 bytes of fsync'd records and started). */
static void test_damaged_length_is_error(void **state)
{
    (void)state;
    char *dir = make_dir();
    raft_storage *st = open_ok(dir, false);
    save_entries(st, 1, 3, 1, 0);
    save_entries(st, 4, 6, 1, 0);
    raft_storage_close(st);
    flip_bits(dir, "log", 1, 0x01); /* the first record's length + 65536 */
    fl_error err = {0};
    st = NULL;
    assert_int_equal(raft_storage_open(dir, NULL, &st, &err), FL_EDATA);
    assert_null(st);
    assert_non_null(strstr(err.msg, "byte 0"));
    assert_non_null(strstr(err.msg, "whole records follow it"));
    remove_dir(dir);
}

static void test_snapshot_compaction(void **state)
{
    (void)state;
    char *dir = make_dir();
    raft_storage *st = open_ok(dir, false);
    save_entries(st, 1, 10, 1, 0);
    off_t before = file_size(dir, "log");
    fl_error err = {0};
    assert_int_equal(raft_storage_save_snapshot(st, 6, 1, "state@6", 7, &err),
                     FL_OK);
    assert_true(file_size(dir, "log") < before);
    /* Not above the snapshot, or past the log: usage errors. */
    assert_int_equal(raft_storage_save_snapshot(st, 6, 1, "x", 1, &err),
                     FL_EUSAGE);
    assert_int_equal(raft_storage_save_snapshot(st, 11, 1, "x", 1, &err),
                     FL_EUSAGE);
    save_entries(st, 11, 12, 2, 0);
    raft_storage_close(st);

    st = open_ok(dir, false);
    expect_log(st, 6, 12, 0);
    raft_restore r;
    raft_storage_restore(st, &r);
    assert_int_equal(r.snapshot.term, 1);
    assert_int_equal(r.snapshot.len, 7);
    assert_memory_equal(r.snapshot.data, "state@6", 7);
    assert_int_equal(r.hard_state.term, 2);
    raft_storage_close(st);

    /* A corrupt snapshot is an error, not silently ignored. */
    flip_bits(dir, "snapshot", 35, 0x5a);
    st = NULL;
    assert_int_equal(raft_storage_open(dir, NULL, &st, &err), FL_EDATA);
    assert_non_null(strstr(err.msg, "snapshot"));
    remove_dir(dir);
}

/* A crash after the new snapshot is in place but before the log rewrite:
 * the old log still holds entries the snapshot covers. */
static void test_crash_between_snapshot_and_rewrite(void **state)
{
    (void)state;
    char *dir = make_dir();
    char *other = make_dir();
    raft_storage *st = open_ok(dir, false);
    save_entries(st, 1, 8, 1, 0);
    raft_storage_close(st);
    /* Build the snapshot file in another directory, then copy it in. */
    st = open_ok(other, false);
    save_entries(st, 1, 8, 1, 0);
    fl_error err = {0};
    assert_int_equal(raft_storage_save_snapshot(st, 5, 1, "s5", 2, &err),
                     FL_OK);
    raft_storage_close(st);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "cp %s/snapshot %s/snapshot", other, dir);
    assert_int_equal(system(cmd), 0);
    st = open_ok(dir, false);
    expect_log(st, 5, 8, 1);
    raft_storage_close(st);
    remove_dir(other);
    remove_dir(dir);
}

/* Same crash, but the snapshot came from a leader whose history differs
 * from this log at the snapshot's index: the whole log must go. */
static void test_crash_between_received_snapshot_and_rewrite(void **state)
{
    (void)state;
    char *dir = make_dir();
    char *other = make_dir();
    raft_storage *st = open_ok(dir, false);
    save_entries(st, 1, 8, 1, 0);
    raft_storage_close(st);
    st = open_ok(other, false);
    save_entries(st, 1, 4, 1, 0);
    save_entries(st, 5, 6, 2, 0);
    fl_error err = {0};
    assert_int_equal(raft_storage_save_snapshot(st, 5, 2, "s5", 2, &err),
                     FL_OK);
    raft_storage_close(st);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "cp %s/snapshot %s/snapshot", other, dir);
    assert_int_equal(system(cmd), 0);
    st = open_ok(dir, false);
    expect_log(st, 5, 5, 0);
    raft_storage_close(st);
    remove_dir(other);
    remove_dir(dir);
}

/* A snapshot received from the leader replaces the whole log. */
static void test_received_snapshot(void **state)
{
    (void)state;
    char *dir = make_dir();
    raft_storage *st = open_ok(dir, false);
    save_entries(st, 1, 4, 1, 0);
    raft_snapshot snap = {.index = 20, .term = 3, .len = 3,
                          .data = (uint8_t *)"s20"};
    raft_entry e = {.term = 3, .index = 21, .len = 3,
                    .data = (uint8_t *)"e21"};
    raft_ready rd = {.snapshot = &snap, .entries = &e, .n_entries = 1,
                     .hard_state_changed = true,
                     .hard_state = {.term = 3, .vote = 1}};
    fl_error err = {0};
    assert_int_equal(raft_storage_save_ready(st, &rd, &err), FL_OK);
    raft_storage_close(st);
    st = open_ok(dir, false);
    expect_log(st, 20, 21, 3);
    raft_restore r;
    raft_storage_restore(st, &r);
    assert_int_equal(r.hard_state.vote, 1);
    /* A Ready whose entries leave a gap is refused. */
    e.index = 30;
    raft_ready gap = {.entries = &e, .n_entries = 1};
    assert_int_equal(raft_storage_save_ready(st, &gap, &err), FL_EUSAGE);
    raft_storage_close(st);
    remove_dir(dir);
}

static void test_volatile_vote_drops_vote(void **state)
{
    (void)state;
    char *dir = make_dir();
    raft_storage *st = open_ok(dir, true);
    save_entries(st, 1, 2, 4, 0); /* hard state term 4, vote 2 */
    raft_storage_close(st);
    st = open_ok(dir, false);
    raft_restore r;
    raft_storage_restore(st, &r);
    assert_int_equal(r.hard_state.term, 4);
    assert_int_equal(r.hard_state.vote, RAFT_NONE);
    raft_storage_close(st);
    remove_dir(dir);
}

/* no-fsync still writes everything: what the kernel holds survives a
 * restart (kill -9); only a power cut (powerfs, tests/cli/power_loss.sh)
 * shows the missing fsyncs. */
static void test_no_fsync_survives_a_restart(void **state)
{
    (void)state;
    char *dir = make_dir();
    raft_storage_options o = {.bug_no_fsync = true};
    raft_storage *st = NULL;
    fl_error err = {0};
    assert_int_equal(raft_storage_open(dir, &o, &st, &err), FL_OK);
    save_entries(st, 1, 3, 2, 0);
    raft_storage_close(st);
    st = open_ok(dir, false);
    raft_restore r;
    raft_storage_restore(st, &r);
    assert_int_equal(r.n_entries, 3);
    assert_int_equal(r.hard_state.term, 2);
    assert_int_equal(r.hard_state.vote, 2);
    raft_storage_close(st);
    remove_dir(dir);
}

/* The storage feeds a real node: restart from it and keep the log. */
static void test_restore_into_node(void **state)
{
    (void)state;
    char *dir = make_dir();
    raft_storage *st = open_ok(dir, false);
    save_entries(st, 1, 3, 1, 0);
    raft_storage_close(st);
    st = open_ok(dir, false);
    raft_restore r;
    raft_storage_restore(st, &r);
    raft_config cfg;
    raft_config_init(&cfg);
    cfg.id = 1;
    cfg.n_nodes = 3;
    raft_node *n = NULL;
    fl_error err = {0};
    assert_int_equal(raft_new(&cfg, &r, &n, &err), FL_OK);
    raft_status s;
    raft_get_status(n, &s);
    assert_int_equal(s.last_index, 3);
    assert_int_equal(s.term, 1);
    assert_int_equal(s.vote, 2);
    raft_free(n);
    raft_storage_close(st);
    remove_dir(dir);
}

/* Whatever bytes the log file holds, opening never crashes or misreads:
 * it succeeds (garbage at the tail is cut) or reports corruption. */
static void test_garbage_log(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ULL;
    for (int iter = 0; iter < 300; iter++) {
        char *dir = make_dir();
        raft_storage *st = open_ok(dir, false);
        save_entries(st, 1, 3, 1, 0);
        raft_storage_close(st);
        char p[512];
        snprintf(p, sizeof p, "%s/log", dir);
        FILE *f = fopen(p, iter % 2 ? "ab" : "r+b");
        assert_non_null(f);
        size_t n = 1 + (size_t)(iter * 7 % 64);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            fputc((int)(x & 0xff), f);
        }
        fclose(f);
        fl_error err = {0};
        st = NULL;
        int rc = raft_storage_open(dir, NULL, &st, &err);
        assert_true(rc == FL_OK || rc == FL_EDATA);
        if (rc == FL_OK) {
            raft_restore r;
            raft_storage_restore(st, &r);
            /* Appended garbage never removes good records. */
            if (iter % 2)
                assert_int_equal(r.n_entries, 3);
            raft_storage_close(st);
        } else {
            assert_null(st);
        }
        remove_dir(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_recover),
        cmocka_unit_test(test_torn_tail_cut),
        cmocka_unit_test(test_damaged_length_is_error),
        cmocka_unit_test(test_corrupt_middle_is_error),
        cmocka_unit_test(test_snapshot_compaction),
        cmocka_unit_test(test_crash_between_snapshot_and_rewrite),
        cmocka_unit_test(test_crash_between_received_snapshot_and_rewrite),
        cmocka_unit_test(test_received_snapshot),
        cmocka_unit_test(test_volatile_vote_drops_vote),
        cmocka_unit_test(test_no_fsync_survives_a_restart),
        cmocka_unit_test(test_restore_into_node),
        cmocka_unit_test(test_garbage_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
