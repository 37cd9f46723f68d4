/*
 * Tests of the nemesis's pure parts and the raftkv target's command lines
 * and outcome mapping — no network: grudge shapes (halves, isolate, ring,
 * bridge; symmetric, never self), the iptables command lines, the table
 * of fault kinds (names, f names, values), the fault list parser, the
 * scheduler's alternation and its healing, and how HTTP
 * answers become ok / fail / info.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nemesis/fault.h"
#include "nemesis/nemesis.h"
#include "targets/clients/raftkv.h"

static const char *const names[] = {"n1", "n2", "n3", "n4", "n5", "n6", "n7"};
static const char *const addrs[] = {"10.231.0.11", "10.231.0.12", "10.231.0.13",
                                    "10.231.0.14", "10.231.0.15", "10.231.0.16",
                                    "10.231.0.17"};

/* How many nodes i hears (itself included). */
static size_t hears(const nem_grudge *g, size_t i)
{
    size_t c = 0;
    for (size_t j = 0; j < g->n; j++)
        c += !g->drop[i][j];
    return c;
}

static void assert_well_formed(const nem_grudge *g)
{
    for (size_t i = 0; i < g->n; i++) {
        assert_false(g->drop[i][i]);
        for (size_t j = 0; j < g->n; j++)
            assert_int_equal(g->drop[i][j], g->drop[j][i]);
    }
}

static void test_halves(void **state)
{
    (void)state;
    for (uint64_t seed = 0; seed < 50; seed++) {
        fl_rng rng;
        nem_grudge g;
        fl_rng_seed(&rng, seed);
        nem_grudge_halves(&g, 5, &rng);
        assert_well_formed(&g);
        size_t minority = 0, majority = 0;
        for (size_t i = 0; i < 5; i++) {
            if (hears(&g, i) == 2)
                minority++;
            else if (hears(&g, i) == 3)
                majority++;
        }
        assert_int_equal(minority, 2);
        assert_int_equal(majority, 3);
    }
}

static void test_isolate(void **state)
{
    (void)state;
    nem_grudge g;
    nem_grudge_isolate(&g, 5, 2);
    assert_well_formed(&g);
    assert_int_equal(hears(&g, 2), 1);
    for (size_t i = 0; i < 5; i++)
        if (i != 2)
            assert_int_equal(hears(&g, i), 4);
    assert_true(g.drop[0][2] && !g.drop[0][1]);
}

static void test_ring(void **state)
{
    (void)state;
    for (size_t n = 3; n <= 7; n++)
        for (uint64_t seed = 0; seed < 20; seed++) {
            fl_rng rng;
            nem_grudge g;
            fl_rng_seed(&rng, seed);
            nem_grudge_ring(&g, n, &rng);
            assert_well_formed(&g);
            /* Every node hears a majority (itself included). */
            for (size_t i = 0; i < n; i++)
                assert_true(hears(&g, i) >= n / 2 + 1);
            if (n == 5) /* and, for 5, exactly 3: a real ring */
                for (size_t i = 0; i < n; i++)
                    assert_int_equal(hears(&g, i), 3);
        }
}

static void test_bridge(void **state)
{
    (void)state;
    fl_rng rng;
    nem_grudge g;
    fl_rng_seed(&rng, 9);
    nem_grudge_bridge(&g, 5, &rng);
    assert_well_formed(&g);
    size_t bridges = 0;
    for (size_t i = 0; i < 5; i++) {
        if (hears(&g, i) == 5)
            bridges++;
        else
            assert_int_equal(hears(&g, i), 3); /* its side + the bridge */
    }
    assert_int_equal(bridges, 1);
}

static void test_grudge_json(void **state)
{
    (void)state;
    nem_grudge g;
    nem_grudge_isolate(&g, 3, 0);
    json_t *j = nem_grudge_to_json(&g, names);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"n1\":[\"n2\",\"n3\"],\"n2\":[\"n1\"],\"n3\":[\"n1\"]}");
    free(s);
    json_decref(j);
}

static void test_iptables_cmds(void **state)
{
    (void)state;
    nem_grudge g;
    char *cmd = NULL;
    fl_error err = {0};
    nem_grudge_isolate(&g, 3, 0);
    assert_int_equal(nem_iptables_apply_cmd(&g, 1, addrs, &cmd, &err), FL_OK);
    assert_string_equal(cmd,
        "set -e; iptables -w -A INPUT -s 10.231.0.11 -m comment --comment "
        "faultline -j DROP; iptables -w -A OUTPUT -d 10.231.0.11 -m comment "
        "--comment faultline -j DROP");
    free(cmd);
    assert_int_equal(nem_iptables_apply_cmd(&g, 0, addrs, &cmd, &err), FL_OK);
    assert_non_null(strstr(cmd, "-s 10.231.0.12 "));
    assert_non_null(strstr(cmd, "-d 10.231.0.13 "));
    free(cmd);
    const char *bad[] = {"10.231.0.11", "x;rm -rf /", "10.231.0.13"};
    assert_int_equal(nem_iptables_apply_cmd(&g, 0, bad, &cmd, &err), FL_EUSAGE);
    assert_null(cmd);
    const char *heal = nem_iptables_heal_cmd();
    assert_non_null(strstr(heal, "--comment faultline"));
    assert_non_null(strstr(heal, "-D "));
}

/* Kind k of the built-in table. */
static const fault_kind *kind(size_t k)
{
    return fault_builtin()->kinds[k];
}

enum { PARTITION = 1u << 0, KILL = 1u << 1, PAUSE = 1u << 2 };

static void test_faults_parse(void **state)
{
    (void)state;
    unsigned m;
    fl_error err = {0};
    const fault_table *t = fault_builtin();
    assert_string_equal(kind(0)->name, "partition");
    assert_string_equal(kind(1)->name, "kill");
    assert_string_equal(kind(2)->name, "pause");
    assert_int_equal(fault_parse(t, "partition,kill", &m, &err), FL_OK);
    assert_int_equal(m, PARTITION | KILL);
    assert_int_equal(fault_parse(t, "pause", &m, &err), FL_OK);
    assert_int_equal(m, PAUSE);
    assert_int_equal(fault_parse(t, "none", &m, &err), FL_OK);
    assert_int_equal(m, 0);
    assert_int_equal(fault_parse(t, "kill,clock", &m, &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "\"clock\""));
    assert_non_null(strstr(err.msg, "known: partition, kill, pause, packet, "
                                    "clock-skew, clock-strobe, clock-rate, "
                                    "power-loss, bitflip, truncate, "
                                    "snapshot, election-kill, all, none"));
}

/* The history's f of each built-in kind's beginning and end. */
static void test_fault_names(void **state)
{
    (void)state;
    const char *const want[][2] = {{"start-partition", "stop-partition"},
                                   {"kill", "start"}, {"pause", "resume"}};
    for (size_t k = 0; k < 3; k++) {
        fault_action a = {.kind = kind(k), .begin = true};
        assert_string_equal(fault_action_f(&a), want[k][0]);
        a.begin = false;
        assert_string_equal(fault_action_f(&a), want[k][1]);
    }
}

/* The built-in table composed: partition overlaps kill and pause (its
 * own cycle), kill and pause (both on the database process) never
 * overlap; kills and pauses touch a minority; each end undoes exactly
 * what its begin did; healing ends everything, last in table order
 * first. */
static void test_scheduler(void **state)
{
    (void)state;
    fault_plan p;
    fl_rng rng;
    fl_rng_seed(&rng, 1);
    fault_plan_init(&p, fault_builtin(), PARTITION | KILL | PAUSE, 5, 5.0,
                    &rng);
    int seen[3] = {0}, overlaps = 0;
    fault_action began[3] = {{0}};
    for (int i = 0; i < 300; i++) {
        fault_action a;
        fault_plan_next(&p, &rng, i % 3 == 0 ? 1 : -1, &a);
        assert_non_null(a.kind);
        size_t k = a.kind == kind(0) ? 0 : a.kind == kind(1) ? 1 : 2;
        assert_ptr_equal(a.kind, kind(k));
        if (a.begin) {
            assert_null(began[k].kind);
            began[k] = a;
            seen[k]++;
            if (k != 0) {
                size_t c = 0;
                for (size_t j = 0; j < 5; j++)
                    c += a.nodes[j];
                assert_true(c >= 1 && c <= 2);
            }
        } else {
            assert_ptr_equal(a.kind, began[k].kind);
            assert_memory_equal(a.nodes, began[k].nodes, sizeof a.nodes);
            memset(&began[k], 0, sizeof began[k]);
        }
        assert_false(began[1].kind && began[2].kind);   /* kill | pause */
        overlaps += began[0].kind && (began[1].kind || began[2].kind);
    }
    assert_true(seen[0] > 20 && seen[1] > 20 && seen[2] > 20);
    assert_true(overlaps > 30);
    /* Healing ends what is in force, the last in table order first;
     * then nothing is left. */
    fault_action a;
    size_t last = SIZE_MAX;
    for (fault_plan_heal(&p, &a); a.kind; fault_plan_heal(&p, &a)) {
        size_t k = a.kind == kind(0) ? 0 : a.kind == kind(1) ? 1 : 2;
        assert_false(a.begin);
        assert_true(k < last);
        last = k;
        assert_memory_equal(a.nodes, began[k].nodes, sizeof a.nodes);
        memset(&began[k], 0, sizeof began[k]);
    }
    assert_true(fault_plan_idle(&p));
    for (size_t k = 0; k < 3; k++)
        assert_null(began[k].kind);
    fault_plan_init(&p, fault_builtin(), 0, 5, 5.0, &rng);
    fault_plan_next(&p, &rng, -1, &a);
    assert_null(a.kind);
}

/* Every partition drawn on 3 nodes cuts someone off (a majorities ring
 * would cut nothing there, so none is drawn); on 5 nodes rings are. */
static void test_partition_always_cuts(void **state)
{
    (void)state;
    int rings5 = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        for (size_t n = 3; n <= 5; n += 2) {
            fl_rng rng;
            fl_rng_seed(&rng, seed);
            fault_action a = {.kind = kind(0), .begin = true};
            a.kind->plan(&rng, n, seed % 2 ? 1 : -1, NULL, 0, &a);
            bool cuts = false;
            for (size_t i = 0; i < n; i++)
                cuts = cuts || !nem_grudge_idle(&a.grudge, i);
            assert_true(cuts);
            if (n == 3)
                assert_int_not_equal(a.shape, NEM_PART_RING);
            else
                rings5 += a.shape == NEM_PART_RING;
        }
    }
    assert_true(rings5 > 10);
}

/* --nemesis all, over many seeds: never two faults on the database
 * process at once (kill, pause, power-loss), never two on the clock; a
 * clock fault never begins on a node whose database a fault in force
 * holds; partitions overlap clock faults; and whenever a clock fault is
 * on one node, a partition begun then isolates that node most of the
 * time (the node is the leader the clock fault saw). */
static void test_all_composed(void **state)
{
    (void)state;
    const fault_table *t = fault_builtin();
    int clocked_partitions = 0, isolating = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        fault_plan p;
        fl_rng rng;
        fl_rng_seed(&rng, seed);
        fault_plan_init(&p, t, fault_all(t), 5, 5.0, &rng);
        for (int i = 0; i < 200; i++) {
            fault_action before[FAULT_MAX_KINDS], a;
            size_t nb = fault_plan_in_force(&p, before);
            fault_plan_next(&p, &rng, (long)(seed % 5), &a);
            assert_non_null(a.kind);
            if (a.begin && (a.kind->acts_on & FAULT_ON_CLOCK))
                for (size_t j = 0; j < 5; j++)
                    assert_false(a.nodes[j] &&
                                 fault_in_force_on(before, nb,
                                                   FAULT_ON_PROCESS, j));
            if (a.begin && a.kind == kind(0)) {
                size_t on = 0, node = 0;
                for (size_t j = 0; j < 5; j++)
                    if (fault_in_force_on(before, nb, FAULT_ON_CLOCK, j)) {
                        on++;
                        node = j;
                    }
                if (on == 1) {
                    clocked_partitions++;
                    size_t hears = 0;
                    for (size_t j = 0; j < 5; j++)
                        hears += !a.grudge.drop[node][j];
                    isolating += hears == 1;
                }
            }
            fault_action now[FAULT_MAX_KINDS];
            size_t nforce = fault_plan_in_force(&p, now);
            for (size_t x = 0; x < nforce; x++)
                for (size_t y = x + 1; y < nforce; y++)
                    assert_int_equal(now[x].kind->acts_on &
                                     now[y].kind->acts_on, 0);
        }
    }
    assert_true(clocked_partitions > 20);
    /* two in three by the clock rule, plus the other shapes' share */
    assert_true(isolating * 10 > clocked_partitions * 6);
}

/* A partition's value is its shape and grudge; its end, the healed
 * network; a kill's and its restart's, the nodes. */
static void test_fault_values(void **state)
{
    (void)state;
    fault_action a = {.kind = kind(0), .begin = true,
                      .shape = NEM_PART_ISOLATE_ONE};
    nem_grudge_isolate(&a.grudge, 3, 0);
    json_t *v = a.kind->describe(&a, 3, names);
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"grudge\":{\"n1\":[\"n2\",\"n3\"],\"n2\":"
                           "[\"n1\"],\"n3\":[\"n1\"]},\"partition\":"
                           "\"isolate-one\"}");
    free(s);
    json_decref(v);
    a.begin = false;
    v = a.kind->describe(&a, 3, names);
    assert_string_equal(json_string_value(v), "network healed");
    json_decref(v);
    fault_action k = {.kind = kind(1), .begin = false, .nodes = {true, false, true}};
    v = k.kind->describe(&k, 3, names);
    s = json_dumps(v, JSON_COMPACT);
    assert_string_equal(s, "[\"n1\",\"n3\"]");
    free(s);
    json_decref(v);
}

/* The table's power-loss kind. */
static const fault_kind *power_loss(void)
{
    const fault_table *t = fault_builtin();
    for (size_t k = 0; k < t->count; k++)
        if (!strcmp(t->kinds[k]->name, "power-loss"))
            return t->kinds[k];
    fail_msg("no power-loss kind in the table");
    return NULL;
}

/* Power fails on every node about half the time, on a majority about a
 * quarter, on a minority about a quarter; never on no node. The same
 * seed draws the same cuts. */
static void test_power_loss_plan(void **state)
{
    (void)state;
    const fault_kind *k = power_loss();
    fl_rng rng, again;
    fl_rng_seed(&rng, 7);
    fl_rng_seed(&again, 7);
    size_t by_size[6] = {0};
    for (int i = 0; i < 400; i++) {
        fault_action a = {.kind = k, .begin = true}, b = a;
        k->plan(&rng, 5, i % 2 ? 2 : -1, NULL, 0, &a);
        k->plan(&again, 5, i % 2 ? 2 : -1, NULL, 0, &b);
        assert_memory_equal(a.nodes, b.nodes, sizeof a.nodes);
        size_t c = 0;
        for (size_t j = 0; j < FAULT_MAX_NODES; j++) {
            c += a.nodes[j];
            assert_true(j < 5 || !a.nodes[j]);
        }
        by_size[c]++;
    }
    assert_int_equal(by_size[0], 0);
    assert_int_equal(by_size[4], 0);
    assert_in_range(by_size[5], 160, 240);
    assert_in_range(by_size[3], 70, 130);
    assert_in_range(by_size[1] + by_size[2], 70, 130);
    /* Its value is its nodes; its rest unmounts powerfs and says how many
     * mounts it found. */
    fault_action a = {.kind = k, .begin = true, .nodes = {false, true}};
    json_t *v = k->describe(&a, 3, names);
    char *s = json_dumps(v, JSON_COMPACT);
    assert_string_equal(s, "[\"n2\"]");
    free(s);
    json_decref(v);
    fault_env env = {.n = 3, .names = names, .node_dir = "/var/lib/x"};
    char *rest = k->rest(&env, 1);
    assert_non_null(strstr(rest, "d=/var/lib/x/n2;"));
    assert_non_null(strstr(rest, "fuse.powerfs"));
    assert_non_null(strstr(rest, "fusermount3 -u"));
    assert_non_null(strstr(rest, "echo power-loss=$n"));
    free(rest);
}

static void test_scheduler_deterministic(void **state)
{
    (void)state;
    fault_plan p1, p2;
    fl_rng r1, r2;
    fl_rng_seed(&r1, 77);
    fl_rng_seed(&r2, 77);
    fault_plan_init(&p1, fault_builtin(), PARTITION | KILL, 5, 5.0, &r1);
    fault_plan_init(&p2, fault_builtin(), PARTITION | KILL, 5, 5.0, &r2);
    for (int i = 0; i < 100; i++) {
        fault_action a, b;
        assert_true(fault_plan_due(&p1) == fault_plan_due(&p2));
        fault_plan_next(&p1, &r1, -1, &a);
        fault_plan_next(&p2, &r2, -1, &b);
        assert_ptr_equal(a.kind, b.kind);
        assert_int_equal(a.begin, b.begin);
        assert_int_equal(a.shape, b.shape);
        assert_memory_equal(&a.grudge, &b.grudge, sizeof a.grudge);
        assert_memory_equal(a.nodes, b.nodes, sizeof a.nodes);
    }
}

/* ---- raftkv target: command lines and outcomes ---------------------------------- */

static void test_raftkv_start_cmd(void **state)
{
    (void)state;
    char *cmd = raftkv_start_cmd("/var/lib/faultline-node", 3, names, addrs, 1,
                                 "stale-read", NULL);
    assert_non_null(cmd);
    assert_non_null(strstr(cmd, "d=/var/lib/faultline-node/n2;"));
    assert_non_null(strstr(cmd, "setsid nohup sh -c './raftkv --id 2 --listen "
                                "10.231.0.12:7000 --peers 1=10.231.0.11:7000,"
                                "2=10.231.0.12:7000,3=10.231.0.13:7000 "
                                "--data-dir $d/data --client-port 8000 "
                                "--log $d/raftkv.log --bug stale-read "
                                "& echo $! > raftkv.pid; wait $!; "
                                "echo $? > \"$d/db.exit\"' "
                                ">>$d/stdout.log 2>&1 </dev/null & "));
    /* The exit file an earlier start left goes first (crashwatch.h). */
    assert_non_null(strstr(cmd, "rm -f raftkv.pid $d/db.exit; export d; setsid"));
    free(cmd);
    cmd = raftkv_start_cmd("/x", 3, names, addrs, 0, NULL, NULL);
    assert_null(strstr(cmd, "--bug"));
    assert_null(strstr(cmd, "env "));
    free(cmd);
    /* A clock fault's preload goes before the binary, through env. */
    cmd = raftkv_start_cmd("/x", 3, names, addrs, 0, NULL, "A=1 B=$d/f ");
    assert_non_null(strstr(cmd, "setsid nohup sh -c 'env A=1 B=$d/f ./raftkv --id 1 "));
    free(cmd);
}

static void test_raftkv_signal_cmd(void **state)
{
    (void)state;
    char *k = raftkv_signal_cmd("/x", "n3", "KILL");
    char *s = raftkv_signal_cmd("/x", "n3", "STOP");
    assert_non_null(strstr(k, "d=/x/n3; ps=; for q in /proc/[0-9]*"));
    assert_non_null(strstr(k, "grep -Eq -- \"^[^ ]*raftkv --id .* --data-dir "
                              "$d/data \""));
    assert_non_null(strstr(k, "kill -KILL $ps"));
    assert_non_null(strstr(k, "rm -f $d/raftkv.pid"));
    assert_non_null(strstr(s, "kill -STOP $ps"));
    assert_null(strstr(s, "rm -f"));
    free(k);
    free(s);
}

static history_type classify(const char *f, bool answered, bool sent,
                             bool timed_out, long status, const char *body)
{
    json_t *b = body ? json_loads(body, 0, NULL) : NULL;
    json_t *w = json_integer(3);
    raftkv_answer a = {.answered = answered, .sent = sent,
                       .timed_out = timed_out, .status = status, .body = b};
    target_result r;
    raftkv_classify(f, w, &a, &r);
    history_type t = r.type;
    if (t == HISTORY_OK && strcmp(f, "read") == 0 && status == 200)
        assert_int_equal(json_integer_value(r.value), 7);
    if (t == HISTORY_OK && status == 404)
        assert_true(json_is_null(r.value));
    if (t != HISTORY_OK)
        assert_non_null(r.error);
    target_result_clear(&r);
    json_decref(b);
    json_decref(w);
    return t;
}

static void test_raftkv_classify(void **state)
{
    (void)state;
    assert_int_equal(classify("read", true, true, false, 200, "{\"value\":7}"), HISTORY_OK);
    assert_int_equal(classify("read", true, true, false, 404, "{\"error\":\"not found\"}"), HISTORY_OK);
    assert_int_equal(classify("write", true, true, false, 200, "{\"ok\":true}"), HISTORY_OK);
    assert_int_equal(classify("cas", true, true, false, 412,
                              "{\"error\":\"precondition failed\",\"value\":1}"), HISTORY_FAIL);
    assert_int_equal(classify("write", true, true, false, 421,
                              "{\"error\":\"not leader\",\"leader\":null}"), HISTORY_FAIL);
    assert_int_equal(classify("write", true, true, false, 503, "{\"error\":\"no leader\"}"), HISTORY_FAIL);
    assert_int_equal(classify("write", true, true, false, 504, NULL), HISTORY_INFO);
    assert_int_equal(classify("read", true, true, false, 504, NULL), HISTORY_FAIL);
    assert_int_equal(classify("cas", false, true, true, 0, NULL), HISTORY_INFO);
    assert_int_equal(classify("cas", false, false, true, 0, NULL), HISTORY_FAIL);
    assert_int_equal(classify("write", false, false, false, 0, NULL), HISTORY_FAIL);
    assert_int_equal(classify("read", false, true, true, 0, NULL), HISTORY_FAIL);
    assert_int_equal(classify("write", true, true, false, 500, NULL), HISTORY_INFO);
    assert_int_equal(classify("write", true, true, false, 400, "{\"error\":\"key must be 1..1024 bytes\"}"), HISTORY_FAIL);
    /* A 200 read whose body is not raftkv's answer tells nothing. */
    assert_int_equal(classify("read", true, true, false, 200, "{\"x\":1}"), HISTORY_FAIL);
    assert_int_equal(classify("read", true, true, false, 200, NULL), HISTORY_FAIL);
}

/* An answer that is not recognisably raftkv's — another server on the
 * port, a proxy's error page — is never what raftkv said: a read learns
 * nothing (fail), a write may have landed (info). Above all a foreign 404
 * is never a read of the null value. */
static void test_raftkv_classify_foreign_answers(void **state)
{
    (void)state;
    const char *html = NULL;   /* an HTML page does not parse as JSON */
    assert_int_equal(classify("read", true, true, false, 404, html), HISTORY_FAIL);
    assert_int_equal(classify("read", true, true, false, 404, "{\"error\":\"Not Found\"}"), HISTORY_FAIL);
    assert_int_equal(classify("read", true, true, false, 404,
                              "{\"error\":\"not found\",\"path\":\"/kv/1\"}"), HISTORY_FAIL);
    assert_int_equal(classify("read", true, true, false, 404, "[\"not found\"]"), HISTORY_FAIL);
    /* raftkv's own 404 for an unknown endpoint is not a missing key either. */
    assert_int_equal(classify("read", true, true, false, 404,
                              "{\"error\":\"no such endpoint (try /kv/KEY or /status)\"}"), HISTORY_FAIL);
    assert_int_equal(classify("write", true, true, false, 404, "{\"error\":\"not found\"}"), HISTORY_INFO);
    assert_int_equal(classify("write", true, true, false, 404, html), HISTORY_INFO);
    assert_int_equal(classify("cas", true, true, false, 404, html), HISTORY_INFO);
    /* A 200 to a write without raftkv's {"ok":true}: unknown. */
    assert_int_equal(classify("write", true, true, false, 200, html), HISTORY_INFO);
    assert_int_equal(classify("write", true, true, false, 200, "{\"ok\":false}"), HISTORY_INFO);
    /* Refusals count only with raftkv's error body. */
    assert_int_equal(classify("cas", true, true, false, 412, "{\"value\":1}"), HISTORY_INFO);
    assert_int_equal(classify("write", true, true, false, 421, html), HISTORY_INFO);
    assert_int_equal(classify("write", true, true, false, 503, html), HISTORY_INFO);
    assert_int_equal(classify("write", true, true, false, 400, html), HISTORY_INFO);
    assert_int_equal(classify("read", true, true, false, 503, html), HISTORY_FAIL);
}

/* A bind to the test network that failed sent nothing: fail, for writes
 * too, with the error string the runner can recognise. */
static void test_raftkv_classify_unbound(void **state)
{
    (void)state;
    const char *fs[] = {"read", "write", "cas", "add"};
    for (size_t i = 0; i < 4; i++) {
        raftkv_answer a = {.unbound = true};
        target_result r;
        raftkv_classify(fs[i], NULL, &a, &r);
        assert_int_equal(r.type, HISTORY_FAIL);
        assert_string_equal(json_string_value(json_object_get(r.error, "error")),
                            RAFTKV_ERROR_UNBOUND);
        target_result_clear(&r);
    }
}

/* The set workload's read-modify-write: the next set and the PUT body. */
static void test_raftkv_add_steps(void **state)
{
    (void)state;
    json_t *next = NULL;
    assert_int_equal(rmw_set_with(NULL, 4, &next), 0);
    char *p = raftkv_add_payload(NULL, next);
    assert_string_equal(p, "{\"value\":[4],\"create\":true}");
    free(p);
    json_t *cur = next;
    assert_int_equal(rmw_set_with(cur, 9, &next), 0);
    p = raftkv_add_payload(cur, next);
    assert_string_equal(p, "{\"value\":[4,9],\"prev\":[4]}");
    free(p);
    json_decref(cur);
    assert_int_equal(rmw_set_with(next, 4, &cur), 1);   /* already in */
    assert_null(cur);
    json_decref(next);
    json_t *odd = json_loads("[1,\"x\"]", 0, NULL);
    assert_int_equal(rmw_set_with(odd, 2, &next), -1);
    json_decref(odd);
    odd = json_integer(3);
    assert_int_equal(rmw_set_with(odd, 2, &next), -1);
    assert_null(next);
    json_decref(odd);
}

/* ---- the add's decisions, driven by made-up answers ---------------------------- */

#define NOT_FOUND "{\"error\":\"not found\"}"
#define NO_LEADER "{\"error\":\"no leader\"}"

/* Feed st the answer (status, body JSON text) to what it asked for, after
 * checking that it asked for `want` (and, for a PUT, the payload). */
static void step(rmw_add *st, raftkv_add_action want, const char *payload,
                 long status, const char *body)
{
    char *p;
    raftkv_add_action act = raftkv_add_next(st, &p);
    assert_int_equal(act, want);
    if (payload)
        assert_string_equal(p, payload);
    free(p);
    if (act == RAFTKV_ADD_DONE)
        return;
    json_t *b = body ? json_loads(body, JSON_DECODE_ANY, NULL) : NULL;
    raftkv_answer a = {.answered = status != 0, .sent = true,
                       .timed_out = status == 0, .status = status, .body = b};
    raftkv_add_answer(st, act, &a);
    json_decref(b);
}

static void expect_result(rmw_add *st, history_type type)
{
    char *p;
    assert_int_equal(raftkv_add_next(st, &p), RAFTKV_ADD_DONE);
    assert_null(p);
    assert_int_equal(st->result.type, type);
    if (type == HISTORY_OK)
        assert_int_equal(json_integer_value(st->result.value), st->element);
    else
        assert_non_null(st->result.error);
    rmw_add_clear(st);
}

static void test_raftkv_add_decisions(void **state)
{
    (void)state;
    rmw_add st;
    /* First add to a missing key: create. */
    rmw_add_init(&st, 9);
    step(&st, RAFTKV_ADD_GET, NULL, 404, NOT_FOUND);
    step(&st, RAFTKV_ADD_PUT, "{\"value\":[9],\"create\":true}", 200, "{\"ok\":true}");
    expect_result(&st, HISTORY_OK);

    /* Lost a race: retry with the set the 412 carries. */
    rmw_add_init(&st, 9);
    step(&st, RAFTKV_ADD_GET, NULL, 200, "{\"value\":[1]}");
    step(&st, RAFTKV_ADD_PUT, "{\"value\":[1,9],\"prev\":[1]}", 412,
         "{\"error\":\"precondition failed\",\"value\":[1,2]}");
    step(&st, RAFTKV_ADD_PUT, "{\"value\":[1,2,9],\"prev\":[1,2]}", 200, "{\"ok\":true}");
    expect_result(&st, HISTORY_OK);

    /* A definite refusal before anything could land: fail. */
    rmw_add_init(&st, 9);
    step(&st, RAFTKV_ADD_GET, NULL, 503, NO_LEADER);
    expect_result(&st, HISTORY_FAIL);
    rmw_add_init(&st, 9);
    step(&st, RAFTKV_ADD_GET, NULL, 404, NOT_FOUND);
    step(&st, RAFTKV_ADD_PUT, NULL, 421, "{\"error\":\"not leader\",\"leader\":null}");
    expect_result(&st, HISTORY_FAIL);

    /* A write timed out; a later read shows our element: it landed: ok. */
    rmw_add_init(&st, 9);
    step(&st, RAFTKV_ADD_GET, NULL, 404, NOT_FOUND);
    step(&st, RAFTKV_ADD_PUT, NULL, 0, NULL);          /* timeout */
    assert_true(st.uncertain);
    step(&st, RAFTKV_ADD_GET, NULL, 503, NO_LEADER);   /* no leader: retry */
    assert_true(st.wait);
    step(&st, RAFTKV_ADD_GET, NULL, 200, "{\"value\":[4,9]}");
    expect_result(&st, HISTORY_OK);

    /* After an unknown outcome, a definite refusal decides nothing, and
     * giving up (or finding a non-set) is info, never fail. */
    rmw_add_init(&st, 9);
    step(&st, RAFTKV_ADD_GET, NULL, 200, "{\"value\":[1]}");
    step(&st, RAFTKV_ADD_PUT, NULL, 504, "{\"error\":\"timeout\"}");
    step(&st, RAFTKV_ADD_GET, NULL, 200, "{\"value\":[1]}");
    step(&st, RAFTKV_ADD_PUT, NULL, 503, NO_LEADER);
    assert_false(st.done);
    rmw_add_give_up(&st);
    expect_result(&st, HISTORY_INFO);
    rmw_add_init(&st, 9);
    step(&st, RAFTKV_ADD_GET, NULL, 200, "{\"value\":[1]}");
    step(&st, RAFTKV_ADD_PUT, NULL, 0, NULL);
    step(&st, RAFTKV_ADD_GET, NULL, 200, "{\"value\":\"oops\"}");
    expect_result(&st, HISTORY_INFO);

    /* Without one, the same endings are fail. */
    rmw_add_init(&st, 9);
    step(&st, RAFTKV_ADD_GET, NULL, 200, "{\"value\":{\"a\":1}}");
    expect_result(&st, HISTORY_FAIL);
    rmw_add_init(&st, 9);
    step(&st, RAFTKV_ADD_GET, NULL, 200, "{\"value\":[1]}");
    step(&st, RAFTKV_ADD_PUT, NULL, 412,
         "{\"error\":\"precondition failed\",\"value\":[1,2]}");
    rmw_add_give_up(&st);
    expect_result(&st, HISTORY_FAIL);

    /* A 404 page that is not raftkv's: the add learnt nothing and sent
     * nothing yet: fail; a 412 without raftkv's body after a PUT: the PUT
     * may have landed: info. */
    rmw_add_init(&st, 9);
    step(&st, RAFTKV_ADD_GET, NULL, 404, "{\"error\":\"Not Found\"}");
    expect_result(&st, HISTORY_FAIL);
    rmw_add_init(&st, 9);
    step(&st, RAFTKV_ADD_GET, NULL, 200, "{\"value\":[1]}");
    step(&st, RAFTKV_ADD_PUT, NULL, 412, "{\"value\":[1,2]}");
    assert_true(st.uncertain);
    rmw_add_give_up(&st);
    expect_result(&st, HISTORY_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halves),
        cmocka_unit_test(test_isolate),
        cmocka_unit_test(test_ring),
        cmocka_unit_test(test_bridge),
        cmocka_unit_test(test_grudge_json),
        cmocka_unit_test(test_iptables_cmds),
        cmocka_unit_test(test_faults_parse),
        cmocka_unit_test(test_fault_names),
        cmocka_unit_test(test_scheduler),
        cmocka_unit_test(test_all_composed),
        cmocka_unit_test(test_partition_always_cuts),
        cmocka_unit_test(test_fault_values),
        cmocka_unit_test(test_power_loss_plan),
        cmocka_unit_test(test_scheduler_deterministic),
        cmocka_unit_test(test_raftkv_start_cmd),
        cmocka_unit_test(test_raftkv_signal_cmd),
        cmocka_unit_test(test_raftkv_classify),
        cmocka_unit_test(test_raftkv_classify_foreign_answers),
        cmocka_unit_test(test_raftkv_classify_unbound),
        cmocka_unit_test(test_raftkv_add_steps),
        cmocka_unit_test(test_raftkv_add_decisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
