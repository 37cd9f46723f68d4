/*
 * bench_elle: the transactional checker (checkers/elle.h) on list-append
 * histories of 10k, 100k and 1M transactions (4 micro-ops at most, keys
 * retired after 32 appends, as Elle's default) from the simulated strict
 * serializable database of workloads/txn_sim.h, with 10 and 100
 * processes: valid, and with one stale read injected (a read missing the
 * last element, whose appender had completed before the reader began).
 *
 * Each case is written as JSONL (by a child process, so this one stays
 * small) and checked by `faultline check --checker elle` in another: the
 * figures are that whole process (reading the file included), wall time
 * and peak resident set. BENCH_ELLE_MAX
 * caps the sizes (e.g. 100000); BENCH_ELLE_DIR keeps the files.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workloads/txn_sim.h"

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The ok event (at 60% or later) of a txn whose first list read has 2+
 * elements and whose last element's appender completed before it was
 * invoked; SIZE_MAX if none. *mop is that read's index. */
static size_t pick_stale(const history *h, size_t *mop)
{
    const history_event *ev = history_events(h);
    size_t n = history_len(h);
    for (size_t i = n * 6 / 10; i < n; i++) {
        if (ev[i].type != HISTORY_OK)
            continue;
        const json_t *v = history_value(h, ev[i].value), *m;
        size_t j;
        json_array_foreach(v, j, m) {
            const json_t *l = json_array_get(m, 2);
            if (!json_is_array(l) || json_array_size(l) < 2)
                continue;
            const json_t *k = json_array_get(m, 1);
            const json_t *last = json_array_get(l, json_array_size(l) - 1);
            size_t inv = ev[i].pair;
            for (size_t a = inv; a-- > 0 && a + 20000 > inv;) {
                if (ev[a].type != HISTORY_OK)
                    continue;
                const json_t *w = history_value(h, ev[a].value), *x;
                size_t b;
                json_array_foreach(w, b, x)
                    if (strcmp(json_string_value(json_array_get(x, 0)),
                               "append") == 0 &&
                        json_equal(json_array_get(x, 1), k) &&
                        json_equal(json_array_get(x, 2), last)) {
                        *mop = j;
                        return i;
                    }
            }
        }
    }
    return SIZE_MAX;
}

/* Write h as JSONL, dropping the last element of the read at (at, mop). */
static int write_case(const history *h, size_t at, size_t mop,
                      const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    const history_event *ev = history_events(h);
    for (size_t i = 0; i < history_len(h); i++) {
        json_t *o = history_event_to_json(h, &ev[i]);
        if (at != SIZE_MAX && i == at) {
            json_t *v = json_deep_copy(json_object_get(o, "value"));
            json_t *l = json_array_get(json_array_get(v, mop), 2);
            json_array_remove(l, json_array_size(l) - 1);
            json_object_set_new(o, "value", v);
        }
        json_dumpf(o, f, JSON_COMPACT);
        fputc('\n', f);
        json_decref(o);
    }
    return fclose(f);
}

/* Run `faultline check --checker elle path`: exit code, wall ms, peak KB.
 * posix_spawn, not fork: a forked child's peak would count this process's
 * own pages (the generated history) until its exec. */
static int run_check(const char *faultline, const char *path, double *ms,
                     long *rss_kb)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)faultline, "check", "--checker", "elle",
                    (char *)path, NULL};
    double t0 = now_ms();
    pid_t pid;
    int rc = posix_spawn(&pid, faultline, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    int status;
    struct rusage ru;
    if (rc != 0 || wait4(pid, &status, 0, &ru) < 0)
        return -1;
    *ms = now_ms() - t0;
    *rss_kb = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Generate the case's history and write the valid and stale files, in a
 * child process: this one stays small, so the checks' peak memory is
 * theirs alone (a child's maximum resident set counts its parent's pages
 * up to its exec). 0, or -1 with a message printed. */
static int make_files(size_t txns, size_t procs, const char *valid,
                      const char *stale)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        txn_sim_options o = {
            .txns = txns, .processes = procs, .keys = procs,
            .key_writes = 32, .max_mops = 4, .list_append = true,
            .level = TXN_SIM_SERIAL, .seed = txns + procs,
        };
        history *h;
        fl_error err = {0};
        if (txn_sim_generate(&o, &h, &err) != FL_OK) {
            fprintf(stderr, "bench_elle: %s\n", err.msg);
            _exit(1);
        }
        size_t mop = 0, at = pick_stale(h, &mop);
        if (write_case(h, SIZE_MAX, 0, valid) != 0 ||
            (at != SIZE_MAX && write_case(h, at, mop, stale) != 0)) {
            fprintf(stderr, "bench_elle: %s\n", strerror(errno));
            _exit(1);
        }
        _exit(at == SIZE_MAX ? 2 : 0);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status) == 0 ? 0 : WEXITSTATUS(status) == 2 ? 1 : -1;
}

int main(void)
{
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    char faultline[512];
    snprintf(faultline, sizeof faultline, "%s/faultline", build);
    size_t max = getenv("BENCH_ELLE_MAX") ? strtoul(getenv("BENCH_ELLE_MAX"),
                                                    NULL, 10)
                                          : 1000000;
    char dir[] = "/tmp/bench_elle.XXXXXX";
    const char *out = getenv("BENCH_ELLE_DIR");
    if (out == NULL && mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    out = out ? out : dir;
    printf("%-9s %-6s %-7s %-9s %10s %10s %8s  %s\n", "txns", "procs",
           "case", "verdict", "wall ms", "txn/s", "peak MB", "file MB");
    const size_t sizes[] = {10000, 100000, 1000000};
    const size_t procs[] = {10, 100};
    int status = 0;
    for (size_t s = 0; s < 3 && sizes[s] <= max; s++)
        for (size_t p = 0; p < 2; p++) {
            char path[2][600];
            for (int stale = 0; stale < 2; stale++)
                snprintf(path[stale], sizeof path[stale],
                         "%s/elle-%zu-%zu-%s.jsonl", out, sizes[s], procs[p],
                         stale ? "stale" : "valid");
            int made = make_files(sizes[s], procs[p], path[0], path[1]);
            if (made < 0)
                return 1;
            for (int stale = 0; stale < 2; stale++) {
                if (stale && made == 1) {
                    printf("%-9zu %-6zu stale   (no read to make stale)\n",
                           sizes[s], procs[p]);
                    continue;
                }
                double ms = 0;
                long kb = 0;
                int rc = run_check(faultline, path[stale], &ms, &kb);
                const char *verdict = rc == 0 ? "valid" : rc == 1 ? "invalid"
                                                                  : "error";
                if (rc != stale)
                    status = 1; /* valid must be valid, stale invalid */
                FILE *f = fopen(path[stale], "r");
                long bytes = 0;
                if (f && fseek(f, 0, SEEK_END) == 0)
                    bytes = ftell(f);
                if (f)
                    fclose(f);
                printf("%-9zu %-6zu %-7s %-9s %10.0f %10.0f %8.0f  %.0f\n",
                       sizes[s], procs[p], stale ? "stale" : "valid", verdict,
                       ms, sizes[s] / (ms / 1e3), kb / 1024.0, bytes / 1e6);
                fflush(stdout);
                if (!getenv("BENCH_ELLE_DIR"))
                    unlink(path[stale]);
            }
        }
    if (!getenv("BENCH_ELLE_DIR"))
        rmdir(dir);
    if (status)
        printf("a valid history was not judged valid, or a stale one not "
               "invalid\n");
    return status;
}
