/*
 * sc_graph: sequential consistency decided in linear time where the
 * history says enough — registers whose written values are unique per
 * key (checkers/sequential.c runs it before checkers/sc_search.h's
 * search, on the same problem). Pure: operations in, a verdict and its
 * evidence out.
 *
 * With every value written at most once per key, each read (and each
 * cas's expectation) names the one write it read from: reads-from is
 * known, and what remains of SC is the order of the writes on each key
 * (herd's axiomatic view: SC is the acyclicity of program order,
 * reads-from, a coherence order per key and from-reads; the coherence
 * order is the only unknown). A cluster is a write (or a key's initial
 * value) and the ops that observe its value. In any legal total order,
 * each key's clusters occupy disjoint intervals — the write, then its
 * observers, before the next write — since no value comes back. The
 * graph has a node per op and one per cluster, its end, and these edges:
 *
 *   po      each op -> the next of its chain (program order);
 *   rf      a cluster's write -> each observer, and -> the cluster's end;
 *   end     each read of the cluster -> its end; the end -> a cas that
 *           reads it (a cas from v ends v's interval: v never returns);
 *   init    a key's initial cluster's end -> each write of the key;
 *   co      for two ops x, y of one chain on one key, y the next after x
 *           there, x in cluster X and y in a different cluster Y (a cas
 *           counts in the cluster it writes as x, the one it reads as y):
 *           X's end -> Y's write. Y's interval holds a point after one of
 *           X's, and intervals are disjoint, so all of X comes first.
 *
 * Every edge holds in every legal order, so a cycle is a definite
 * violation, reported as the cycle (exact; the shortest through a few of
 * its nodes is kept, for the words). Without one, a coherence order is
 * guessed, twice: on each key, the clusters in the order their writes
 * began in the history (lagging replicas apply writes so, however stale
 * their reads), then in the order a topological sort of the graph puts
 * them (ready nodes taken in history order); either way a cas's cluster
 * right after the one it reads. Adding a guess's edges (each cluster's end -> the next
 * cluster's write, and a cas reading a cluster -> that next write when it
 * is not the cas) and sorting again gives, when acyclic, a total order in
 * which every key's clusters are contiguous and in the guessed order:
 * each observer sees its own write, so the order is legal and keeps
 * program order — a witness, checked again by replaying it through the
 * model (exact). When the guess has a cycle, the graph decides nothing
 * and the search runs (on one key without cas the second guess never
 * fails: every path between two clusters' ops runs forward in the sorted
 * order of their writes, so the added edges close no cycle).
 *
 * Values written more than once on a key (or the initial value written):
 * such a value may hold in several intervals, so it is no cluster; its
 * reads (and a cas's expectation of it) constrain only program order, and
 * each of its writes stands as a one-op cluster of its own — the interval
 * it begins is one, and as the earlier of a chain pair on the key it
 * precedes the later op's cluster (a value written once, so not its own).
 * The values written once keep their clusters and edges, each holding in
 * every legal order, so a cycle among them still decides (exact); without
 * one it declines (no guess is made) and the search decides.
 *
 * Optional ops (info, never completed): one whose written value a needed
 * op observes must take effect (values are unique: nothing else writes
 * it), so it is needed too — to a fixpoint from the required ops; the
 * rest are left out, as drop_unobserved_writes argues (nothing needed
 * observes what they wrote). A needed op that observes a value nothing on
 * its key writes (nor is initial) can never be placed: invalid.
 *
 * Strings built by appends (models with string_role, kv-append), each
 * put's and append's string unique on its key: a get's string comes apart
 * (dynamic programming over its positions) into the initial string or a
 * put's, then appends — exactly one way, else declined (none: no order
 * makes it, the get can never be placed: invalid). The key's string before
 * each append in it is then known, and the string never returns (it only
 * grows until a put of a unique string), so a state is one interval as a
 * register value is: a put is a write, an append a get has shown is a cas
 * from the string it followed to a cluster of its own, an append no get
 * shows a write of a cluster nobody observes (after it, until the next
 * put, no get can look: it would show the append). The graph is then the
 * same. Two required gets that show one append after two different
 * strings are a violation outright (an op follows one state).
 *
 * Strings repeated on a key (two puts, or two appends, of one string, as
 * in Porcupine's kv corpus, where a client appends the same string twice;
 * or a put and an append alike): which of the alike ops a get's string
 * holds cannot be told, so no guess is made, but the edges that hold
 * whichever it is are built and a cycle among them still decides (exact:
 * each holds in every legal order). What is sure: a get's string that
 * comes apart exactly one way shows one state, and that state occurs in
 * one interval of any legal order when it was made (a) by an append whose
 * string no other append on the key has (it happens once), (b) by the
 * initial string or a put whose string no other put has, or (c) by one of
 * a group of alike appends onto a string that is itself sure — a "slot":
 * the string it grew from occurs once, and leaves once, so the slot does.
 * (Any occurrence of a state is made by a base and appends, which is a way
 * to take its string apart: one way means one recipe.) So clusters are the
 * sure states, the slots' writers unknown: their observers come after the
 * end of the string they grew from (not after a writer), and a co edge
 * into a slot ends at the chain's op itself. A get that is not sure (two
 * ways, or grown from an alike put or from an unsure string) constrains
 * only program order. An alike op stands as its own one-op cluster when
 * it is the earlier of a chain pair: whichever state it made, that
 * interval begins at it, is not the later op's (which comes after it in
 * its chain), and so precedes it. No cycle: declined, the search decides.
 *
 * Declines (verdict unknown, the search decides) when the model cannot
 * say what ops write and observe, when some value or string repeats on a
 * key and no cycle is found among the sure edges, or when two needed cas
 * ops expect the same value.
 *
 * Ownership: sc_graph_decide borrows the problem; the result owns its
 * arrays (sc_graph_result_free).
 */
#ifndef FL_SC_GRAPH_H
#define FL_SC_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "base/fl_error.h"
#include "checkers/sc_search.h"

/* Why one op must precede the next on a cycle. */
typedef enum sc_graph_why {
    SC_GRAPH_PO,        /* program order */
    SC_GRAPH_RF,        /* the second reads what the first wrote */
    SC_GRAPH_OVERWRITE, /* the first observes a value the second's
                           cluster must follow (coherence, from-reads) */
} sc_graph_why;

typedef struct sc_graph_result {
    checker_verdict verdict;   /* unknown: not decided here */
    const char *declined;      /* unknown: why (static text) */
    /* valid: the needed ops in a legal order, with each op's object's
     * state after it */
    sc_step *order;
    size_t norder;
    /* invalid by a cycle: its ops, each forced before the next and the
     * last before the first; why[i] says why cycle[i] precedes the next */
    uint32_t *cycle;
    sc_graph_why *why;
    size_t ncycle;
    /* invalid by a needed op observing what nothing wrote (or, for
     * strings, a get whose string clashes with another's): that op, else
     * UINT32_MAX; and what is wrong with it, in words (static) */
    uint32_t unwritten;
    const char *unwritten_words;
    /* invalid by a cycle (or a clash): ops that keep it (sorted), every
     * value they observe written among them — where a shrinker can start */
    uint32_t *support;
    size_t nsupport;
} sc_graph_result;

/*
 * Decide p as above. FL_OK whatever the verdict; out of memory is
 * "unknown" (declined "memory"). The deadline in limits is looked at
 * between the passes.
 */
int sc_graph_decide(const sc_problem *p, const wgl_limits *limits,
                    sc_graph_result *out, fl_error *err);

void sc_graph_result_free(sc_graph_result *r);

#endif
