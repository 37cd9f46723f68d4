/*
 * bench_single_key: how the linearizability search scales on one long
 * single-key history (issue #15, item 4). Generated valid cas-register
 * histories (workloads/histgen) of 10k, 100k and 1M operations, 15% info,
 * with 5 and 50 processes, all on one key, so no splitting by key helps.
 *
 * Each case runs in a child process, so its peak memory (maximum resident
 * set, history included) is its own. The limits (60 s, 2 GB) keep a case
 * that the search cannot decide from stalling the benchmark: it then says
 * "unknown". Target: 5 processes, 1M ops decided in < 10 s, < 1 GB. With
 * 50 processes the search itself (not its bookkeeping) is what grows: the
 * 1k-op row shows where it is still decided.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkers/lin_model.h"
#include "checkers/linearizable.h"
#include "workloads/histgen.h"

#define BENCH_TIME_LIMIT_S 60
#define BENCH_MEMORY_LIMIT_MB 2048

typedef struct sk_case {
    size_t ops, processes;
} sk_case;

typedef struct sk_report {
    double check_ms;
    int verdict; /* checker_verdict, -1 if the case could not run */
} sk_report;

static double sk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sk_run(const sk_case *c, sk_report *r)
{
    histgen_options g = {.ops = c->ops, .keys = 1, .processes = c->processes,
                         .info_rate = 0.15, .seed = 42};
    history *h = NULL;
    lin_result *res = NULL;
    fl_error err = {0};
    r->verdict = -1;
    if (histgen_generate(&g, &h, &err) != FL_OK)
        return;
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.threads = 1;
    opt.time_limit_s = BENCH_TIME_LIMIT_S;
    opt.memory_limit_mb = BENCH_MEMORY_LIMIT_MB;
    double t0 = sk_now_ms();
    if (lin_check(h, &opt, &res, &err) == FL_OK) {
        r->check_ms = sk_now_ms() - t0;
        r->verdict = (int)lin_result_verdict(res);
        lin_result_free(res);
    }
    history_free(h);
}

static const char *sk_verdict_name(int v)
{
    return v == CHECKER_VALID     ? "valid"
           : v == CHECKER_INVALID ? "invalid"
           : v == CHECKER_UNKNOWN ? "unknown"
                                  : "failed";
}

/* One row: the case in a child, its peak RSS from wait4. */
static void sk_row(const sk_case *c)
{
    int fds[2];
    if (pipe(fds) != 0)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        sk_report r = {0};
        sk_run(c, &r);
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    sk_report r = {.verdict = -1};
    if (read(fds[0], &r, sizeof r) != (ssize_t)sizeof r)
        r.verdict = -1;
    close(fds[0]);
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    printf("  | %5zu | %9zu | %10.1f | %8.1f | %-7s |\n", c->processes, c->ops,
           r.check_ms, ru.ru_maxrss / 1024.0, sk_verdict_name(r.verdict));
}

int main(void)
{
    static const sk_case cases[] = {
        {10000, 5},  {100000, 5},  {1000000, 5},
        {1000, 50}, {10000, 50}, {100000, 50}, {1000000, 50},
    };
    printf("single-key scaling: 1 key, cas-register, 15%% info, valid "
           "(histgen seed 42), 1 thread, %d s / %d MB limits\n",
           BENCH_TIME_LIMIT_S, BENCH_MEMORY_LIMIT_MB);
    printf("  | procs |       ops |   check ms |  peak MB | verdict |\n");
    printf("  |-------|-----------|------------|----------|---------|\n");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        sk_row(&cases[i]);
    printf("  target: 5 processes, 1M ops decided in < 10 s and < 1 GB\n");
    return 0;
}
