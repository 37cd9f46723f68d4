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
#include "cli/cli.h"
#include "harness/cluster.h"
#include "harness/deadman.h"
#include "harness/fault.h"
#include "harness/nemesis.h"
#include "harness/remote.h"
#include "harness/run_store.h"
#include "harness/runner.h"
#include "harness/target.h"
#include "workloads/register.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <limits.h>
#include <pthread.h>
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
    if (fault_parse(fault_builtin(), a->nemesis, &a->faults, &err) != FL_OK) {
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
static volatile sig_atomic_t stop_signal;

static void on_sigint(int sig)
{
    stop_signal = sig;
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

/* Every value as used, defaults resolved. */
static json_t *test_json(const test_args *a, const char *raftkv,
                         const fl_nodes *nodes)
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
    return json_pack("{s:s,s:s,s:s,s:s*,s:f,s:f,s:i,s:f,s:i,s:I,s:s,s:s*,s:s*,"
                     "s:s*,s:i,s:b,s:o}",
                     "name", a->test_name, "target", "raftkv",
                     "workload", a->workload, "nemesis", a->nemesis,
                     "nemesis_interval", a->nemesis_interval,
                     "time_limit", a->time_limit,
                     "concurrency", a->concurrency, "rate", a->rate,
                     "keys", keys,
                     "seed", (json_int_t)a->seed, "raftkv", raftkv,
                     "bug", a->bug, "nodes_file", a->nodes_file,
                     "ssh_user", user, "ssh_port", port,
                     "insecure_accept_any_host_key", a->insecure_host_keys,
                     "nodes", ns);
}

/* ---- nodes at rest ------------------------------------------------------------------------ */

/* Per node: the target's rest command and the partition heal, whose output
 * says what an earlier run left behind. */
typedef struct rest_job {
    target *t;
    remote *r;
    json_t *found;           /* {NODE: {"target_processes", "paused",
                                "rules"}} for nodes not at rest */
    pthread_mutex_t lock;
} rest_job;

static char *rest_cmd_of(target *t, size_t node, bool count_rules)
{
    char *target_rest = target_rest_cmd(t, node), *s = NULL;
    if (!target_rest)
        return NULL;
    /* The heal's own exit status is 1 when rules remain after it. */
    if (asprintf(&s, "%s%s; %s", count_rules ?
                 "echo rules=$(iptables -w -S | grep -c -e '--comment "
                 NEM_IPTABLES_TAG "\\( \\|$\\)'); " : "",
                 target_rest, nem_iptables_heal_cmd()) < 0)
        s = NULL;
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
    char *cmd = rest_cmd_of(j->t, node, true);
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
    long rules = count_in(res.out, "rules=");
    if (res.exit_status != 0)
        rc = fl_error_set(err, FL_EIO, "node %s: could not bring it to rest "
                          "(exit %d): %.300s", remote_name(j->r, node),
                          res.exit_status, res.err ? res.err : "");
    fl_ssh_result_free(&res);
    if (procs || paused || rules) {
        pthread_mutex_lock(&j->lock);
        json_object_set_new(j->found, remote_name(j->r, node),
                            json_pack("{s:I,s:I,s:I}", "target_processes",
                                      (json_int_t)procs, "paused",
                                      (json_int_t)paused, "rules",
                                      (json_int_t)rules));
        pthread_mutex_unlock(&j->lock);
    }
    return rc;
}

/* Every run begins from nodes at rest, whatever an earlier one left: no
 * faultline rules, no paused or running target. What was found is logged
 * and returned as test.json's "found_at_start" ({} when nothing). */
static int rest_all(target *t, remote *r, test_log *l, json_t **found,
                    fl_error *err)
{
    rest_job j = {.t = t, .r = r, .found = json_object()};
    if (!j.found)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    pthread_mutex_init(&j.lock, NULL);
    tlog(l, "bringing every node to rest (no faultline rules, no %s "
         "running)", target_name(t));
    int rc = remote_each(r, rest_node, &j, err);
    pthread_mutex_destroy(&j.lock);
    const char *node;
    json_t *v;
    json_object_foreach(j.found, node, v)
        tlog(l, "node %s: an earlier run left %lld iptables rules, %lld "
             "target processes (%lld paused): removed", node,
             (long long)json_integer_value(json_object_get(v, "rules")),
             (long long)json_integer_value(json_object_get(v, "target_processes")),
             (long long)json_integer_value(json_object_get(v, "paused")));
    *found = j.found;
    return rc;
}

static int arm_deadman(target *t, remote *dr, deadman **out, fl_error *err)
{
    size_t n = remote_count(dr);
    char **cmds = calloc(n, sizeof *cmds);
    int rc = cmds ? FL_OK : fl_error_set(err, FL_ENOMEM, "out of memory");
    for (size_t i = 0; rc == FL_OK && i < n; i++)
        if (!(cmds[i] = rest_cmd_of(t, i, false)))
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
} node_job;

static int setup_node(void *ctx, size_t i, fl_error *err)
{
    node_job *j = ctx;
    int rc;
    if ((rc = target_kill(j->t, i, err)) == FL_OK &&
        (rc = target_wipe(j->t, i, err)) == FL_OK &&
        (rc = target_install(j->t, i, err)) == FL_OK &&
        (rc = target_start(j->t, i, err)) == FL_OK)
        rc = target_await_ready(j->t, i, 15000, err);
    if (rc == FL_OK)
        tlog(j->l, "node %s: installed and serving", remote_name(j->r, i));
    return rc;
}

/* Stop (kill -9), wipe, install and start every node, all at once; wait
 * for a leader. */
static int setup_target(target *t, remote *r, test_log *l, fl_error *err)
{
    node_job j = {.t = t, .r = r, .l = l};
    tlog(l, "installing and starting %s on %zu nodes", target_name(t),
         remote_count(r));
    int rc = remote_each(r, setup_node, &j, err);
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

static int teardown_node(void *ctx, size_t i, fl_error *err)
{
    node_job *j = ctx;
    char ndir[PATH_MAX];
    fl_error e = {0};
    if (target_kill(j->t, i, &e) != FL_OK)
        tlog(j->l, "stopping %s: %s", remote_name(j->r, i), e.msg);
    if (run_store_node_dir(j->dir, remote_name(j->r, i), ndir, sizeof ndir,
                           &e) != FL_OK ||
        target_collect_logs(j->t, i, ndir, &e) != FL_OK)
        tlog(j->l, "logs of %s: %s", remote_name(j->r, i), e.msg);
    (void)err;
    return FL_OK;
}

static void teardown_target(target *t, remote *r, const char *dir, test_log *l)
{
    node_job j = {.t = t, .r = r, .l = l, .dir = dir};
    fl_error e = {0};
    tlog(l, "stopping %s and downloading its logs", target_name(t));
    remote_each(r, teardown_node, &j, &e);
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

static int run_timeline(const test_args *a, target *t, remote *r,
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
        .nemesis_interval_s = a->nemesis_interval, .seed = a->seed,
        .recover_s = 1.0, .log = tlog, .log_ctx = l,
        .broken = untrusted, .broken_ctx = tr,
    };
    rc = runner_run(t, r, gen, w, &ro, &stop_flag, st, err);
    tlog(l, "clients: %ld ok, %ld fail, %ld info; %ld nemesis actions; "
         "%lld keys, %ld without a final read", st->ok, st->fail, st->info,
         st->nemesis_actions, (long long)st->keys, st->final_reads_missing);
    fl_error e2 = {0};
    if (history_writer_close(w, &e2) != FL_OK && rc == FL_OK) {
        rc = e2.code;
        *err = e2;
    }
    workload_free(gen);
    return rc;
}

/* test.json's "ended" for a run whose timeline returned rc. */
static void ended_text(const test_args *a, int rc, const fl_error *err,
                       const runner_stats *st, char *out, size_t size)
{
    if (rc == RUNNER_EBROKEN)
        snprintf(out, size, "%s", st->broken);
    else if (rc != FL_OK)
        snprintf(out, size, "recording failed: %s", err->msg);
    else if (st->stopped_early)
        snprintf(out, size, "interrupted (%s at %.1f s of %.0f)",
                 stop_signal == SIGTERM ? "SIGTERM" : "SIGINT", st->client_s,
                 a->time_limit);
    else
        snprintf(out, size, "completed");
}

static int cannot_run(test_log *l, const fl_error *err)
{
    tlog(l, "cannot run the test: %s", err->msg);
    return CLI_EXIT_CANNOT_RUN;
}

/* Everything a run holds open; released by release(). */
typedef struct run_ctx {
    const test_args *a;
    test_log l;
    test_env env;
    char dir[PATH_MAX / 2];
    int rec_fd;
    remote *r, *dr;         /* the test's connections, the switch's */
    target *t;
    deadman *dm;
    bool ssh;
} run_ctx;

static int open_run(run_ctx *c, const char *raftkv, fl_error *err)
{
    const test_args *a = c->a;
    char path[PATH_MAX];
    int rc = get_nodes(a, &c->env, &c->l, err);
    if (rc == FL_OK && c->env.nodes.count > NEM_MAX_NODES)
        rc = fl_error_set(err, FL_EUSAGE, "at most %d nodes", NEM_MAX_NODES);
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
    if (c->env.auth.bind_address)
        tlog(&c->l, "connections to the nodes are bound to %s (bridge %s)",
             c->env.auth.bind_address, CLUSTER_BRIDGE);
    json_t *tj = test_json(a, raftkv, &c->env.nodes);
    rc = tj ? run_store_write_json(c->dir, "test.json", tj, err)
            : fl_error_set(err, FL_ENOMEM, "out of memory");
    json_decref(tj);
    if (rc == FL_OK)
        rc = run_store_lock_recording(c->dir, &c->rec_fd, err);
    if (rc == FL_OK && (rc = fl_ssh_init(err)) == FL_OK)
        c->ssh = true;
    target_config tc = {.binary = raftkv, .bug = a->bug};
    if (rc == FL_OK)
        rc = remote_open(&c->env.nodes, &c->env.auth, &c->r, err);
    if (rc == FL_OK)
        rc = remote_open(&c->env.nodes, &c->env.auth, &c->dr, err);
    if (rc == FL_OK) {
        tc.remote = c->r;
        rc = target_new(target_find("raftkv"), &tc, &c->t, err);
    }
    return rc;
}

/* Nodes at rest, what was found recorded, the switch armed, the target
 * installed and serving. */
static int prepare_nodes(run_ctx *c, fl_error *err)
{
    json_t *found = NULL;
    int rc = rest_all(c->t, c->r, &c->l, &found, err);
    if (found) {
        run_store_set_test_field(c->dir, "found_at_start", found, NULL);
        json_decref(found);
    }
    if (rc == FL_OK) {
        tlog(&c->l, "arming the dead man's switch on every node (heals "
             "within %d s if this controller stops)", DEADMAN_EXPIRE_S + 2);
        rc = arm_deadman(c->t, c->dr, &c->dm, err);
    }
    if (rc == FL_OK)
        rc = setup_target(c->t, c->r, &c->l, err);
    if (rc == FL_OK && atomic_load(&stop_flag))
        rc = fl_error_set(err, FL_EIO, "interrupted during set-up");
    return rc;
}

static void release(run_ctx *c)
{
    deadman_disarm(c->dm);
    target_free(c->t);
    remote_close(c->r);
    remote_close(c->dr);
    if (c->ssh)
        fl_ssh_exit();
    run_store_unlock(c->rec_fd);
}

/* Judge the stored run; the verdict is the exit code. */
static int judge(run_ctx *c, const char *ended, fl_error *err)
{
    checker_verdict v;
    tlog(&c->l, "checking the history");
    if (run_store_analyze(c->dir, CHECK_TIME_LIMIT_S, true, stderr, &v, err)
        != FL_OK)
        return CLI_EXIT_CANNOT_RUN;
    tlog(&c->l, "verdict: %s (exit %d); run ended: %s; stored in %s",
         v == CHECKER_VALID ? "valid" : v == CHECKER_INVALID ? "INVALID"
                                                             : "unknown",
         (int)v, ended, c->dir);
    return (int)v;
}

static int run_test(const test_args *a, const char *raftkv)
{
    run_ctx c = {.a = a, .rec_fd = -1};
    clock_gettime(CLOCK_MONOTONIC, &c.l.start);
    fl_error err = {0};
    char ended[1100];
    int code = CLI_EXIT_CANNOT_RUN;
    int rc = open_run(&c, raftkv, &err);
    if (rc == FL_OK && (rc = prepare_nodes(&c, &err)) != FL_OK && c.t)
        teardown_target(c.t, c.r, c.dir, &c.l);
    if (rc != FL_OK) {
        snprintf(ended, sizeof ended, "could not start: %s", err.msg);
        cannot_run(&c.l, &err);
    } else {
        trust tr = {.dm = c.dm,
                    .local_nodes = a->nodes_file ? 0 : (int)c.env.nodes.count};
        runner_stats st = {0};
        run_store_point_latest(a->results, c.dir, NULL);
        rc = run_timeline(a, c.t, c.r, c.dir, &c.l, &tr, &st, &err);
        ended_text(a, rc, &err, &st, ended, sizeof ended);
        if (rc != FL_OK)
            tlog(&c.l, "warning: %s", ended);
        if (rc != RUNNER_EBROKEN)
            teardown_target(c.t, c.r, c.dir, &c.l);
        tlog(&c.l, "disarming the dead man's switch");
        deadman_disarm(c.dm);
        c.dm = NULL;
        run_store_set_ended(c.dir, ended, NULL);
        run_store_unlock(c.rec_fd);
        c.rec_fd = -1;
        fl_error_clear(&err);
        code = rc == RUNNER_EBROKEN ? CLI_EXIT_CANNOT_RUN : judge(&c, ended, &err);
        if (rc == RUNNER_EBROKEN)
            tlog(&c.l, "not judged: %s (history kept in %s)", ended, c.dir);
        else if (code == CLI_EXIT_CANNOT_RUN)
            cannot_run(&c.l, &err);
    }
    if (c.dir[0] && code == CLI_EXIT_CANNOT_RUN && rc != FL_OK &&
        strncmp(ended, "could not start", 15) == 0)
        run_store_set_ended(c.dir, ended, NULL);
    release(&c);
    if (c.env.cluster_made && !a->keep_cluster) {
        tlog(&c.l, "tearing down the local cluster this run brought up "
             "(--keep-cluster keeps it)");
        if (cluster_down(cluster_state_dir(), &err) != FL_OK)
            tlog(&c.l, "cluster down: %s", err.msg);
    }
    if (c.l.file)
        fclose(c.l.file);
    fl_nodes_free(&c.env.nodes);
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
    bool force = argc == 3 && strcmp(argv[1], "--force") == 0;
    const char *dir = argv[argc - 1];
    if ((argc != 2 && !force) || dir[0] == '-') {
        bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr,
                "usage: faultline analyze [--force] RUN_DIR\n"
                "Re-checks RUN_DIR/history.jsonl and rewrites results.json and "
                "history.edn.\nA run still being recorded is refused unless "
                "--force (then what it has\nrecorded so far is checked).\n"
                "Exit: 0 valid, 1 invalid, 2 unknown, 3 the run is still "
                "recording or never\nstarted, 65 bad history, 66 no history.\n");
        return help ? 0 : FL_EUSAGE;
    }
    fl_error err = {0};
    checker_verdict v;
    int rc = run_store_analyze(dir, CHECK_TIME_LIMIT_S, force, stdout, &v, &err);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline analyze: %s\n", err.msg);
        return rc == RUN_STORE_EBUSY || rc == RUN_STORE_ENEVER_RAN
                   ? CLI_EXIT_CANNOT_RUN : rc;
    }
    return (int)v;
}
