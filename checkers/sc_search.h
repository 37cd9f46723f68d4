/*
 * sc_search: the sequential-consistency search for a set of processes
 * over one or more objects, pure: operations and a model in, a verdict
 * and the evidence out. No files, no threads.
 *
 * A history is sequentially consistent when one total order of its
 * operations exists that keeps each process's program order and is legal
 * for the model (Lamport 1979); unlike linearizability there is no
 * real-time constraint between processes. Each process's operations are
 * a chain; a configuration is how far along each chain the order has got
 * (the position vector) plus the state of every object. The search is a
 * depth-first walk over configurations, memoizing every one it has
 * explored exactly (position vector and state vector stored in full, so a
 * hash collision is never taken for a visit), as Lowe's WGL does for
 * linearizability.
 *
 * Jepsen semantics: a required operation (completed ok) must be placed;
 * an optional one (info, or never completed) may be placed anywhere after
 * its process's earlier operations, or nowhere.
 *
 * Reductions, each exact:
 *  - a read-only operation whose known output the current state accepts is
 *    placed at once, without branching. If any order completes from here,
 *    one does with that read first: it is its process's next operation,
 *    so moving it to the front breaks no program order, and it changes no
 *    state, so every operation it overtakes sees what it saw before;
 *  - the search succeeds as soon as every required operation is placed
 *    (the optional ones left over are "nowhere");
 *  - an optional operation that is the last of its process, or followed
 *    only by optional ones, is never "skipped" explicitly: leaving it
 *    unplaced is the same as skipping it.
 *  - dead ends (models that say what each op writes and observes): a
 *    required op left that needs its key to hold v (a read of v, a cas
 *    from v), where the key does not hold v now and every op left that
 *    writes v comes after it in its own chain, itself included, can never
 *    be placed: v must be written between now and it, by an op that can
 *    precede it, and ops later in its chain cannot. So the configuration
 *    is given up. (Counting every writer left, as before, let a chain's
 *    own later write of v keep alive a read of v before it: etcd_071 took
 *    6.0M configurations and 33 s, now 32.)
 *  - symmetry: two chains whose rests (from their positions on) are the
 *    same sequence of ops, alike in model op, object and required-ness,
 *    are interchangeable: swapping them maps orders to orders, so a
 *    configuration and its image under the swap both complete or neither
 *    does. So the memo key holds the multiset of the chains' rests (each
 *    rest a class id, hash-consed from the chains' ends; the key sorts
 *    them) rather than the position vector, and at each configuration only
 *    the first chain of a class is moved. Jepsen's info ops end a process,
 *    so real histories have many one-op chains alike (the 102 etcd
 *    corpus histories: 123k configurations in all without it, 67k with).
 *    The rank is left out of "alike": it orders the trying, never the
 *    verdict.
 *
 * Cost of a configuration, whatever the number of chains (Jepsen gives a
 * client a new process id after each info op: 50 threads with 15% info
 * ops make ~7,400 ids in 100k ops, nearly all finished or not yet begun
 * at any point of the walk). Nothing per configuration looks at every
 * chain: (1) the moves are found lazily, in rank order, from a bitset of
 * the heads that are moves (reads the reduction places are none: one the
 * state accepts is placed already, one it does not is refused), so a
 * configuration costs the moves it tries, not the heads it has; (2) after
 * a move only the moved chain and the heads that read the value it wrote
 * can have a read to place (reads change no state), and those heads are
 * found in a list filed under (key, value); (3) with more than 32 chains
 * the memo key's part for them is one number: the multiset of the
 * unfinished chains' classes as a segment tree over class ids with counts
 * at the leaves, every node hash-consed, so equal multisets are the same
 * node (exact: nodes are compared in full when made) and a move updates
 * two counts, O(log classes) nodes; finished chains are not counted at
 * all. (Up to 32 chains the classes sorted are the key: cheaper there.) The
 * symmetry dedupe (one chain of a class moved per configuration) is a
 * stamp per frame; a deeper frame can overwrite it before the frame is
 * done, and then an alike chain is moved again: its configuration is the
 * same multiset, which the memo finds seen. Before this, a configuration
 * cost O(chains log chains): 0.6-1.4 ms each at 10,000 process ids
 * against 9-75 us now (bench_sc_scale's search rows, a loaded machine).
 *
 * Program order (the chains) is the history's: one chain per process id,
 * ended by an info op (checkers/sequential.c). A client's successive
 * process ids are never one chain: nothing in a history says two ids are
 * one client (Jepsen's numbering, id + concurrency, is a convention of
 * its runner), and the info op that ended the first may still be taking
 * effect while the second runs, so no order between them holds in every
 * execution. SC is defined over the history's processes; joining chains
 * would add orders the definition does not have and call some SC
 * histories not SC. The rare history that goes on with the same id after
 * an info op is read the same way, as a new chain, as the linearizable
 * checker reads it (the info op may take effect after the process's later
 * ops), so that linearizable still implies SC (sequential.h's shortcut 1).
 *
 * Ordering heuristic: at each configuration processes are tried in the
 * order of their next operation's rank, which the caller sets to a guess
 * at when the op took effect (checkers/sequential.c: where the
 * linearizability search placed it), so the first order tried is a
 * linearization where there is one.
 *
 * Ownership: sc_search borrows its inputs; the arrays in sc_result are
 * owned by the result (sc_result_free).
 */
#ifndef FL_SC_SEARCH_H
#define FL_SC_SEARCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/fl_error.h"
#include "checkers/lin_model.h"
#include "checkers/verdict.h"
#include "checkers/wgl.h"   /* wgl_limits, wgl_stop: the same budgets */

typedef struct sc_op {
    lin_op op;
    uint32_t obj;      /* index of the object (key) it acts on */
    bool required;     /* completed ok: must be placed */
    int64_t rank;      /* the heuristic's order: smaller is tried first */
    int64_t at;        /* where it began in the history (checkers/sc_graph
                          guesses the order of writes from it) */
} sc_op;

/* The problem: ops grouped by process, each process's in program order:
 * process i owns ops[first[i] .. first[i] + len[i]). */
typedef struct sc_problem {
    const lin_model *model;
    lin_ctx *ctx;
    const sc_op *ops;
    size_t nops;
    const size_t *first, *len;
    size_t nprocs;
    const uint64_t *initial;   /* state of each object */
    size_t nobjs;
} sc_problem;

typedef struct sc_step {
    uint32_t op;       /* index into ops */
    uint64_t state;    /* the object's state after it */
} sc_step;

typedef struct sc_result {
    checker_verdict verdict;
    wgl_stop stop;          /* why the verdict is unknown */
    uint64_t explored;      /* configurations memoized */
    size_t required;        /* operations that must be placed */
    /* valid: the order found; otherwise the longest order built. */
    size_t depth;
    sc_step *order;
    /* The position vector at that deepest configuration: the next op of
     * each process that had required ops left is what could not be
     * placed (nprocs entries). */
    size_t *stuck_pos;
    uint64_t *stuck_states; /* each object's state there (nobjs entries) */
} sc_result;

/*
 * Search. Returns FL_OK with *out filled whatever the verdict; out of
 * memory (base/alloc's limit) is "unknown", WGL_STOP_MEMORY; a deadline
 * or cancel in limits is "unknown" too.
 */
int sc_search(const sc_problem *p, const wgl_limits *limits, sc_result *out,
              fl_error *err);

void sc_result_free(sc_result *r);

#endif
