/*
 * run: one test from nodes to verdict. See run.h. Moved out of
 * the command line (cli/cmd_test.c) so that every front end and every
 * target share one orchestration.
 */
#include "run/run.h"
#include "checkers/crash.h"
#include "harness/cluster.h"
#include "nemesis/deadman.h"
#include "nemesis/fault.h"
#include "run/phase.h"
#include "harness/remote.h"
#include "harness/run_store.h"
#include "run/runner.h"
#include "workloads/register.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHECK_TIME_LIMIT_S 300.0
#define NOT_JUDGED (-1)

/* ---- the log: faultline.log and the caller's callback -------------------------------- */

typedef struct test_log {
    FILE *file;
    struct timespec start;
    run_log_fn fn;
    void *ctx;
} test_log;

static void tlog(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void tlog(void *ctx, const char *fmt, ...)
{
    test_log *l = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double t = (double)(now.tv_sec - l->start.tv_sec) +
               (double)(now.tv_nsec - l->start.tv_nsec) / 1e9;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char stamped[sizeof line + 16];
    snprintf(stamped, sizeof stamped, "[%7.2f] %s", t, line);
    if (l->fn)
        l->fn(l->ctx, stamped);
    if (l->file) {
        fprintf(l->file, "%s\n", stamped);
        fflush(l->file);
    }
}

/* ---- nodes ----------------------------------------------------------------------------------- */

typedef struct test_env {
    fl_nodes nodes;
    bool cluster_made;      /* this run brought the local cluster up */
    char key[PATH_MAX], known_hosts[PATH_MAX];
    remote_auth auth;
    int lock_fd;            /* the local cluster's lock, or -1 */
} test_env;


static int get_nodes(const run_config *a, test_env *env, test_log *l,
                     fl_error *err)
{
    if (a->nodes_file) {
        const char *home = getenv("HOME");
        if (a->known_hosts)
            snprintf(env->known_hosts, sizeof env->known_hosts, "%s",
                     a->known_hosts);
        else if (!a->insecure_host_keys && (!home || !*home))
            return fl_error_set(err, FL_EUSAGE, "$HOME is not set: give "
                                "--known-hosts F to check the nodes' host "
                                "keys against");
        else if (!a->insecure_host_keys)
            snprintf(env->known_hosts, sizeof env->known_hosts,
                     "%s/.ssh/known_hosts", home);
        /* Remote nodes are reached by the machine's own routing: no
         * bind address. */
        env->auth = (remote_auth){.user = a->ssh_user, .private_key = a->ssh_key,
                                  .known_hosts = a->insecure_host_keys
                                                     ? NULL : env->known_hosts,
                                  .insecure_accept_any_host_key =
                                      a->insecure_host_keys,
                                  .port = a->ssh_port};
        return fl_nodes_load(a->nodes_file, &env->nodes, err);
    }
    const char *state = cluster_state_dir();
    cluster_status st = {0};
    /* Two tests on one local cluster would kill and wipe each other's
     * nodes, and `cluster up`/`down` would pull it away: the cluster's
     * lock is held for the whole run, teardown included. */
    int rc = cluster_lock(state, true, &env->lock_fd, err);
    if (rc != FL_OK)
        return rc;
    rc = cluster_status_get(state, &st, err);
    if (rc != FL_OK || !cluster_status_all_up(&st) || st.count != a->nodes) {
        tlog(l, "bringing up the local cluster: %d nodes (state %s)", a->nodes,
             state);
        env->cluster_made = !st.bridge && st.count == 0;
        if ((rc = cluster_up(state, a->nodes, err)) != FL_OK)
            return fl_error_wrap(err, "local cluster");
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", state, CLUSTER_NODES_FILE);
    snprintf(env->key, sizeof env->key, "%s/%s", state, CLUSTER_KEY_FILE);
    snprintf(env->known_hosts, sizeof env->known_hosts, "%s/%s", state,
             CLUSTER_KNOWN_HOSTS_FILE);
    /* Bound to the bridge: if the cluster vanishes mid-run, connecting
     * fails here instead of going out through another interface. */
    env->auth = (remote_auth){.user = CLUSTER_USER, .private_key = env->key,
                              .known_hosts = env->known_hosts,
                              .bind_address = CLUSTER_BRIDGE_ADDRESS};
    return fl_nodes_load(path, &env->nodes, err);
}

/* test.json's "db": the mode, and in existing mode the user's commands
 * (null: not given). */
static json_t *db_json(const target_db *db)
{
    if (!db || db->mode != TARGET_DB_EXISTING)
        return json_pack("{s:s}", "mode", "managed");
    json_t *paths = json_array();
    for (size_t i = 0; paths && db->log_paths && db->log_paths[i]; i++)
        json_array_append_new(paths, json_string(db->log_paths[i]));
    return json_pack("{s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:o?,s:I}", "mode",
                     "existing", "kill_cmd", db->kill_cmd, "start_cmd",
                     db->start_cmd, "pause_cmd", db->pause_cmd, "resume_cmd",
                     db->resume_cmd, "logs_cmd", db->logs_cmd, "log_paths",
                     paths, "key_base", db->key_base);
}

/* The target's crash patterns and the user's, as one array. */
static json_t *crash_patterns_json(const run_config *a)
{
    json_t *arr = json_array();
    const char *const *lists[] = {a->target->crash_patterns, a->log_patterns};
    for (size_t l = 0; arr && l < 2; l++)
        for (size_t i = 0; lists[l] && lists[l][i]; i++)
            json_array_append_new(arr, json_string(lists[l][i]));
    return arr;
}

/* Every value as used, defaults resolved. */
static json_t *test_json(const run_config *a, const json_t *target_opts,
                         const target_db *db, const fl_nodes *nodes)
{
    int keys = a->keys ? a->keys : wl_register_keys_for(a->concurrency);
    const char *user = a->nodes_file ? (a->ssh_user ? a->ssh_user
                                                    : FL_SSH_DEFAULT_USER)
                                     : CLUSTER_USER;
    int port = a->nodes_file && a->ssh_port ? a->ssh_port : FL_SSH_DEFAULT_PORT;
    json_t *ns = json_array();
    for (size_t i = 0; ns && i < nodes->count; i++)
        json_array_append_new(ns, json_pack("{s:s,s:s}", "name",
                              nodes->nodes[i].name, "address",
                              nodes->nodes[i].address));
    json_t *t = json_pack("{s:s,s:s,s:O,s:s,s:s*,s:f,s:f,s:i,s:f,s:i,s:I,s:s*,"
                     "s:s*,s:i,s:b,s:o}",
                     "name", a->test_name, "target", a->target->name,
                     "target_options", target_opts,
                     "workload", a->workload, "nemesis", a->nemesis,
                     "nemesis_interval", a->nemesis_interval,
                     "time_limit", a->time_limit,
                     "concurrency", a->concurrency, "rate", a->rate,
                     "keys", keys,
                     "seed", (json_int_t)a->seed,
                     "nodes_file", a->nodes_file,
                     "ssh_user", user, "ssh_port", port,
                     "insecure_accept_any_host_key", a->insecure_host_keys,
                     "nodes", ns);
    /* The kinds' f pairs, so that the report shades this run's faults
     * without knowing any kind. */
    if (t && (json_object_set_new(t, "db", db_json(db)) != 0 ||
              json_object_set_new(t, "fault_kinds",
                                  fault_table_json(fault_builtin())) != 0 ||
              json_object_set_new(t, "crash_patterns",
                                  crash_patterns_json(a)) != 0 ||
              json_object_set_new(t, "allow_crashes",
                                  json_boolean(a->allow_crashes)) != 0 ||
              (a->checker_options &&
               json_object_set_new(t, "checker_options",
                                   json_deep_copy(a->checker_options)) != 0))) {
        json_decref(t);
        t = NULL;
    }
    return t;
}

/* test.json's nemesis_options: the resolved options of the kinds in use
 * (their names begin with the kind's), so a run says what it injected. */
static void record_fault_options(const char *dir, const run_config *a,
                                 const json_t *opts)
{
    const fault_table *ft = fault_builtin();
    json_t *used = json_object();
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)opts, name, v)
        for (size_t k = 0; used && k < ft->count; k++)
            if ((a->faults & (1u << k)) &&
                strncmp(name, ft->kinds[k]->name,
                        strlen(ft->kinds[k]->name)) == 0)
                json_object_set(used, name, v);
    if (used)
        run_store_set_test_field(dir, "nemesis_options", used, NULL);
    json_decref(used);
}

/* ---- nodes at rest ------------------------------------------------------------------------ */

/* Per node: the target's rest command and every fault kind's rest
 * (nemesis/fault.h), whose output says what an earlier run left behind. */
typedef struct rest_job {
    target *t;
    remote *r;
    const fault_env *env;
    json_t *found;           /* {NODE: {"target_processes", "paused",
                                "resumed", "restarted", "faults"}} for nodes
                                not at rest */
    pthread_mutex_t lock;
} rest_job;

static char *rest_cmd_of(target *t, const fault_env *env, size_t node)
{
    char *target_rest = target_rest_cmd(t, node);
    if (!target_rest)
        return NULL;
    char *s = fault_rest_cmd(fault_builtin(), env, node, target_rest);
    free(target_rest);
    return s;
}

static long count_in(const char *out, const char *field)
{
    const char *p = out ? strstr(out, field) : NULL;
    return p ? strtol(p + strlen(field), NULL, 10) : 0;
}

static int rest_node(void *ctx, size_t node, fl_error *err)
{
    rest_job *j = ctx;
    char *cmd = rest_cmd_of(j->t, j->env, node);
    fl_ssh_result res = {0};
    if (!cmd)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    int rc = remote_exec(j->r, node, cmd, 20000, &res, err);
    free(cmd);
    if (rc != FL_OK)
        return fl_error_wrap(err, "bringing node %s to rest",
                             remote_name(j->r, node));
    long procs = count_in(res.out, "running="), paused = count_in(res.out,
                                                                  "stopped=");
    /* Existing mode's rest (harness/db_existing.h) undoes a kill or a
     * pause an earlier run made, and says what it could not undo. */
    long resumed = count_in(res.out, "resumed="),
         restarted = count_in(res.out, "restarted="),
         unrestored = count_in(res.out, "unrestored=");
    if (res.exit_status != 0 || unrestored)
        rc = fl_error_set(err, FL_EIO, "node %s: could not bring it to rest "
                          "(exit %d): %.300s", remote_name(j->r, node),
                          res.exit_status, res.err ? res.err : "");
    json_t *faults = fault_rest_found(fault_builtin(), res.out);
    fl_ssh_result_free(&res);
    if (procs || paused || resumed || restarted ||
        json_object_size(faults)) {
        pthread_mutex_lock(&j->lock);
        json_object_set_new(j->found, remote_name(j->r, node),
                            json_pack("{s:I,s:I,s:I,s:I,s:O}",
                                      "target_processes", (json_int_t)procs,
                                      "paused", (json_int_t)paused,
                                      "resumed", (json_int_t)resumed,
                                      "restarted", (json_int_t)restarted,
                                      "faults", faults));
        pthread_mutex_unlock(&j->lock);
    }
    json_decref(faults);
    return rc;
}

/* Every run begins from nodes at rest, whatever an earlier one left: no
 * fault kind's leftovers (each kind's rest, nemesis/fault.h), no paused or
 * running target. What was found is logged
 * and returned as test.json's "found_at_start" ({} when nothing). */
static int rest_all(target *t, remote *r, const fault_env *env, test_log *l,
                    json_t **found, fl_error *err)
{
    rest_job j = {.t = t, .r = r, .env = env, .found = json_object()};
    if (!j.found)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    pthread_mutex_init(&j.lock, NULL);
    if (target_db_of(t)->mode == TARGET_DB_EXISTING)
        tlog(l, "bringing every node to rest (no fault left; %s is "
             "yours: only a kill or pause an earlier run made is undone, "
             "through --start-cmd / --resume-cmd)", target_name(t));
    else
        tlog(l, "bringing every node to rest (no fault left, no %s "
             "running)", target_name(t));
    int rc = remote_each(r, rest_node, &j, err);
    pthread_mutex_destroy(&j.lock);
    const char *node;
    json_t *v;
    json_object_foreach(j.found, node, v) {
        json_int_t resumed = json_integer_value(json_object_get(v, "resumed")),
                   restarted = json_integer_value(json_object_get(v, "restarted"));
        char *faults = json_dumps(json_object_get(v, "faults"), JSON_COMPACT);
        tlog(l, "node %s: an earlier run left faults %s, %lld "
             "target processes (%lld paused): removed%s", node,
             faults ? faults : "?",
             (long long)json_integer_value(json_object_get(v, "target_processes")),
             (long long)json_integer_value(json_object_get(v, "paused")),
             resumed || restarted ? "; and your database paused or killed: "
                                    "resumed or restarted through your "
                                    "commands" : "");
        free(faults);
    }
    *found = j.found;
    return rc;
}

static int arm_deadman(target *t, remote *dr, const fault_env *env,
                       deadman **out, fl_error *err)
{
    size_t n = remote_count(dr);
    char **cmds = calloc(n, sizeof *cmds);
    int rc = cmds ? FL_OK : fl_error_set(err, FL_ENOMEM, "out of memory");
    for (size_t i = 0; rc == FL_OK && i < n; i++)
        if (!(cmds[i] = rest_cmd_of(t, env, i)))
            rc = fl_error_set(err, FL_ENOMEM, "out of memory");
    if (rc == FL_OK)
        rc = deadman_arm(dr, TARGET_DEFAULT_NODE_DIR, (const char *const *)cmds,
                         out, err);
    for (size_t i = 0; cmds && i < n; i++)
        free(cmds[i]);
    free(cmds);
    return rc;
}

typedef struct node_job {
    target *t;
    remote *r;
    test_log *l;
    const char *dir;
    phase *ph;              /* announces what each node waits for */
    char installing[96], serving[96], stopping[96];
} node_job;

/* The words phase announcements use for t's steps. */
static void job_words(node_job *j)
{
    bool existing = target_db_of(j->t)->mode == TARGET_DB_EXISTING;
    snprintf(j->installing, sizeof j->installing, "%s to be %s",
             target_name(j->t), existing ? "checked"
                                         : "stopped, wiped, installed and "
                                           "started");
    snprintf(j->serving, sizeof j->serving, "%s to serve", target_name(j->t));
    snprintf(j->stopping, sizeof j->stopping, "%s %s its logs to download",
             target_name(j->t), existing ? "and" : "to stop and");
}

static void phase_line(void *ctx, const char *line)
{
    tlog(ctx, "%s", line);
}

static int setup_node(void *ctx, size_t i, fl_error *err)
{
    node_job *j = ctx;
    int rc;
    phase_wait(j->ph, i, j->installing);
    if ((rc = target_set_up(j->t, i, err)) == FL_OK) {
        phase_wait(j->ph, i, j->serving);
        rc = target_await_ready(j->t, i,
                                    target_ready_timeout_ms(j->t, 15000), err);
    }
    phase_wait(j->ph, i, NULL);
    if (rc == FL_OK)
        tlog(j->l, "node %s: %s", remote_name(j->r, i),
             target_db_of(j->t)->mode == TARGET_DB_EXISTING
                 ? "serving (your database, as it was)"
                 : "installed and serving");
    return rc;
}

/* Stop (kill -9), wipe, install and start every node, all at once; wait
 * for a leader. */
static int setup_target(target *t, remote *r, test_log *l, atomic_int *stop,
                        phase *ph, fl_error *err)
{
    node_job j = {.t = t, .r = r, .l = l, .ph = ph};
    job_words(&j);
    if (target_db_of(t)->mode == TARGET_DB_EXISTING)
        tlog(l, "--db existing: connecting to the %s already running on "
             "%zu nodes (nothing installed, wiped or started)",
             target_name(t), remote_count(r));
    else
        tlog(l, "installing and starting %s on %zu nodes", target_name(t),
             remote_count(r));
    int rc = remote_each(r, setup_node, &j, err);
    if (rc != FL_OK || !target_has_leader(t))
        return rc;
    phase_wait(ph, PHASE_ALL, "a leader");
    for (int waited = 0; waited < 150 && !atomic_load(stop); waited++) {
        long leader = target_leader(t);
        if (leader >= 0) {
            tlog(l, "leader: %s", remote_name(r, (size_t)leader));
            return FL_OK;
        }
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    return fl_error_set(err, FL_EIO, "no leader was elected within 15 s "
                        "(see the nodes' logs under nodes/)");
}

static int teardown_node(void *ctx, size_t i, fl_error *err)
{
    node_job *j = ctx;
    char ndir[PATH_MAX];
    fl_error e = {0};
    phase_wait(j->ph, i, j->stopping);
    if (target_tear_down(j->t, i, &e) != FL_OK)
        tlog(j->l, "stopping %s: %s", remote_name(j->r, i), e.msg);
    if (run_store_node_dir(j->dir, remote_name(j->r, i), ndir, sizeof ndir,
                           &e) != FL_OK ||
        target_collect_logs(j->t, i, ndir, &e) != FL_OK)
        tlog(j->l, "logs of %s: %s", remote_name(j->r, i), e.msg);
    phase_wait(j->ph, i, NULL);
    (void)err;
    return FL_OK;
}

/* Every step of a teardown is bounded (a kill 15 s, each log download
 * 30 s); this is the promise over all of them. */
#define TEARDOWN_BOUND_S 120.0

static void teardown_target(target *t, remote *r, const char *dir, test_log *l)
{
    node_job j = {.t = t, .r = r, .l = l, .dir = dir};
    fl_error e = {0};
    job_words(&j);
    tlog(l, target_db_of(t)->mode == TARGET_DB_EXISTING
                ? "downloading the logs of %s (left running: it is yours)"
                : "stopping %s and downloading its logs", target_name(t));
    if (phase_begin("teardown", TEARDOWN_BOUND_S, remote_count(r),
                    remote_names(r), phase_line, l, &j.ph, &e) != FL_OK)
        tlog(l, "%s", e.msg);
    remote_each(r, teardown_node, &j, &e);
    if (phase_overdue(j.ph))
        tlog(l, "teardown took longer than its bound of %.0f s: see the "
             "lines above for what it waited for", TEARDOWN_BOUND_S);
    phase_end(j.ph);
}

/* ---- the run --------------------------------------------------------------------------------------- */

/* Why the run can no longer be trusted: a dead man's switch fired or went
 * unrenewed, or (a local cluster) its bridge or namespaces vanished. */
typedef struct trust {
    deadman *dm;
    int local_nodes;        /* 0: not a local cluster */
    char why[512];
} trust;

static const char *untrusted(void *ctx)
{
    trust *tr = ctx;
    if (tr->local_nodes &&
        !cluster_network_present(tr->local_nodes, tr->why, sizeof tr->why))
        return tr->why;
    return tr->dm ? deadman_broken(tr->dm) : NULL;
}

static int run_timeline(const run_config *a, target *t, remote *r,
                        remote *watch, const json_t *fault_opts,
                        const char *dir, test_log *l, trust *tr,
                        runner_stats *st, fl_error *err)
{
    char path[PATH_MAX];
    history_writer *w = NULL;
    workload *gen = NULL;
    workload_options wo = {.seed = a->seed, .active_keys = a->keys,
                           .concurrency = a->concurrency};
    if (snprintf(path, sizeof path, "%s/history.jsonl", dir) >= (int)sizeof path)
        return fl_error_set(err, FL_EUSAGE, "results path too long");
    int rc = workload_new(a->workload, &wo, &gen, err);
    if (rc == FL_OK)
        rc = history_writer_open(path, &w, err);
    if (rc != FL_OK) {
        workload_free(gen);
        return rc;
    }
    runner_options ro = {
        .concurrency = a->concurrency, .rate = a->rate,
        .time_limit_s = a->time_limit, .faults = a->faults,
        .fault_options = fault_opts,
        .nemesis_interval_s = a->nemesis_interval, .seed = a->seed,
        .recover_s = 1.0, .log = tlog, .log_ctx = l,
        .broken = untrusted, .broken_ctx = tr,
        .watch = watch, .node_dir = TARGET_DEFAULT_NODE_DIR,
        .probe_serving = target_db_of(t)->mode == TARGET_DB_EXISTING,
    };
    rc = runner_run(t, r, gen, w, &ro, a->stop, st, err);
    tlog(l, "clients: %ld ok, %ld fail, %ld info; %ld nemesis actions; "
         "%lld keys, %ld without a final read", st->ok, st->fail, st->info,
         st->nemesis_actions, (long long)st->keys, st->final_reads_missing);
    tlog(l, "controller: longest stall %.2f s; nemesis actions late by more "
         "than 1 s: %ld (latest %.1f s); crashes seen: %ld", st->max_stall_s,
         st->nemesis_late, st->nemesis_late_max_s, st->crashes);
    fl_error e2 = {0};
    if (history_writer_close(w, &e2) != FL_OK && rc == FL_OK) {
        rc = e2.code;
        *err = e2;
    }
    workload_free(gen);
    return rc;
}

/* test.json's "ended" for a run whose timeline returned rc. */
static void ended_text(const run_config *a, int rc, const fl_error *err,
                       const runner_stats *st, char *out, size_t size)
{
    if (rc == RUNNER_EBROKEN)
        snprintf(out, size, "%s", st->broken);
    else if (rc != FL_OK)
        snprintf(out, size, "recording failed: %s", err->msg);
    else if (st->stopped_early)
        snprintf(out, size, "interrupted (%s at %.1f s of %.0f)",
                 atomic_load(a->stop) == SIGTERM ? "SIGTERM" : "SIGINT",
                 st->client_s,
                 a->time_limit);
    else
        snprintf(out, size, "completed");
}

static void cannot_run(test_log *l, const fl_error *err)
{
    tlog(l, "cannot run the test: %s", err->msg);
}

/* Everything a run holds open; released by release(). */
typedef struct run_ctx {
    const run_config *a;
    test_log l;
    test_env env;
    char dir[PATH_MAX / 2];
    int rec_fd;
    remote *r, *dr;         /* the test's connections, the switch's */
    remote *wr;             /* the crash watcher's (managed mode) */
    target *t;
    deadman *dm;
    bool ssh;
    /* The target's options: run_config's, or the defaults parsed here
     * (own_target_opts, owned) when it gave none. */
    const target_options *target_opts;
    target_options *own_target_opts;
    json_t *fault_opts;     /* resolved (fault_options_resolve) */
    fault_env fenv;         /* what the fault kinds' rest, prepare and
                               teardown act on */
    target_db db;           /* a->db's (borrowed strings) and the key base */
} run_ctx;

/* Existing mode's keys: a base from the run's start, in seconds, times
 * 2^16 — each run's keys (fewer than 2^16) are its own, and a multiple of
 * 4096 keeps the fake target's slots apart. */
static target_db db_for_run(const target_db *given)
{
    target_db db = given ? *given : (target_db){.mode = TARGET_DB_MANAGED};
    if (db.mode == TARGET_DB_EXISTING)
        db.key_base = (json_int_t)time(NULL) << 16;
    return db;
}

static int open_run(run_ctx *c, fl_error *err)
{
    const run_config *a = c->a;
    char path[PATH_MAX];
    c->db = db_for_run(a->db);
    int rc = get_nodes(a, &c->env, &c->l, err);
    if (rc == FL_OK && c->env.nodes.count > FAULT_MAX_NODES)
        rc = fl_error_set(err, FL_EUSAGE, "at most %d nodes", FAULT_MAX_NODES);
    if (rc == FL_OK)
        rc = run_store_create(a->results, a->test_name, c->dir, sizeof c->dir,
                              err);
    if (rc != FL_OK) {
        c->dir[0] = '\0';
        return rc;
    }
    snprintf(path, sizeof path, "%s/faultline.log", c->dir);
    c->l.file = fopen(path, "w");
    tlog(&c->l, "run %s, seed %llu", c->dir, (unsigned long long)a->seed);
    if (a->insecure_host_keys)
        tlog(&c->l, "WARNING: --insecure-accept-any-host-key: the nodes' host "
             "keys are not checked; anyone on the path can pose as a node "
             "and the run proves nothing about the real ones");
    else
        tlog(&c->l, "checking host keys against %s", c->env.known_hosts);
    if (c->db.mode == TARGET_DB_EXISTING)
        tlog(&c->l, "--db existing: keys are sent offset by %lld (test.json "
             "db.key_base): nothing is wiped, so each run has keys of its own",
             (long long)c->db.key_base);
    if (c->env.auth.bind_address)
        tlog(&c->l, "connections to the nodes are bound to %s (bridge %s)",
             c->env.auth.bind_address, CLUSTER_BRIDGE);
    json_t *tj = test_json(a, target_options_json(c->target_opts), &c->db,
                           &c->env.nodes);
    rc = tj ? run_store_write_json(c->dir, "test.json", tj, err)
            : fl_error_set(err, FL_ENOMEM, "out of memory");
    json_decref(tj);
    if (rc == FL_OK)
        record_fault_options(c->dir, a, c->fault_opts);
    if (rc == FL_OK)
        rc = run_store_lock_recording(c->dir, &c->rec_fd, err);
    if (rc == FL_OK && (rc = fl_ssh_init(err)) == FL_OK)
        c->ssh = true;
    target_config tc = {.options = target_options_values(c->target_opts),
                        .db = &c->db,
                        .db_env = fault_db_env(fault_builtin(), a->faults)};
    if (rc == FL_OK)
        rc = remote_open(&c->env.nodes, &c->env.auth, &c->r, err);
    if (rc == FL_OK)
        rc = remote_open(&c->env.nodes, &c->env.auth, &c->dr, err);
    if (rc == FL_OK && c->db.mode == TARGET_DB_MANAGED)
        rc = remote_open(&c->env.nodes, &c->env.auth, &c->wr, err);
    if (rc == FL_OK) {
        tc.remote = c->r;
        rc = target_new(a->target, &tc, &c->t, err);
    }
    if (rc == FL_OK)
        c->fenv = (fault_env){.t = c->t, .r = c->r, .n = remote_count(c->r),
                              .names = remote_names(c->r),
                              .node_dir = TARGET_DEFAULT_NODE_DIR,
                              .options = c->fault_opts};
    return rc;
}

/* Nodes at rest, what was found recorded, the switch armed, the enabled
 * fault kinds prepared, the target installed and serving. */
static int prepare_steps(run_ctx *c, phase *ph, fl_error *err)
{
    json_t *found = NULL;
    for (size_t i = 0; i < remote_count(c->r); i++)
        phase_wait(ph, i, "the node to come to rest");
    int rc = rest_all(c->t, c->r, &c->fenv, &c->l, &found, err);
    for (size_t i = 0; i < remote_count(c->r); i++)
        phase_wait(ph, i, NULL);
    if (found) {
        run_store_set_test_field(c->dir, "found_at_start", found, NULL);
        json_decref(found);
    }
    if (rc == FL_OK) {
        tlog(&c->l, "arming the dead man's switch on every node (heals "
             "within %d s if this controller stops)", DEADMAN_EXPIRE_S + 2);
        phase_wait(ph, PHASE_ALL, "the dead man's switch to be armed");
        rc = arm_deadman(c->t, c->dr, &c->fenv, &c->dm, err);
        phase_wait(ph, PHASE_ALL, NULL);
    }
    if (rc == FL_OK) {
        phase_wait(ph, PHASE_ALL, "the fault kinds to be prepared");
        rc = fault_prepare_all(fault_builtin(), c->a->faults, &c->fenv, err);
        phase_wait(ph, PHASE_ALL, NULL);
    }
    if (rc == FL_OK)
        rc = setup_target(c->t, c->r, &c->l, c->a->stop, ph, err);
    if (rc == FL_OK && atomic_load(c->a->stop))
        rc = fl_error_set(err, FL_EIO, "interrupted during set-up");
    return rc;
}

/* Its steps' own bounds — rest 20 s, arming 10 s, install 30 s, start 10
 * s, ready (the target's), a leader 15 s — and room for a loaded
 * machine. */
static double setup_bound_s(target *t)
{
    return 90.0 + target_ready_timeout_ms(t, 15000) / 1000.0;
}

/* prepare_steps under a phase: every 5 s the log says what set-up waits
 * for on which node; past its bound it fails naming what was awaited. */
static int prepare_nodes(run_ctx *c, fl_error *err)
{
    phase *ph = NULL;
    double bound = setup_bound_s(c->t);
    int rc = phase_begin("set-up", bound, remote_count(c->r),
                         remote_names(c->r), phase_line, &c->l, &ph, err);
    if (rc != FL_OK)
        return rc;
    rc = prepare_steps(c, ph, err);
    if (phase_overdue(ph)) {
        char what[1024];
        phase_awaited(ph, what, sizeof what);
        fl_error e = *err;
        rc = fl_error_set(err, FL_EIO, "set-up did not finish within its "
                          "bound of %.0f s (its last wait: %s)%s%.400s", bound,
                          what[0] ? what : "see faultline.log",
                          rc != FL_OK ? ": " : "", rc != FL_OK ? e.msg : "");
    }
    phase_end(ph);
    return rc;
}

/* After the database is stopped: undo what the fault kinds prepared. A
 * failure is the next run's rest's to undo. */
static void teardown_nodes(run_ctx *c)
{
    teardown_target(c->t, c->r, c->dir, &c->l);
    fl_error e = {0};
    if (fault_teardown_all(fault_builtin(), c->a->faults, &c->fenv, &e) != FL_OK)
        tlog(&c->l, "warning: %s (the next run's rest undoes it)", e.msg);
}

static void release(run_ctx *c)
{
    deadman_disarm(c->dm);
    target_free(c->t);
    remote_close(c->r);
    remote_close(c->dr);
    remote_close(c->wr);
    if (c->ssh)
        fl_ssh_exit();
    run_store_unlock(c->rec_fd);
}

/* Judge the stored run: the verdict, or NOT_JUDGED (the reason in err). */
/* "; database crashed: ..." (the crash checker's first words, as stored
 * in results.json) for the verdict line, or "" when nothing crashed. */
static void crash_words(const char *dir, char *out, size_t size)
{
    char path[PATH_MAX], *buf = NULL;
    size_t len = 0;
    out[0] = '\0';
    snprintf(path, sizeof path, "%s/results.json", dir);
    json_t *r = json_load_file(path, 0, NULL);
    const json_t *res = json_object_get(json_object_get(r, "checkers"),
                                        CRASH_CHECKER_NAME);
    size_t n = json_array_size(json_object_get(res, "crashes")) +
               json_array_size(json_object_get(res, "log_lines"));
    FILE *f = n ? open_memstream(&buf, &len) : NULL;
    if (f) {
        crash_explain_json(res, f);
        fclose(f);
    }
    if (buf)
        snprintf(out, size, "; %s%.*s%s",
                 json_is_true(json_object_get(res, "valid")) ? "warning: " : "",
                 (int)strcspn(buf, "\n"), buf,
                 n > 1 ? " (and more: see results.json)" : "");
    free(buf);
    json_decref(r);
}

static int judge(run_ctx *c, const char *ended, fl_error *err)
{
    checker_verdict v;
    char crashed[600];
    tlog(&c->l, "checking the history");
    if (run_store_analyze_judged(c->dir, CHECK_TIME_LIMIT_S, true,
                                 c->a->judge, c->a->report, &v,
                                 err) != FL_OK)
        return NOT_JUDGED;
    crash_words(c->dir, crashed, sizeof crashed);
    tlog(&c->l, "verdict: %s (exit %d)%s; run ended: %s; stored in %s",
         v == CHECKER_VALID ? "valid" : v == CHECKER_INVALID ? "INVALID"
                                                             : "unknown",
         (int)v, crashed, ended, c->dir);
    return (int)v;
}

/* The timeline of a run whose nodes are ready, then teardown and the
 * verdict (NOT_JUDGED: the reason is logged, in *err). */
static int record_and_judge(run_ctx *c, char *ended, size_t size,
                            fl_error *err)
{
    const run_config *a = c->a;
    trust tr = {.dm = c->dm,
                .local_nodes = a->nodes_file ? 0 : (int)c->env.nodes.count};
    runner_stats st = {0};
    run_store_point_latest(a->results, c->dir, NULL);
    int rc = run_timeline(a, c->t, c->r, c->wr, c->fault_opts, c->dir, &c->l,
                          &tr, &st, err);
    ended_text(a, rc, err, &st, ended, size);
    if (rc != FL_OK)
        tlog(&c->l, "warning: %s", ended);
    if (rc != RUNNER_EBROKEN)
        teardown_nodes(c);
    tlog(&c->l, "disarming the dead man's switch (the longest gap between "
         "two renewals of a node's lease: %.1f s; it fires at %d s)",
         deadman_max_lag_s(c->dm), DEADMAN_EXPIRE_S);
    deadman_disarm(c->dm);
    c->dm = NULL;
    run_store_set_ended(c->dir, ended, NULL);
    run_store_unlock(c->rec_fd);
    c->rec_fd = -1;
    fl_error_clear(err);
    if (rc == RUNNER_EBROKEN) {
        fl_error_set(err, FL_EIO, "%s", ended);
        tlog(&c->l, "not judged: %s (history kept in %s)", ended, c->dir);
        return NOT_JUDGED;
    }
    int v = judge(c, ended, err);
    if (v == NOT_JUDGED)
        cannot_run(&c->l, err);
    return v;
}

/* What can be refused before anything starts: the target's options, the
 * workload's operations, root for a local cluster. */
static int preflight(const run_config *a, run_ctx *c, json_t **fault_opts,
                     fl_error *err)
{
    const char *missing;
    *fault_opts = NULL;
    if (!a->target)
        return fl_error_set(err, FL_EUSAGE, "no target given");
    if (!target_supports_workload(a->target, a->workload, &missing))
        return fl_error_set(err, FL_EUSAGE, "target %s cannot run the %s "
                            "workload: its client has no \"%s\" operation",
                            a->target->name, a->workload,
                            missing ? missing : "?");
    int rc = fault_check_db(fault_builtin(), a->faults, a->db, err);
    if (rc == FL_OK && fault_db_env(fault_builtin(), a->faults) &&
        !a->target->takes_db_env)
        rc = fl_error_set(err, FL_EUSAGE, "target %s cannot start its "
                          "database under libfaketime, which the clock "
                          "faults need (raftkv can)", a->target->name);
    if (rc == FL_OK)
        rc = fault_options_resolve(fault_builtin(), a->fault_options,
                                   fault_opts, err);
    c->target_opts = a->target_options;
    if (rc == FL_OK && !a->target_options &&
        (rc = target_options_parse(a->target, NULL, &c->own_target_opts,
                                   err)) == FL_OK)
        c->target_opts = c->own_target_opts;
    if (rc == FL_OK && !a->nodes_file && geteuid() != 0)
        rc = fl_error_set(err, FL_EIO, "the local cluster needs root (or give "
                          "--nodes-file with real nodes)");
    return rc;
}

int run_test(const run_config *a, run_outcome *out)
{
    memset(out, 0, sizeof *out);
    run_ctx c = {.a = a, .rec_fd = -1, .env = {.lock_fd = -1},
                 .l = {.fn = a->log, .ctx = a->log_ctx}};
    if (preflight(a, &c, &c.fault_opts, &out->err) != FL_OK) {
        json_decref(c.fault_opts);
        target_options_free(c.own_target_opts);
        out->status = RUN_REFUSED;
        return out->err.code;
    }
    clock_gettime(CLOCK_MONOTONIC, &c.l.start);
    fl_error err = {0};
    char ended[sizeof out->ended];
    int v = NOT_JUDGED;
    int rc = open_run(&c, &err);
    if (rc == FL_OK && (rc = prepare_nodes(&c, &err)) != FL_OK && c.t)
        teardown_nodes(&c);
    if (rc != FL_OK) {
        snprintf(ended, sizeof ended, "could not start: %s", err.msg);
        cannot_run(&c.l, &err);
        if (c.dir[0])
            run_store_set_ended(c.dir, ended, NULL);
    } else {
        v = record_and_judge(&c, ended, sizeof ended, &err);
    }
    release(&c);
    out->err = err;
    if (c.env.cluster_made && !a->keep_cluster) {
        tlog(&c.l, "tearing down the local cluster this run brought up "
             "(--keep-cluster keeps it)");
        if (cluster_down(cluster_state_dir(), &err) != FL_OK)
            tlog(&c.l, "cluster down: %s", err.msg);
    }
    if (c.env.lock_fd >= 0)
        close(c.env.lock_fd);
    if (c.l.file)
        fclose(c.l.file);
    fl_nodes_free(&c.env.nodes);
    target_options_free(c.own_target_opts);
    json_decref(c.fault_opts);
    snprintf(out->dir, sizeof out->dir, "%s", c.dir);
    snprintf(out->ended, sizeof out->ended, "%s", ended);
    out->status = v == NOT_JUDGED ? RUN_NOT_JUDGED : RUN_JUDGED;
    out->verdict = v == NOT_JUDGED ? CHECKER_UNKNOWN : (checker_verdict)v;
    return v == NOT_JUDGED ? (out->err.code ? out->err.code : FL_EIO) : FL_OK;
}
