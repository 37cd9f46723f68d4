/*
 * raft: the Raft consensus algorithm (Ongaro & Ousterhout, "In Search of an
 * Understandable Consensus Algorithm", and Ongaro's thesis) as a pure state
 * machine.
 *
 * The core does no I/O: no sockets, files, clocks, threads, global state or
 * system randomness. Time is a count of raft_tick() calls; randomness comes
 * from a PRNG seeded by raft_config.seed, so a run is reproducible from its
 * inputs. Everything the node wants done in the world (persist, send, apply)
 * is handed out through raft_ready_get() and confirmed with raft_advance(),
 * in the style of etcd-raft. That is what lets a simulator crash a node
 * between a write and its acknowledgement.
 *
 * Features: leader election with randomized timeouts in [T, 2T) ticks,
 * pre-vote (thesis §9.6) and check-quorum (a leader that has not heard from a
 * quorum within T ticks steps down; a follower that heard from a leader within
 * T ticks refuses to vote), log replication with fast backtracking (conflict
 * term/index hints in rejects), the Figure 8 commit rule (only entries of the
 * current term are committed by counting replicas), a no-op entry appended on
 * election, linearizable reads by ReadIndex (thesis §6.4), snapshots and
 * InstallSnapshot. Membership is fixed: nodes 1..n_nodes.
 *
 * Threading: a raft_node is not thread safe; one thread drives it.
 *
 * Errors follow base/fl_error.h: functions return FL_OK or an FL_E* code
 * and fill a caller-owned fl_error. RAFT_ENOTLEADER is the one expected,
 * non-error outcome (a proposal or read sent to a follower).
 */
#ifndef RAFT_H
#define RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/fl_error.h"

/* Returned by raft_propose / raft_read_index on a node that is not leader.
 * Distinct from every FL_E* code. */
#define RAFT_ENOTLEADER 1

/* Largest cluster supported (ids 1..RAFT_MAX_NODES). */
#define RAFT_MAX_NODES 15

/* Node id: 1..n_nodes. 0 means "none" (no vote, no known leader). */
typedef uint32_t raft_id;
#define RAFT_NONE ((raft_id)0)

/* ---- Log entries and snapshots ------------------------------------------ */

typedef enum raft_entry_type {
    RAFT_ENTRY_NORMAL = 0, /* application data from raft_propose */
    RAFT_ENTRY_NOOP = 1,   /* appended by a new leader; apply does nothing */
} raft_entry_type;

typedef struct raft_entry {
    uint64_t term;
    uint64_t index;
    uint8_t type;  /* raft_entry_type */
    uint32_t len;  /* bytes at data; 0 allowed (data may then be NULL) */
    uint8_t *data;
} raft_entry;

/* A snapshot: the application state after applying every entry up to and
 * including `index` (whose term was `term`). The bytes are opaque to Raft. */
typedef struct raft_snapshot {
    uint64_t index; /* 0: no snapshot */
    uint64_t term;
    uint32_t len;
    uint8_t *data;
} raft_snapshot;

/* What must be durable before the node may send any message it produced:
 * the current term and whom this node voted for in it. */
typedef struct raft_hard_state {
    uint64_t term;
    raft_id vote; /* RAFT_NONE if not voted in `term` */
} raft_hard_state;

typedef enum raft_role {
    RAFT_FOLLOWER = 0,
    RAFT_PRE_CANDIDATE = 1, /* running a pre-vote; term not yet incremented */
    RAFT_CANDIDATE = 2,
    RAFT_LEADER = 3,
} raft_role;

/* Volatile state, reported when it changes (for logging and for the server
 * to redirect clients). */
typedef struct raft_soft_state {
    raft_role role;
    uint64_t term;
    raft_id leader; /* RAFT_NONE if unknown */
} raft_soft_state;

/* ---- Messages -------------------------------------------------------------- */

typedef enum raft_msg_type {
    RAFT_MSG_PREVOTE = 1,      /* "would you vote for me in term+1?" */
    RAFT_MSG_PREVOTE_RESP = 2,
    RAFT_MSG_VOTE = 3,         /* RequestVote */
    RAFT_MSG_VOTE_RESP = 4,
    RAFT_MSG_APPEND = 5,       /* AppendEntries (also the heartbeat) */
    RAFT_MSG_APPEND_RESP = 6,
    RAFT_MSG_SNAPSHOT = 7,     /* InstallSnapshot; answered by APPEND_RESP */
} raft_msg_type;

/*
 * One RPC, request or response. Fields unused by a type are zero.
 *
 *   PREVOTE / VOTE:    term (for PREVOTE: the term the sender would use),
 *                      log_index/log_term = sender's last log entry.
 *   *_RESP of votes:   term, reject (true = vote not granted).
 *   APPEND:            log_index/log_term = the entry preceding `entries`
 *                      (prevLogIndex/prevLogTerm), entries, commit = leader's
 *                      commit index, ctx = heartbeat round (echoed back).
 *   APPEND_RESP:       success: log_index = highest index known to match the
 *                      leader. reject: log_index = the rejected prevLogIndex,
 *                      hint_index/hint_term = where the leader should retry
 *                      (the follower's last index if its log is shorter, else
 *                      the first index of the conflicting term, and that
 *                      term). ctx echoed from the request.
 *   SNAPSHOT:          snapshot (index, term, bytes), commit, ctx.
 */
typedef struct raft_msg {
    uint8_t type; /* raft_msg_type */
    raft_id from;
    raft_id to;
    uint64_t term;
    uint64_t log_index;
    uint64_t log_term;
    uint64_t commit;
    bool reject;
    uint64_t hint_index;
    uint64_t hint_term;
    uint64_t ctx;
    size_t n_entries;
    raft_entry *entries;
    raft_snapshot snapshot;
} raft_msg;

/*
 * Wire format (all integers big-endian), one frame per message:
 *
 *   u32 body_len | body
 *   body = u8 version (RAFT_WIRE_VERSION) | u8 type | u8 flags (bit0 reject)
 *          | u32 from | u32 to | u64 term | u64 log_index | u64 log_term
 *          | u64 commit | u64 hint_index | u64 hint_term | u64 ctx
 *          | u64 snap_index | u64 snap_term | u32 snap_len | snap bytes
 *          | u32 n_entries | n x (u64 term | u64 index | u8 type | u32 len
 *                                | bytes)
 *
 * A transport reads 4 bytes, checks the length against RAFT_MSG_MAX_FRAME,
 * reads the body and passes the whole frame (prefix included) to decode.
 */
#define RAFT_WIRE_VERSION 1
#define RAFT_MSG_MAX_FRAME (64u * 1024u * 1024u)

/* Encode msg as one frame. On success *out is a malloc'd buffer of *out_len
 * bytes owned by the caller (free()). Errors: FL_EUSAGE (a frame over
 * RAFT_MSG_MAX_FRAME), FL_ENOMEM. */
int raft_msg_encode(const raft_msg *msg, uint8_t **out, size_t *out_len,
                    fl_error *err);

/* Length of the frame whose first 4 bytes are at hdr (prefix included). */
size_t raft_msg_frame_len(const uint8_t hdr[4]);

/* Decode exactly one frame of len bytes. Never reads outside buf; any
 * malformed input (bad version, type, lengths, trailing bytes) returns
 * FL_EDATA and leaves *out zeroed. On success *out owns its entries and
 * snapshot bytes: release them with raft_msg_free(). Errors: FL_EDATA,
 * FL_ENOMEM. */
int raft_msg_decode(const uint8_t *buf, size_t len, raft_msg *out,
                    fl_error *err);

/* Free what raft_msg_decode allocated inside msg (not msg itself) and zero
 * it. Only for decoded messages, never for those in a raft_ready. */
void raft_msg_free(raft_msg *msg);

/* Names for logs: "append", "follower", ... */
const char *raft_msg_type_name(int type);
const char *raft_role_name(raft_role role);

/* ---- Configuration and creation ------------------------------------------ */

typedef struct raft_config {
    raft_id id;              /* this node, 1..n_nodes */
    uint32_t n_nodes;        /* cluster size, 1..RAFT_MAX_NODES */
    uint32_t election_ticks; /* T: election timeout is random in [T, 2T) */
    uint32_t heartbeat_ticks;/* H: leader heartbeats every H ticks; H < T */
    uint64_t seed;           /* PRNG seed (election timeouts) */
    bool pre_vote;           /* thesis §9.6 (default on) */
    bool check_quorum;       /* leader steps down without a quorum; a leader,
                                and a follower that heard from one within T
                                ticks, ignore (pre-)vote requests (default
                                on) */
    uint32_t max_entries_per_msg; /* 0: unlimited (default 64) */
    /* Seeded bugs for the harness; all off by default. */
    bool bug_stale_read;     /* read_index answers at once from local state,
                                without a quorum heartbeat round */
    bool bug_volatile_vote;  /* hard state handed out for persistence carries
                                vote = RAFT_NONE, so a restarted node may vote
                                twice in one term */
    bool bug_lease_read;     /* a leader holds a lease for lease_ms from the
                                sending of each heartbeat round a quorum
                                acknowledged, on the clock the shell gives
                                (raft_lease_clock); while it holds, reads are
                                answered at once and check-quorum never
                                deposes it. Safe while that clock runs true
                                (lease_ms < T ticks); a clock set back keeps
                                a deposed leader serving stale reads */
    uint32_t lease_ms;       /* bug_lease_read: the lease's length */
} raft_config;

/* Rounds whose sending time a lease-read leader remembers. */
#define RAFT_LEASE_ROUNDS 64

/* Fill *cfg with defaults: T = 10, H = 2, pre_vote and check_quorum on, 64
 * entries per message, no bugs. The caller then sets id, n_nodes, seed. */
void raft_config_init(raft_config *cfg);

/* State recovered from durable storage at start (see raft_storage.h). All
 * pointers are borrowed: raft_new copies what it keeps. Entries must be
 * contiguous, start at snapshot.index + 1 (or at 1 without a snapshot), and
 * have terms that never decrease and never exceed hard_state.term. */
typedef struct raft_restore {
    raft_hard_state hard_state;
    raft_snapshot snapshot;  /* index 0: none */
    const raft_entry *entries;
    size_t n_entries;
} raft_restore;

typedef struct raft_node raft_node;

/*
 * Create a node. restore may be NULL (a fresh node: term 0, empty log). With a
 * restored snapshot the application loads restore->snapshot itself before
 * driving the node; the node then re-delivers, as committed entries, every
 * entry after the snapshot as the commit index is learned again (the commit
 * index is not persisted: the application's state is rebuilt from the
 * snapshot and the log). On success *out is owned by the caller (raft_free).
 * Errors: FL_EUSAGE (bad config or restore), FL_ENOMEM.
 */
int raft_new(const raft_config *cfg, const raft_restore *restore,
             raft_node **out, fl_error *err);

void raft_free(raft_node *n);

/* ---- Inputs ------------------------------------------------------------------ */

/* The seeded lease-read bug's clock (milliseconds, any epoch): what the
 * leader takes as now when it sends a round and checks its lease. Unused
 * without bug_lease_read. */
void raft_lease_clock(raft_node *n, uint64_t now_ms);

/* Advance logical time by one tick: may start a (pre-)election, send
 * heartbeats, or make a leader without a quorum step down. Errors: FL_ENOMEM
 * (the node stays consistent; retry later). */
int raft_tick(raft_node *n, fl_error *err);

/* Feed one message from a peer. msg is borrowed: the node copies what it
 * keeps. Messages not addressed to this node, from unknown ids, or malformed
 * (e.g. entries not contiguous) are dropped and return FL_EDATA. Stale ones
 * are ignored (FL_OK). Errors: FL_EDATA, FL_ENOMEM. */
int raft_step(raft_node *n, const raft_msg *msg, fl_error *err);

/* What raft_propose tells the caller. */
typedef struct raft_proposal {
    uint64_t index;  /* where the entry was appended (leader only) */
    uint64_t term;   /* the leader's term; the proposal is committed iff an
                        entry with this index AND term is later applied */
    raft_id leader;  /* RAFT_ENOTLEADER: the known leader, or RAFT_NONE */
} raft_proposal;

/*
 * Append data (copied) as a new entry on the leader. On FL_OK the entry is at
 * out->index in term out->term; it is persisted with the next Ready and may be
 * acknowledged "early" once that Ready is durable (the seeded early-ack bug),
 * or correctly once applied via committed entries. Returns RAFT_ENOTLEADER
 * (out->leader = hint) on any other role. Errors: FL_EUSAGE (len over
 * RAFT_MSG_MAX_FRAME / 2), FL_ENOMEM. out may be NULL.
 */
int raft_propose(raft_node *n, const void *data, size_t len,
                 raft_proposal *out, fl_error *err);

/*
 * Ask for a linearizable read index (ReadIndex, thesis §6.4). ctx is the
 * caller's id for this request. The leader records its commit index, then
 * confirms it is still leader by a heartbeat round acknowledged by a quorum;
 * then ready.reads reports {ctx, index, ok=true}: the read may be served once
 * the application has applied up to index. A leader that has not yet
 * committed an entry of its own term waits until its no-op commits. If the
 * node loses leadership first, the read is reported with ok=false. Returns
 * RAFT_ENOTLEADER (*leader = hint) on a non-leader. leader may be NULL.
 * Errors: FL_ENOMEM.
 */
int raft_read_index(raft_node *n, uint64_t ctx, raft_id *leader,
                    fl_error *err);

/*
 * The application has applied every entry up to index and serialized its
 * state as snapshot bytes (copied). The node discards its log up to index and
 * from now on sends this snapshot to followers that need entries before it.
 * index must be <= the applied index (entries handed out and advanced) and
 * > the current snapshot index. The caller persists the same snapshot via
 * storage itself (raft_storage_save_snapshot). Errors: FL_EUSAGE, FL_ENOMEM.
 */
int raft_compact(raft_node *n, uint64_t index, const void *data, size_t len,
                 fl_error *err);

/* ---- Outputs: the Ready contract ------------------------------------------- */

typedef struct raft_read_state {
    uint64_t ctx;   /* from raft_read_index */
    uint64_t index; /* serve the read once applied >= index */
    bool ok;        /* false: leadership lost; the read must be retried */
} raft_read_state;

/*
 * Everything the node needs the I/O shell to do, as of now. All pointers are
 * into node-owned memory, valid until raft_advance() or raft_free(); the
 * shell must not call any other raft_* function on the node in between.
 *
 * The shell MUST process a Ready in this order:
 *
 *  1. Persist, and make durable (fsync) before step 2:
 *     a. if snapshot is non-NULL: store it and drop the whole persisted log
 *        (every entry, whatever its index): the log restarts after it;
 *     b. if truncate_from != 0: delete persisted entries with index >=
 *        truncate_from (a conflicting suffix being overwritten);
 *     c. append entries[0..n_entries) (contiguous, in order);
 *     d. if hard_state_changed: store hard_state.
 *  2. Send msgs[0..n_msgs) (each to msgs[i].to). Only now: a vote granted or
 *     an entry acknowledged must survive a crash. Sending is best effort:
 *     dropping, delaying, duplicating or reordering messages is safe.
 *  3. Apply, in order: snapshot (if non-NULL, replace the application state
 *     with snapshot->data), then committed[0..n_committed) (NOOP entries are
 *     applied as nothing). Committed entries are always already persisted,
 *     either earlier or in step 1 of this same Ready.
 *  4. Serve reads[0..n_reads): each one with ok once applied >= its index.
 *  5. Use soft_state (if soft_state_changed) for logs/redirects.
 *  6. Call raft_advance().
 *
 * A crash anywhere before step 1 completes loses that Ready's writes, which
 * is safe because nothing depending on them was sent.
 *
 * A server's loop, with raft_storage.h doing step 1:
 *
 *   every tick interval:      raft_tick(n)
 *   on a frame from a peer:   raft_msg_decode -> raft_step -> raft_msg_free
 *   on a client write:        raft_propose -> remember (index, term)
 *   on a client read:         raft_read_index(ctx)
 *   after any of these:
 *     while (raft_has_ready(n)) {
 *       raft_ready_get(n, &rd);
 *       raft_storage_save_ready(st, &rd);               step 1 (fsync'd)
 *       for each msg: raft_msg_encode, send to msg.to   step 2
 *       apply rd.snapshot, then rd.committed;           step 3
 *         a write is done when an entry with its (index, term) applies;
 *         a different term at that index means it was overwritten: it
 *         never took effect (answer "failed", not "unknown")
 *       answer rd.reads once applied >= index           step 4
 *       raft_advance(n);
 *     }
 *   now and then: raft_compact + raft_storage_save_snapshot
 */
typedef struct raft_ready {
    /* 1: persist */
    const raft_snapshot *snapshot;  /* received by InstallSnapshot */
    uint64_t truncate_from;         /* 0: nothing to truncate */
    const raft_entry *entries;
    size_t n_entries;
    bool hard_state_changed;
    raft_hard_state hard_state;
    /* 2: send */
    const raft_msg *msgs;
    size_t n_msgs;
    /* 3: apply */
    const raft_entry *committed;
    size_t n_committed;
    /* 4: reads */
    const raft_read_state *reads;
    size_t n_reads;
    /* 5: role/term/leader */
    bool soft_state_changed;
    raft_soft_state soft_state;
} raft_ready;

/* True when raft_ready_get would hand out any work. */
bool raft_has_ready(const raft_node *n);

/* Fill *rd with the pending work (possibly empty). Calling it twice without
 * raft_advance returns the same work. Cannot fail. */
void raft_ready_get(raft_node *n, raft_ready *rd);

/* The shell has done everything in the last Ready: the node marks it
 * persisted/sent/applied and releases its memory. Cannot fail. */
void raft_advance(raft_node *n);

/* ---- Introspection (read-only; for servers, logs and tests) --------------- */

typedef struct raft_status {
    raft_id id;
    raft_role role;
    uint64_t term;
    raft_id vote;
    raft_id leader;
    uint64_t commit;         /* highest index known committed */
    uint64_t applied;        /* highest index handed out in committed and
                                advanced */
    uint64_t first_index;    /* first entry in the in-memory log */
    uint64_t last_index;     /* last entry (snapshot index if log empty) */
    uint64_t last_term;
    uint64_t snapshot_index; /* 0: none */
    uint64_t snapshot_term;
} raft_status;

void raft_get_status(const raft_node *n, raft_status *st);

/* Term of the entry at index, 0 if not in the log (compacted or beyond the
 * end; the snapshot index reports the snapshot term). */
uint64_t raft_term_at(const raft_node *n, uint64_t index);

/* The entry at index (borrowed; valid until the next call into the node), or
 * NULL if compacted or absent. */
const raft_entry *raft_entry_at(const raft_node *n, uint64_t index);

#endif
