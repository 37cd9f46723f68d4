/*
 * fault: the nemesis's kinds of fault behind one interface (Jepsen's
 * nemesis protocol: invoke a fault, heal it), the table of them, the one
 * scheduler that draws from the table, and the driver that carries the
 * scheduler's actions out. Orchestration (run/) knows no kind: the runner
 * steps the driver and records what it reports; the run composes every
 * kind's rest, prepare and teardown through the functions below.
 *
 * The nemesis layer (nemesis/) sits between the controller's transport
 * (harness/: SSH, the remote, the cluster, the target) and orchestration
 * (run/): it includes harness/ and is included by run/ and cli/.
 *
 * A kind is a fault_kind (below): its name in --nemesis, the history's f
 * for its beginning and its end, a pure seeded plan, a description of an
 * action for the history's value, apply / heal of one node, and the
 * optional per-node hooks rest (undo whatever it may have left, run at the
 * start of every run and by the dead man's switch), prepare (set-up before
 * the database starts) and teardown (after heal). The built-in kinds, each
 * in its own file:
 *
 *   partition   fault_partition.c  grudges (nemesis/nemesis.h) as iptables
 *                                  rules, through the remote's SSH; rest:
 *                                  delete every faultline rule
 *   kill        fault_kill.c       kill -9, then start again, through the
 *                                  target; rest: the target's own
 *   pause       fault_pause.c      SIGSTOP, then SIGCONT, through the
 *                                  target; rest: the target's own
 *   bitflip, truncate, snapshot
 *               fault_corrupt.c    the target's kill, a data file's bits
 *                                  flipped or its end cut, or the data
 *                                  directory rolled back, then start;
 *                                  rest: remove the copies kept
 *   (and packet, the clock kinds and power-loss: see their files)
 *
 * and the table that lists them is in fault.c (FAULT_BUILTIN). Adding a
 * kind is one new file defining a `const fault_kind` and one line there
 * (ARCHITECTURE.md, "Adding a fault kind"): --nemesis, --nemesis all, the
 * help text, the rest at start, the dead man's switch, test.json's list of
 * kinds and the report's shading all read the table.
 *
 * A set of kinds is an unsigned mask over a table: bit k is table kind k.
 * Everything but the functions that run commands on nodes (fault_apply,
 * the driver, fault_prepare_all, fault_teardown_all) is pure.
 */
#ifndef FL_FAULT_H
#define FL_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "base/rng.h"
#include "harness/remote.h"
#include "nemesis/nemesis.h"
#include "harness/target.h"

#define FAULT_MAX_NODES NEM_MAX_NODES
#define FAULT_MAX_KINDS 16

typedef struct fault_kind fault_kind;

/*
 * One action: the beginning or the end of one fault. A plain value (copy
 * it freely); kind points into a table that outlives it.
 */
typedef struct fault_action {
    const fault_kind *kind;       /* NULL: nothing to do */
    bool begin;                   /* begins the fault; else ends it */
    bool nodes[FAULT_MAX_NODES];  /* the nodes apply / heal is called for */
    /* What a kind needs to remember of a beginning; zero in a sweep. */
    int shape;                    /* partition: the nem_partition_kind;
                                     others: the kind's own mode */
    nem_grudge grudge;            /* partition: who drops whom; packet:
                                     whose packets to whom are shaped */
    double amount[FAULT_MAX_NODES]; /* per node, the kind's own number,
                                     chosen by its plan (a clock's offset
                                     in s, a shaper's seed): a new kind
                                     needs no field of its own here */
    /* The run's fault options (fault_options_resolve: every option of
     * every kind, {NAME: number}); borrowed from the plan, NULL in a rig
     * without options (kinds then use their defaults). */
    const json_t *options;
} fault_action;

/* What a kind's hooks act on. Borrowed; outlives every call. */
typedef struct fault_env {
    target *t;                    /* the db: kill, start, pause, resume; its
                                     node directory, its name */
    remote *r;                    /* SSH to the nodes; NULL only in tests
                                     (then nodes are driven in turn) */
    size_t n;                     /* nodes, <= FAULT_MAX_NODES */
    const char *const *names;     /* n node names, for descriptions */
    const char *node_dir;         /* on the nodes: node i's files are under
                                     node_dir/names[i]/ (the target's and
                                     the dead man's switch's too); a kind
                                     keeps its own there. NULL in tests */
    void *state;                  /* a kind of a test's own; NULL in rest,
                                     prepare and teardown */
    /* The fault options resolved (fault_options_resolve); NULL: every
     * default. Borrowed. */
    const json_t *options;
    /* Where fault_note_did puts what an apply or heal did; the driver's,
     * set on its own copy of the env for each action. NULL: dropped. */
    struct fault_did *did;
} fault_env;

/*
 * Say what apply or heal did on node that the action's description could
 * not know beforehand (the file a corruption hit and its offsets, whether
 * the database started again): note (a JSON value, stolen; NULL ignored)
 * goes into the completion event's value, which is then an object with
 * "did": {NODE: note, ...} beside the description (under "nodes" when the
 * description is not an object). Thread safe; a no-op when env->did is
 * NULL (a test's rig, or an action given up on).
 */
void fault_note_did(const fault_env *env, size_t node, json_t *note);

/* One option a kind takes on the command line, --NAME NUMBER. */
typedef struct fault_option {
    const char *name;             /* "packet-delay"; NULL ends a table */
    const char *arg;              /* the argument's name in help: "MS" */
    const char *help;             /* one line */
    double min, max, default_value;
} fault_option;

/*
 * One kind of fault. Every member but the optional hooks (rest, prepare,
 * teardown: NULL means nothing to do), db_needs, db_env and options must
 * be set. A kind is a `const fault_kind` with static storage, defined in
 * its own file and listed once in fault.c's FAULT_BUILTIN.
 */
struct fault_kind {
    const char *name;             /* in --nemesis: "partition"; lower case,
                                     no ',' or '=', not "all" or "none" */
    const char *begin_f, *end_f;  /* the history's f: "start-partition",
                                     "stop-partition"; distinct across the
                                     table (the report pairs them) */
    const char *summary;          /* one line for --help: what it does and
                                     how it is healed */
    /*
     * How the next fault of this kind begins: out->nodes and the kind's
     * own fields (out is zeroed, kind, begin and options set, before the
     * call). Pure: every choice from rng. leader is the leader's index or
     * -1 if unknown; in_force lists the nforce faults of other kinds in
     * force at that moment (table order; in_force may be NULL when nforce
     * is 0), so that a plan can aim at them (a partition cutting off the
     * node whose clock a clock fault set back) or steer clear of them
     * (a clock fault avoiding a node whose database is killed). n >= 1.
     */
    void (*plan)(fl_rng *rng, size_t n, long leader,
                 const fault_action *in_force, size_t nforce,
                 fault_action *out);
    /* The history's value for a, beginning or end. New reference; NULL on
     * OOM. */
    json_t *(*describe)(const fault_action *a, size_t n,
                        const char *const *names);
    /* Begin (apply) or end (heal) a's fault on one node of a->nodes. May
     * run concurrently for different nodes; must leave a clear error.
     * heal must also succeed on a node where the fault is not in force
     * (the final sweep heals every node). */
    int (*apply)(const fault_env *env, const fault_action *a, size_t node,
                 fl_error *err);
    int (*heal)(const fault_env *env, const fault_action *a, size_t node,
                fl_error *err);
    /*
     * What on a node the fault acts on, as FAULT_ON_* bits (0: nothing
     * another kind acts on). The scheduler's overlap rule: kinds whose
     * bits intersect share one begin/end cycle, so at most one fault of
     * them is in force at a time anywhere in the cluster; kinds that share
     * no bit each have their own cycle and overlap freely.
     */
    unsigned acts_on;
    /* The target's db calls apply and heal make (TARGET_DB_* mask,
     * target.h): with --db existing the kind is refused before anything
     * runs unless the user gave a command for each. 0: none (partition
     * acts on the nodes' iptables, never on the database). */
    unsigned db_needs;
    /* The environment the database must be started in for this kind to
     * work (NAME=VALUE words; $d is the node's directory), or NULL: the
     * clock kinds' libfaketime preload. See fault_db_env. */
    const char *db_env;
    /* Its options (NULL-name terminated; NULL: none). Each option's name
     * begins with the kind's name, so kinds never clash. */
    const fault_option *options;
    /*
     * Optional. A shell fragment that undoes on node `node` whatever a
     * fault of this kind, or its prepare, may have left there, by this
     * run or by an earlier one that died: partition deletes every
     * faultline iptables rule. Run (composed by fault_rest_cmd) at the
     * start of every run, whether or not the kind is enabled, and by the
     * dead man's switch on the node itself when the controller dies, so it
     * needs nothing but the node's shell and the paths of the target's
     * node directory. Idempotent; exit 0 when the node is at rest after
     * it, nonzero when it could not be brought there. It may print one
     * line "NAME=N" (NAME this kind's name) saying how many things it
     * found left over; test.json's found_at_start records N when > 0.
     * Called with env->state NULL. New string (caller frees); NULL on
     * OOM. NULL member: the kind leaves nothing that the target's own
     * rest (target_rest_cmd: every db process continued and killed) does
     * not undo — kill and pause.
     */
    char *(*rest)(const fault_env *env, size_t node);
    /*
     * Optional, enabled kinds only. Per-run set-up of one node, after the
     * node was brought to rest and before the database is installed and
     * started on it, so that the database can live on what it sets up (a
     * filesystem mounted under the target's node directory, a qdisc
     * installed on the node's interface). Runs concurrently for different
     * nodes. A failure stops the run before any client starts (exit 3);
     * rest must undo whatever a prepare that failed half-way left.
     */
    int (*prepare)(const fault_env *env, size_t node, fl_error *err);
    /*
     * Optional, enabled kinds only. Undo prepare on one node, after every
     * fault was healed and the database was stopped (managed) and its
     * logs downloaded. Called on every node even where prepare failed or
     * never ran (it must tolerate that); a failure is logged and leaves
     * the node to the next run's rest.
     */
    int (*teardown)(const fault_env *env, size_t node, fl_error *err);
};

/* fault_kind.acts_on. FAULT_ON_PROCESS: the fault stops, signals or
 * replaces the database process (kill, pause, power-loss, the file
 * corruptions, done while it is stopped, and election-kill): two such at
 * once could leave a node killed and paused, or restart what the other
 * holds stopped. FAULT_ON_CLOCK: the node's clock file (the clock kinds
 * write the same file; one's heal would undo the other). FAULT_ON_SHAPER:
 * the node's NFQUEUE shaper and its steering rules (packet, and
 * election-kill, which shapes its links with the same queue and rules:
 * either's heal would stop the other's shaping). A partition acts on none
 * of these: its DROP in the filter table comes before the shaper's
 * steering in mangle POSTROUTING, and each heal deletes only its own
 * tagged rules. */
#define FAULT_ON_PROCESS 1u
#define FAULT_ON_CLOCK 2u
#define FAULT_ON_SHAPER 4u

/* A table of kinds: the order --nemesis masks and the scheduler use. */
typedef struct fault_table {
    const fault_kind *const *kinds;
    size_t count;                 /* <= FAULT_MAX_KINDS */
} fault_table;

/* The built-in kinds (fault.c's FAULT_BUILTIN). Static. */
const fault_table *fault_builtin(void);

/* --nemesis's default: "partition,kill" (kept beside the table). */
const char *fault_default_list(void);

/* Every kind of t, as a mask. */
unsigned fault_all(const fault_table *t);

/* Kind k's bit in a mask over t, or 0 if kind is not in t. */
unsigned fault_bit(const fault_table *t, const fault_kind *kind);

/* Parse "partition,kill" ("all": every kind of t; "none" / "" / NULL: no
 * kind) into a mask over t; FL_EUSAGE naming the unknown fault and the
 * known ones. */
int fault_parse(const fault_table *t, const char *list, unsigned *mask,
                fl_error *err);

/* Whether every kind in mask can run against db (target_db_allows for
 * each kind's db_needs): FL_EUSAGE naming the first that cannot and the
 * options it needs. Pure. */
int fault_check_db(const fault_table *t, unsigned mask, const target_db *db,
                   fl_error *err);

/*
 * What "--nemesis all" means for a run against vt with db: the kinds of
 * mask that run can take. A kind is left out when it needs a database
 * started under db_env and vt does not take one (libfaketime: raftkv
 * does, a Go or Java database may not), when db cannot make its db calls
 * (target_db_allows), or when it acts on the data directory and vt names
 * none. why (may be NULL) gets "KIND: reason; ..." for each kind left out,
 * "" when none was. Pure.
 */
unsigned fault_usable(const fault_table *t, unsigned mask,
                      const target_vtable *vt, const target_db *db,
                      char *why, size_t size);

/* The option called name among t's kinds, or NULL. */
const fault_option *fault_option_find(const fault_table *t, const char *name);

/*
 * Every option of every kind of t, as {NAME: number}: the value given in
 * `given` ({NAME: "text"} as typed, may be NULL) or the default. FL_EUSAGE
 * naming the option when a value is not a number in its range, or when
 * given holds a name no kind takes. *out is the caller's.
 */
int fault_options_resolve(const fault_table *t, const json_t *given,
                          json_t **out, fl_error *err);

/* Option name of a's options, or its default in the kinds' tables when
 * a carries no options (a test's rig). Pure. */
double fault_option_value(const fault_action *a, const char *name);

/* Print the options of t's kinds, one help entry each, to out. */
void fault_options_help(const fault_table *t, FILE *out);

/* The environment the database must be started in for the kinds in mask
 * (their db_env; the first one given, as they agree), or NULL. Pure. */
const char *fault_db_env(const fault_table *t, unsigned mask);
/* "partition,kill,pause": t's names joined by sep, into buf (truncated
 * to size, always terminated). For help texts and errors. */
void fault_names(const fault_table *t, const char *sep, char *buf,
                 size_t size);

/* t's kinds as JSON, for test.json's "fault_kinds" (the report pairs a
 * run's nemesis events by them): [{"name", "begin_f", "end_f"}, ...].
 * New reference; NULL on OOM. */
json_t *fault_table_json(const fault_table *t);

/* The history's f for a: its kind's begin_f or end_f. */
const char *fault_action_f(const fault_action *a);

/* ---- helpers for kinds ------------------------------------------------------ */

/* A fault_kind.plan: mark a minority of the n nodes in out->nodes — the
 * leader (when known) half the time, else 1..(n-1)/2 random nodes; never
 * a majority, so progress stays possible. */
void fault_plan_minority(fl_rng *rng, size_t n, long leader,
                         const fault_action *in_force, size_t nforce,
                         fault_action *out);

/* Whether a fault in force (of in_force's nforce) whose kind acts on
 * something in mask (FAULT_ON_*) acts on node i. Pure. */
bool fault_in_force_on(const fault_action *in_force, size_t nforce,
                       unsigned mask, size_t i);

/* The names of a's nodes, as a JSON array. New reference; NULL on OOM. */
json_t *fault_nodes_json(const fault_action *a, size_t n,
                         const char *const *names);

/* Where the nodes' files are: env->node_dir, or TARGET_DEFAULT_NODE_DIR
 * in a rig that gives none. Borrowed from env. */
const char *fault_node_dir(const fault_env *env);

/* NODE_DIR/NAME: node's own directory ($d in a kind's commands), where a
 * kind keeps what it leaves on the node. New string (the caller frees);
 * NULL on OOM. */
char *fault_node_path(const fault_env *env, size_t node);

/* Upload the program `tool` (built beside faultline: fl_build_path) to
 * node_dir/NAME/tool on node `node`, as a new file then renamed (a
 * running program's binary cannot be overwritten). A kind's prepare. */
int fault_install_tool(remote *r, const char *node_dir, size_t node,
                       const char *tool, fl_error *err);

/* ---- rest, prepare, teardown: composed over the table ---------------------- */

/*
 * The shell command that brings node `node` to rest: target_rest (the
 * target's rest command; its exit status is not judged, as its output
 * says what it found) and then every kind's rest in table order, each
 * attempted whatever the others did; the whole exits 0 only if every
 * kind's rest did. env->state is ignored. New string (caller frees);
 * NULL on OOM.
 */
char *fault_rest_cmd(const fault_table *t, const fault_env *env, size_t node,
                     const char *target_rest);

/* What the kinds' rest said they found in out (the output of
 * fault_rest_cmd's command): {NAME: N} for each kind of t that printed a
 * line "NAME=N" with N > 0. New reference ({} when none); NULL on OOM. */
json_t *fault_rest_found(const fault_table *t, const char *out);

/* Each kind in mask with a prepare, on every node (all nodes at once, in
 * table order). FL_OK, or the first failure, after which nothing more is
 * prepared. */
int fault_prepare_all(const fault_table *t, unsigned mask,
                      const fault_env *env, fl_error *err);

/* Each kind in mask with a teardown, on every node, in reverse table
 * order; every one attempted. FL_OK, or the first failure. */
int fault_teardown_all(const fault_table *t, unsigned mask,
                       const fault_env *env, fl_error *err);
/* ---- kinds' command lines (pure; exposed for tests) ------------------------- */

/* The comment on the packet fault's iptables rules. */
#define FAULT_PACKET_TAG "faultline-packet"

/* The command that starts node `node`'s shaper and steers its packets to
 * each node it shapes (a->grudge) into it; node_dir/name is the node's
 * directory, where the shaper was uploaded. NULL with err set (a bad
 * address, out of memory). New string. */
char *fault_packet_apply_cmd(const fault_action *a, size_t node,
                             const char *node_dir, const char *name,
                             const char *const *addrs, fl_error *err);

/* The command that deletes every FAULT_PACKET_TAG rule and stops the
 * node's shaper: heal and rest. New string; NULL when out of memory. */
char *fault_packet_heal_cmd(const char *node_dir, const char *name);

/* The clock faults' file, under the node's directory, and how the
 * database reads it. */
#define FAULT_CLOCK_FILE "faketime.rc"
#define FAULT_CLOCK_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
#define FAULT_CLOCK_DB_ENV \
    "LD_PRELOAD=" FAULT_CLOCK_LIB " FAKETIME_TIMESTAMP_FILE=$d/" \
    FAULT_CLOCK_FILE " FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1" \
    " FAKETIME_FORCE_MONOTONIC_FIX=0"

/* The command that sets node `node`'s clock as a (a clock kind's
 * beginning) says: an offset, a rate, or a strobe loop started; it fails
 * unless a process on the node runs under libfaketime with the node's
 * file. New string; NULL when out of memory. */
char *fault_clock_apply_cmd(const fault_action *a, size_t node,
                            const char *node_dir, const char *name);

/* The command that stops a strobe and removes the clock file: every
 * clock kind's heal, and rest. New string; NULL when out of memory. */
char *fault_clock_heal_cmd(const char *node_dir, const char *name);

/* The file-corruption kinds (fault_corrupt.c), on the node whose
 * directory is d and whose data directory is data. kind is "bitflip",
 * "truncate" or "snapshot". Each a new string; NULL when out of memory
 * (or a glob holds a single quote). */
/* Apply's corruption, the database stopped: bitflip and truncate run
 * $d/faultline-corrupt on one of globs (relative to data) drawn from
 * seed, with amount bits or bytes, keeping the file's copy in
 * $d/KIND.undo/; snapshot copies data to $d/snapshot.undo, puts
 * $d/snapshot.saved (the previous fault's copy, if any) in its place and
 * saves the copy as the next one's. Prints one JSON object: what it did. */
char *fault_corrupt_apply_cmd(const char *kind, const char *d,
                              const char *data, const char *const *globs,
                              uint64_t seed, uint64_t amount);
/* Put data back as it was before apply, from $d/KIND.undo (exit 3 when
 * there is none). */
char *fault_corrupt_repair_cmd(const char *kind, const char *d,
                               const char *data);
/* Remove every copy KIND keeps under d; print "KIND=N" (how many). */
char *fault_corrupt_rest_cmd(const char *kind, const char *d);

/* ---- the scheduler ----------------------------------------------------------- */

/*
 * The scheduler composes faults as Jepsen's combined nemesis does: the
 * enabled kinds fall into cycles (kinds whose acts_on bits intersect
 * share one; every other kind has its own), and each cycle flip-flops on
 * its own — begin a fault of one of its kinds (drawn uniformly), end it,
 * begin again — each action a stagger after the cycle's previous one
 * (uniform in [0, 2 * interval), Jepsen's gen/stagger). Faults of
 * different cycles are in force at the same time as their cycles happen
 * to overlap; a cycle never has two. Times are seconds from the start of
 * the schedule and are drawn in advance, so a late action never moves
 * the next. Pure: everything from the rng and the leaders given. The
 * scheduler remembers what is in force so that every fault it began is
 * ended by the matching action on the same nodes.
 */
typedef struct fault_cycle {
    unsigned kinds;               /* mask over the table */
    unsigned acts_on;             /* the union of their FAULT_ON_* bits */
    double due;                   /* its next action, s from the start */
    long in_force;                /* table index of its fault, or -1 */
} fault_cycle;

typedef struct fault_plan {
    const fault_table *table;     /* borrowed */
    unsigned enabled;             /* mask over table */
    size_t n;                     /* nodes */
    double interval_s;            /* the mean time between a cycle's actions */
    fault_cycle cycles[FAULT_MAX_KINDS];
    size_t ncycles;
    fault_action in_force[FAULT_MAX_KINDS]; /* by table index; kind NULL
                                               when that kind is not */
    const json_t *options;        /* copied into every action; borrowed */
} fault_plan;

/* Cycles of the kinds in enabled, each's first action drawn from rng
 * (uniform in [0, 2 * interval_s)); nothing in force. */
void fault_plan_init(fault_plan *p, const fault_table *t, unsigned enabled,
                     size_t n, double interval_s, fl_rng *rng);

/* Whether nothing is in force. */
bool fault_plan_idle(const fault_plan *p);

/* What is in force, in table order, into out (FAULT_MAX_KINDS entries);
 * returns how many. */
size_t fault_plan_in_force(const fault_plan *p, fault_action *out);

/* When the next action is due (s from the start), or -1 when no kind is
 * enabled or there are no nodes. */
double fault_plan_due(const fault_plan *p);

/* Whether the next action begins a fault (so that a caller asks for the
 * leader only then). */
bool fault_plan_next_begins(const fault_plan *p);

/* The next action: the earliest-due cycle's (kind NULL when no kind is
 * enabled or there are no nodes). leader as for fault_kind.plan. */
void fault_plan_next(fault_plan *p, fl_rng *rng, long leader,
                     fault_action *out);

/* The action that ends one fault in force, the last in table order (kind
 * NULL if nothing is): called until nothing is, it ends every fault, in
 * reverse table order. */
void fault_plan_heal(fault_plan *p, fault_action *out);

/* The end of table kind k on every node, whatever is in force: the final
 * sweep after an action of that kind failed. */
void fault_plan_sweep(const fault_plan *p, size_t k, fault_action *out);

/* ---- carrying actions out ------------------------------------------------------- */

/* Apply (a->begin) or heal a on each of a->nodes, all at once (so that a
 * partition begins at nearly the same moment everywhere); every node is
 * attempted and the first failure (lowest node) is returned. A kind NULL
 * does nothing. */
int fault_apply(const fault_env *env, const fault_action *a, fl_error *err);

/* What the driver reports of an action: once before it is applied (done
 * false), once after (done true, with rc and, on failure, error). */
typedef struct fault_event {
    const fault_action *action;
    const char *f;                /* the history's f */
    const json_t *value;          /* the description; NULL on OOM */
    bool done;
    int rc;
    const char *error;            /* done and rc != FL_OK: why */
} fault_event;

typedef void (*fault_note_fn)(void *ctx, const fault_event *ev);

/*
 * The driver: the scheduler, its rng and the faults' failures, carried out
 * in env. The runner steps it from its nemesis thread and heals through it
 * at the end; note (called on the stepping thread) records each event.
 * A plain value; borrows table, env and ctx.
 */
#define FAULT_MAX_STRAGGLERS 8

typedef struct fault_job fault_job;

typedef struct fault_driver {
    fault_plan plan;
    fl_rng rng;
    const fault_env *env;
    unsigned failed;              /* mask: kinds an action of which failed */
    fault_note_fn note;
    void *note_ctx;
    /* fault_driver_bound: 0, none. */
    double bound_s;
    /* Actions given up on, still running (owned; joined by
     * fault_driver_finish). */
    fault_job *stragglers[FAULT_MAX_STRAGGLERS];
    size_t nstragglers;
} fault_driver;

/* A driver of the kinds in enabled, its schedule drawn from seed with
 * interval_s between a cycle's actions on average (fault_plan_init). */
void fault_driver_init(fault_driver *d, const fault_table *t,
                       unsigned enabled, uint64_t seed, double interval_s,
                       const fault_env *env, fault_note_fn note,
                       void *note_ctx);

/* Report, apply, report: the fault took effect between the two events.
 * Nothing at all for a kind NULL. Returns the apply's result. With a
 * bound (fault_driver_bound), an apply not done within it is reported
 * done with FAULT_ETIMEOUT and an error naming the action and the nodes
 * it still runs on, its kind counted as failed (the final heal sweeps
 * it), and left to finish on its own thread: the schedule goes on. */
int fault_driver_do(fault_driver *d, const fault_action *a, fl_error *err);

enum { FAULT_ETIMEOUT = 75 };

/* Bound every later action to bound_s seconds (0: none). The driver
 * then owns threads: call fault_driver_finish before env goes away. */
void fault_driver_bound(fault_driver *d, double bound_s);

/* Wait for every action given up on to end (each is bounded by its own
 * remote time-outs) and free them. Idempotent. */
void fault_driver_finish(fault_driver *d);

/* The scheduler's next action (fault_plan_next), carried out whenever
 * it is called: the caller waits for fault_plan_due. leader as for
 * fault_kind.plan (only used when the action begins a fault). */
int fault_driver_step(fault_driver *d, long leader, fl_error *err);

/*
 * End every fault: each in force (reverse table order), and then, for each kind an action of
 * which failed at some point (a node left killed, rules left behind), its
 * end on every node regardless, in reverse table order (resume before
 * restart). A kind that never failed needs no sweep, so a clean run ends
 * with exactly one end event per fault in force, and a run without faults
 * with none. FL_OK, or the first sweep that failed.
 */
int fault_driver_heal_all(fault_driver *d, fl_error *err);

#endif
