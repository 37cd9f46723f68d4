/*
 * bench_sc_scale: sequential consistency at scale (issue 24). Its own
 * generators write register histories as JSONL, and `faultline check`
 * (the release build next to this binary's tree, build/faultline) judges
 * each in a child process, by default (both verdicts) and with
 * --consistency linearizable; the table gives wall time, peak memory
 * (the child's maximum resident set), both verdicts, each half's time
 * (the result's elapsed_ms) and the linearizability-only time beside.
 *
 *   single key: 5 and 50 threads, 15% info (a process whose op ended info
 *     goes on as a new one, as Jepsen's do: ~7,000 process ids at 100k
 *     ops), 10k / 100k / 1M ops, unique values; valid (each op takes
 *     effect at its completion), and with one stale read (a read mid-way
 *     returns the initial value, overwritten long before it began —
 *     with 50 threads a less stale value can be explained by reordering
 *     concurrent writes);
 *   the search alone: one key, values 1..5 repeated (so checkers/sc_graph
 *     declines), 20k ops over 10 / 1,000 / 10,000 process ids, SC (lagging
 *     replicas): configurations explored and the time per configuration
 *     (the sequential half's elapsed time over them: an upper bound, the
 *     guide and the setup included); `--search` stops after these rows;
 *   Porcupine's kv corpus: the six files in one process, default
 *     `--consistency both` against linearizable, the median of 7 runs;
 *   multi-key: 10 and 50 processes over 8 keys, 2k / 10k / 100k ops,
 *     SC by construction (lagging replicas: one log of writes, each
 *     process reading from a prefix of it that only grows and holds its
 *     own writes — so not linearizable) and with one cross-key violation
 *     (two processes each write a key and then read the other's old
 *     value, neither seeing the other's write: Dekker).
 *
 * Deterministic (seeded). Figures, never assertions; timings on a shared
 * machine are contention figures.
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAULTLINE "build/faultline"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static void value(FILE *f, int64_t v)
{
    if (v == 0)
        fputs("null", f);
    else
        fprintf(f, "%lld", (long long)v);
}

/* ---- single key ------------------------------------------------------------ */

typedef struct client {
    int64_t process;
    bool busy, write;
    int64_t arg;
    int64_t overwritten; /* a read: the value before the one current at its
                            invocation (nonzero: a write had completed) */
} client;

static void single_key(const char *path, size_t ops, unsigned threads,
                       bool stale, uint64_t seed)
{
    rng_state = seed;
    FILE *f = fopen(path, "w");
    client *c = calloc(threads, sizeof *c);
    int64_t cur = 0, prev = 0, next_value = 1, next_process = threads;
    size_t invoked = 0, stale_at = ops / 2;
    bool staled = false;
    for (unsigned i = 0; i < threads; i++)
        c[i].process = i;
    for (;;) {
        client *k = &c[below(threads)];
        if (!k->busy) {
            if (invoked == ops) {
                bool any = false;
                for (unsigned i = 0; i < threads; i++)
                    any |= c[i].busy;
                if (!any)
                    break;
                continue;
            }
            k->busy = true;
            k->write = below(2);
            k->arg = k->write ? next_value++ : 0;
            k->overwritten = prev;
            fprintf(f, "{\"process\":%lld,\"type\":\"invoke\",\"f\":\"%s\",\"value\":",
                    (long long)k->process, k->write ? "write" : "read");
            value(f, k->arg);
            fputs("}\n", f);
            invoked++;
            continue;
        }
        k->busy = false;
        bool info = below(100) < 15;
        if (k->write && (!info || below(2))) { /* takes effect now */
            prev = cur;
            cur = k->arg;
        }
        int64_t out = cur;
        if (!k->write && !info && stale && !staled && invoked >= stale_at &&
            k->overwritten != 0) {
            out = 0; /* the initial value, long overwritten */
            staled = true;
        }
        fprintf(f, "{\"process\":%lld,\"type\":\"%s\",\"f\":\"%s\",\"value\":",
                (long long)k->process, info ? "info" : "ok",
                k->write ? "write" : "read");
        value(f, k->write ? k->arg : info ? 0 : out);
        fputs("}\n", f);
        if (info)
            k->process = next_process++;
    }
    fclose(f);
    free(c);
}

/* ---- multi-key: lagging replicas ------------------------------------------- */

#define KEYS 8

typedef struct logw {
    unsigned key;
    int64_t v;
} logw;

static void event(FILE *f, int64_t p, const char *type, const char *fn,
                  unsigned key, int64_t v)
{
    fprintf(f, "{\"process\":%lld,\"type\":\"%s\",\"f\":\"%s\",\"key\":%u,\"value\":",
            (long long)p, type, fn, key);
    value(f, v);
    fputs("}\n", f);
}

/* The value of key at log prefix len (0: initial): scanning back. */
static int64_t read_at(const logw *log, size_t len, unsigned key)
{
    for (size_t i = len; i-- > 0;)
        if (log[i].key == key)
            return log[i].v;
    return 0;
}

static void multi_key(const char *path, size_t ops, unsigned procs,
                      bool violation, uint64_t seed)
{
    rng_state = seed;
    FILE *f = fopen(path, "w");
    logw *log = malloc((ops + 4) * sizeof *log);
    size_t *view = calloc(procs, sizeof *view), nlog = 0;
    int64_t *pid = malloc(procs * sizeof *pid), next_process = procs;
    int64_t next_value = 1;
    for (unsigned i = 0; i < procs; i++)
        pid[i] = i;
    for (size_t n = 0; n < ops;) {
        if (violation && n == ops / 2 && procs >= 2) { /* Dekker, once */
            /* two keys of their own, so nothing else orders the writes:
             * each read of the initial value must precede the other's
             * write, which follows its own read's writer... a cycle */
            unsigned p = 0, q = 1, x = KEYS, y = KEYS + 1;
            int64_t a = next_value++, b = next_value++, old_y = 0, old_x = 0;
            event(f, pid[p], "invoke", "write", x, a);
            event(f, pid[p], "ok", "write", x, a);
            event(f, pid[q], "invoke", "write", y, b);
            event(f, pid[q], "ok", "write", y, b);
            event(f, pid[p], "invoke", "read", y, 0);
            event(f, pid[p], "ok", "read", y, old_y);
            event(f, pid[q], "invoke", "read", x, 0);
            event(f, pid[q], "ok", "read", x, old_x);
            log[nlog++] = (logw){x, a};
            log[nlog++] = (logw){y, b};
            view[p] = view[q] = nlog;
            n += 4;
            continue;
        }
        unsigned p = below(procs), key = below(KEYS);
        /* the view catches up a random part of the way */
        if (below(4) == 0)
            view[p] += below((unsigned)(nlog - view[p]) + 1);
        bool write = below(3) == 0, info = below(100) < 5;
        if (write) {
            int64_t v = next_value++;
            event(f, pid[p], "invoke", "write", key, v);
            if (!info || below(2)) {
                log[nlog++] = (logw){key, v};
                view[p] = nlog;
            }
            event(f, pid[p], info ? "info" : "ok", "write", key, v);
        } else {
            event(f, pid[p], "invoke", "read", key, 0);
            event(f, pid[p], "ok", "read", key, read_at(log, view[p], key));
        }
        if (write && info)
            pid[p] = next_process++;
        n++;
    }
    fclose(f);
    free(log);
    free(view);
    free(pid);
}

/* ---- running the check -------------------------------------------------------- */

typedef struct run {
    double wall_ms, lin_ms, sc_ms;
    long peak_kb;
    char lin[16], sc[16];
} run;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void verdict_word(const json_t *o, char *out)
{
    const json_t *v = json_object_get(o, "valid");
    snprintf(out, 16, "%s", json_is_true(v) ? "true" : json_is_false(v) ? "false"
                            : json_string_value(v) ? json_string_value(v) : "-");
}

/* `faultline check --model register --consistency C FLAG [--time-limit
 * S] path` in a child: its JSON (new reference, NULL when unreadable),
 * wall time and peak. limit NULL: the default budget. */
static json_t *run_check(const char *path, const char *consistency,
                         const char *flag, const char *limit, double *wall_ms,
                         long *peak_kb)
{
    char out[] = "/tmp/bench_sc_scale_outXXXXXX";
    int fd = mkstemp(out);
    double start = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 1);
        int null = open("/dev/null", 1);
        dup2(null, 2);
        if (limit != NULL)
            execl(FAULTLINE, FAULTLINE, "check", flag, "--model", "register",
                  "--consistency", consistency, "--time-limit", limit, path,
                  (char *)NULL);
        else
            execl(FAULTLINE, FAULTLINE, "check", flag, "--model", "register",
                  "--consistency", consistency, path, (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    *wall_ms = now_ms() - start;
    *peak_kb = ru.ru_maxrss;
    json_t *j = json_load_file(out, 0, NULL);
    close(fd);
    unlink(out);
    return j;
}

static void check(const char *path, bool lin_only, bool shrink, run *r)
{
    json_t *j = run_check(path, lin_only ? "linearizable" : "both",
                          shrink ? "--explain" : "--no-shrink", NULL,
                          &r->wall_ms, &r->peak_kb);
    const json_t *lin = lin_only ? j : json_object_get(j, "linearizable");
    const json_t *sc = json_object_get(j, "sequential");
    verdict_word(lin, r->lin);
    verdict_word(sc, r->sc);
    r->lin_ms = json_real_value(json_object_get(lin, "elapsed_ms"));
    r->sc_ms = json_real_value(json_object_get(sc, "elapsed_ms"));
    json_decref(j);
}

static void row(const char *name, const char *path, bool shrink)
{
    run both = {0}, lin = {0};
    check(path, false, shrink, &both);
    check(path, true, shrink, &lin);
    printf("%-34s %9.0f %7ld  %-7s %-7s %9.1f %9.1f %7.2f  %9.1f\n", name,
           both.wall_ms, both.peak_kb / 1024, both.lin, both.sc, both.lin_ms,
           both.sc_ms, both.lin_ms > 0 ? both.sc_ms / both.lin_ms : 0,
           lin.wall_ms);
    fflush(stdout);
}

/* ---- the search alone: values repeated, many process ids --------------------- */

/*
 * One key, values from 1..5 (so checkers/sc_graph declines and the search
 * must run), `ops` ops over `procs` process ids, each a lagging replica:
 * it reads from a prefix of the one log of writes that only grows and
 * holds its own writes. SC by construction, not linearizable (stale
 * reads), so `--consistency sequential` runs the search on the key.
 */
static void search_only(const char *path, size_t ops, unsigned procs,
                        uint64_t seed)
{
    rng_state = seed;
    FILE *f = fopen(path, "w");
    int64_t *log = malloc((ops + 1) * sizeof *log);
    size_t *view = calloc(procs, sizeof *view), nlog = 0;
    for (size_t n = 0; n < ops; n++) {
        unsigned p = below(procs);
        if (below(4) == 0)
            view[p] += below((unsigned)(nlog - view[p]) + 1);
        if (below(3) == 0) {
            int64_t v = 1 + below(5);
            event(f, p, "invoke", "write", 0, v);
            event(f, p, "ok", "write", 0, v);
            log[nlog++] = v;
            view[p] = nlog;
        } else {
            event(f, p, "invoke", "read", 0, 0);
            event(f, p, "ok", "read", 0, view[p] ? log[view[p] - 1] : 0);
        }
    }
    fclose(f);
    free(log);
    free(view);
}

static void search_row(const char *path, size_t ops, unsigned procs)
{
    double wall;
    long peak_kb;
    json_t *j = run_check(path, "sequential", "--no-shrink", "60", &wall,
                          &peak_kb);
    char v[16];
    const json_t *sc = json_object_get(j, "sequential");
    verdict_word(sc, v);
    double ms = json_real_value(json_object_get(sc, "elapsed_ms"));
    json_int_t explored = json_integer_value(json_object_get(sc, "explored"));
    printf("1 key %6zu ops %6u process ids     %9.0f %7ld  %-7s %10lld %9.1f %9.2f\n",
           ops, procs, wall, peak_kb / 1024, v, (long long)explored, ms,
           explored > 0 ? ms * 1e3 / (double)explored : 0);
    fflush(stdout);
    json_decref(j);
}

/* ---- Porcupine's kv corpus, whole process ---------------------------------------- */

/* The wall time of `faultline check --model kv-append [--consistency C]`
 * on the six kv files in one process, the median of `runs`; -1: the
 * corpus is absent. */
static double kv_corpus_ms(const char *dir, const char *consistency, int runs,
                           long *peak_kb)
{
    static const char *const names[] = {"c01-bad", "c01-ok", "c10-bad",
                                        "c10-ok", "c50-bad", "c50-ok"};
    char files[6][4096];
    for (int k = 0; k < 6; k++) {
        snprintf(files[k], sizeof files[k], "%s/kv/%s.jsonl", dir, names[k]);
        if (access(files[k], R_OK) != 0)
            return -1;
    }
    double t[16];
    for (int r = 0; r < runs && r < 16; r++) {
        double start = now_ms();
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execl(FAULTLINE, FAULTLINE, "check", "--model", "kv-append",
                  "--consistency", consistency, files[0], files[1], files[2],
                  files[3], files[4], files[5], (char *)NULL);
            _exit(127);
        }
        int status;
        struct rusage ru;
        wait4(pid, &status, 0, &ru);
        t[r] = now_ms() - start;
        *peak_kb = ru.ru_maxrss;
    }
    for (int i = 1; i < runs; i++) /* sort: the median */
        for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return t[runs / 2];
}

static void kv_corpus_row(void)
{
    const char *shared = getenv("SHARED");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/corpus", shared ? shared : "../shared");
    long both_kb = 0, lin_kb = 0;
    double both = kv_corpus_ms(dir, "both", 7, &both_kb);
    double lin = kv_corpus_ms(dir, "linearizable", 7, &lin_kb);
    if (both < 0 || lin < 0) {
        printf("kv corpus: %s/kv absent, skipped\n", dir);
        return;
    }
    printf("kv corpus (6 files, one process, default shrinking; median of 7): "
           "both %.1f ms %ld MB, linearizable %.1f ms %ld MB, ratio %.2f\n",
           both, both_kb / 1024, lin, lin_kb / 1024, both / lin);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (access(FAULTLINE, X_OK) != 0) {
        fprintf(stderr, "bench_sc_scale: %s not built\n", FAULTLINE);
        return 1;
    }
    char dir[] = "/tmp/bench_sc_scaleXXXXXX", path[256], name[64];
    if (mkdtemp(dir) == NULL)
        return 1;
    printf("the search alone (`--consistency sequential`, values repeated: "
           "the graph declines)\n");
    printf("%-42s %9s %7s  %-7s %10s %9s %9s\n", "history", "wall ms", "peak MB",
           "sc", "explored", "sc ms", "us/conf");
    static const unsigned ids[] = {10, 1000, 10000};
    for (size_t k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/search.jsonl", dir);
        search_only(path, 20000, ids[k], 5);
        search_row(path, 20000, ids[k]);
        unlink(path);
    }
    kv_corpus_row();
    if (argc > 1 && strcmp(argv[1], "--search") == 0) {
        rmdir(dir);
        return 0;
    }
    printf("default `faultline check --no-shrink --model register` (both) vs "
           "--consistency linearizable (\"shrinking\": without --no-shrink)\n");
    printf("%-34s %9s %7s  %-7s %-7s %9s %9s %7s  %9s\n", "history", "wall ms",
           "peak MB", "lin", "sc", "lin ms", "sc ms", "sc/lin", "lin-only ms");
    static const size_t single[] = {10000, 100000, 1000000};
    static const unsigned threads[] = {5, 50};
    for (size_t s = 0; s < (quick ? 2u : 3u); s++)
        for (size_t t = 0; t < 2; t++)
            for (int stale = 0; stale < 2; stale++) {
                snprintf(path, sizeof path, "%s/single.jsonl", dir);
                single_key(path, single[s], threads[t], stale, 7 + s);
                snprintf(name, sizeof name, "1 key %zuk ops %u thr %s",
                         single[s] / 1000, threads[t], stale ? "stale" : "valid");
                row(name, path, false);
            }
    if (!quick) { /* the plain default: shrinking too */
        snprintf(path, sizeof path, "%s/single.jsonl", dir);
        single_key(path, 1000000, 5, true, 9);
        row("1 key 1000k 5 thr stale, shrinking", path, true);
    }
    static const size_t multi[] = {2000, 10000, 100000};
    static const unsigned procs[] = {10, 50};
    for (size_t s = 0; s < (quick ? 2u : 3u); s++)
        for (size_t t = 0; t < 2; t++)
            for (int bad = 0; bad < 2; bad++) {
                snprintf(path, sizeof path, "%s/multi.jsonl", dir);
                multi_key(path, multi[s], procs[t], bad, 11 + s);
                snprintf(name, sizeof name, "%d keys %zuk ops %u procs %s", KEYS,
                         multi[s] / 1000, procs[t], bad ? "dekker" : "sc");
                row(name, path, false);
            }
    snprintf(path, sizeof path, "%s/single.jsonl", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/multi.jsonl", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}
