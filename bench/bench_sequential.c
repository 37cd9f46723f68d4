/*
 * bench_sequential: what the sequential-consistency checker costs, as a
 * table of time and peak memory against history size, key count and
 * process count. Two parts:
 *   a. histories of real runs: every results/NAME/STAMP/history.jsonl
 *      (or under $FAULTLINE_RESULTS) and the files of tests/data/runs, the whole check
 *      (linearizability, shortcuts, search) and the search alone;
 *   b. generated cas-register histories, 10 processes x 1k, 10k and 100k
 *      ops over 1 and 100 keys with 15% info, 10 s / 1 GB budgets. They are
 *      linearizable by construction, so the whole check is shortcut 1; the
 *      search alone (sc_search_history) is what is measured.
 * Each case runs in a child process, so its peak memory (maximum resident
 * set, the history included) is its own. Figures, never assertions.
 */
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkers/sequential.h"
#include "workloads/histgen.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

typedef struct report {
    size_t ops, keys, procs;
    double check_ms, search_ms;
    checker_verdict lin, sc, search;
    uint64_t explored;
    char anomaly[32];
} report;

static const char *word(checker_verdict v)
{
    return v == CHECKER_VALID ? "true" : v == CHECKER_INVALID ? "false" : "unknown";
}

static void shape(const history *h, report *r)
{
    const history_event *ev = history_events(h);
    size_t nv = history_value_count(h);
    bool *key = calloc(nv + 1, 1);
    int64_t maxp = 0;
    for (size_t i = 0; i < history_len(h); i++)
        maxp = ev[i].process > maxp ? ev[i].process : maxp;
    bool *proc = calloc((size_t)maxp + 1, 1);
    for (size_t i = 0; key && proc && i < history_len(h); i++) {
        if (ev[i].process == HISTORY_NEMESIS || ev[i].type != HISTORY_INVOKE)
            continue;
        r->ops++;
        r->keys += ev[i].key != HISTORY_NONE && !key[ev[i].key];
        if (ev[i].key != HISTORY_NONE)
            key[ev[i].key] = true;
        r->procs += !proc[ev[i].process];
        proc[ev[i].process] = true;
    }
    free(key);
    free(proc);
}

static void measure(const history *h, double limit_s, bool whole, report *r)
{
    checker_options opt;
    checker_options_init(&opt);
    opt.threads = 1;
    opt.time_limit_s = limit_s;
    opt.memory_limit_mb = 1024;
    opt.consistency = CHECKER_CONSISTENCY_SEQUENTIAL;
    fl_error err = {0};
    shape(h, r);
    if (whole) {
        sc_check_result *res = NULL;
        double t0 = now_ms();
        if (sc_check(h, &opt, &res, &err) != FL_OK)
            return;
        r->check_ms = now_ms() - t0;
        json_t *j = sc_check_json(res);
        snprintf(r->anomaly, sizeof r->anomaly, "%s",
                 json_string_value(json_object_get(j, "anomaly")));
        json_t *lin = json_object_get(json_object_get(j, "linearizable"), "valid");
        r->lin = json_is_true(lin) ? CHECKER_VALID : json_is_false(lin)
                                                         ? CHECKER_INVALID
                                                         : CHECKER_UNKNOWN;
        r->sc = sc_check_sequential(res);
        json_decref(j);
        sc_check_free(res);
    }
    double t0 = now_ms();
    if (sc_search_history(h, &opt, &r->search, &r->explored, &err) == FL_OK)
        r->search_ms = now_ms() - t0;
}

/* Run fn in a child; print one row with the child's peak RSS. */
static void in_child(const char *label, void (*fn)(const void *, report *),
                     const void *arg)
{
    int fds[2];
    if (pipe(fds) != 0)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        report r = {.lin = CHECKER_UNKNOWN, .sc = CHECKER_UNKNOWN,
                    .search = CHECKER_UNKNOWN};
        fn(arg, &r);
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    report r;
    ssize_t got = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    if (got != (ssize_t)sizeof r) {
        printf("| %-28s | failed (child status %d) |\n", label, status);
        return;
    }
    printf("| %-28s | %7zu | %4zu | %5zu | %9.1f | %5s / %-7s | %-14s | "
           "%9.1f | %10llu | %-7s | %7.1f |\n",
           label, r.ops, r.keys, r.procs, r.check_ms, word(r.lin), word(r.sc),
           r.anomaly[0] ? r.anomaly : "-", r.search_ms,
           (unsigned long long)r.explored, word(r.search), ru.ru_maxrss / 1024.0);
}

static void header(void)
{
    printf("| %-28s | %7s | %4s | %5s | %9s | %15s | %-14s | %9s | %10s | "
           "%-7s | %7s |\n", "history", "ops", "keys", "procs", "check ms",
           "lin / sc", "anomaly", "search ms", "explored", "search", "peak MB");
    printf("|------------------------------|---------|------|-------|-----------|"
           "-----------------|----------------|-----------|------------|---------|"
           "---------|\n");
}

/* ---- a. real runs ------------------------------------------------------------- */

static void run_file(const void *arg, report *r)
{
    history *h = NULL;
    fl_error err = {0};
    if (history_read_file(arg, HISTORY_FORMAT_UNKNOWN, &h, &err) != FL_OK)
        return;
    measure(h, 10, true, r);
    history_free(h);
}

static void bench_file(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISLNK(st.st_mode))
        return;
    /* a stored run by its NAME/STAMP, a file by its name */
    char label[64], dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash + 1;
    if (strcmp(base, "history.jsonl") == 0) {
        *slash = '\0';
        char *up = strrchr(dir, '/');
        while (up > dir && up[-1] != '/')
            up--;
        base = up ? up : dir;
    }
    snprintf(label, sizeof label, "%.28s", base);
    in_child(label, run_file, path);
}

static void bench_runs(void)
{
    printf("a. histories of real runs: the whole check (--consistency "
           "sequential, no shrink) and the search alone; 10 s / 1 GB\n\n");
    header();
    const char *results = getenv("FAULTLINE_RESULTS");
    char pattern[4096];
    /* results/NAME/STAMP/history.jsonl; results/NAME/latest links one */
    snprintf(pattern, sizeof pattern, "%s/*/*/history.jsonl",
             results ? results : "results");
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s", g.gl_pathv[i]);
            *strrchr(dir, '/') = '\0';
            struct stat st;
            if (lstat(dir, &st) == 0 && !S_ISLNK(st.st_mode)) /* not latest */
                bench_file(g.gl_pathv[i]);
        }
        globfree(&g);
    }
    if (glob("tests/data/runs/*.jsonl", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            bench_file(g.gl_pathv[i]);
        globfree(&g);
    }
    printf("\n");
}

/* ---- b. generated ------------------------------------------------------------- */

typedef struct gen_case {
    size_t ops, keys;
} gen_case;

static void run_generated(const void *arg, report *r)
{
    const gen_case *c = arg;
    histgen_options g = {.ops = c->ops, .keys = c->keys, .processes = 10,
                         .info_rate = 0.15, .seed = 42};
    history *h = NULL;
    fl_error err = {0};
    if (histgen_generate(&g, &h, &err) != FL_OK)
        return;
    measure(h, 10, false, r);
    history_free(h);
}

static void bench_generated(void)
{
    printf("b. generated cas-register histories, 10 processes, 15%% info: the "
           "search alone, 10 s / 1 GB\n\n");
    header();
    static const gen_case cases[] = {
        {1000, 1}, {1000, 100}, {10000, 1}, {10000, 100},
        {100000, 1}, {100000, 100},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char label[64];
        snprintf(label, sizeof label, "gen %zu ops, %zu key%s", cases[i].ops,
                 cases[i].keys, cases[i].keys == 1 ? "" : "s");
        in_child(label, run_generated, &cases[i]);
    }
    printf("\n(procs counts process ids: a client that saw an info op goes "
           "on under a new one)\n");
}

int main(void)
{
    bench_generated();
    bench_runs();
    return 0;
}
