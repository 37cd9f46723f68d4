/*
 * test_wgl_equiv: the search (checkers/wgl.c) against its previous version
 * (tests/ref/wgl_8f90568.inc) on thousands of generated single-key
 * histories, valid ones and ones made invalid by changing what a read
 * returned: the same verdict, explored count, longest linearization with
 * its states, and stuck operation with its states. And hcset's promise:
 * equal names exactly for equal sets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "checkers/hcset.h"
#include "checkers/lin_model.h"
#include "checkers/wgl.h"
#include "workloads/histgen.h"

#include "tests/ref/wgl_8f90568.inc"

#define EQUIV_SEEDS 1000

typedef struct equiv_ops {
    wgl_op *ops;
    size_t n;
} equiv_ops;

/* The non-failed operations of h, as linearizable.c hands them to wgl
 * (without its dropping passes: the search must cope with them too). */
static void equiv_prepare(const lin_model *m, lin_ctx *ctx, const history *h,
                          equiv_ops *out)
{
    const history_event *ev = history_events(h);
    size_t len = history_len(h);
    out->ops = calloc(len + 1, sizeof *out->ops);
    out->n = 0;
    assert_non_null(out->ops);
    for (size_t i = 0; i < len; i++) {
        if (ev[i].type != HISTORY_INVOKE)
            continue;
        if (ev[i].pair != HISTORY_NONE && ev[ev[i].pair].type == HISTORY_FAIL)
            continue;
        wgl_op *o = &out->ops[out->n++];
        bool ok;
        fl_error err = {0};
        assert_int_equal(lin_model_prepare_event(m, ctx, h, i, false, &o->op,
                                                 &ok, &err), FL_OK);
        o->call = (int64_t)i;
        o->ret = ok ? (int64_t)ev[i].pair : WGL_NEVER;
    }
}

/* Make a known read return what another known read returned: most such
 * histories are no longer linearizable. */
static void equiv_break_a_read(const lin_model *m, equiv_ops *p, uint64_t r)
{
    size_t reads[64], nreads = 0;
    for (size_t i = 0; i < p->n && nreads < 64; i++)
        if (p->ops[i].op.known && m->read_only(&p->ops[i].op))
            reads[nreads++] = i;
    if (nreads < 2)
        return;
    size_t a = reads[r % nreads], b = reads[(r / 64) % nreads];
    p->ops[a].op.out = p->ops[b].op.out;
}

static void equiv_compare(const wgl_result *x, const wgl_result *y,
                          uint64_t seed)
{
    if (x->verdict != y->verdict || x->explored != y->explored ||
        x->depth != y->depth || x->stuck != y->stuck)
        fprintf(stderr, "seed %llu: verdict %d/%d explored %llu/%llu depth "
                "%zu/%zu\n", (unsigned long long)seed, x->verdict, y->verdict,
                (unsigned long long)x->explored,
                (unsigned long long)y->explored, x->depth, y->depth);
    assert_int_equal(x->verdict, y->verdict);
    assert_int_equal(x->stop, y->stop);
    assert_int_equal(x->explored, y->explored);
    assert_int_equal(x->ok_ops, y->ok_ops);
    if (y->verdict == CHECKER_VALID) {
        /* Since the sequential checker, a valid search returns the whole
         * linearization it found (the old one: its deepest stuck prefix):
         * every ok operation is in it, nothing is stuck. */
        assert_true(y->depth >= y->ok_ops);
        for (size_t i = 0; i < y->depth; i++)     /* each op placed once */
            for (size_t j = i + 1; j < y->depth; j++)
                assert_true(y->order[i] != y->order[j]);
        assert_int_equal(y->stuck, SIZE_MAX);
        return;
    }
    assert_int_equal(x->depth, y->depth);
    assert_int_equal(x->stuck, y->stuck);
    assert_int_equal(x->nstuck_states, y->nstuck_states);
    if (x->depth > 0) {
        assert_memory_equal(x->order, y->order, x->depth * sizeof *x->order);
        assert_memory_equal(x->states, y->states, x->depth * sizeof *x->states);
    }
    assert_memory_equal(x->stuck_states, y->stuck_states,
                        x->nstuck_states * sizeof *x->stuck_states);
}

/* One history, both searches, each in a context of its own (the same
 * calls in the same order give the same state numbers). */
static checker_verdict equiv_one(uint64_t seed, bool broken)
{
    const lin_model *m = lin_model_find("cas-register");
    static const double info[] = {0, 0.05, 0.15, 0.4};
    histgen_options g = {.ops = 10 + seed % 60, .keys = 1,
                         .processes = 1 + seed % 5,
                         .info_rate = info[(seed / 7) % 4], .seed = seed};
    history *h = NULL;
    fl_error err = {0};
    assert_int_equal(histgen_generate(&g, &h, &err), FL_OK);
    wgl_result res[2];
    wgl_limits lim = {0};
    for (int v = 0; v < 2; v++) {
        lin_ctx *ctx = lin_ctx_new();
        uint64_t initial;
        equiv_ops p;
        assert_int_equal(m->init(ctx, NULL, &initial, &err), FL_OK);
        equiv_prepare(m, ctx, h, &p);
        if (broken)
            equiv_break_a_read(m, &p, seed * 0x9e3779b97f4a7c15ULL >> 7);
        int rc = v == 0 ? wgl_ref_search(m, ctx, p.ops, p.n, initial, &lim,
                                         &res[v], &err)
                        : wgl_search(m, ctx, p.ops, p.n, initial, &lim, &res[v],
                                     &err);
        assert_int_equal(rc, FL_OK);
        free(p.ops);
        lin_ctx_free(ctx);
    }
    equiv_compare(&res[0], &res[1], seed);
    checker_verdict verdict = res[1].verdict;
    wgl_result_free(&res[0]);
    wgl_result_free(&res[1]);
    history_free(h);
    return verdict;
}

static void test_same_as_before_on_generated_histories(void **state)
{
    (void)state;
    size_t counts[3] = {0};
    for (uint64_t seed = 1; seed <= EQUIV_SEEDS; seed++) {
        if (getenv("EQUIV_TRACE"))
            fprintf(stderr, "seed %llu\n", (unsigned long long)seed);
        counts[equiv_one(seed, false)]++;
        counts[equiv_one(seed, true)]++;
    }
    /* the comparison covers both outcomes, many times */
    assert_true(counts[CHECKER_VALID] > EQUIV_SEEDS / 2);
    assert_true(counts[CHECKER_INVALID] > EQUIV_SEEDS / 4);
    assert_int_equal(counts[CHECKER_UNKNOWN], 0);
}

/* Random flips of a set of 5000 bits (three levels of nodes): each name
 * seen stands for one set, compared with the set itself, and flipping
 * back restores the name. */
static void test_hcset_names_sets_exactly(void **state)
{
    (void)state;
    enum { NBITS = 5000, BYTES = NBITS / 8 + 1, FLIPS = 10000,
           MAX_NAMES = 4 * FLIPS + 64 };
    hcset h;
    assert_int_equal(hcs_init(&h, NBITS), 0);
    uint8_t cur[BYTES] = {0};
    uint8_t (*by_name)[BYTES] = calloc(MAX_NAMES, BYTES);
    bool *named = calloc(MAX_NAMES, sizeof *named);
    assert_non_null(by_name);
    assert_non_null(named);
    uint64_t r = 12345;
    size_t distinct = 0;
    for (int i = 0; i < FLIPS; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        /* mostly near a moving frontier, sometimes anywhere */
        size_t bit = (r >> 40) % 8 ? ((size_t)i / 2 + (r >> 20) % 64) % NBITS
                                   : (r >> 20) % NBITS;
        uint32_t before = hcs_name(&h);
        assert_int_equal(hcs_flip(&h, bit), 0);
        cur[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        uint32_t name = hcs_name(&h);
        assert_true(name < MAX_NAMES);
        if (named[name])
            assert_memory_equal(by_name[name], cur, BYTES);
        else
            distinct++;
        memcpy(by_name[name], cur, BYTES);
        named[name] = true;
        if (i % 5 == 0) { /* and back: the same name as before */
            assert_int_equal(hcs_flip(&h, bit), 0);
            cur[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(hcs_name(&h), before);
        }
    }
    assert_true(distinct > FLIPS / 2); /* the sets did differ */
    free(by_name);
    free(named);
    hcs_free(&h);
}

/* Up to HCS_SMALL_BITS bits the name is the set's own bits; one more bit
 * and it is a tree again, with names that still stand for one set each. */
static void test_hcset_small_sets_name_themselves(void **state)
{
    (void)state;
    hcset h;
    assert_int_equal(hcs_init(&h, HCS_SMALL_BITS), 0);
    uint32_t cur = 0;
    uint64_t r = 99;
    for (int i = 0; i < 5000; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t bit = (r >> 33) % HCS_SMALL_BITS;
        assert_int_equal(hcs_flip(&h, bit), 0);
        cur ^= UINT32_C(1) << bit;
        assert_int_equal(hcs_name(&h), cur);
    }
    hcs_free(&h);
    assert_int_equal(hcs_init(&h, HCS_SMALL_BITS + 1), 0);
    uint32_t empty = hcs_name(&h);
    assert_int_equal(hcs_flip(&h, HCS_SMALL_BITS), 0);
    uint32_t top = hcs_name(&h);
    assert_int_not_equal(top, empty);
    assert_int_equal(hcs_flip(&h, 0), 0);
    assert_int_not_equal(hcs_name(&h), top);
    assert_int_equal(hcs_flip(&h, 0), 0);
    assert_int_equal(hcs_name(&h), top);
    hcs_free(&h);
}

/* Out of memory midway through a flip leaves the set as it was. */
static void test_hcset_flip_out_of_memory_changes_nothing(void **state)
{
    (void)state;
    hcset h;
    assert_int_equal(hcs_init(&h, 100000), 0);
    assert_int_equal(hcs_flip(&h, 7), 0);
    uint32_t name = hcs_name(&h);
    fl_alloc_fail_after(1);
    int rc = 0;
    size_t bit = 64;
    for (; bit < 100000 && rc == 0; bit += 64 * 8)
        rc = hcs_flip(&h, bit);
    fl_alloc_fail_after(0);
    assert_int_equal(rc, -1);
    /* undo the flips that succeeded; the failed one left nothing to undo */
    for (size_t b = 64; b < bit - 64 * 8; b += 64 * 8)
        assert_int_equal(hcs_flip(&h, b), 0);
    assert_int_equal(hcs_name(&h), name);
    hcs_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_before_on_generated_histories),
        cmocka_unit_test(test_hcset_names_sets_exactly),
        cmocka_unit_test(test_hcset_small_sets_name_themselves),
        cmocka_unit_test(test_hcset_flip_out_of_memory_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
