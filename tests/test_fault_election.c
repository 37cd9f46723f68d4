/*
 * Tests of the election-kill fault without a network: its plan (every
 * node, a seed each), its description for the history (the parameters
 * in force), and its agent's pure core (nemesis/election/watch.h): the
 * status it parses and when it kills.
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

#include "nemesis/election/watch.h"
#include "nemesis/fault.h"

static const char *const names[] = {"n1", "n2", "n3"};

static const fault_kind *election_kind(void)
{
    const fault_table *t = fault_builtin();
    unsigned mask;
    assert_int_equal(fault_parse(t, "election-kill", &mask, NULL), FL_OK);
    for (size_t k = 0; k < t->count; k++)
        if (mask == 1u << k)
            return t->kinds[k];
    fail();
    return NULL;
}

static void test_plan_and_description(void **st)
{
    (void)st;
    fault_action a = {0};
    fl_rng rng;
    fl_rng_seed(&rng, 7);
    a.kind = election_kind();
    a.begin = true;
    a.kind->plan(&rng, 3, 1, NULL, 0, &a);
    for (size_t i = 0; i < 3; i++)
        assert_true(a.nodes[i]);
    assert_true(a.amount[0] != a.amount[1] || a.amount[1] != a.amount[2]);

    json_t *opts = json_pack("{s:f,s:f}", "election-kill-jitter", 40.0,
                             "election-kill-period", 700.0);
    a.options = opts;
    json_t *v = a.kind->describe(&a, 3, names);
    assert_non_null(v);
    assert_int_equal(json_array_size(json_object_get(v, "nodes")), 3);
    assert_true(json_real_value(json_object_get(v, "jitter_ms")) == 40.0);
    assert_true(json_real_value(json_object_get(v, "leader_kill_every_ms")) ==
                700.0);
    /* the defaults where not given */
    assert_true(json_real_value(json_object_get(v, "delay_ms")) == 50.0);
    assert_true(json_real_value(json_object_get(v, "voter_kill_pct")) ==
                100.0);
    assert_true(json_real_value(json_object_get(v, "voter_kill_lag_ms")) ==
                5.0);
    assert_true(json_is_false(json_object_get(v, "hold")));
    json_decref(v);
    a.begin = false;
    v = a.kind->describe(&a, 3, names);
    assert_non_null(json_object_get(v, "then"));
    json_decref(v);
    json_decref(opts);
    assert_true(a.kind->db_needs != 0);
}

static void test_parse_status(void **st)
{
    (void)st;
    long long term = -1;
    watch_role role = WATCH_CANDIDATE;
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "\r\n{\"id\":2,\"role\":\"follower\",\"term\":17,"
                     "\"leader\":null}";
    assert_true(watch_parse_status(ok, strlen(ok), &term, &role));
    assert_int_equal(term, 17);
    assert_int_equal(role, WATCH_FOLLOWER);
    const char *lead = "HTTP/1.0 200 OK\r\n\r\n{\"term\": 3, \"role\": "
                       "\"leader\"}";
    assert_true(watch_parse_status(lead, strlen(lead), &term, &role));
    assert_int_equal(term, 3);
    assert_int_equal(role, WATCH_LEADER);
    const char *cand = "HTTP/1.1 200 OK\r\n\r\n{\"role\":\"candidate\","
                       "\"term\":4}";
    assert_true(watch_parse_status(cand, strlen(cand), &term, &role));
    assert_int_equal(role, WATCH_CANDIDATE);
    /* refused: not 200, no body, no term, truncated before the term */
    const char *bad[] = {
        "HTTP/1.1 503 Service Unavailable\r\n\r\n{\"role\":\"leader\","
        "\"term\":1}",
        "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 200 OK\r\n\r\n{\"role\":\"leader\"}",
        "HTTP/1.1 200 OK\r\n\r\n{\"role\":\"leader\",\"term\":",
        "garbage",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        term = 99;
        assert_false(watch_parse_status(bad[i], strlen(bad[i]), &term, &role));
        assert_int_equal(term, 99);
    }
}

static void test_step_kills_voters_and_old_leaders(void **st)
{
    (void)st;
    watch_state w;
    bool lead;
    watch_init(&w, 0, 1.0, 100);
    /* the first sight only sets the baseline */
    assert_false(watch_step(&w, 0.0, 5, WATCH_FOLLOWER, 0, &lead));
    assert_false(watch_step(&w, 0.1, 5, WATCH_FOLLOWER, 0, &lead));
    /* a follower whose term rose: it voted */
    assert_true(watch_step(&w, 0.2, 6, WATCH_FOLLOWER, 9999, &lead));
    assert_false(lead);
    assert_false(watch_step(&w, 0.3, 6, WATCH_FOLLOWER, 0, &lead));
    /* a candidate's own rise is not a vote */
    assert_false(watch_step(&w, 0.4, 7, WATCH_CANDIDATE, 0, &lead));
    /* a leader is killed once it has led for the period */
    assert_false(watch_step(&w, 0.5, 7, WATCH_LEADER, 0, &lead));
    assert_false(watch_step(&w, 1.4, 7, WATCH_LEADER, 0, &lead));
    assert_true(watch_step(&w, 1.5, 7, WATCH_LEADER, 0, &lead));
    assert_true(lead);
    /* after its restart it leads again only from a new sight */
    assert_false(watch_step(&w, 1.6, 7, WATCH_LEADER, 0, &lead));
    assert_true(watch_step(&w, 2.6, 7, WATCH_LEADER, 0, &lead));

    /* the chance: 30 % kills draws below 3000 only */
    watch_init(&w, 0, 1.0, 30);
    assert_false(watch_step(&w, 0.0, 1, WATCH_FOLLOWER, 0, &lead));
    assert_false(watch_step(&w, 0.1, 2, WATCH_FOLLOWER, 3000, &lead));
    assert_true(watch_step(&w, 0.2, 3, WATCH_FOLLOWER, 2999, &lead));
    watch_init(&w, 0, 1.0, 0);
    assert_false(watch_step(&w, 0.0, 1, WATCH_FOLLOWER, 0, &lead));
    assert_false(watch_step(&w, 0.1, 2, WATCH_FOLLOWER, 0, &lead));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_and_description),
        cmocka_unit_test(test_parse_status),
        cmocka_unit_test(test_step_kills_voters_and_old_leaders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
