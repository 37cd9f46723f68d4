/*
 * bench_history: how reading and writing histories scales. Writes
 * register histories of 100k and 1M operations (200k and 2M events) to a
 * temporary directory as JSONL and EDN, reads them back, and prints
 * events/second and the cost ratio per 10x of size: about 10 means linear.
 * Then the parse rate (MB/s, events/s) of a generated 1M-op, 1000-key
 * cas-register history written as the recorder writes it (with times),
 * next to the time the linearizability check of it takes: read on one
 * thread and on every core (history_jsonl_par.c), and the whole
 * `faultline check` process on it (best and all of 3, peak RSS).
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkers/lin_model.h"
#include "checkers/linearizable.h"
#include "workloads/histgen.h"

#include "history/history.h"
#include "history/history_internal.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 10 processes, 100 keys; every 7th op ends info (its process retires). */
static history *make_history(long ops)
{
    history *h = history_new();
    fl_error err = {0};
    int64_t next_process = 10;
    int64_t proc[10];
    for (int i = 0; i < 10; i++)
        proc[i] = i;
    for (long i = 0; i < ops; i++) {
        int slot = (int)(i % 10);
        json_t *key = json_integer(i % 100);
        json_t *value = json_integer(i);
        bool is_read = i % 3 == 0;
        history_input in = {.index = HISTORY_AUTO_INDEX, .time = i * 1000,
                            .process = proc[slot], .type = HISTORY_INVOKE,
                            .f = is_read ? "read" : "write", .key = key,
                            .value = is_read ? NULL : value};
        if (history_append(h, &in, &err) != FL_OK)
            goto fail;
        in.time += 500;
        in.type = i % 7 == 0 ? HISTORY_INFO : HISTORY_OK;
        in.value = value;
        if (history_append(h, &in, &err) != FL_OK)
            goto fail;
        if (in.type == HISTORY_INFO)
            proc[slot] = next_process++;
        json_decref(key);
        json_decref(value);
        continue;
    fail:
        fprintf(stderr, "bench_history: %s\n", err.msg);
        exit(1);
    }
    return h;
}

typedef struct timing {
    double write_jsonl, read_jsonl, write_edn, read_edn;
} timing;

static double timed_write(const history *h, const char *path)
{
    fl_error err = {0};
    double t0 = now_s();
    if (history_write_file(h, path, HISTORY_FORMAT_UNKNOWN, &err) != FL_OK) {
        fprintf(stderr, "bench_history: %s\n", err.msg);
        exit(1);
    }
    return now_s() - t0;
}

static double file_mb(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size / 1e6 : 0;
}

static double timed_read(const char *path, size_t expect)
{
    fl_error err = {0};
    history *h = NULL;
    double t0 = now_s();
    if (history_read_file(path, HISTORY_FORMAT_UNKNOWN, &h, &err) != FL_OK) {
        fprintf(stderr, "bench_history: %s\n", err.msg);
        exit(1);
    }
    double t = now_s() - t0;
    if (history_len(h) != expect) {
        fprintf(stderr, "bench_history: read %zu events, wrote %zu\n",
                history_len(h), expect);
        exit(1);
    }
    history_free(h);
    return t;
}

static timing run(long ops, const char *dir)
{
    char jsonl[4096], edn[4096];
    snprintf(jsonl, sizeof jsonl, "%s/h%ld.jsonl", dir, ops);
    snprintf(edn, sizeof edn, "%s/h%ld.edn", dir, ops);
    history *h = make_history(ops);
    size_t n = history_len(h);
    timing t = {
        .write_jsonl = timed_write(h, jsonl),
        .write_edn = timed_write(h, edn),
    };
    history_free(h);
    double mb = file_mb(jsonl);
    t.read_jsonl = timed_read(jsonl, n);
    t.read_edn = timed_read(edn, n);
    unlink(jsonl);
    unlink(edn);
    printf("%9ld ops %9zu events | jsonl read %6.2f s (%5.2f M ev/s, %4.0f "
           "MB/s) write %6.2f s | edn read %6.2f s (%5.2f M ev/s) write "
           "%6.2f s\n",
           ops, n, t.read_jsonl, n / t.read_jsonl / 1e6, mb / t.read_jsonl,
           t.write_jsonl, t.read_edn, n / t.read_edn / 1e6, t.write_edn);
    return t;
}

/* histgen's history, every event stamped with a time, as the recorder
 * writes them: the shape `faultline check` meets. */
static history *timed_histgen(size_t ops, size_t keys)
{
    histgen_options g = {.ops = ops, .keys = keys, .processes = 50,
                         .info_rate = 0.15, .seed = 1};
    history *raw = NULL, *h = history_new();
    fl_error err = {0};
    if (h == NULL || histgen_generate(&g, &raw, &err) != FL_OK)
        goto fail;
    const history_event *e = history_events(raw);
    for (size_t i = 0; i < history_len(raw); i++) {
        history_input in = {
            .index = e[i].index, .time = (int64_t)i * 1500,
            .process = e[i].process, .type = e[i].type,
            .f = history_name(raw, e[i].f),
            .key = e[i].key == HISTORY_NONE ? NULL : history_value(raw, e[i].key),
            .value = history_value(raw, e[i].value),
            .error = e[i].error == HISTORY_NONE ? NULL
                                                : history_value(raw, e[i].error),
        };
        if (history_append(h, &in, &err) != FL_OK)
            goto fail;
    }
    history_free(raw);
    return h;
fail:
    fprintf(stderr, "bench_history: %s\n", err.msg[0] ? err.msg : "out of memory");
    exit(1);
}

/* Read path on one thread (the reader below the parallel one), or as
 * history_read_file reads it (on every core, for a file this big). */
static history *timed_parse(const char *path, bool one_thread, double *t)
{
    fl_error err = {0};
    history *h = NULL;
    FILE *f = fopen(path, "r");
    double t0 = now_s();
    int rc = f == NULL ? FL_ENOINPUT
             : one_thread ? history_read_jsonl_with(f, path, true, &h, &err)
                          : history_read_jsonl(f, path, &h, &err);
    *t = now_s() - t0;
    if (f != NULL)
        fclose(f);
    if (rc != FL_OK) {
        fprintf(stderr, "bench_history: %s: %s\n", path, err.msg);
        exit(1);
    }
    return h;
}

/* `faultline check --model cas-register path`, whole process: wall time
 * and peak RSS (MB), or -1 when it could not be run. fork, not
 * posix_spawn: a child that shares this process's memory until it execs
 * inherits its high-water mark (a GB, from the history built above) as
 * its own peak RSS; a forked one starts from what is resident now. */
static double timed_cli(const char *path, double *rss_mb)
{
    const char *fl = getenv("FAULTLINE") ? getenv("FAULTLINE") : "build/faultline";
    char *argv[] = {(char *)fl, "check", "--model", "cas-register",
                    (char *)path, NULL};
    malloc_trim(0);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(fl, argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return -1;
    *rss_mb = ru.ru_maxrss / 1024.0;
    return now_s() - t0;
}

static void whole_process(const char *path)
{
    double best = 1e9, rss = 0, t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = timed_cli(path, &rss);
        if (t[i] < 0) {
            printf("  faultline check: could not run build/faultline (set "
                   "FAULTLINE)\n");
            return;
        }
        best = t[i] < best ? t[i] : best;
    }
    double load[1] = {0};
    getloadavg(load, 1);
    printf("  faultline check --model cas-register, whole process: best %.2f s "
           "(%.2f, %.2f, %.2f), peak RSS %.0f MB, load average %.2f\n",
           best, t[0], t[1], t[2], rss, load[0]);
}

/* Parse rate and check time, side by side, for 1M ops over 1000 keys. */
static void parse_then_check(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/gen.jsonl", dir);
    history *h = timed_histgen(1000000, 1000);
    size_t n = history_len(h);
    timed_write(h, path);
    history_free(h);
    double mb = file_mb(path), one, parse;
    history_free(timed_parse(path, true, &one));
    h = timed_parse(path, false, &parse);
    fl_error err = {0};
    lin_options opt;
    lin_options_init(&opt);
    opt.model = lin_model_find("cas-register");
    lin_result *r = NULL;
    double t0 = now_s();
    if (lin_check(h, &opt, &r, &err) != FL_OK) {
        fprintf(stderr, "bench_history: %s\n", err.msg);
        exit(1);
    }
    double check = now_s() - t0;
    printf("1M ops, 1000 keys, %.0f MB: parse on 1 thread %.2f s (%.0f MB/s, "
           "%.2f M events/s), on %ld cores %.2f s (%.0f MB/s, %.2f M "
           "events/s) | check %.2f s (%s) | parse + check %.2f s\n",
           mb, one, mb / one, n / one / 1e6, sysconf(_SC_NPROCESSORS_ONLN),
           parse, mb / parse, n / parse / 1e6, check,
           lin_result_verdict(r) == CHECKER_VALID ? "valid" : "NOT valid",
           parse + check);
    lin_result_free(r);
    history_free(h);
    whole_process(path);
    unlink(path);
    printf("  target: faultline check on this history in < 2 s whole process "
           "(2026-12-01 before the fast path: parse 8.1 s, 3-4 us an event; "
           "before parallel parsing: 2.5-3.2 s)\n");
}

int main(void)
{
    char dir[] = "/tmp/faultline-bench-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    printf("== history I/O (register ops, 100 keys, 1/7 info)\n");
    timing small = run(100000, dir);
    timing big = run(1000000, dir);
    printf("cost ratio for 10x the events (10 = linear): jsonl read %.1f, "
           "edn read %.1f\n",
           big.read_jsonl / small.read_jsonl, big.read_edn / small.read_edn);
    parse_then_check(dir);
    rmdir(dir);
    return 0;
}
