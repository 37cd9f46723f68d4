/*
 * bench_unique: the hard case of issue #15 -- one key, 50 processes, 15%
 * info, 10k and 100k operations of a cas-register whose written values
 * are unique (workloads/histgen) -- valid, and with one stale read
 * injected, each checked with the unique-value decision
 * (checkers/unique_register.h) and with it off (--no-fast-path: the WGL
 * search alone, which is expected to run out of its budget).
 *
 * Each case runs in a child process, so its peak memory (maximum resident
 * set, the history included) is its own. With BENCH_UNIQUE_WRITE=DIR set,
 * the histories are also written there as JSONL, for `faultline check`.
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

#define SEARCH_LIMIT_S 30

typedef struct unique_case {
    size_t ops;
    bool stale;      /* one stale read injected */
    bool fast_path;
} unique_case;

typedef struct unique_report {
    double check_ms;
    checker_verdict verdict;
    bool decided_fast;
    long stale_index;  /* the event changed, -1 if none */
} unique_report;

static double unique_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The ok read at about 60% of h, and the output of an ok read that
 * completed at least `gap` events before it began and saw another value:
 * with unique values the register cannot hold that one again. */
static bool unique_pick_stale(const history *h, size_t gap, size_t *at,
                              uint32_t *value)
{
    const history_event *ev = history_events(h);
    size_t n = history_len(h);
    uint32_t read = history_name_find(h, "read");
    for (size_t i = n * 6 / 10; i < n; i++) {
        const history_event *e = &ev[i];
        if (e->type != HISTORY_OK || e->f != read ||
            e->pair < gap)
            continue;
        for (size_t k = e->pair - gap; k-- > 0;) {
            if (ev[k].type == HISTORY_OK && ev[k].f == read &&
                ev[k].value != e->value) {
                *at = i;
                *value = ev[k].value;
                return true;
            }
        }
    }
    return false;
}

/* A copy of h with event `at` given `value`. */
static history *unique_with_value(const history *h, size_t at, uint32_t value)
{
    const history_event *ev = history_events(h);
    history *out = history_new();
    for (size_t i = 0; out != NULL && i < history_len(h); i++) {
        const history_event *e = &ev[i];
        history_input in = {
            .index = e->index, .time = e->time, .process = e->process,
            .type = e->type, .f = history_name(h, e->f),
            .key = e->key == HISTORY_NONE ? NULL : history_value(h, e->key),
            .value = history_value(h, i == at ? value : e->value),
        };
        fl_error err = {0};
        if (history_append(out, &in, &err) != FL_OK) {
            history_free(out);
            return NULL;
        }
    }
    return out;
}

static history *unique_history(const unique_case *c, long *stale_index)
{
    histgen_options g = {.ops = c->ops, .keys = 1, .processes = 50,
                         .info_rate = 0.15, .seed = 15};
    history *h = NULL;
    fl_error err = {0};
    *stale_index = -1;
    if (histgen_generate(&g, &h, &err) != FL_OK)
        return NULL;
    if (!c->stale)
        return h;
    size_t at;
    uint32_t value;
    history *bad = NULL;
    if (unique_pick_stale(h, 2000, &at, &value)) {
        bad = unique_with_value(h, at, value);
        *stale_index = (long)history_events(h)[at].index;
    }
    history_free(h);
    return bad;
}

static void unique_write(const history *h, const unique_case *c)
{
    const char *dir = getenv("BENCH_UNIQUE_WRITE");
    if (dir == NULL || !c->fast_path)
        return;
    char path[4096];
    fl_error err = {0};
    snprintf(path, sizeof path, "%s/unique-%zuk-%s.jsonl", dir, c->ops / 1000,
             c->stale ? "stale" : "ok");
    if (history_write_file(h, path, HISTORY_FORMAT_JSONL, &err) != FL_OK)
        fprintf(stderr, "bench_unique: %s\n", err.msg);
}

static void unique_child(const unique_case *c, unique_report *r)
{
    history *h = unique_history(c, &r->stale_index);
    if (h == NULL)
        return;
    unique_write(h, c);
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    opt.threads = 1;
    opt.time_limit_s = SEARCH_LIMIT_S;
    opt.memory_limit_mb = 2048;
    opt.shrink = true;
    opt.no_fast_path = !c->fast_path;
    lin_result *res = NULL;
    fl_error err = {0};
    double t0 = unique_now_ms();
    if (lin_check(h, &opt, &res, &err) != FL_OK) {
        fprintf(stderr, "bench_unique: %s\n", err.msg);
        history_free(h);
        return;
    }
    r->check_ms = unique_now_ms() - t0;
    r->verdict = lin_result_verdict(res);
    json_t *j = lin_result_to_json(res, h);
    const json_t *k = json_object_get(json_object_get(j, "per_key"), "0");
    r->decided_fast = json_object_get(k, "decided_by") != NULL;
    json_decref(j);
    lin_result_free(res);
    history_free(h);
}

static void unique_run(const unique_case *c)
{
    int fds[2];
    if (pipe(fds) != 0)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        unique_report r = {.verdict = CHECKER_UNKNOWN, .stale_index = -1};
        unique_child(c, &r);
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    unique_report r;
    ssize_t got = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    char label[96];
    snprintf(label, sizeof label, "%zuk ops, %s, %s", c->ops / 1000,
             c->stale ? "stale read" : "valid",
             c->fast_path ? "unique-value path" : "--no-fast-path");
    if (got != (ssize_t)sizeof r) {
        printf("  %-42s failed (child status %d)\n", label, status);
        return;
    }
    printf("  %-42s check %9.1f ms  peak %7.1f MB  %-7s%s", label, r.check_ms,
           ru.ru_maxrss / 1024.0, r.verdict == CHECKER_VALID     ? "valid"
                                  : r.verdict == CHECKER_INVALID ? "invalid"
                                                                 : "unknown",
           r.decided_fast ? "  (decided_by unique-values)" : "");
    if (r.stale_index >= 0)
        printf("  stale read at event %ld", r.stale_index);
    printf("\n");
}

int main(void)
{
    printf("1 key, 50 processes, 15%% info, cas-register, unique values "
           "(histgen seed 15), 1 thread,\n%d s / 2 GB limits, shrinking on; "
           "peak = the child's max RSS, history included\n", SEARCH_LIMIT_S);
    static const size_t sizes[] = {10000, 100000};
    for (size_t s = 0; s < 2; s++)
        for (int stale = 0; stale < 2; stale++)
            for (int fast = 1; fast >= 0; fast--) {
                unique_case c = {sizes[s], stale, fast};
                unique_run(&c);
            }
    return 0;
}
