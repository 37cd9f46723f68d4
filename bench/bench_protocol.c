/*
 * bench_protocol: operations per second through the JSON-lines client
 * protocol (targets/clients/jsonl_client.h) — a client process per thread
 * that answers every operation at once (bench/noop_client.py) — against
 * the in-process fake target's client (targets/clients/fake.h), each
 * thread invoking register operations as fast as it can. No cluster and no
 * recorder: the protocol's own cost. bench_harness measures the same
 * through the whole runner (recorded ops/s) on a 1-node local cluster.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/target.h"
#include "targets/clients/jsonl_client.h"
#include "targets/registry.h"

#define SECONDS 2.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct worker {
    pthread_t th;
    jsonl_client *jc;        /* NULL: the fake target's client */
    target_client *fc;
    long ops, oks;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    json_t *key = json_integer(1), *value = json_integer(2);
    static const char *const fs[] = {"read", "write", "read", "write"};
    double until = now_s() + SECONDS;
    while (now_s() < until) {
        for (int i = 0; i < 64; i++) {
            target_op op = {.f = fs[i % 4], .key = key,
                            .value = i % 2 ? value : NULL};
            target_result r = {0};
            if (w->jc)
                jsonl_client_invoke(w->jc, &op, &r);
            else
                target_client_invoke(w->fc, &op, &r);
            w->ops++;
            w->oks += r.type == HISTORY_OK;
            target_result_clear(&r);
        }
    }
    json_decref(key);
    json_decref(value);
    return NULL;
}

/* ops/s over n threads; protocol: through no-op client processes. *all_ok:
 * whether every operation was an ok. */
static double run(int n, bool protocol, target *fake, bool *all_ok)
{
    worker *ws = calloc((size_t)n, sizeof *ws);
    json_t *hello = json_pack("{s:s}", "node", "n1");
    fl_error err = {0};
    for (int i = 0; i < n; i++) {
        jsonl_client_spec spec = {.command = "exec python3 bench/noop_client.py",
                                  .who = "noop", .hello = hello,
                                  .timeout_ms = 5000};
        int rc = protocol ? jsonl_client_start(&spec, &ws[i].jc, &err)
                          : target_client_open(fake, 0, &ws[i].fc, &err);
        if (rc != FL_OK) {
            fprintf(stderr, "bench_protocol: %s\n", err.msg);
            exit(1);
        }
    }
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        pthread_create(&ws[i].th, NULL, work, &ws[i]);
    long ops = 0, oks = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(ws[i].th, NULL);
        ops += ws[i].ops;
        oks += ws[i].oks;
        jsonl_client_free(ws[i].jc);
        target_client_close(ws[i].fc);
    }
    double secs = now_s() - t0;
    *all_ok = ops > 0 && oks == ops;
    json_decref(hello);
    free(ws);
    return ops / secs;
}

int main(void)
{
    fl_error err = {0};
    target_config tc = {0};
    target *fake = NULL;
    if (target_new(targets_find("fake"), &tc, &fake, &err) != FL_OK) {
        fprintf(stderr, "bench_protocol: %s\n", err.msg);
        return 1;
    }
    printf("operations per second, each thread invoking as fast as it can "
           "(%.0f s each):\n", SECONDS);
    int levels[] = {1, 2, 10};
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        bool ok_fake, ok_proto;
        double f = run(levels[i], false, fake, &ok_fake);
        double p = run(levels[i], true, fake, &ok_proto);
        printf("  %2d threads: fake target %9.0f ops/s; JSON-lines protocol "
               "(no-op Python client) %7.0f ops/s (%.1f%% of the fake's); "
               "%s\n", levels[i], f, p, 100.0 * p / f,
               ok_fake && ok_proto ? "every op ok" : "NOT EVERY OP OK");
    }
    target_free(fake);
    return 0;
}
