/*
 * target: a database under test, as Jepsen splits it — the *db* (install,
 * start, kill, pause, wipe, logs, per node, over SSH only) and the
 * *client* (open a connection to one node, invoke one operation, close).
 * A new database (etcd, Consul) is a new target_vtable, listed in the
 * targets' registry (targets/registry.h), and nothing else: the runner,
 * nemesis and checkers only see this interface, and the harness names no
 * target.
 *
 * A target declares, besides its db and client:
 *   - its options (a table of target_option over a struct of its own):
 *     the command line offers them, target_options_parse checks each value
 *     against its line once, test.json records them, and create() reads
 *     them as its struct, with nobody in between knowing what they mean;
 *   - the operations its client supports (target_supports_workload: a
 *     workload that needs one it lacks is refused before anything runs).
 *
 * Whether an outcome is fail (certainly did not happen) or info (may
 * have) is decided by the client from what it knows — was the request
 * sent, what did the database answer, is the op a read — in a pure
 * classify function each target's header documents as its outcome
 * table. (A per-error-string table of definiteness, read by nobody but
 * tests, was dropped: the same string, "timeout", is definite for a
 * request never sent and indefinite for one sent.)
 *
 * Nodes are numbered 0..remote_count()-1 as in the remote (harness/remote.h).
 * Threads: db calls for different nodes may run concurrently; a client is
 * used by one thread at a time; clients of different threads concurrently.
 */
#ifndef FL_TARGET_H
#define FL_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "history/history.h"
#include "harness/remote.h"
#include "harness/target_db.h"

typedef struct target_config {
    remote *remote;          /* borrowed; outlives the target */
    /* How the database is treated; copied by target_new. NULL: managed. */
    const target_db *db;
    /* The target's own options, parsed and checked once
     * (target_options_parse): the target's options struct, whose fields
     * its option table places (target_option.offset). Borrowed, valid
     * during create() only (copy what you keep). NULL only for a target
     * without options. */
    const void *options;
    const char *node_dir;    /* base of per-node dirs on the nodes */
    /* The environment the database is started in (NAME=VALUE words; $d
     * is the node's directory), or NULL: the clock faults' libfaketime
     * (fault_db_env). Only a target with takes_db_env honours it. */
    const char *db_env;
} target_config;

/* What an option's value is, and the C type its field has in the
 * target's options struct. */
typedef enum target_option_type {
    TARGET_OPT_TEXT,         /* --NAME ARG: const char * (NULL: not given
                                and no default); checked against chars */
    TARGET_OPT_CHOICE,       /* --NAME ARG, one of choices: int, its index
                                (-1: not given and no default) */
    TARGET_OPT_FLAG,         /* --NAME: bool */
} target_option_type;

/*
 * One option a target takes on the command line, as --NAME [ARG]: a line
 * of the target's option table, from which the command line, the help,
 * the checking of values and test.json's "target_options" all come.
 */
typedef struct target_option {
    const char *name;        /* NULL ends a table */
    target_option_type type;
    const char *arg;         /* the argument's name in help ("PATH") */
    const char *help;        /* one line */
    const char *default_value; /* used when not given; NULL: none (or one
                                  that resolve_options computes) */
    /* TARGET_OPT_CHOICE: the values it takes (NULL-terminated). */
    const char *const *choices;
    /* TARGET_OPT_TEXT: the characters a value may have besides letters and
     * digits (the value goes into shell commands as it is); NULL: any.
     * An empty value is refused unless empty_ok. */
    const char *chars;
    bool empty_ok;
    /* Where the value goes in the target's options struct
     * (offsetof(struct, field)). */
    size_t offset;
    const char *alias_of;    /* another option's name: stored under it */
} target_option;

#define TARGET_DEFAULT_NODE_DIR "/var/lib/faultline-node"

/* A managed target's start removes NODE_DIR/NAME/TARGET_DB_EXIT_FILE and
 * runs its process under a wrapper that writes the process's exit status
 * there (a shell's $?: 128+N for signal N) when it ends, however it ends
 * (targets/clients/daemon.h: daemon_start_cmd). The crash watcher
 * (run/crashwatch.h) reads it; a target without it is never seen to
 * crash, only to stop serving. */
#define TARGET_DB_EXIT_FILE "db.exit"

/* An operation as the generator describes it (borrowed values). */
typedef struct target_op {
    const char *f;           /* "read", "write", "cas", "add" (set
                                workload: value is the element; its ok
                                value too; a read of a set key returns
                                the array) */
    const json_t *key;
    const json_t *value;     /* write: V; cas: [old, new]; read: null */
} target_op;

/* What became of it: type is HISTORY_OK, HISTORY_FAIL or HISTORY_INFO;
 * value (the completion's value) and error are owned by the result
 * (target_result_clear), either may be NULL. */
typedef struct target_result {
    history_type type;
    json_t *value;
    json_t *error;
    bool refused;   /* a fail that is the database's own answer (a cas
                       whose expectation did not hold), not an outage: the
                       client need not pause before its next op */
} target_result;

/* Clients bind every connection to remote_bind_address() (the local
 * cluster's bridge) before connecting. When that bind fails the test
 * network is gone: the op is a fail (nothing was sent) whose error is
 * {"error": TARGET_ERROR_UNBOUND}, and every later op will fail the same
 * way until the network is back — a runner may stop the run on it. */
#define TARGET_ERROR_UNBOUND "cannot bind to the test network"

void target_result_clear(target_result *r);

/* Where a node's own view of its election can be read, for faults that
 * act on elections (nemesis/fault_election.c): an HTTP GET of
 * http://status/path answers a JSON body with "term" (a number) and
 * "role" ("leader", "follower" or another word), and pid_file (a path on
 * the node) names the database process the managed start's wrapper runs
 * (targets/clients/daemon.h). */
typedef struct target_election {
    char status[128];   /* "HOST:PORT", IPv4 */
    char peer[128];     /* "HOST:PORT" where the node's peers connect (a
                           holding proxy goes in front of it) */
    char path[64];      /* "/status" */
    char pid_file[512];
} target_election;

typedef struct target_vtable {
    const char *name;
    /* Its options (NULL-name terminated; NULL: none), and the size of
     * the struct they are parsed into (target_config.options). */
    const target_option *options;
    size_t options_size;
    /* Fill in defaults that must be computed (a build's path) in opts
     * (the options as JSON, every value already checked against the
     * table; modified in place; the result is checked again). FL_EUSAGE:
     * a bad value; any other code: the target cannot run here (its
     * message says why). May be NULL. */
    int (*resolve_options)(json_t *opts, fl_error *err);
    /* The operations (target_op.f) its client implements, natively or
     * emulated (NULL terminated). */
    const char *const *operations;
    /* How long (ms) a node may take from start to serving: await_ready's
     * allowance at set-up and after healing, where it is longer than the
     * harness's own (15 s, 10 s). 0: those. A JVM that starts in 10-20 s
     * on a loaded machine needs more; see target_ready_timeout_ms. */
    int ready_timeout_ms;
    /* The database's data directory, relative to the node's directory
     * (target_config.node_dir/NAME): what the power-loss fault mounts
     * powerfs over before the database starts (nemesis/fault_power_loss.c).
     * The target's wipe must name it, and its start must not remove it
     * (mkdir -p is fine). NULL: the target has none there (power-loss is
     * refused). */
    const char *data_dir;
    /* The files under data_dir that hold its state, as shell globs
     * relative to it ("log", or etcd's WAL segments), NULL-terminated: what
     * the file-corruption faults pick from (nemesis/fault_corrupt.c).
     * NULL: none named (those faults are refused). */
    const char *const *data_files;
    /* Substrings of a line of its logs that mean it crashed or hit an
     * internal error (a panic, a failed assertion), NULL-terminated; NULL:
     * none. The downloaded logs are scanned for them (and for the user's
     * --log-pattern): a match makes the run invalid (harness/crash_logs.h,
     * checkers/crash.h). */
    const char *const *crash_patterns;
    /* Whether its start command honours target_config.db_env: faults that
     * need one (the clock faults) are refused for a target without. */
    bool takes_db_env;
    int (*create)(const target_config *cfg, void **state, fl_error *err);
    void (*destroy)(void *state);
    /* db: each takes the node and must leave a clear error on failure. */
    int (*install)(void *state, size_t node, fl_error *err);
    int (*start)(void *state, size_t node, fl_error *err);
    int (*kill)(void *state, size_t node, fl_error *err);
    int (*pause)(void *state, size_t node, fl_error *err);
    int (*resume)(void *state, size_t node, fl_error *err);
    int (*wipe)(void *state, size_t node, fl_error *err);
    /* Wait (at most timeout_ms) until the node serves clients. */
    int (*await_ready)(void *state, size_t node, int timeout_ms, fl_error *err);
    /* Copy the node's logs into local_dir (which exists). */
    int (*collect_logs)(void *state, size_t node, const char *local_dir,
                        fl_error *err);
    /* The node the cluster currently calls leader, or -1; may be NULL. */
    long (*leader)(void *state);
    /* Where node `node`'s election can be watched (target_election);
     * may be NULL (faults that act on elections are then refused). */
    int (*election)(void *state, size_t node, target_election *out,
                    fl_error *err);
    /* The shell command that brings the node's target to rest, whatever
     * state an earlier run left it in: every process of it continued
     * (SIGCONT) and killed. It prints "running=N stopped=M" (how many
     * processes it found, how many of them paused). Run at the start of
     * every test and by the dead man's switch (nemesis/deadman.h), so it
     * must need nothing but the node's shell. New string (caller frees),
     * NULL when out of memory. Managed mode only: target_rest_cmd gives
     * existing mode's own, which kills nothing. */
    char *(*rest_cmd)(void *state, size_t node);
    /* client */
    int (*client_open)(void *state, size_t node, void **client, fl_error *err);
    void (*client_invoke)(void *client, const target_op *op,
                          target_result *out);
    void (*client_close)(void *client);
} target_vtable;

/* ---- a target's declarations ---------------------------------------------- */

/* The option called name (an alias's own entry), or NULL. */
const target_option *target_option_find(const target_vtable *vt,
                                        const char *name);

/*
 * Store one option as given on the command line into *opts (a JSON object
 * the caller owns; created when NULL): value is its argument, NULL for a
 * flag; the last one given counts. FL_EUSAGE, naming the target, when it
 * takes no such option, or when an argument is missing or given to a
 * flag. Values are checked by target_options_parse.
 */
int target_options_set(const target_vtable *vt, json_t **opts,
                       const char *name, const char *value, fl_error *err);

/* A target's options, parsed once (opaque): the typed struct the target
 * reads and the same values as JSON, for test.json. */
typedef struct target_options target_options;

/*
 * Parse the options as given (opts, {NAME: "value" | true}; NULL: none)
 * into *out (the caller's, target_options_free): every declared default
 * filled in, each value checked against its table line, the target's
 * resolve_options run, then each value placed in the target's struct.
 * FL_EUSAGE naming the option ("target etcd: --read-mode is linearizable
 * or serializable, not \"x\""); another code when the target cannot run
 * here (resolve_options). Pure but for resolve_options.
 */
int target_options_parse(const target_vtable *vt, const json_t *opts,
                         target_options **out, fl_error *err);
/* The target's options struct (target_config.options), borrowed from o;
 * NULL for a target whose options_size is 0. */
const void *target_options_values(const target_options *o);
/* The resolved options as JSON (test.json's "target_options"), borrowed. */
const json_t *target_options_json(const target_options *o);
void target_options_free(target_options *o);

/* Print the target's options, one help entry each, to out. */
void target_options_help(const target_vtable *vt, FILE *out);

/* Whether the target's client implements every operation the workload
 * issues; if not, *missing names the first one it lacks. */
bool target_supports_workload(const target_vtable *vt, const char *wl_name,
                              const char **missing);

typedef struct target target;
typedef struct target_client target_client;

int target_new(const target_vtable *vt, const target_config *cfg,
               target **out, fl_error *err);
void target_free(target *t);
const char *target_name(const target *t);

/* How t treats its database (target_config.db). Borrowed from t. */
const target_db *target_db_of(const target *t);

/* Whether db (NULL: managed) lets a caller make the db calls in needs
 * (TARGET_DB_* mask): always in managed mode; in existing mode only when
 * the user gave a command for each, and never TARGET_DB_DATA or
 * TARGET_DB_ELECTION. Otherwise
 * FL_EUSAGE, naming `who` and the options needed (kill needs --kill-cmd
 * and --start-cmd). Pure. */
int target_db_allows(const target_db *db, unsigned needs, const char *who,
                     fl_error *err);

/* Set-up of one node before a test: managed, kill -9, wipe, install and
 * start it; existing, nothing (the user's database is already running;
 * the caller awaits it like any other). */
int target_set_up(target *t, size_t node, fl_error *err);
/* Teardown after a test: managed, kill -9; existing, nothing (the
 * database stays the user's, running). */
int target_tear_down(target *t, size_t node, fl_error *err);

/* In existing mode the calls below run the user's commands (kill, start,
 * pause, resume; an error naming the option when it was not given),
 * refuse install and wipe, and collect the logs through --logs-cmd and
 * --log-path. */
int target_install(target *t, size_t node, fl_error *err);
int target_start(target *t, size_t node, fl_error *err);
int target_kill(target *t, size_t node, fl_error *err);
int target_pause(target *t, size_t node, fl_error *err);
int target_resume(target *t, size_t node, fl_error *err);
int target_wipe(target *t, size_t node, fl_error *err);
int target_await_ready(target *t, size_t node, int timeout_ms, fl_error *err);
int target_collect_logs(target *t, size_t node, const char *local_dir,
                        fl_error *err);
long target_leader(target *t);
/* Whether t can name a leader at all (a leaderless database, or a target
 * file without a "leader" command, cannot: nobody waits for one). */
bool target_has_leader(const target *t);
/* Where node `node`'s election can be watched: FL_OK with *out filled,
 * or FL_EUSAGE (the target cannot say, or runs in existing mode: no
 * managed start to repeat). */
int target_election_of(target *t, size_t node, target_election *out,
                       fl_error *err);
/* Whether t can say (a vtable election op). */
bool target_has_election(const target *t);
/* The await_ready allowance to use where the harness would use
 * default_ms: the larger of it and the target's ready_timeout_ms. */
int target_ready_timeout_ms(const target *t, int default_ms);

/* The absolute path of node's data directory on the node (vtable
 * data_dir under the node's directory), or NULL when the target declares
 * none or the database is not faultline's (existing mode: its files are
 * the user's). New string (caller frees); NULL on OOM too. */
char *target_data_path(const target *t, size_t node);
/* The target's data_files (globs relative to target_data_path), or NULL
 * where target_data_path is NULL or the target names none. Static. */
const char *const *target_data_files(const target *t);
/* See target_vtable.rest_cmd; in existing mode db_existing_rest_cmd
 * (heal what faultline did: resume, restart; never a kill). */
char *target_rest_cmd(target *t, size_t node);

int target_client_open(target *t, size_t node, target_client **out,
                       fl_error *err);
/* Never fails as a call: failures are outcomes (fail / info) in *out.
 * In existing mode an integer key is sent as key + key_base. */
void target_client_invoke(target_client *c, const target_op *op,
                          target_result *out);
void target_client_close(target_client *c);

#endif
