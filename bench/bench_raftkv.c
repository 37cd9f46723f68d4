/*
 * bench_raftkv: throughput and latency of a 3-node raftkv cluster on
 * loopback (127.0.0.11-13), and of etcd in the same shape when `etcd` is
 * installed, at each client concurrency in BENCH_THREADS (a list, default
 * 1,8,32). Each client thread keeps one HTTP connection to the leader and
 * issues, for BENCH_SECONDS (default 4), a 50/50
 * mix of writes and linearizable reads over 100 keys. Prints ops/s and
 * p50/p99 latency per kind, and the raftkv/etcd throughput ratio.
 * RAFTKV names the binary (default build/raftkv).
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_SAMPLES 2000000

typedef struct target {
    const char *name;
    char base[64];      /* http://leader:port */
    bool etcd;
} target;

typedef struct worker {
    const target *t;
    int id;
    double deadline;
    double *lat[2];     /* [0] writes, [1] reads, seconds */
    size_t n[2], errors;
} worker;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

static size_t keep(char *p, size_t sz, size_t n, void *ud)
{
    char *b = ud;
    size_t have = strlen(b), k = sz * n;
    if (have + k < 1024) {
        memcpy(b + have, p, k);
        b[have + k] = '\0';
    }
    return k;
}

/* GET url into out (<= 1 KiB); HTTP status or 0. */
static long get(const char *url, char *out)
{
    CURL *c = curl_easy_init();
    long code = 0;
    out[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 2L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    return code;
}

static void b64(const char *in, char *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n) v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)in[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

/* One operation; returns true on a 200. */
static bool one_op(CURL *c, const target *t, bool write, int key, long seq)
{
    char url[160], body[256], k[32], v[32], kb[64], vb[64];
    snprintf(k, sizeof k, "k%d", key);
    snprintf(v, sizeof v, "%ld", seq);
    if (t->etcd) {
        b64(k, kb);
        b64(v, vb);
        snprintf(url, sizeof url, "%s/v3/kv/%s", t->base, write ? "put" : "range");
        if (write)
            snprintf(body, sizeof body, "{\"key\":\"%s\",\"value\":\"%s\"}", kb, vb);
        else
            snprintf(body, sizeof body, "{\"key\":\"%s\"}", kb);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    } else {
        snprintf(url, sizeof url, "%s/kv/%s", t->base, k);
        snprintf(body, sizeof body, "{\"value\":%s}", v);
        if (write) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
        } else {
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
        }
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code == 200 || (!t->etcd && !write && code == 404);
}

static void *work(void *arg)
{
    worker *w = arg;
    CURL *c = curl_easy_init();
    unsigned seed = (unsigned)w->id * 7919u + 1;
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    for (long seq = 0; now_s() < w->deadline; seq++) {
        int write = rand_r(&seed) & 1;
        double t0 = now_s();
        bool ok = one_op(c, w->t, write, rand_r(&seed) % 100, seq);
        double dt = now_s() - t0;
        if (!ok)
            w->errors++;
        else if (w->n[!write] < MAX_SAMPLES / 16)
            w->lat[!write][w->n[!write]++] = dt;
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs the load; returns total ops/s. */
static double run_load(const target *t, int threads, double seconds)
{
    worker *w = calloc((size_t)threads, sizeof *w);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    double deadline = now_s() + seconds;
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){.t = t, .id = i, .deadline = deadline};
        w[i].lat[0] = malloc(MAX_SAMPLES / 16 * sizeof(double));
        w[i].lat[1] = malloc(MAX_SAMPLES / 16 * sizeof(double));
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    double total = 0;
    size_t errors = 0;
    printf("%-7s", t->name);
    for (int kind = 0; kind < 2; kind++) {
        size_t n = 0;
        for (int i = 0; i < threads; i++) {
            if (kind == 0)
                pthread_join(th[i], NULL);
            n += w[i].n[kind];
        }
        double *all = malloc((n ? n : 1) * sizeof *all);
        size_t k = 0;
        for (int i = 0; i < threads; i++) {
            memcpy(all + k, w[i].lat[kind], w[i].n[kind] * sizeof *all);
            k += w[i].n[kind];
            if (kind == 1)
                errors += w[i].errors;
        }
        qsort(all, n, sizeof *all, cmp);
        printf(" | %s %8.0f ops/s p50 %6.2f ms p99 %6.2f ms",
               kind ? "reads " : "writes", n / seconds,
               n ? all[n / 2] * 1e3 : 0, n ? all[n * 99 / 100] * 1e3 : 0);
        total += n / seconds;
        free(all);
    }
    printf(" | errors %zu\n", errors);
    for (int i = 0; i < threads; i++) {
        free(w[i].lat[0]);
        free(w[i].lat[1]);
    }
    free(w);
    free(th);
    return total;
}

/* Start argv with stdout and stderr appended to log (so a server's chatter
 * does not mix with the figures). */
static pid_t spawn(char **argv, const char *log)
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc ? -1 : pid;
}

static void stop_all(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGTERM);
            waitpid(pids[i], NULL, 0);
        }
}

/* Poll each node's status URL until one names itself leader (<= 20 s). */
static bool find_raftkv_leader(int cport, char *base, size_t n)
{
    char url[128], out[1024];
    for (int tries = 0; tries < 200; tries++) {
        for (int i = 1; i <= 3; i++) {
            snprintf(url, sizeof url, "http://127.0.0.1%d:%d/status", i, cport);
            if (get(url, out) == 200 && strstr(out, "\"role\":\"leader\"")) {
                snprintf(base, n, "http://127.0.0.1%d:%d", i, cport);
                return true;
            }
        }
        usleep(100000);
    }
    return false;
}

static double bench_raftkv(const char *dir, int port, int threads, double secs)
{
    const char *bin = getenv("RAFTKV") ? getenv("RAFTKV") : "build/raftkv";
    char peers[160], listen[3][32], data[3][300], log[3][300];
    pid_t pids[3] = {0};
    snprintf(peers, sizeof peers, "1=127.0.0.11:%d,2=127.0.0.12:%d,3=127.0.0.13:%d",
             port, port, port);
    for (int i = 0; i < 3; i++) {
        snprintf(listen[i], sizeof listen[i], "127.0.0.1%d:%d", i + 1, port);
        snprintf(data[i], sizeof data[i], "%s/raftkv%d", dir, i + 1);
        snprintf(log[i], sizeof log[i], "%s/raftkv%d.log", dir, i + 1);
        char id[4];
        snprintf(id, sizeof id, "%d", i + 1);
        char *argv[] = {(char *)bin, "--id", id, "--listen", listen[i],
                        "--peers", peers, "--data-dir", data[i], "--log",
                        log[i], NULL};
        pids[i] = spawn(argv, log[i]);
    }
    target t = {.name = "raftkv"};
    double ops = 0;
    if (find_raftkv_leader(port + 1000, t.base, sizeof t.base))
        ops = run_load(&t, threads, secs);
    else
        fprintf(stderr, "bench_raftkv: no raftkv leader within 20 s (%s)\n", bin);
    stop_all(pids, 3);
    return ops;
}

static double bench_etcd(const char *dir, int port, int threads, double secs)
{
    char cluster[256], data[3][300], log[3][300], name[3][8], curl_[3][64],
        purl[3][64];
    pid_t pids[3] = {0};
    snprintf(cluster, sizeof cluster,
             "e1=http://127.0.0.11:%d,e2=http://127.0.0.12:%d,e3=http://127.0.0.13:%d",
             port, port, port);
    for (int i = 0; i < 3; i++) {
        snprintf(name[i], sizeof name[i], "e%d", i + 1);
        snprintf(data[i], sizeof data[i], "%s/etcd%d", dir, i + 1);
        snprintf(log[i], sizeof log[i], "%s/etcd%d.log", dir, i + 1);
        snprintf(curl_[i], sizeof curl_[i], "http://127.0.0.1%d:%d", i + 1, port + 1000);
        snprintf(purl[i], sizeof purl[i], "http://127.0.0.1%d:%d", i + 1, port);
        char *argv[] = {"etcd", "--name", name[i], "--data-dir", data[i],
                        "--listen-client-urls", curl_[i],
                        "--advertise-client-urls", curl_[i],
                        "--listen-peer-urls", purl[i],
                        "--initial-advertise-peer-urls", purl[i],
                        "--initial-cluster", cluster,
                        "--initial-cluster-state", "new",
                        "--log-level", "error", NULL};
        pids[i] = spawn(argv, log[i]);
    }
    /* Any member forwards to the leader; wait until one answers a put. */
    target t = {.name = "etcd", .etcd = true};
    snprintf(t.base, sizeof t.base, "%s", curl_[0]);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 2L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    bool up = false;
    for (int i = 0; i < 200 && !(up = one_op(c, &t, true, 0, 0)); i++)
        usleep(100000);
    curl_easy_cleanup(c);
    double ops = up ? run_load(&t, threads, secs) : 0;
    if (!up)
        fprintf(stderr, "bench_raftkv: etcd did not come up within 20 s\n");
    stop_all(pids, 3);
    return ops;
}

static bool have_etcd(void)
{
    return system("command -v etcd >/dev/null 2>&1") == 0;
}

/* One concurrency: raftkv, then etcd, each on fresh data directories. */
static int bench_at(const char *dir, int port, int threads, double secs)
{
    char sub[256];
    snprintf(sub, sizeof sub, "%s/c%d", dir, threads);
    if (mkdir(sub, 0755) != 0)
        return 1;
    printf("== 3-node cluster on loopback, %d client thread%s, %.0f s, 50%% "
           "writes / 50%% linearizable reads, 100 keys\n", threads,
           threads == 1 ? "" : "s", secs);
    double r = bench_raftkv(sub, port, threads, secs);
    if (have_etcd()) {
        double e = bench_etcd(sub, port + 1, threads, secs);
        if (r > 0 && e > 0)
            printf("raftkv/etcd throughput ratio at %d threads: %.2f\n",
                   threads, r / e);
    } else {
        printf("etcd: skipped (no `etcd` in PATH; Debian package etcd-server)\n");
    }
    return r > 0 ? 0 : 1;
}

int main(void)
{
    /* BENCH_THREADS: a comma-separated list of client concurrencies */
    const char *list = getenv("BENCH_THREADS") ? getenv("BENCH_THREADS") : "1,8,32";
    double secs = getenv("BENCH_SECONDS") ? atof(getenv("BENCH_SECONDS")) : 4;
    char dir[] = "/tmp/bench_raftkv_XXXXXX", cmd[64];
    if (secs <= 0 || !mkdtemp(dir)) {
        fprintf(stderr, "bench_raftkv: bad BENCH_SECONDS or no tmp dir\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int port = 20000 + (int)(getpid() % 20000), rc = 0, round = 0;
    for (const char *p = list; *p; round++) {
        int threads = atoi(p);
        if (threads < 1) {
            fprintf(stderr, "bench_raftkv: bad BENCH_THREADS \"%s\"\n", list);
            rc = 1;
            break;
        }
        rc |= bench_at(dir, port + 10 * round, threads, secs);
        p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_raftkv: could not remove %s\n", dir);
    curl_global_cleanup();
    return rc;
}
