/*
 * bench_checker: how fast the linearizability checker is, and how its cost
 * grows. Three parts:
 *   1. the shared corpus (real Jepsen etcd histories, Porcupine's kv ones),
 *      check time per file (median of 3, parse excluded) beside Porcupine's
 *      figures on this machine kind;
 *   2. the 10-client kv histories checked whole, without splitting by key;
 *   3. generated cas-register histories of 10k, 100k and 1M operations over
 *      1, 10 and 1000 keys, with 15% info operations.
 * Each case of parts 2 and 3 runs in a child process, so its peak memory
 * (maximum resident set, which includes the history itself) is its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkers/lin_model.h"
#include "checkers/linearizable.h"
#include "workloads/histgen.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Check once; returns ms and the verdict. */
static double time_check(const history *h, const lin_options *opt,
                         checker_verdict *verdict)
{
    lin_result *r = NULL;
    fl_error err = {0};
    double t0 = now_ms();
    if (lin_check(h, opt, &r, &err) != FL_OK) {
        fprintf(stderr, "bench_checker: %s\n", err.msg);
        exit(1);
    }
    double ms = now_ms() - t0;
    *verdict = lin_result_verdict(r);
    lin_result_free(r);
    return ms;
}


static const char *verdict_name(checker_verdict v)
{
    return v == CHECKER_VALID ? "valid" : v == CHECKER_INVALID ? "invalid" : "unknown";
}

/* ---- 1. corpus -------------------------------------------------------------- */

typedef struct corpus_case {
    char path[4096];
    char name[64];
    const char *model;
    bool linearizable;
    int threads;
    double ms;      /* median of 3 */
    double peak_mb; /* the child's maximum resident set */
    bool wrong;
} corpus_case;

/* In a child: read, check 3 times, send back the median and verdict. */
static void corpus_child(int fd, const corpus_case *c)
{
    history *h = NULL;
    fl_error err = {0};
    double out[2] = {-1, 0};
    if (history_read_file(c->path, HISTORY_FORMAT_UNKNOWN, &h, &err) == FL_OK) {
        lin_options opt;
        lin_options_init(&opt);
        opt.model = lin_model_find(c->model);
        opt.threads = c->threads;
        double runs[3];
        checker_verdict v = CHECKER_UNKNOWN;
        for (int i = 0; i < 3; i++)
            runs[i] = time_check(h, &opt, &v);
        qsort(runs, 3, sizeof *runs, cmp_double);
        out[0] = runs[1];
        out[1] = (v == CHECKER_VALID) != c->linearizable;
        history_free(h);
    }
    ssize_t w = write(fd, out, sizeof out);
    _exit(w == (ssize_t)sizeof out ? 0 : 1);
}

static int run_corpus_case(corpus_case *c)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        corpus_child(fds[1], c);
    }
    close(fds[1]);
    double got[2];
    ssize_t n = read(fds[0], got, sizeof got);
    close(fds[0]);
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    if (n != (ssize_t)sizeof got || got[0] < 0)
        return -1;
    c->ms = got[0];
    c->wrong = got[1] != 0;
    c->peak_mb = ru.ru_maxrss / 1024.0;
    return 0;
}

static void corpus_set(const char *shared, json_t *index, const char *set,
                       int threads, bool per_file, double *total_out)
{
    double total = 0, peak = 0;
    size_t n = 0, wrong = 0, col = 0;
    const char *name;
    json_t *meta;
    json_object_foreach(index, name, meta) {
        if (strncmp(name, set, strlen(set)) != 0)
            continue;
        corpus_case c = {.threads = threads,
                         .model = json_string_value(json_object_get(meta, "model")),
                         .linearizable = json_is_true(json_object_get(meta, "linearizable"))};
        snprintf(c.path, sizeof c.path, "%s/corpus/%s", shared, name);
        snprintf(c.name, sizeof c.name, "%s", strchr(name, '/') + 1);
        *strrchr(c.name, '.') = '\0';
        if (run_corpus_case(&c) != 0) {
            printf("  %s: failed\n", name);
            continue;
        }
        if (per_file) {
            printf("%s%-10s %6.2f ms %4.1f MB", col == 0 ? "    " : "   ",
                   c.name, c.ms, c.peak_mb);
            col = (col + 1) % 4;
            if (col == 0)
                printf("\n");
        }
        total += c.ms;
        peak = c.peak_mb > peak ? c.peak_mb : peak;
        wrong += c.wrong;
        n++;
    }
    if (col != 0)
        printf("\n");
    printf("  %-5s %3zu files, %d thread%s: total %7.1f ms, peak %5.1f MB per "
           "file, verdicts wrong: %zu\n",
           set, n, threads, threads == 1 ? " " : "s", total, peak, wrong);
    *total_out = total;
}

static void bench_corpus(const char *shared)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/corpus/index.json", shared);
    json_t *index = json_load_file(path, 0, NULL);
    if (index == NULL) {
        printf("corpus: skipped, %s not found (set SHARED)\n", path);
        return;
    }
    printf("1. corpus: check time per file (median of 3, parse excluded) and "
           "peak memory of the process checking it\n");
    double etcd, kv1, kv2;
    corpus_set(shared, index, "etcd/", 1, true, &etcd);
    corpus_set(shared, index, "kv/", 1, true, &kv1);
    corpus_set(shared, index, "kv/", 2, false, &kv2);
    printf("  Porcupine (same machine kind): etcd 405 ms, kv 188 ms (c50-ok "
           "167 ms), about 60 MB\n");
    printf("  ratio Porcupine/faultline: etcd %.1fx, kv %.1fx (1 thread), "
           "%.1fx (2 threads)\n", 405 / etcd, 188 / kv1, 188 / kv2);
    json_decref(index);
}

/* ---- 2 and 3: one case per child ------------------------------------------------ */

typedef struct child_report {
    double gen_ms, check_ms;
    size_t ops;
    checker_verdict verdict;
} child_report;

/* Run fn in a child; print its report with the child's peak RSS. */
static void in_child(const char *label, void (*fn)(const void *, child_report *),
                     const void *arg)
{
    int fds[2];
    if (pipe(fds) != 0)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child_report r = {0};
        fn(arg, &r);
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    child_report r = {0};
    ssize_t got = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    if (got != (ssize_t)sizeof r) {
        printf("  %-34s failed (child status %d)\n", label, status);
        return;
    }
    printf("  %-34s %8zu ops  gen %7.0f ms  check %8.1f ms  %10.0f ops/s  "
           "peak %6.1f MB  %s\n",
           label, r.ops, r.gen_ms, r.check_ms,
           r.check_ms > 0 ? r.ops / (r.check_ms / 1e3) : 0,
           ru.ru_maxrss / 1024.0, verdict_name(r.verdict));
}

typedef struct unsplit_case {
    const char *path;
} unsplit_case;

static void run_unsplit(const void *arg, child_report *r)
{
    const unsplit_case *c = arg;
    history *h = NULL;
    fl_error err = {0};
    if (history_read_file(c->path, HISTORY_FORMAT_UNKNOWN, &h, &err) != FL_OK)
        return;
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("kv-append");
    opt.no_split = true;
    opt.threads = 1;
    opt.time_limit_s = 60;
    r->ops = history_len(h) / 2;
    r->check_ms = time_check(h, &opt, &r->verdict);
    history_free(h);
}

static void bench_unsplit(const char *shared)
{
    printf("2. kv histories checked whole (--no-split, 1 thread, 60 s limit)\n");
    const char *files[] = {"c10-ok", "c10-bad"};
    for (int i = 0; i < 2; i++) {
        char path[4096], label[64];
        snprintf(path, sizeof path, "%s/corpus/kv/%s.jsonl", shared, files[i]);
        if (access(path, R_OK) != 0) {
            printf("  %s: skipped, not found\n", path);
            continue;
        }
        unsplit_case c = {path};
        snprintf(label, sizeof label, "kv/%s unsplit", files[i]);
        in_child(label, run_unsplit, &c);
    }
    printf("  Porcupine unsplit on the 10-client files: 2.3-2.9 s, 293 MB\n");
}

typedef struct gen_case {
    size_t ops, keys, processes;
    int threads;
} gen_case;

static void run_generated(const void *arg, child_report *r)
{
    const gen_case *c = arg;
    histgen_options g = {.ops = c->ops, .keys = c->keys,
                         .processes = c->processes, .info_rate = 0.15,
                         .seed = 42};
    history *h = NULL;
    fl_error err = {0};
    double t0 = now_ms();
    if (histgen_generate(&g, &h, &err) != FL_OK)
        return;
    r->gen_ms = now_ms() - t0;
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.threads = c->threads;
    opt.time_limit_s = 30;
    opt.memory_limit_mb = 2048;
    r->ops = c->ops;
    r->check_ms = time_check(h, &opt, &r->verdict);
    history_free(h);
}

static void bench_generated(void)
{
    printf("3. generated cas-register histories, 15%% info, 1 thread "
           "(30 s / 2 GB limits)\n");
    static const gen_case cases[] = {
        {10000, 1, 5, 1},     {10000, 10, 10, 1},   {10000, 1000, 50, 1},
        {100000, 1, 5, 1},    {100000, 10, 10, 1},  {100000, 1000, 50, 1},
        {1000000, 10, 10, 1}, {1000000, 1000, 50, 1}, {1000000, 1000, 50, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char label[64];
        snprintf(label, sizeof label, "%zu keys, %zu procs, %d thread%s",
                 cases[i].keys, cases[i].processes, cases[i].threads,
                 cases[i].threads == 1 ? "" : "s");
        in_child(label, run_generated, &cases[i]);
    }
    printf("  target: 1M ops over 1000 keys with 15%% info in < 5 s on one "
           "core, < 512 MB\n");
}

int main(void)
{
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    /* children first, so their peak memory does not include pages
     * inherited from the corpus part */
    bench_unsplit(shared);
    bench_generated();
    bench_corpus(shared);
    return 0;
}
