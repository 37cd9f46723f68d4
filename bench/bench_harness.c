/*
 * bench_harness: how many operations per second the controller itself can
 * issue and record, so that it is never the bottleneck of a test. The
 * target is the registry's fake one (targets/clients/fake.h: in-process,
 * linearizable by construction), looked up by name as `--target fake`
 * would; everything else is the real path: the
 * register workload, client threads as Jepsen processes, the streaming
 * recorder, the final heal over SSH to a 1-node local cluster, the final
 * reads, and then the checker on the recorded history.
 *
 * Needs root and network namespaces (the local cluster); skips otherwise,
 * or when a faultline cluster is already up. Not root-free: the runner
 * needs a remote (harness/remote.h), which is SSH to real nodes only; a
 * remote that ran its commands locally would run the nemesis's iptables
 * heals on the host itself.
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
#include "run/runner.h"
#include "harness/target.h"
#include "targets/clients/file.h"
#include "targets/registry.h"

/* ---- the run ------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One run against vt (options: its options, NULL: none); check: whether
 * its history can be judged (a no-op client's cannot: its reads see
 * nothing). */
static int run_once(remote *r, const target_vtable *vt, const void *options,
                    bool check, int concurrency, double seconds,
                    const char *dir)
{
    fl_error err = {0};
    target_config tc = {.remote = r, .options = options};
    target *t = NULL;
    workload *gen = NULL;
    history_writer *w = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/history-%d.jsonl", dir, concurrency);
    workload_options wo = {.concurrency = concurrency};
    if (target_new(vt, &tc, &t, &err) != FL_OK ||
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
        check && lin_check(h, &lo, &res, &err) == FL_OK)
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

/* The same runs through a target file whose client is a process that
 * answers every operation at once (bench/noop_client.py): the JSON-lines
 * protocol's own cost (targets/clients/jsonl_client.h), side by side. */
static int noop_client_runs(remote *r, const char *dir, const int *levels,
                            size_t n)
{
    char cwd[512], path[600];
    fl_error err = {0};
    if (!getcwd(cwd, sizeof cwd))
        return 1;
    snprintf(path, sizeof path, "%s/noop.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, "{\"name\": \"noop\", \"client_port\": 1, \"operations\": "
               "[\"read\", \"write\", \"cas\"],\n \"db\": {\"start\": "
               "\"true\"},\n \"client\": {\"command\": \"python3 "
               "%s/bench/noop_client.py\"}}\n", cwd);
    fclose(f);
    target_vtable *vt = NULL;
    target_options *opts = NULL;
    if (file_target_load(path, &vt, &err) != FL_OK ||
        target_options_parse(vt, NULL, &opts, &err) != FL_OK) {
        fprintf(stderr, "bench_harness: %s\n", err.msg);
        file_target_free(vt);
        return 1;
    }
    printf("the same through the JSON-lines client protocol (a target file "
           "whose client, one\nPython process per client thread, answers "
           "every operation at once):\n");
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        rc |= run_once(r, vt, target_options_values(opts), false, levels[i], 3,
                       dir);
    target_options_free(opts);
    file_target_free(vt);
    return rc;
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
            rc |= run_once(r, targets_find("fake"), NULL, true, levels[i], 3,
                           state);
        rc |= noop_client_runs(r, state, levels, 3);
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
