/*
 * Tests of the file-corruption faults without a cluster: their plans
 * (seeded; only ever the last minority of the nodes), their history
 * values, the corruption routines on a temporary file (exactly N bits
 * differ, all inside the data; a cut leaves the data's prefix), the
 * snapshot kind's commands run for real under sh (a rollback restores
 * exactly the older copy, a repair puts back the state before it, rest
 * leaves no copy), and the driver carrying what a hook noted into the
 * completion's value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nemesis/corrupt/corrupt.h"
#include "nemesis/fault.h"

static const char *const names[] = {"n1", "n2", "n3", "n4", "n5"};

static const fault_kind *kind_named(const char *name)
{
    const fault_table *t = fault_builtin();
    for (size_t k = 0; k < t->count; k++)
        if (strcmp(t->kinds[k]->name, name) == 0)
            return t->kinds[k];
    fail_msg("no kind %s", name);
    return NULL;
}

static void plan(const char *kind, uint64_t seed, size_t n, long leader,
                 fault_action *a)
{
    fl_rng rng;
    fl_rng_seed(&rng, seed);
    memset(a, 0, sizeof *a);
    a->kind = kind_named(kind);
    a->begin = true;
    a->kind->plan(&rng, n, leader, NULL, 0, a);
}

/* Every kind is in the table (so in --nemesis all and the help), kills
 * through the target (the crash watcher's mark) and has a rest. */
static void test_kinds_registered(void **state)
{
    (void)state;
    const char *kinds[] = {"bitflip", "truncate", "snapshot"};
    for (size_t i = 0; i < 3; i++) {
        const fault_kind *k = kind_named(kinds[i]);
        assert_int_equal(k->db_needs, TARGET_DB_KILL | TARGET_DB_START |
                                      TARGET_DB_DATA);
        assert_non_null(k->rest);
        assert_non_null(k->prepare);
        assert_non_null(k->teardown);
    }
    unsigned mask;
    fl_error err = {0};
    assert_int_equal(fault_parse(fault_builtin(), "bitflip,truncate,snapshot",
                                 &mask, &err), FL_OK);
    assert_int_equal(__builtin_popcount(mask), 3);
    assert_true((fault_all(fault_builtin()) & mask) == mask);
}

/* Same seed, same action; only the last (n-1)/2 nodes, at least one,
 * whoever leads; a seed per node chosen. */
static void test_plan_seeded_fixed_minority(void **state)
{
    (void)state;
    bool seen[5] = {0};
    for (uint64_t seed = 1; seed <= 200; seed++) {
        fault_action a, b;
        plan("bitflip", seed, 5, (long)(seed % 5), &a);
        plan("bitflip", seed, 5, (long)(seed % 5), &b);
        assert_memory_equal(a.nodes, b.nodes, sizeof a.nodes);
        assert_memory_equal(a.amount, b.amount, sizeof a.amount);
        size_t count = 0;
        for (size_t i = 0; i < 5; i++) {
            if (!a.nodes[i])
                continue;
            count++;
            seen[i] = true;
            assert_true(i >= 3);
            assert_true(a.amount[i] >= 0 && a.amount[i] < 2147483648.0);
        }
        assert_true(count >= 1 && count <= 2);
        plan("snapshot", seed, 3, 2, &a);
        assert_true(a.nodes[2] && !a.nodes[0] && !a.nodes[1]);
        plan("truncate", seed, 1, -1, &a);   /* one node: it alone */
        assert_true(a.nodes[0]);
    }
    assert_true(seen[3] && seen[4] && !seen[0] && !seen[1] && !seen[2]);
}

/* The invocation says whom, with what seed and how much. */
static void test_describe(void **state)
{
    (void)state;
    fault_action a;
    plan("bitflip", 9, 5, -1, &a);
    json_t *opts = json_pack("{s:f}", "bitflip-bits", 3.0);
    a.options = opts;
    json_t *v = a.kind->describe(&a, 5, names);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "bitflip-bits")),
                     3);
    json_t *nodes = json_object_get(v, "nodes");
    assert_true(json_array_size(nodes) >= 1);
    const char *first = json_string_value(json_array_get(nodes, 0));
    json_t *seed = json_object_get(json_object_get(v, "seeds"), first);
    size_t node = (size_t)(first[1] - '1');
    assert_int_equal(json_integer_value(seed), (json_int_t)a.amount[node]);
    json_decref(v);
    json_decref(opts);
    plan("snapshot", 9, 5, -1, &a);
    v = a.kind->describe(&a, 5, names);
    assert_non_null(json_object_get(v, "nodes"));
    assert_null(json_object_get(v, "bitflip-bits"));
    json_decref(v);
}

/* A temporary file: size bytes of data from seed, then pad zero bytes
 * (a preallocated log). Returns its fd; the path into path. */
static int temp_file(char *path, size_t data, size_t pad, uint64_t seed,
                     unsigned char *copy)
{
    strcpy(path, "/tmp/fl-corrupt-test.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fl_rng rng;
    fl_rng_seed(&rng, seed);
    for (size_t i = 0; i < data + pad; i++)
        copy[i] = i < data ? (unsigned char)(1 + fl_rng_below(&rng, 255)) : 0;
    assert_int_equal(write(fd, copy, data + pad), (ssize_t)(data + pad));
    return fd;
}

static size_t bits_differ(const unsigned char *a, const unsigned char *b,
                          size_t n, size_t *last)
{
    size_t bits = 0;
    *last = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) {
            bits += (size_t)__builtin_popcount((unsigned)(a[i] ^ b[i]));
            *last = i;
        }
    return bits;
}

/* Exactly N bits differ afterwards, every one inside the data (not the
 * zeros after it); the same seed flips the same bits, so twice is none. */
static void test_bitflip_on_a_file(void **state)
{
    (void)state;
    enum { DATA = 3000, PAD = 5000 };
    static unsigned char orig[DATA + PAD], now[DATA + PAD];
    char path[64];
    int fd = temp_file(path, DATA, PAD, 4, orig);
    fl_error err = {0};
    uint64_t end = 0;
    assert_int_equal(corrupt_data_end(fd, &end, &err), FL_OK);
    assert_int_equal(end, DATA);
    size_t sizes[] = {1, 7, 64};
    for (size_t s = 0; s < 3; s++) {
        corrupt_flip f[64];
        fl_rng rng;
        fl_rng_seed(&rng, 100 + s);
        size_t k = corrupt_plan_flips(&rng, end, sizes[s], f);
        assert_int_equal(k, sizes[s]);
        assert_int_equal(corrupt_flip_bits(fd, f, k, &err), FL_OK);
        assert_int_equal(pread(fd, now, sizeof now, 0), (ssize_t)sizeof now);
        size_t last;
        assert_int_equal(bits_differ(orig, now, sizeof now, &last), k);
        assert_true(last < DATA);
        assert_int_equal(corrupt_flip_bits(fd, f, k, &err), FL_OK);
        assert_int_equal(pread(fd, now, sizeof now, 0), (ssize_t)sizeof now);
        assert_memory_equal(orig, now, sizeof now);
    }
    close(fd);
    unlink(path);
}

/* Flips are distinct and sorted, capped by the file's bits; a file of
 * zeros has no data to flip. */
static void test_plan_flips_bounds(void **state)
{
    (void)state;
    corrupt_flip f[64];
    fl_rng rng;
    fl_rng_seed(&rng, 1);
    assert_int_equal(corrupt_plan_flips(&rng, 2, 64, f), 16);
    for (size_t i = 1; i < 16; i++)
        assert_true(f[i - 1].offset < f[i].offset ||
                    (f[i - 1].offset == f[i].offset &&
                     f[i - 1].bit < f[i].bit));
    assert_int_equal(corrupt_plan_flips(&rng, 0, 5, f), 0);
    fl_rng a, b;
    fl_rng_seed(&a, 77);
    fl_rng_seed(&b, 77);
    corrupt_flip g[8], h[8];
    assert_int_equal(corrupt_plan_flips(&a, 100000, 8, g), 8);
    assert_int_equal(corrupt_plan_flips(&b, 100000, 8, h), 8);
    assert_memory_equal(g, h, sizeof g);
}

/* The file ends N bytes before its data did, the rest untouched; more
 * than the data leaves it empty. */
static void test_truncate_on_a_file(void **state)
{
    (void)state;
    enum { DATA = 1000, PAD = 4096 };
    static unsigned char orig[DATA + PAD], now[DATA + PAD];
    char path[64];
    int fd = temp_file(path, DATA, PAD, 5, orig);
    fl_error err = {0};
    uint64_t size = 0;
    assert_int_equal(corrupt_cut(fd, DATA, 64, &size, &err), FL_OK);
    assert_int_equal(size, DATA - 64);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, DATA - 64);
    assert_int_equal(pread(fd, now, sizeof now, 0), DATA - 64);
    assert_memory_equal(orig, now, DATA - 64);
    assert_int_equal(corrupt_cut(fd, DATA - 64, 5000, &size, &err), FL_OK);
    assert_int_equal(size, 0);
    close(fd);
    unlink(path);
}

/* Run cmd under sh: its exit status, its output in out. */
static int sh(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void same_tree(const char *a, const char *b, bool want)
{
    char cmd[512], out[512];
    snprintf(cmd, sizeof cmd, "diff -r %s %s >/dev/null 2>&1", a, b);
    assert_int_equal(sh(cmd, out, sizeof out) == 0, want);
}

/* The first snapshot fault only saves; the next puts exactly that copy
 * back (what was written since is gone, what was removed is back) and
 * saves the state it replaced; a repair undoes the rollback; rest
 * removes every copy and says how many it found. */
static void test_snapshot_restores_older_copy(void **state)
{
    (void)state;
    char d[] = "/tmp/fl-corrupt-snap.XXXXXX", out[512], x[128], cmd[1024];
    assert_non_null(mkdtemp(d));
    snprintf(x, sizeof x, "%s/data", d);
    snprintf(cmd, sizeof cmd, "mkdir -p %s/sub && echo one > %s/log && "
             "echo a > %s/sub/f && cp -a %s %s/first", x, x, x, x, d);
    assert_int_equal(sh(cmd, out, sizeof out), 0);

    char *apply = fault_corrupt_apply_cmd("snapshot", d, x, NULL, 0, 0);
    assert_non_null(apply);
    assert_int_equal(sh(apply, out, sizeof out), 0);
    assert_string_equal(out, "{\"restored\":false}\n");

    snprintf(cmd, sizeof cmd, "echo two >> %s/log && rm %s/sub/f && "
             "echo b > %s/new && cp -a %s %s/second", x, x, x, x, d);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_int_equal(sh(apply, out, sizeof out), 0);
    json_t *did = json_loads(out, 0, NULL);
    assert_non_null(did);
    assert_true(json_is_true(json_object_get(did, "restored")));
    assert_true(json_integer_value(json_object_get(did, "age_s")) >= 0);
    json_decref(did);
    char first[128], second[128], saved[128];
    snprintf(first, sizeof first, "%s/first", d);
    snprintf(second, sizeof second, "%s/second", d);
    snprintf(saved, sizeof saved, "%s/snapshot.saved", d);
    same_tree(x, first, true);         /* rolled back */
    same_tree(saved, second, true);    /* the next fault's older copy */

    char *repair = fault_corrupt_repair_cmd("snapshot", d, x);
    assert_int_equal(sh(repair, out, sizeof out), 0);
    same_tree(x, second, true);        /* as before the rollback */

    char *rest = fault_corrupt_rest_cmd("snapshot", d);
    assert_int_equal(sh(rest, out, sizeof out), 0);
    assert_string_equal(out, "snapshot=3\n");   /* undo, saved, its time */
    assert_int_equal(sh(rest, out, sizeof out), 0);
    assert_string_equal(out, "snapshot=0\n");
    /* Without an undo copy there is nothing to repair from. */
    assert_int_equal(sh(repair, out, sizeof out), 3);
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    free(apply);
    free(repair);
    free(rest);
}

/* bitflip and truncate run the helper on the target's globs, quoted; a
 * glob that cannot be quoted is refused. */
static void test_helper_command(void **state)
{
    (void)state;
    const char *globs[] = {"member/wal/*.wal", "member/snap/db", NULL};
    char *c = fault_corrupt_apply_cmd("bitflip", "/n/n3", "/n/n3/etcd-data",
                                      globs, 42, 4);
    assert_string_equal(c, "d=/n/n3; rm -rf $d/bitflip.undo && "
                        "$d/faultline-corrupt bitflip 42 4 $d/bitflip.undo "
                        "/n/n3/etcd-data 'member/wal/*.wal' 'member/snap/db'");
    free(c);
    const char *bad[] = {"it's", NULL};
    assert_null(fault_corrupt_apply_cmd("truncate", "/n/n3", "/x", bad, 1, 1));
}

/* What a hook notes reaches the completion's value as "did", beside
 * the description; the invocation has none. */
typedef struct seen {
    char before[256], after[256];
} seen;

static int noting_apply(const fault_env *env, const fault_action *a,
                        size_t node, fl_error *err)
{
    (void)a;
    (void)err;
    fault_note_did(env, node, json_pack("{s:i}", "bytes", (int)node * 10));
    return FL_OK;
}

static void plan_all(fl_rng *rng, size_t n, long leader,
                     const fault_action *in_force, size_t nforce,
                     fault_action *out)
{
    (void)rng;
    (void)leader;
    (void)in_force;
    (void)nforce;
    for (size_t i = 0; i < n; i++)
        out->nodes[i] = i > 0;
}

static const fault_kind noting = {
    .name = "noting", .begin_f = "start-noting", .end_f = "stop-noting",
    .plan = plan_all, .describe = fault_nodes_json,
    .apply = noting_apply, .heal = noting_apply,
};

static void seen_note(void *ctx, const fault_event *ev)
{
    seen *s = ctx;
    char *v = json_dumps(ev->value, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(ev->done ? s->after : s->before, sizeof s->after, "%s", v);
    free(v);
}

static void test_driver_records_did(void **state)
{
    (void)state;
    const fault_kind *const kinds[] = {&noting};
    const fault_table t = {kinds, 1};
    for (int bounded = 0; bounded < 2; bounded++) {
        seen s = {0};
        fault_env env = {.n = 3, .names = names};
        fault_driver d;
        fault_driver_init(&d, &t, 1, 1, 1.0, &env, seen_note, &s);
        if (bounded)
            fault_driver_bound(&d, 30);
        fl_error err = {0};
        assert_int_equal(fault_driver_step(&d, -1, &err), FL_OK);
        assert_string_equal(s.before, "[\"n2\",\"n3\"]");
        assert_string_equal(s.after, "{\"nodes\":[\"n2\",\"n3\"],\"did\":"
                            "{\"n2\":{\"bytes\":10},\"n3\":{\"bytes\":20}}}");
        fault_driver_finish(&d);
    }
    /* Outside a driver (env->did NULL) a note is dropped, not leaked. */
    fault_env env = {.n = 3, .names = names};
    fault_note_did(&env, 1, json_integer(1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_registered),
        cmocka_unit_test(test_plan_seeded_fixed_minority),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_bitflip_on_a_file),
        cmocka_unit_test(test_plan_flips_bounds),
        cmocka_unit_test(test_truncate_on_a_file),
        cmocka_unit_test(test_snapshot_restores_older_copy),
        cmocka_unit_test(test_helper_command),
        cmocka_unit_test(test_driver_records_did),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
