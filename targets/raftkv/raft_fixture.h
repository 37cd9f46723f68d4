/*
 * raft_fixture: a deterministic cluster of Raft cores (raft.h) in memory,
 * for tests and measurements; never linked into the raftkv server.
 *
 * The fixture plays the shell's side of the Ready contract for every node:
 * it persists to a model disk (and, optionally, through raft_storage files),
 * sends through a simulated network (every message encoded and decoded by
 * raft_msg, so the codec is exercised too), applies committed entries to a
 * hash-chain state machine and collects ReadIndex answers. A killed node
 * loses whatever it had not persisted; a revived one restarts from its disk.
 *
 * After every step the oracle checks Raft's safety properties (the paper's
 * Figure 3): election safety, log matching, leader completeness,
 * state-machine safety, and ReadIndex linearizability (a read's index is
 * never below what was committed when it was asked). The first violation is
 * kept, with the tick it happened at: raft_fixture_violation().
 *
 * Two clocks drive it. Tests that read as timelines use raft_fixture_step()
 * (tick every node, then deliver until nothing moves: no loss, no delay) or
 * tick one node and drain. The seeded chaos run (raft_fixture_sim_run)
 * ticks with a delaying, losing, duplicating, partitioning network and
 * crashes, all drawn from one seed, so a failure replays from its seed.
 *
 * Ownership: a raft_fixture is the caller's (raft_fixture_free). Pointers it
 * returns (nodes, reads) are valid until the next call that changes it.
 * Out of memory aborts: this is test support, where there is no caller to
 * hand the error to. Not thread safe.
 */
#ifndef RAFT_FIXTURE_H
#define RAFT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "targets/raftkv/raft.h"

#define RAFT_FIXTURE_MAXN 5

typedef struct raft_fixture raft_fixture;

/* ---- a deterministic cluster ------------------------------------------------- */

/* n nodes (1..RAFT_FIXTURE_MAXN) configured from tmpl (id and n_nodes set
 * per node; every node gets tmpl->seed), each starting from restores[id]
 * when restores is not NULL (copied: the caller keeps its arrays). */
raft_fixture *raft_fixture_new(uint32_t n, const raft_config *tmpl,
                               const raft_restore *restores);
void raft_fixture_free(raft_fixture *f);

/* Node id's core, NULL while it is down. Valid until kill or free. */
raft_node *raft_fixture_node(raft_fixture *f, raft_id id);

/* One tick of node id's clock; nothing is delivered. */
void raft_fixture_tick(raft_fixture *f, raft_id id);
/* Run node id's Ready, if it has one: persist, send, apply, read. */
void raft_fixture_process(raft_fixture *f, raft_id id);
/* Deliver every message now in flight, in the order sent (one round). */
void raft_fixture_deliver(raft_fixture *f);
/* Process Readies and deliver until nothing moves, then check the world.
 * A cluster that never quiesces is a violation. */
void raft_fixture_drain(raft_fixture *f);
/* Tick every node once, then drain. */
void raft_fixture_step(raft_fixture *f);
/* Step until some node leads; returns it, or RAFT_NONE after max steps. */
raft_id raft_fixture_step_until_leader(raft_fixture *f, int max);
/* The leader of the highest term among up nodes, or RAFT_NONE. */
raft_id raft_fixture_leader(raft_fixture *f);

/* Partitions: messages from -> to are dropped while cut. */
void raft_fixture_cut(raft_fixture *f, raft_id from, raft_id to, bool cut);
void raft_fixture_isolate(raft_fixture *f, raft_id id, bool cut);
void raft_fixture_heal(raft_fixture *f);

/* Crash node id (what it had not persisted is lost); restart it from its
 * disk with the fixture's configuration. */
void raft_fixture_kill(raft_fixture *f, raft_id id);
void raft_fixture_revive(raft_fixture *f, raft_id id);

/* Snapshot node id's state machine at the index it applied (the snapshot
 * holds that index and the state's hash) and compact its log. Returns
 * raft_compact()'s code: FL_EUSAGE when there is nothing new to compact. */
int raft_fixture_compact(raft_fixture *f, raft_id id, fl_error *err);

/* Fault injection: APPEND messages lose their entries of this term or
 * later (0: off), so a leader's own-term entries never arrive. */
void raft_fixture_strip_from_term(raft_fixture *f, uint64_t term);

/* raft_read_index() on node id, registered with the oracle when it is
 * accepted. Returns what raft_read_index returns. */
int raft_fixture_read_index(raft_fixture *f, raft_id id, uint64_t ctx,
                            raft_id *leader_hint);
/* Every read answer any node has given, oldest first. */
const raft_read_state *raft_fixture_reads(const raft_fixture *f, size_t *n);

/* Node id's state machine: the last index applied (0 after a restart
 * until it re-applies or loads a snapshot). */
uint64_t raft_fixture_applied(const raft_fixture *f, raft_id id);
/* The term of the entry committed at index (as first applied), 0 if none
 * is known: state-machine safety makes it the same on every node. */
uint64_t raft_fixture_committed_term(const raft_fixture *f, uint64_t index);
/* Snapshots node id has installed from a leader. */
int raft_fixture_snapshots_installed(const raft_fixture *f, raft_id id);
/* APPEND_RESP rejects delivered so far. */
int raft_fixture_rejects(const raft_fixture *f);

/* The first safety violation ("tick T: ..."), or NULL while none. */
const char *raft_fixture_violation(const raft_fixture *f);

/* ---- the seeded chaos run ---------------------------------------------------- */

typedef struct raft_sim_opts {
    uint32_t n;
    double loss, dup;
    uint32_t max_delay;
    double crash, restart, partition;
    double crash_mid_ready; /* after persisting, before sending */
    bool volatile_vote, stale_read;
    bool stop_on_violation_only; /* bug hunting: skip the progress check */
    bool vary; /* derive fault rates and timeouts from the seed too */
    bool storage; /* also persist through raft_storage in temp dirs */
    bool trace;   /* print elections, crashes and restarts to stderr */
    /* What a real nemesis can do (bench_vv_hunt). */
    bool real;           /* per-link FIFO, no dup; messages never survive a
                            receiver restart except via the transport's
                            backoff queue; cut messages are held (TCP
                            retransmits) and released after the heal */
    bool survive;        /* real: in-flight messages survive a restart */
    bool count_double;   /* count two-leader terms instead of stopping */
    uint32_t min_down;   /* crash..restart at least this many ticks */
    uint32_t delay, jitter; /* real: extra latency (netem), ticks */
    uint32_t election_ticks, heartbeat_ticks; /* 0: defaults */
    uint64_t chaos_ticks; /* 0: RAFT_SIM_CHAOS_TICKS */
    /* A targeted schedule: every `period` ticks kill the leader, then at a
     * uniform offset in [1, win] kill a follower; each restarts `down`
     * ticks after its kill. */
    uint32_t period, win, down;
} raft_sim_opts;

#define RAFT_SIM_CHAOS_TICKS 600
#define RAFT_SIM_HEAL_TICKS 400

typedef struct raft_sim_result {
    char violation[512]; /* empty: the seed passed */
    uint64_t n_leaders, n_applied, n_reads_ok, n_crashes, n_snap_installs,
        n_truncations, n_double, n_double_simul, n_vote_requeued;
} raft_sim_result;

/*
 * One seed: chaos for chaos_ticks (proposals, reads, crashes, restarts,
 * partitions, the network's faults), checked after every tick; then the
 * network heals and a new proposal must commit within RAFT_SIM_HEAL_TICKS
 * (unless stop_on_violation_only). Returns whether no violation was found;
 * *res gets the violation and the statistics.
 */
bool raft_fixture_sim_run(const raft_sim_opts *o, uint64_t seed,
                          raft_sim_result *res);

#endif
