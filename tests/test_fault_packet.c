/*
 * Tests of the packet fault without a network: its plan (which links are
 * shaped, for Jepsen's node specs), its description for the history, its
 * command lines (one steering rule per shaped destination, the shaper
 * given the options), the fault options' resolution, and the shaper's
 * pure decisions (nemesis/netem/shape.h) over many seeded packets.
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

#include "nemesis/fault.h"
#include "nemesis/netem/shape.h"

static const char *const names[] = {"n1", "n2", "n3", "n4", "n5"};
static const char *const addrs[] = {"10.231.0.11", "10.231.0.12",
                                    "10.231.0.13", "10.231.0.14",
                                    "10.231.0.15"};

static const fault_kind *packet_kind(void)
{
    const fault_table *t = fault_builtin();
    unsigned mask;
    assert_int_equal(fault_parse(t, "packet", &mask, NULL), FL_OK);
    for (size_t k = 0; k < t->count; k++)
        if (mask == 1u << k)
            return t->kinds[k];
    fail();
    return NULL;
}

static void plan(uint64_t seed, long leader, fault_action *a)
{
    fl_rng rng;
    fl_rng_seed(&rng, seed);
    memset(a, 0, sizeof *a);
    a->kind = packet_kind();
    a->begin = true;
    a->kind->plan(&rng, 5, leader, NULL, 0, a);
}

/* How many substrings needle in hay. */
static int count_of(const char *hay, const char *needle)
{
    int c = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        c++;
    return c;
}

/* Every plan shapes both directions of exactly the links that touch its
 * targets, heals every node, and draws each of Jepsen's node specs. */
static void test_plan_shapes_links_of_targets(void **state)
{
    (void)state;
    int seen[4] = {0};
    for (uint64_t seed = 1; seed <= 200; seed++) {
        fault_action a;
        plan(seed, -1, &a);
        bool tgt[5];
        size_t targets = 0;
        for (size_t i = 0; i < 5; i++) {
            assert_true(a.nodes[i]);
            tgt[i] = true;
            for (size_t j = 0; j < 5; j++)
                tgt[i] = tgt[i] && (i == j || a.grudge.drop[i][j]);
            targets += tgt[i];
        }
        for (size_t i = 0; i < 5; i++)
            for (size_t j = 0; j < 5; j++) {
                assert_int_equal(a.grudge.drop[i][j], a.grudge.drop[j][i]);
                assert_int_equal(a.grudge.drop[i][j],
                                 i != j && (tgt[i] || tgt[j]));
            }
        size_t want[] = {1, 2, 3, 5};
        assert_true(a.shape >= 0 && a.shape < 4);
        assert_int_equal(targets, want[a.shape] == 5 ? 5 : want[a.shape]);
        seen[a.shape]++;
    }
    for (int s = 0; s < 4; s++)
        assert_true(seen[s] > 0);
}

/* One node, when the leader is known, is the leader. */
static void test_plan_one_is_the_leader(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        fault_action a;
        plan(seed, 3, &a);
        if (a.shape != 0)
            continue;
        for (size_t j = 0; j < 5; j++)
            assert_int_equal(a.grudge.drop[3][j], j != 3);
        assert_false(a.grudge.drop[0][1]);
    }
}

static json_t *resolved(const char *name, const char *value)
{
    json_t *given = json_pack("{s:s}", name, value), *out = NULL;
    fl_error err = {0};
    assert_int_equal(fault_options_resolve(fault_builtin(), given, &out, &err),
                     FL_OK);
    json_decref(given);
    return out;
}

/* The shaper gets every option; each shaped destination gets one rule and
 * no other does; the history records the behaviour in force. */
static void test_commands_and_description(void **state)
{
    (void)state;
    json_t *opts = resolved("packet-loss", "20");
    fault_action a;
    plan(7, -1, &a);
    a.options = opts;
    fl_error err = {0};
    for (size_t i = 0; i < 5; i++) {
        char *cmd = fault_packet_apply_cmd(&a, i, "/var/lib/fl", names[i],
                                           addrs, &err);
        assert_non_null(cmd);
        assert_non_null(strstr(cmd, "d=/var/lib/fl/"));
        assert_non_null(strstr(cmd, "--delay 50 --jitter 10 --loss 20 "));
        int rules = 0;
        for (size_t j = 0; j < 5; j++) {
            char want[64];
            snprintf(want, sizeof want, "-A POSTROUTING -d %s ", addrs[j]);
            assert_int_equal(count_of(cmd, want), a.grudge.drop[i][j]);
            rules += a.grudge.drop[i][j];
        }
        assert_int_equal(count_of(cmd, "-j NFQUEUE --queue-num"), rules);
        assert_int_equal(count_of(cmd, "--comment " FAULT_PACKET_TAG), rules);
        free(cmd);
    }
    json_t *d = a.kind->describe(&a, 5, names);
    json_t *b = json_object_get(d, "behaviour");
    assert_true(json_number_value(json_object_get(b, "loss")) == 20);
    assert_true(json_number_value(json_object_get(b, "delay")) == 50);
    assert_null(json_object_get(b, "duplicate"));   /* 0: not in force */
    assert_non_null(json_object_get(d, "targets"));
    json_decref(d);
    a.begin = false;
    d = a.kind->describe(&a, 5, names);
    assert_string_equal(json_string_value(d), "packets unshaped");
    json_decref(d);
    json_decref(opts);
}

static void test_bad_address_refused(void **state)
{
    (void)state;
    const char *const evil[] = {"10.0.0.1", "x;rm -rf /", "10.0.0.3",
                                "10.0.0.4", "10.0.0.5"};
    fault_action a;
    plan(3, -1, &a);
    a.shape = 3;
    for (size_t j = 0; j < 5; j++)
        a.grudge.drop[0][j] = j != 0;
    fl_error err = {0};
    assert_null(fault_packet_apply_cmd(&a, 0, "/d", "n1", evil, &err));
    assert_int_equal(err.code, FL_EUSAGE);
    assert_non_null(strstr(err.msg, "rm -rf"));
}

static void test_heal_cmd_removes_rules_and_shaper(void **state)
{
    (void)state;
    char *cmd = fault_packet_heal_cmd("/var/lib/fl", "n2");
    assert_non_null(cmd);
    assert_non_null(strstr(cmd, "iptables -w -t mangle -S POSTROUTING"));
    assert_non_null(strstr(cmd, "--comment " FAULT_PACKET_TAG));
    assert_non_null(strstr(cmd, "sed 's/^-A /-D /'"));
    /* Anchored: the shell running this never matches itself. */
    assert_non_null(strstr(cmd, "^[^ ]*faultline-netem .*--tag $d"));
    assert_non_null(strstr(cmd, "d=/var/lib/fl/n2;"));
    free(cmd);
}

static void test_options_resolve(void **state)
{
    (void)state;
    json_t *out = NULL;
    fl_error err = {0};
    assert_int_equal(fault_options_resolve(fault_builtin(), NULL, &out, &err),
                     FL_OK);
    assert_true(json_number_value(json_object_get(out, "packet-delay")) == 50);
    json_decref(out);
    json_t *bad = json_pack("{s:s}", "packet-loss", "120");
    assert_int_equal(fault_options_resolve(fault_builtin(), bad, &out, &err),
                     FL_EUSAGE);
    assert_non_null(strstr(err.msg, "--packet-loss"));
    json_decref(bad);
    bad = json_pack("{s:s}", "packet-delay", "50ms");
    assert_int_equal(fault_options_resolve(fault_builtin(), bad, &out, &err),
                     FL_EUSAGE);
    json_decref(bad);
    bad = json_pack("{s:s}", "packet-nonsense", "1");
    assert_int_equal(fault_options_resolve(fault_builtin(), bad, &out, &err),
                     FL_EUSAGE);
    json_decref(bad);
}

/* ---- the shaper's decisions ---------------------------------------------------- */

static void test_shaper_delay_jitter_loss(void **state)
{
    (void)state;
    shape_params p = {.delay_ms = 50, .jitter_ms = 10, .loss = 20};
    assert_null(shape_params_check(&p));
    shaper s;
    shaper_init(&s, &p, 42);
    int dropped = 0;
    for (int i = 0; i < 10000; i++) {
        shape_decision d = shaper_decide(&s, 100, 1000000000);
        if (d.drop) {
            dropped++;
            continue;
        }
        uint64_t held = d.release_ns - 1000000000;
        assert_true(held >= 40000000 && held <= 60000000);
        assert_false(d.duplicate || d.corrupt);
    }
    /* 20 % of 10000, with a generous margin for the draw. */
    assert_true(dropped > 1700 && dropped < 2300);
}

static void test_shaper_reorder_duplicate_rate(void **state)
{
    (void)state;
    shape_params p = {.delay_ms = 100, .reorder = 50, .duplicate = 30,
                      .rate_kbit = 8};   /* 1 byte per ms */
    shaper s;
    shaper_init(&s, &p, 7);
    int ahead = 0, dup = 0;
    uint64_t last = 0;
    /* Behind a rate limit even a reordered packet waits for the link. */
    for (int i = 0; i < 1000; i++) {
        shape_decision d = shaper_decide(&s, 10, 0);
        /* The link sends one 10-byte packet per 10 ms, in order. */
        assert_true(i == 0 || d.release_ns >= last + 10000000);
        last = d.release_ns;
        dup += d.duplicate;
    }
    assert_true(dup > 230 && dup < 370);
    shaper_init(&s, &(shape_params){.delay_ms = 100, .reorder = 50}, 7);
    ahead = 0;
    for (int i = 0; i < 1000; i++)
        ahead += shaper_decide(&s, 10, 0).release_ns == 0;
    assert_true(ahead > 430 && ahead < 570);
}

static void test_shaper_params_checked(void **state)
{
    (void)state;
    assert_non_null(shape_params_check(&(shape_params){.loss = 101}));
    assert_non_null(shape_params_check(&(shape_params){.reorder = 5}));
    assert_non_null(shape_params_check(&(shape_params){.delay_ms = 5,
                                                       .jitter_ms = 6}));
    unsigned char pkt[20] = {0x45};
    shape_corrupt(pkt, sizeof pkt);
    assert_int_equal(pkt[5], 1);
    unsigned char v6[40] = {0x60};
    shape_corrupt(v6, sizeof v6);
    assert_int_equal(v6[5], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_shapes_links_of_targets),
        cmocka_unit_test(test_plan_one_is_the_leader),
        cmocka_unit_test(test_commands_and_description),
        cmocka_unit_test(test_bad_address_refused),
        cmocka_unit_test(test_heal_cmd_removes_rules_and_shaper),
        cmocka_unit_test(test_options_resolve),
        cmocka_unit_test(test_shaper_delay_jitter_loss),
        cmocka_unit_test(test_shaper_reorder_duplicate_rate),
        cmocka_unit_test(test_shaper_params_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
