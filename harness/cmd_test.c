/*
 * faultline test — run a test against a cluster and judge it;
 * faultline analyze — judge a stored run again.
 *
 * test: nodes (a nodes file, or the local netns cluster, brought up if
 * needed) -> results dir -> SSH to every node -> install, wipe and start
 * the target -> the runner's timeline, recorded live -> logs -> the
 * target stopped -> analysis. Exit 0 valid, 1 invalid, 2 unknown, 3 could
 * not run (with the reason), 64 usage.
 */
#include "harness/cli.h"
#include "harness/cluster.h"
#include "harness/nemesis.h"
#include "harness/remote.h"
#include "harness/run_store.h"
#include "harness/runner.h"
#include "harness/target.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK_TIME_LIMIT_S 300.0

typedef struct test_args {
    const char *nodes_file, *ssh_user, *ssh_key, *known_hosts;
    int ssh_port;
    int nodes;
    const char *workload, *nemesis, *test_name, *bug, *raftkv, *results;
    double nemesis_interval, time_limit, rate;
    int concurrency;
    int keys;               /* active keys; 0: the workload's default */
    uint64_t seed;
    bool seed_given;
    bool keep_cluster;
    bool insecure_host_keys;   /* --insecure-accept-any-host-key */
    unsigned faults;
    char default_name[64];
} test_args;

static int usage(FILE *out, int code)
{
    fprintf(out,
        "usage: faultline test [options]\n"
        "\n"
        "Runs a workload against raftkv while the nemesis\n"
        "injects faults, stores the run under results/ and checks it.\n"
        "Exit: 0 valid, 1 invalid, 2 unknown, 3 could not run, 64 usage.\n"
        "\n"
        "Nodes (default: the local netns cluster, brought up if needed):\n"
        "  --nodes N             local cluster size (default 5)\n"
        "  --keep-cluster        leave a local cluster this run brought up\n"
        "                        running afterwards (default: tear it down)\n"
        "  --nodes-file F        remote nodes, \"NAME ADDRESS\" per line\n"
        "  --ssh-user U          (default root)\n"
        "  --ssh-key K           private key (required with --nodes-file)\n"
        "  --ssh-port P          (default 22)\n"
        "  --known-hosts F       host keys to check against (default\n"
        "                        ~/.ssh/known_hosts); an unknown or changed\n"
        "                        key stops the run (exit 3)\n"
        "  --insecure-accept-any-host-key\n"
        "                        skip the host key check (anyone on the path\n"
        "                        can pose as a node); recorded in test.json\n"
        "Test:\n"
        "  --workload W          register (default: read/write/cas, checked\n"
        "                        linearizable) or set (unique adds, final\n"
        "                        reads, checked for lost elements)\n"
        "  --nemesis LIST        partition,kill,pause or none (default\n"
        "                        partition,kill)\n"
        "  --nemesis-interval S  seconds between fault changes (default 5)\n"
        "  --time-limit S        seconds of client operations (default 60)\n"
        "  --concurrency N       client threads (default 10)\n"
        "  --keys N              keys in use at a time (default: one per\n"
        "                        three client threads)\n"
        "  --rate R              operations per second, all clients (default\n"
        "                        100; 0 = as fast as possible)\n"
        "  --seed S              replay a run's choices (default: from time)\n"
        "  --test-name NAME      results/NAME/... (default raftkv-WORKLOAD)\n"
        "  --results DIR         where runs are stored (default results)\n"
        "  --bug X               passed to raftkv: stale-read, early-ack,\n"
        "                        volatile-vote\n"
        "  --raftkv PATH         the raftkv build (default: raftkv next to\n"
        "                        this faultline binary, or one level up)\n"
        "\n"
        "faultline analyze RUN_DIR  re-checks a stored run.\n");
    return code;
}

static int parse_num(const char *flag, const char *s, double min, double max,
                     double *out)
{
    char *end;
    *out = strtod(s, &end);
    if (!*s || *end || *out < min || *out > max) {
        fprintf(stderr, "faultline test: %s: expected a number in %g..%g, got "
                        "\"%s\"\n", flag, min, max, s);
        return FL_EUSAGE;
    }
    return FL_OK;
}

static int parse_args(int argc, char **argv, test_args *a)
{
    static const struct option opts[] = {
        {"nodes-file", 1, 0, 'F'}, {"ssh-user", 1, 0, 'u'},
        {"ssh-key", 1, 0, 'k'}, {"ssh-port", 1, 0, 'P'},
        {"known-hosts", 1, 0, 'K'}, {"nodes", 1, 0, 'n'},
        {"workload", 1, 0, 'w'}, {"nemesis", 1, 0, 'm'},
        {"nemesis-interval", 1, 0, 'i'}, {"time-limit", 1, 0, 't'},
        {"concurrency", 1, 0, 'c'}, {"rate", 1, 0, 'r'}, {"seed", 1, 0, 's'},
        {"test-name", 1, 0, 'N'}, {"bug", 1, 0, 'b'}, {"raftkv", 1, 0, 'R'},
        {"results", 1, 0, 'o'}, {"keep-cluster", 0, 0, 'C'},
        {"keys", 1, 0, 'y'},
        {"insecure-accept-any-host-key", 0, 0, 'I'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0},
    };
    double x;
    int c, rc = FL_OK;
    optind = 1;
    while (rc == FL_OK && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'F': a->nodes_file = optarg; break;
        case 'u': a->ssh_user = optarg; break;
        case 'k': a->ssh_key = optarg; break;
        case 'K': a->known_hosts = optarg; break;
        case 'P': rc = parse_num("--ssh-port", optarg, 1, 65535, &x); a->ssh_port = (int)x; break;
        case 'n': rc = parse_num("--nodes", optarg, 1, CLUSTER_MAX_NODES, &x); a->nodes = (int)x; break;
        case 'w': a->workload = optarg; break;
        case 'm': a->nemesis = optarg; break;
        case 'i': rc = parse_num("--nemesis-interval", optarg, 0.1, 3600, &a->nemesis_interval); break;
        case 't': rc = parse_num("--time-limit", optarg, 1, 86400, &a->time_limit); break;
        case 'c': rc = parse_num("--concurrency", optarg, 1, 1000, &x); a->concurrency = (int)x; break;
        case 'r': rc = parse_num("--rate", optarg, 0, 1e6, &a->rate); break;
        case 's': rc = parse_num("--seed", optarg, 0, 1.8e19, &x);
                  a->seed = strtoull(optarg, NULL, 10); a->seed_given = true; break;
        case 'N': a->test_name = optarg; break;
        case 'b': a->bug = optarg; break;
        case 'R': a->raftkv = optarg; break;
        case 'o': a->results = optarg; break;
        case 'C': a->keep_cluster = true; break;
        case 'I': a->insecure_host_keys = true; break;
        case 'y': rc = parse_num("--keys", optarg, 1, 10000, &x); a->keys = (int)x; break;
        case 'h': return -1;
        default: return FL_EUSAGE;
        }
    }
    if (rc != FL_OK)
        return rc;
    if (optind < argc) {
        fprintf(stderr, "faultline test: unexpected argument \"%s\"\n", argv[optind]);
        return FL_EUSAGE;
    }
    if (!workload_known(a->workload)) {
        fprintf(stderr, "faultline test: --workload %s: known workloads are "
                        "register and set\n", a->workload);
        return FL_EUSAGE;
    }
    if (!a->test_name) {
        snprintf(a->default_name, sizeof a->default_name, "raftkv-%s",
                 a->workload);
        a->test_name = a->default_name;
    }
    if (a->nodes_file && !a->ssh_key) {
        fprintf(stderr, "faultline test: --nodes-file needs --ssh-key\n");
        return FL_EUSAGE;
    }
    if (!a->nodes_file && (a->insecure_host_keys || a->known_hosts)) {
        fprintf(stderr, "faultline test: --known-hosts and "
                        "--insecure-accept-any-host-key are for --nodes-file "
                        "(the local cluster checks its own known_hosts)\n");
        return FL_EUSAGE;
    }
    if (a->insecure_host_keys && a->known_hosts) {
        fprintf(stderr, "faultline test: --known-hosts and "
                        "--insecure-accept-any-host-key contradict each "
                        "other\n");
        return FL_EUSAGE;
    }
    if (strspn(a->test_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789._-") != strlen(a->test_name) || !*a->test_name ||
        a->test_name[0] == '.') {
        fprintf(stderr, "faultline test: --test-name: use letters, digits, "
                        ". _ -\n");
        return FL_EUSAGE;
    }
    fl_error err = {0};
    if (nem_faults_parse(a->nemesis, &a->faults, &err) != FL_OK) {
        fprintf(stderr, "faultline test: %s\n", err.msg);
        return FL_EUSAGE;
    }
    return FL_OK;
}

/* ---- the log: faultline.log and stderr --------------------------------------------------- */

typedef struct test_log {
    FILE *file;
    struct timespec start;
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
    fprintf(stderr, "[%7.2f] %s\n", t, line);
    if (l->file) {
        fprintf(l->file, "[%7.2f] %s\n", t, line);
        fflush(l->file);
    }
}

/* ---- SIGINT --------------------------------------------------------------------------------------- */

static atomic_int stop_flag;

static void on_sigint(int sig)
{
    (void)sig;
    atomic_store(&stop_flag, 1);
}

/* ---- set-up ---------------------------------------------------------------------------------------- */

/* Default raftkv: next to this binary (build/), or one level up (a
 * sanitizer build in build/asan/ uses build/raftkv). */
static int find_raftkv(const test_args *a, char *out, size_t size)
{
    if (a->raftkv) {
        snprintf(out, size, "%s", a->raftkv);
        return access(out, X_OK) == 0 ? 0 : -1;
    }
    char self[PATH_MAX / 2];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    snprintf(out, size, "%s/raftkv", self);
    if (access(out, X_OK) == 0)
        return 0;
    snprintf(out, size, "%s/../raftkv", self);
    return access(out, X_OK) == 0 ? 0 : -1;
}

typedef struct test_env {
    fl_nodes nodes;
    bool cluster_made;      /* this run brought the local cluster up */
    char key[PATH_MAX], known_hosts[PATH_MAX];
    remote_auth auth;
} test_env;

/* Two tests on one local cluster would kill and wipe each other's nodes,
 * and `cluster up`/`down` would pull it away: hold the cluster's lock for
 * the whole run (the descriptor is left open on purpose; the kernel drops
 * it at exit). */
static int lock_cluster(const char *state, fl_error *err)
{
    int fd;
    return cluster_lock(state, true, &fd, err);
}

static int get_nodes(const test_args *a, test_env *env, test_log *l,
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
    int rc = lock_cluster(state, err);
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

static json_t *test_json(const test_args *a, const char *raftkv,
                         const fl_nodes *nodes)
{
    json_t *ns = json_array();
    for (size_t i = 0; ns && i < nodes->count; i++)
        json_array_append_new(ns, json_pack("{s:s,s:s}", "name",
                              nodes->nodes[i].name, "address",
                              nodes->nodes[i].address));
    return json_pack("{s:s,s:s,s:s,s:s*,s:f,s:f,s:i,s:f,s:i,s:I,s:s,s:s*,s:s*,"
                     "s:s*,s:i,s:b,s:o}",
                     "name", a->test_name, "target", "raftkv",
                     "workload", a->workload, "nemesis", a->nemesis,
                     "nemesis_interval", a->nemesis_interval,
                     "time_limit", a->time_limit,
                     "concurrency", a->concurrency, "rate", a->rate,
                     "keys", a->keys,
                     "seed", (json_int_t)a->seed, "raftkv", raftkv,
                     "bug", a->bug, "nodes_file", a->nodes_file,
                     "ssh_user", a->ssh_user, "ssh_port", a->ssh_port,
                     "insecure_accept_any_host_key", a->insecure_host_keys,
                     "nodes", ns);
}

/* Stop (kill -9), wipe, install and start every node; wait for a leader. */
static int setup_target(target *t, remote *r, test_log *l, fl_error *err)
{
    size_t n = remote_count(r);
    int rc = FL_OK;
    for (size_t i = 0; i < n && rc == FL_OK; i++) {
        tlog(l, "node %s: install and start", remote_name(r, i));
        if ((rc = target_kill(t, i, err)) == FL_OK &&
            (rc = target_wipe(t, i, err)) == FL_OK &&
            (rc = target_install(t, i, err)) == FL_OK)
            rc = target_start(t, i, err);
    }
    for (size_t i = 0; i < n && rc == FL_OK; i++)
        rc = target_await_ready(t, i, 15000, err);
    if (rc != FL_OK)
        return rc;
    for (int waited = 0; waited < 150 && !atomic_load(&stop_flag); waited++) {
        long leader = target_leader(t);
        if (leader >= 0) {
            tlog(l, "leader: %s", remote_name(r, (size_t)leader));
            return FL_OK;
        }
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    return fl_error_set(err, FL_EIO, "no leader was elected within 15 s "
                        "(see nodes/*/raftkv.log)");
}

static void teardown_target(target *t, remote *r, const char *dir, test_log *l)
{
    size_t n = remote_count(r);
    for (size_t i = 0; i < n; i++) {
        char ndir[PATH_MAX];
        fl_error e = {0};
        if (target_kill(t, i, &e) != FL_OK)
            tlog(l, "stopping %s: %s", remote_name(r, i), e.msg);
        if (run_store_node_dir(dir, remote_name(r, i), ndir, sizeof ndir,
                               &e) != FL_OK ||
            target_collect_logs(t, i, ndir, &e) != FL_OK)
            tlog(l, "logs of %s: %s", remote_name(r, i), e.msg);
    }
}

/* ---- the run --------------------------------------------------------------------------------------- */

static int run_timeline(const test_args *a, target *t, remote *r,
                        const char *dir, test_log *l, fl_error *err)
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
        .nemesis_interval_s = a->nemesis_interval, .seed = a->seed,
        .recover_s = 1.0, .log = tlog, .log_ctx = l,
    };
    runner_stats st = {0};
    rc = runner_run(t, r, gen, w, &ro, &stop_flag, &st, err);
    tlog(l, "clients: %ld ok, %ld fail, %ld info; %ld nemesis actions; "
         "%lld keys, %ld without a final read", st.ok, st.fail, st.info,
         st.nemesis_actions, (long long)st.keys, st.final_reads_missing);
    fl_error e2 = {0};
    if (history_writer_close(w, &e2) != FL_OK && rc == FL_OK) {
        rc = e2.code;
        *err = e2;
    }
    workload_free(gen);
    return rc;
}

static int cannot_run(test_log *l, const fl_error *err)
{
    tlog(l, "cannot run the test: %s", err->msg);
    return CLI_EXIT_CANNOT_RUN;
}

static int run_test(const test_args *a, const char *raftkv)
{
    test_log l = {0};
    clock_gettime(CLOCK_MONOTONIC, &l.start);
    fl_error err = {0};
    test_env env = {0};
    char dir[PATH_MAX / 2], path[PATH_MAX];
    remote *r = NULL;
    target *t = NULL;
    int code = CLI_EXIT_CANNOT_RUN;

    if (get_nodes(a, &env, &l, &err) != FL_OK)
        return cannot_run(&l, &err);
    if (env.nodes.count > NEM_MAX_NODES) {
        fl_error_set(&err, FL_EUSAGE, "at most %d nodes", NEM_MAX_NODES);
        fl_nodes_free(&env.nodes);
        return cannot_run(&l, &err);
    }
    if (run_store_create(a->results, a->test_name, dir, sizeof dir, &err) != FL_OK) {
        fl_nodes_free(&env.nodes);
        return cannot_run(&l, &err);
    }
    snprintf(path, sizeof path, "%s/faultline.log", dir);
    l.file = fopen(path, "w");
    tlog(&l, "run %s, seed %llu", dir, (unsigned long long)a->seed);
    if (a->insecure_host_keys)
        tlog(&l, "WARNING: --insecure-accept-any-host-key: the nodes' host "
             "keys are not checked; anyone on the path can pose as a node "
             "and the run proves nothing about the real ones");
    else
        tlog(&l, "checking host keys against %s", env.known_hosts);
    if (env.auth.bind_address)
        tlog(&l, "connections to the nodes are bound to %s (bridge %s)",
             env.auth.bind_address, CLUSTER_BRIDGE);
    json_t *tj = test_json(a, raftkv, &env.nodes);
    if (!tj || run_store_write_json(dir, "test.json", tj, &err) != FL_OK) {
        json_decref(tj);
        goto out;
    }
    json_decref(tj);
    if (fl_ssh_init(&err) != FL_OK)
        goto out;
    target_config tc = {.binary = raftkv, .bug = a->bug};
    if (remote_open(&env.nodes, &env.auth, &r, &err) != FL_OK ||
        (tc.remote = r, target_new(target_find("raftkv"), &tc, &t, &err)) != FL_OK)
        goto out_ssh;
    if (setup_target(t, r, &l, &err) != FL_OK || atomic_load(&stop_flag)) {
        if (err.code == FL_OK)
            fl_error_set(&err, FL_EIO, "interrupted during set-up");
        teardown_target(t, r, dir, &l);
        goto out_ssh;
    }
    int rc = run_timeline(a, t, r, dir, &l, &err);
    if (rc != FL_OK)
        tlog(&l, "warning: %s (checking the history recorded so far)", err.msg);
    teardown_target(t, r, dir, &l);
    checker_verdict v;
    fl_error_clear(&err);
    if (run_store_analyze(dir, CHECK_TIME_LIMIT_S, stderr, &v, &err) == FL_OK)
        code = (int)v;   /* verdicts are the exit codes */
out_ssh:
    target_free(t);
    remote_close(r);
    fl_ssh_exit();
out:
    if (code == CLI_EXIT_CANNOT_RUN)
        cannot_run(&l, &err);
    else
        tlog(&l, "verdict: %s (exit %d); run stored in %s",
             code == 0 ? "valid" : code == 1 ? "INVALID" : "unknown", code, dir);
    if (env.cluster_made && !a->keep_cluster) {
        tlog(&l, "tearing down the local cluster this run brought up "
             "(--keep-cluster keeps it)");
        if (cluster_down(cluster_state_dir(), &err) != FL_OK)
            tlog(&l, "cluster down: %s", err.msg);
    }
    if (l.file)
        fclose(l.file);
    fl_nodes_free(&env.nodes);
    return code;
}

int cmd_test(int argc, char **argv)
{
    test_args a = {
        .nodes = CLUSTER_DEFAULT_NODES, .workload = "register",
        .nemesis = "partition,kill", .nemesis_interval = 5, .time_limit = 60,
        .concurrency = 10, .rate = 100,
        .results = "results",
    };
    int rc = parse_args(argc, argv, &a);
    if (rc == -1)
        return usage(stdout, 0);
    if (rc != FL_OK)
        return usage(stderr, FL_EUSAGE);
    if (!a.seed_given) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        a.seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
    }
    char raftkv[PATH_MAX];
    if (find_raftkv(&a, raftkv, sizeof raftkv) != 0) {
        fprintf(stderr, "faultline test: cannot run: no raftkv build at %s "
                        "(run `make`, or give --raftkv PATH)\n",
                a.raftkv ? a.raftkv : "build/raftkv");
        return CLI_EXIT_CANNOT_RUN;
    }
    if (!a.nodes_file && geteuid() != 0) {
        fprintf(stderr, "faultline test: cannot run: the local cluster needs "
                        "root (or give --nodes-file with real nodes)\n");
        return CLI_EXIT_CANNOT_RUN;
    }
    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return run_test(&a, raftkv);
}

int cmd_analyze(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
                "usage: faultline analyze RUN_DIR\n"
                "Re-checks RUN_DIR/history.jsonl and rewrites results.json and "
                "history.edn.\nExit: 0 valid, 1 invalid, 2 unknown, 65 bad "
                "history, 66 no history.\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : FL_EUSAGE;
    }
    fl_error err = {0};
    checker_verdict v;
    int rc = run_store_analyze(argv[1], CHECK_TIME_LIMIT_S, stdout, &v, &err);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline analyze: %s\n", err.msg);
        return rc;
    }
    return (int)v;
}
