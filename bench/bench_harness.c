/*
 * bench_harness: how many operations per second the controller itself can
 * issue and record, so that it is never the bottleneck of a test. The
 * target is trivial and in-process (a map of registers behind one mutex,
 * linearizable by construction); everything else is the real path: the
 * register workload, client threads as Jepsen processes, the streaming
 * recorder, the final heal over SSH to a 1-node local cluster, the final
 * reads, and then the checker on the recorded history.
 *
 * Needs root and network namespaces (the local cluster); skips otherwise,
 * or when a faultline cluster is already up.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkers/linearizable.h"
#include "harness/cluster.h"
#include "harness/remote.h"
#include "harness/runner.h"
#include "harness/target.h"

/* ---- the trivial target ---------------------------------------------------- */

#define NULL_KEYS 4096

typedef struct null_db {
    pthread_mutex_t lock;
    json_t *regs[NULL_KEYS];
} null_db;

static int null_create(const target_config *cfg, void **state, fl_error *err)
{
    (void)cfg;
    null_db *db = calloc(1, sizeof *db);
    if (db == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    pthread_mutex_init(&db->lock, NULL);
    *state = db;
    return FL_OK;
}

static void null_destroy(void *state)
{
    null_db *db = state;
    for (size_t i = 0; i < NULL_KEYS; i++)
        json_decref(db->regs[i]);
    pthread_mutex_destroy(&db->lock);
    free(db);
}

static int null_node(void *state, size_t node, fl_error *err)
{
    (void)state, (void)node, (void)err;
    return FL_OK;
}

static int null_ready(void *state, size_t node, int timeout_ms, fl_error *err)
{
    (void)timeout_ms;
    return null_node(state, node, err);
}

static int null_open(void *state, size_t node, void **client, fl_error *err)
{
    (void)node, (void)err;
    *client = state;
    return FL_OK;
}

static void null_invoke(void *client, const target_op *op, target_result *out)
{
    null_db *db = client;
    size_t k = (size_t)json_integer_value(op->key) % NULL_KEYS;
    pthread_mutex_lock(&db->lock);
    json_t *cur = db->regs[k] ? db->regs[k] : json_null();
    out->type = HISTORY_OK;
    if (strcmp(op->f, "read") == 0) {
        out->value = json_incref(cur);
    } else if (strcmp(op->f, "write") == 0) {
        json_decref(db->regs[k]);
        db->regs[k] = json_incref((json_t *)op->value);
        out->value = json_incref((json_t *)op->value);
    } else if (json_equal(cur, json_array_get(op->value, 0))) {
        json_decref(db->regs[k]);
        db->regs[k] = json_incref(json_array_get(op->value, 1));
        out->value = json_incref((json_t *)op->value);
    } else {
        out->type = HISTORY_FAIL;
        out->refused = true;
        out->value = json_incref((json_t *)op->value);
    }
    pthread_mutex_unlock(&db->lock);
}

static void null_close(void *client)
{
    (void)client;
}

static const target_vtable null_target = {
    .name = "null",
    .create = null_create,
    .destroy = null_destroy,
    .install = null_node,
    .start = null_node,
    .kill = null_node,
    .pause = null_node,
    .resume = null_node,
    .wipe = null_node,
    .await_ready = null_ready,
    .client_open = null_open,
    .client_invoke = null_invoke,
    .client_close = null_close,
};

/* ---- the run ------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_once(remote *r, int concurrency, double seconds, const char *dir)
{
    fl_error err = {0};
    target_config tc = {.remote = r};
    target *t = NULL;
    workload *gen = NULL;
    history_writer *w = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/history-%d.jsonl", dir, concurrency);
    workload_options wo = {.concurrency = concurrency};
    if (target_new(&null_target, &tc, &t, &err) != FL_OK ||
        workload_new("register", &wo, &gen, &err) != FL_OK ||
        history_writer_open(path, &w, &err) != FL_OK) {
        fprintf(stderr, "bench_harness: %s\n", err.msg);
        return 1;
    }
    runner_options ro = {.concurrency = concurrency, .time_limit_s = seconds,
                         .recover_s = 0};
    runner_stats st = {0};
    atomic_int stop = 0;
    double t0 = now_s();
    int rc = runner_run(t, r, gen, w, &ro, &stop, &st, &err);
    double elapsed = now_s() - t0;
    history_writer_close(w, &err);
    workload_free(gen);
    target_free(t);
    if (rc != FL_OK) {
        fprintf(stderr, "bench_harness: %s\n", err.msg);
        return 1;
    }
    history *h = NULL;
    lin_result *res = NULL;
    lin_options lo;
    lin_options_init(&lo);
    const char *verdict = "unchecked";
    if (history_read_file(path, HISTORY_FORMAT_JSONL, &h, &err) == FL_OK &&
        lin_check(h, &lo, &res, &err) == FL_OK)
        verdict = lin_result_verdict(res) == CHECKER_VALID ? "valid" : "NOT VALID";
    long ops = st.ok + st.fail + st.info;
    printf("  %3d clients: %7ld ops, %6.0f ops/s over the %.0f s client phase "
           "(whole run %.1f s with heal and final reads; %zu events), "
           "checker: %s\n",
           concurrency, ops, ops / seconds, seconds, elapsed,
           h ? history_len(h) : 0, verdict);
    lin_result_free(res);
    history_free(h);
    unlink(path);
    return 0;
}

int main(void)
{
    if (geteuid() != 0 || access("/sys/class/net/flbr0", F_OK) == 0 ||
        system("ip netns list >/dev/null 2>&1") != 0) {
        printf("bench_harness: skipped (needs root and network namespaces, "
               "and no faultline cluster already up)\n");
        return 0;
    }
    char state[] = "/tmp/fl-bench-harness-XXXXXX";
    fl_error err = {0};
    if (mkdtemp(state) == NULL || cluster_up(state, 1, &err) != FL_OK) {
        fprintf(stderr, "bench_harness: %s\n", err.msg);
        cluster_down(state, &err);
        return 1;
    }
    char nodes_path[512], key[512], kh[512];
    snprintf(nodes_path, sizeof nodes_path, "%s/%s", state, CLUSTER_NODES_FILE);
    snprintf(key, sizeof key, "%s/%s", state, CLUSTER_KEY_FILE);
    snprintf(kh, sizeof kh, "%s/%s", state, CLUSTER_KNOWN_HOSTS_FILE);
    remote_auth auth = {.user = CLUSTER_USER, .private_key = key,
                        .known_hosts = kh,
                        .bind_address = CLUSTER_BRIDGE_ADDRESS};
    fl_nodes nodes = {0};
    remote *r = NULL;
    int rc = 1;
    if (fl_ssh_init(&err) == FL_OK &&
        fl_nodes_load(nodes_path, &nodes, &err) == FL_OK &&
        remote_open(&nodes, &auth, &r, &err) == FL_OK) {
        printf("controller overhead against an in-process target "
               "(no rate limit, 3 s each):\n");
        rc = 0;
        int levels[] = {1, 10, 50};
        for (size_t i = 0; i < 3; i++)
            rc |= run_once(r, levels[i], 3, state);
        printf("  raftkv itself serves about 1-5k ops/s on this machine "
               "(bench_raftkv)\n");
    } else {
        fprintf(stderr, "bench_harness: %s\n", err.msg);
    }
    if (r != NULL)
        remote_close(r);
    fl_nodes_free(&nodes);
    fl_ssh_exit();
    if (cluster_down(state, &err) != FL_OK)
        fprintf(stderr, "bench_harness: %s\n", err.msg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", state);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
