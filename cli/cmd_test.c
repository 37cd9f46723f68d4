/*
 * faultline test — parse the options, then run a test against a target
 * on a cluster and judge it (run/run.h does the whole run).
 *
 * The generic options are parsed here; the target's own options (its
 * vtable's option table, targets/registry.h lists the targets) are offered
 * from its table and parsed and checked once by target_options_parse,
 * before anything runs. Exit 0 valid, 1 invalid, 2 unknown, 3 could not
 * run (with the reason), 64 usage.
 */
#include "cli/check_options.h"
#include "cli/cli.h"
#include "harness/cluster.h"
#include "nemesis/fault.h"
#include "harness/run_store.h"
#include "run/run.h"
#include "targets/clients/file.h"
#include "targets/registry.h"
#include "workloads/workload.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_WORKLOAD "register"

typedef struct test_args {
    const char *nodes_file, *ssh_user, *ssh_key, *known_hosts;
    int ssh_port;
    int nodes;
    const char *workload, *nemesis, *test_name, *results;
    const char *target_name;   /* --target; NULL: targets_default() */
    const target_vtable *target;
    target_vtable *file_target; /* --target-file's (owned); NULL: none */
    bool error_said;           /* an error is said: no usage after it */
    json_t *target_opts;       /* as given (owned); NULL: none */
    target_options *parsed;    /* target_opts parsed and checked (owned) */
    json_t *fault_opts;        /* the kinds' options as given (owned) */
    double nemesis_interval, time_limit, rate;
    int concurrency;
    int keys;               /* active keys; 0: the workload's default */
    uint64_t seed;
    bool seed_given;
    bool keep_cluster;
    bool insecure_host_keys;   /* --insecure-accept-any-host-key */
    unsigned faults;
    char default_name[64];
    /* --db and existing mode's commands (harness/db_existing.h). */
    const char *db_mode;
    target_db db;
    const char *log_paths[17];  /* --log-path, NULL-terminated */
    size_t n_log_paths;
    const char *log_patterns[17]; /* --log-pattern, NULL-terminated */
    size_t n_log_patterns;
    bool allow_crashes;
    cli_check_options check;   /* the checker options (cli/check_options.h) */
} test_args;

static void targets_help(FILE *out, const target_vtable *chosen)
{
    fprintf(out, "Target:\n"
                 "  --target NAME         the database under test (default "
                 "%s):\n", targets_default());
    for (size_t i = 0; i < targets_count(); i++)
        fprintf(out, "                          %-8s %s\n",
                targets_at(i)->vt->name, targets_at(i)->summary);
    fprintf(out, "  --target-file FILE    a database described by a JSON file:\n"
                 "                        its commands and a client in any\n"
                 "                        language (docs/any-database.md)\n");
    if (!chosen)
        return;
    fprintf(out, "Options of target %s%s:\n", chosen->name,
            chosen->options && chosen->options->name ? ""
                                                     : " (it takes none)");
    target_options_help(chosen, out);
}

/* The workloads' registry: each one's operations and checkers. */
static void workloads_help(FILE *out)
{
    fprintf(out, "  --workload W          what the clients do (default %s):\n",
            DEFAULT_WORKLOAD);
    for (const char *const *w = workload_names(); *w; w++) {
        fprintf(out, "                          %-8s", *w);
        const char *const *ops = workload_operations(*w);
        for (size_t i = 0; ops && ops[i]; i++)
            fprintf(out, "%s%s", i ? "/" : " ", ops[i]);
        const workload_checker *c;
        size_t n = 0;
        fl_error err = {0};
        if (workload_checkers(*w, &c, &n, &err) == FL_OK)
            for (size_t i = 0; i < n; i++)
                fprintf(out, "%s%s", i ? ", " : "; checked ", c[i].checker);
        fputc('\n', out);
    }
}

/* The fault kinds' table (nemesis/fault.h). */
static void nemesis_help(FILE *out)
{
    const fault_table *t = fault_builtin();
    fprintf(out, "  --nemesis LIST        fault kinds, comma-separated, or all or "
                 "none\n"
                 "                        (default %s):\n",
            fault_default_list());
    for (size_t k = 0; k < t->count; k++)
        fprintf(out, "                          %-10s %s\n",
                t->kinds[k]->name, t->kinds[k]->summary);
}

static int usage(FILE *out, int code, const target_vtable *chosen)
{
    fprintf(out,
        "usage: faultline test [--target NAME | --target-file FILE] [options]\n"
        "                      [target options]\n"
        "\n"
        "Runs a workload against a target while the nemesis\n"
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
        "Test:\n");
    workloads_help(out);
    nemesis_help(out);
    fprintf(out,
        "  --nemesis-interval S  mean seconds between a fault kind's\n"
        "                        actions (default 5); kinds overlap\n"
        "  --time-limit S        seconds of client operations (default 60)\n"
        "  --concurrency N       client threads (default 10)\n"
        "  --keys N              keys in use at a time (default: one per\n"
        "                        three client threads)\n"
        "  --rate R              operations per second, all clients (default\n"
        "                        100; 0 = as fast as possible)\n"
        "  --seed S              replay a run's choices (default: from time)\n"
        "  --test-name NAME      results/NAME/... (default TARGET-WORKLOAD)\n"
        "  --results DIR         where runs are stored (default results)\n"
        "Database (default --db managed: faultline installs, wipes, starts\n"
        "and kills it):\n"
        "  --db existing         test a cluster you already run: nothing is\n"
        "                        installed, wiped, started at set-up or killed\n"
        "                        but through your commands below (run on the\n"
        "                        node over SSH); partitions still use iptables\n"
        "  --kill-cmd CMD        e.g. \"systemctl kill -s KILL etcd\" (with\n"
        "  --start-cmd CMD       --start-cmd: needed by --nemesis kill)\n"
        "  --pause-cmd CMD       e.g. \"systemctl kill -s STOP etcd\" (with\n"
        "  --resume-cmd CMD      --resume-cmd: needed by --nemesis pause)\n"
        "  --logs-cmd CMD        its stdout is kept as the node's log\n"
        "  --log-path PATH       a log file on the nodes to download\n"
        "                        (repeatable, up to 16)\n"
        "\n"
        "Crashes (a database that ends or stops serving when the nemesis\n"
        "did not do it, or logs a line matching a crash pattern, makes the\n"
        "run invalid):\n"
        "  --log-pattern TEXT    another crash pattern for the downloaded\n"
        "                        logs, beside the target's (repeatable, up\n"
        "                        to 16)\n"
        "  --allow-crashes       report crashes as a warning only\n");
    fprintf(out, "Checking (the workload's checkers, with these options\n"
                 "changed; --checker C: C alone; recorded in test.json's\n"
                 "checker_options; as `faultline check` and `analyze` take\n"
                 "them):\n");
    cli_check_usage_run(out);
    fprintf(out, "Faults' options (recorded in test.json's nemesis_options):\n");
    fault_options_help(fault_builtin(), out);
    targets_help(out, chosen);
    fprintf(out, "\nfaultline analyze RUN_DIR  re-checks a stored run.\n");
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

/* ---- arguments ------------------------------------------------------------------------------ */

/* getopt's values for the options without a letter. */
enum {
    OPT_KILL_CMD = 500, OPT_START_CMD, OPT_PAUSE_CMD, OPT_RESUME_CMD,
    OPT_LOGS_CMD, OPT_LOG_PATH, OPT_LOG_PATTERN, OPT_ALLOW_CRASHES,
    OPT_TARGET_FILE,
};

static const struct option generic_opts[] = {
    {"nodes-file", 1, 0, 'F'}, {"ssh-user", 1, 0, 'u'},
    {"ssh-key", 1, 0, 'k'}, {"ssh-port", 1, 0, 'P'},
    {"known-hosts", 1, 0, 'K'}, {"nodes", 1, 0, 'n'},
    {"workload", 1, 0, 'w'}, {"nemesis", 1, 0, 'm'},
    {"nemesis-interval", 1, 0, 'i'}, {"time-limit", 1, 0, 't'},
    {"concurrency", 1, 0, 'c'}, {"rate", 1, 0, 'r'}, {"seed", 1, 0, 's'},
    {"test-name", 1, 0, 'N'}, {"results", 1, 0, 'o'},
    {"keep-cluster", 0, 0, 'C'}, {"keys", 1, 0, 'y'},
    {"insecure-accept-any-host-key", 0, 0, 'I'}, {"target", 1, 0, 'T'},
    {"db", 1, 0, 'D'}, {"kill-cmd", 1, 0, OPT_KILL_CMD},
    {"start-cmd", 1, 0, OPT_START_CMD}, {"pause-cmd", 1, 0, OPT_PAUSE_CMD},
    {"resume-cmd", 1, 0, OPT_RESUME_CMD}, {"logs-cmd", 1, 0, OPT_LOGS_CMD},
    {"log-path", 1, 0, OPT_LOG_PATH},
    {"log-pattern", 1, 0, OPT_LOG_PATTERN},
    {"allow-crashes", 0, 0, OPT_ALLOW_CRASHES},
    {"target-file", 1, 0, OPT_TARGET_FILE},
    {"help", 0, 0, 'h'},
    CLI_CHECK_RUN_LONGOPTS,
};

#define N_GENERIC (sizeof generic_opts / sizeof *generic_opts)
/* getopt's value for the target's i-th option, and for the i-th option of
 * the fault kinds (in table order). */
#define TARGET_OPT(i) (1000 + (int)(i))
#define FAULT_OPT(i) (2000 + (int)(i))

/* The fault kinds' options, in table order; at most 64. */
static size_t fault_opts_list(const fault_option **out, size_t max)
{
    const fault_table *t = fault_builtin();
    size_t n = 0;
    for (size_t k = 0; k < t->count; k++)
        for (const fault_option *o = t->kinds[k]->options; o && o->name; o++)
            if (n < max)
                out[n++] = o;
    return n;
}

/* The value of --OPT V / --OPT=V (the last one), before parsing: the
 * target decides what else the command line may hold. */
static const char *prescan(int argc, char **argv, const char *opt)
{
    const char *value = NULL;
    size_t k = strlen(opt);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], opt) == 0 && i + 1 < argc)
            value = argv[++i];
        else if (strncmp(argv[i], opt, k) == 0 && argv[i][k] == '=')
            value = argv[i] + k + 1;
    }
    return value;
}

/* --target-file FILE: the target it describes (targets/clients/file.h). */
static int target_from_file(const char *path, test_args *a)
{
    fl_error err = {0};
    if (a->target_name) {
        fprintf(stderr, "faultline test: --target and --target-file "
                        "contradict each other\n");
        return FL_EUSAGE;
    }
    int rc = file_target_load(path, &a->file_target, &err);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline test: --target-file %s\n", err.msg);
        a->error_said = true;
        return rc == FL_EUSAGE ? FL_EUSAGE : CLI_EXIT_CANNOT_RUN;
    }
    a->target = a->file_target;
    return FL_OK;
}

/* The generic options and then the target's, for getopt_long (caller
 * frees); NULL when out of memory. */
static struct option *options_for(const target_vtable *vt)
{
    size_t n = 0;
    const fault_option *fo[64];
    size_t nf = fault_opts_list(fo, 64);
    for (const target_option *o = vt->options; o && o->name; o++)
        n++;
    struct option *opts = calloc(N_GENERIC + n + nf + 1, sizeof *opts);
    if (!opts)
        return NULL;
    memcpy(opts, generic_opts, sizeof generic_opts);
    for (size_t i = 0; i < n; i++)
        opts[N_GENERIC + i] = (struct option){vt->options[i].name,
                                              vt->options[i].type !=
                                                  TARGET_OPT_FLAG, 0,
                                              TARGET_OPT(i)};
    for (size_t i = 0; i < nf; i++)
        opts[N_GENERIC + n + i] = (struct option){fo[i]->name, 1, 0,
                                                  FAULT_OPT(i)};
    return opts;
}

/* One generic option; FL_OK, FL_EUSAGE, or -1 for --help. */
static int generic_opt(int c, test_args *a)
{
    double x;
    int rc = FL_OK;
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
    case 'o': a->results = optarg; break;
    case 'C': a->keep_cluster = true; break;
    case 'I': a->insecure_host_keys = true; break;
    case 'y': rc = parse_num("--keys", optarg, 1, 10000, &x); a->keys = (int)x; break;
    case 'T': case OPT_TARGET_FILE: break;   /* taken by target_named() */
    case 'D': a->db_mode = optarg; break;
    case OPT_KILL_CMD: a->db.kill_cmd = optarg; break;
    case OPT_START_CMD: a->db.start_cmd = optarg; break;
    case OPT_PAUSE_CMD: a->db.pause_cmd = optarg; break;
    case OPT_RESUME_CMD: a->db.resume_cmd = optarg; break;
    case OPT_LOGS_CMD: a->db.logs_cmd = optarg; break;
    case OPT_LOG_PATH:
        if (a->n_log_paths + 1 >= sizeof a->log_paths / sizeof *a->log_paths) {
            fprintf(stderr, "faultline test: at most 16 --log-path\n");
            return FL_EUSAGE;
        }
        a->log_paths[a->n_log_paths++] = optarg;
        a->db.log_paths = a->log_paths;
        break;
    case OPT_LOG_PATTERN:
        if (a->n_log_patterns + 1 >=
            sizeof a->log_patterns / sizeof *a->log_patterns) {
            fprintf(stderr, "faultline test: at most 16 --log-pattern\n");
            return FL_EUSAGE;
        }
        if (!*optarg) {
            fprintf(stderr, "faultline test: --log-pattern: empty\n");
            return FL_EUSAGE;
        }
        a->log_patterns[a->n_log_patterns++] = optarg;
        break;
    case OPT_ALLOW_CRASHES: a->allow_crashes = true; break;
    case 'h': return -1;
    default: return FL_EUSAGE;
    }
    return rc;
}

/* getopt's '?' (unknown) or ':' (argument missing), said with the target
 * whose options were on offer. */
static int bad_option(int c, char **argv, const test_args *a)
{
    const char *opt = argv[optind - 1];
    if (c == ':')
        fprintf(stderr, "faultline test: %s needs an argument\n", opt);
    else
        fprintf(stderr, "faultline test: unknown option %s (not a faultline "
                        "test option, nor one of target %s's; `faultline test "
                        "--target %s --help` lists them)\n", opt,
                a->target->name, a->target->name);
    return FL_EUSAGE;
}

/* All options, generic and the target's, in order. */
static int parse_opts(int argc, char **argv, test_args *a)
{
    struct option *opts = options_for(a->target);
    if (!opts) {
        fprintf(stderr, "faultline test: out of memory\n");
        return FL_EUSAGE;
    }
    int c, rc = FL_OK;
    optind = 1;
    opterr = 0;
    while (rc == FL_OK &&
           (c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c >= FAULT_OPT(0)) {
            const fault_option *fo[64];
            fault_opts_list(fo, 64);
            if ((!a->fault_opts && !(a->fault_opts = json_object())) ||
                json_object_set_new(a->fault_opts, fo[c - FAULT_OPT(0)]->name,
                                    json_string(optarg))) {
                fprintf(stderr, "faultline test: out of memory\n");
                rc = FL_EUSAGE;
            }
        } else if (c >= TARGET_OPT(0)) {
            fl_error err = {0};
            rc = target_options_set(a->target, &a->target_opts,
                                    opts[N_GENERIC + (size_t)(c - TARGET_OPT(0))].name,
                                    optarg, &err);
            if (rc != FL_OK)
                fprintf(stderr, "faultline test: %s\n", err.msg);
        } else if (c == '?' || c == ':') {
            rc = bad_option(c, argv, a);
        } else if ((rc = cli_check_option(&a->check, c, optarg, "test")) == 1) {
            rc = generic_opt(c, a);
        }
    }
    free(opts);
    return rc;
}

/* "--nemesis all" is every kind this run can take, as Jepsen's combined
 * nemesis offers only the faults a database's setup supports: the rest
 * are named on stderr, and test.json's fault_kinds lists what ran. */
static void all_that_can_run(test_args *a)
{
    char why[512];
    a->faults = fault_usable(fault_builtin(), a->faults, a->target, &a->db,
                             why, sizeof why);
    if (*why)
        fprintf(stderr, "faultline test: --nemesis all, against %s: left "
                        "out %s\n", a->target->name, why);
}

/* --db and its commands: the commands belong to existing mode only, and
 * every fault asked for needs its own (run_test refuses it too, for other
 * front ends; here it is a usage error with the rest). */
static int check_db(test_args *a)
{
    const target_db *d = &a->db;
    bool cmds = d->kill_cmd || d->start_cmd || d->pause_cmd ||
                d->resume_cmd || d->logs_cmd || d->log_paths;
    if (a->db_mode && strcmp(a->db_mode, "existing") == 0)
        a->db.mode = TARGET_DB_EXISTING;
    else if (a->db_mode && strcmp(a->db_mode, "managed") != 0) {
        fprintf(stderr, "faultline test: --db is managed or existing, not "
                        "\"%s\"\n", a->db_mode);
        return FL_EUSAGE;
    }
    if (cmds && a->db.mode != TARGET_DB_EXISTING) {
        fprintf(stderr, "faultline test: --kill-cmd, --start-cmd, "
                        "--pause-cmd, --resume-cmd, --logs-cmd and --log-path "
                        "are for --db existing (a managed database is "
                        "stopped and started by its target)\n");
        return FL_EUSAGE;
    }
    if (a->nemesis && strcmp(a->nemesis, "all") == 0)
        all_that_can_run(a);
    fl_error err = {0};
    if (fault_check_db(fault_builtin(), a->faults, &a->db, &err) != FL_OK) {
        fprintf(stderr, "faultline test: %s\n", err.msg);
        return FL_EUSAGE;
    }
    return FL_OK;
}

/* What the options say together. */
static int check_args(int argc, char **argv, test_args *a)
{
    if (optind < argc) {
        fprintf(stderr, "faultline test: unexpected argument \"%s\"\n", argv[optind]);
        return FL_EUSAGE;
    }
    if (!workload_known(a->workload)) {
        fprintf(stderr, "faultline test: --workload %s: known workloads are",
                a->workload);
        for (const char *const *w = workload_names(); *w; w++)
            fprintf(stderr, " %s", *w);
        fputc('\n', stderr);
        return FL_EUSAGE;
    }
    const char *missing;
    if (!target_supports_workload(a->target, a->workload, &missing)) {
        fprintf(stderr, "faultline test: --workload %s: target %s cannot run "
                        "it (its client has no \"%s\" operation)\n",
                a->workload, a->target->name, missing);
        return FL_EUSAGE;
    }
    if (!a->test_name) {
        snprintf(a->default_name, sizeof a->default_name, "%s-%s",
                 a->target->name, a->workload);
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
    return check_db(a);
}

/* The target's options, checked against its table once, before anything
 * runs: a bad value is a usage error naming the option. */
static int parse_target_options(test_args *a)
{
    fl_error err = {0};
    int rc = target_options_parse(a->target, a->target_opts, &a->parsed, &err);
    if (rc == FL_EUSAGE)
        fprintf(stderr, "faultline test: %s\n", err.msg);
    else if (rc != FL_OK) {
        fprintf(stderr, "faultline test: cannot run: %s\n", err.msg);
        a->error_said = true; /* said: no usage after it */
        rc = CLI_EXIT_CANNOT_RUN;
    }
    return rc;
}

/* FL_OK, FL_EUSAGE (said on stderr), or -1 for --help. */
static int parse_args(int argc, char **argv, test_args *a)
{
    a->target_name = prescan(argc, argv, "--target");
    const char *file = prescan(argc, argv, "--target-file");
    const char *name = a->target_name ? a->target_name : targets_default();
    if (file) {
        int rc = target_from_file(file, a);
        if (rc != FL_OK)
            return rc;
    } else if (!(a->target = targets_find(name))) {
        fprintf(stderr, "faultline test: --target %s: no such target (known:",
                name);
        for (size_t i = 0; i < targets_count(); i++)
            fprintf(stderr, " %s", targets_at(i)->vt->name);
        fprintf(stderr, ")\n");
        return FL_EUSAGE;
    }
    int rc = parse_opts(argc, argv, a);
    if (rc == FL_OK)
        rc = check_args(argc, argv, a);
    /* --model is resolved here, once, before anything runs */
    if (rc == FL_OK)
        rc = cli_check_resolve(&a->check, "test");
    return rc == FL_OK ? parse_target_options(a) : rc;
}

/* ---- the run ------------------------------------------------------------------------------------ */

static atomic_int stop_flag;

/* The signal's number is the stop flag: run_test names it in "ended". */
static void on_signal(int sig)
{
    atomic_store(&stop_flag, sig);
}

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

static void adjust(const void *arg, checker_options *opt)
{
    cli_check_apply(arg, opt);
}

static int run(const test_args *a)
{
    /* cli_check_resolve picks a checker for `check`; here none given
     * means the workload's */
    run_store_judge judge = {
        .only = cli_check_given(&a->check, CLI_OPT_CHECKER) ? a->check.checker
                                                            : NULL,
        .adjust = adjust, .arg = &a->check};
    run_config cfg = {
        .nodes_file = a->nodes_file, .nodes = a->nodes,
        .keep_cluster = a->keep_cluster, .ssh_user = a->ssh_user,
        .ssh_key = a->ssh_key, .known_hosts = a->known_hosts,
        .ssh_port = a->ssh_port, .insecure_host_keys = a->insecure_host_keys,
        .test_name = a->test_name, .results = a->results,
        .workload = a->workload, .nemesis = a->nemesis, .faults = a->faults,
        .nemesis_interval = a->nemesis_interval, .time_limit = a->time_limit,
        .rate = a->rate, .concurrency = a->concurrency, .keys = a->keys,
        .seed = a->seed, .target = a->target,
        .target_options = a->parsed, .db = &a->db, .stop = &stop_flag,
        .fault_options = a->fault_opts,
        .log = print_line, .report = stderr,
        .log_patterns = a->log_patterns, .allow_crashes = a->allow_crashes,
        .judge = cli_check_any_given(&a->check) ? &judge : NULL,
        .checker_options = cli_check_given_json(&a->check),
    };
    run_outcome out;
    run_test(&cfg, &out);
    switch (out.status) {
    case RUN_JUDGED:
        return (int)out.verdict;
    case RUN_REFUSED:
        if (out.err.code == FL_EUSAGE) {
            fprintf(stderr, "faultline test: %s\n", out.err.msg);
            return FL_EUSAGE;
        }
        fprintf(stderr, "faultline test: cannot run: %s\n", out.err.msg);
        return CLI_EXIT_CANNOT_RUN;
    default:   /* the reason is in the log already */
        return CLI_EXIT_CANNOT_RUN;
    }
}

int cmd_test(int argc, char **argv)
{
    test_args a = {
        .nodes = CLUSTER_DEFAULT_NODES, .workload = DEFAULT_WORKLOAD,
        .nemesis = fault_default_list(), .nemesis_interval = 5, .time_limit = 60,
        .concurrency = 10, .rate = 100,
        .results = "results",
    };
    cli_check_options_init(&a.check);
    int rc = parse_args(argc, argv, &a);
    if (rc == -1 || rc != FL_OK) {
        cli_check_options_free(&a.check);
        json_decref(a.target_opts);
        target_options_free(a.parsed);
        json_decref(a.fault_opts);
        rc = rc == -1 ? usage(stdout, 0, a.target)
           : rc == FL_EUSAGE && !a.error_said
               ? usage(stderr, FL_EUSAGE, a.target) : rc;
        file_target_free(a.file_target);
        return rc;
    }
    if (!a.seed_given) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        a.seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = run(&a);
    cli_check_options_free(&a.check);
    json_decref(a.target_opts);
    target_options_free(a.parsed);
    file_target_free(a.file_target);
    json_decref(a.fault_opts);
    return rc;
}
