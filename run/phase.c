/*
 * phase: a ticker that says what a phase waits for. See phase.h.
 */
#include "run/phase.h"
#include "base/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct phase {
    const char *name;
    double bound_s, begin;
    size_t n;
    const char *const *names;
    phase_log_fn log;
    void *ctx;
    pthread_mutex_t lock;          /* what */
    const char *what[PHASE_MAX_NODES + 1]; /* the last: PHASE_ALL's */
    char last[1024];               /* the last non-empty awaited text */
    pthread_t thread;
    atomic_bool stop, overdue;
};

static size_t slot(const phase *p, size_t node)
{
    return node == PHASE_ALL || node >= p->n ? p->n : node;
}

void phase_wait(phase *p, size_t node, const char *what)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->what[slot(p, node)] = what;
    pthread_mutex_unlock(&p->lock);
}

bool phase_overdue(phase *p)
{
    return p && atomic_load(&p->overdue);
}

/* Groups nodes by what they wait for: "X on n1, n2; Y on n3; Z". */
static void awaited_now(phase *p, char *buf, size_t size)
{
    size_t len = 0;
    bool done[PHASE_MAX_NODES + 1] = {0};
    buf[0] = '\0';
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i <= p->n && len < size; i++) {
        if (!p->what[i] || done[i])
            continue;
        len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "; " : "",
                                p->what[i]);
        bool first = true;
        for (size_t j = i; j < p->n && len < size; j++) {
            if (done[j] || !p->what[j] || strcmp(p->what[j], p->what[i]) != 0)
                continue;
            done[j] = true;
            len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                    first ? " on " : ", ", p->names[j]);
            first = false;
        }
    }
    if (buf[0])
        snprintf(p->last, sizeof p->last, "%s", buf);
    pthread_mutex_unlock(&p->lock);
}

void phase_awaited(phase *p, char *buf, size_t size)
{
    awaited_now(p, buf, size);
    if (!buf[0]) {
        pthread_mutex_lock(&p->lock);
        snprintf(buf, size, "%s", p->last);
        pthread_mutex_unlock(&p->lock);
    }
}

static void announce(phase *p, const char *fmt, double t, const char *what)
{
    char line[1400];
    snprintf(line, sizeof line, fmt, p->name, t, what);
    p->log(p->ctx, line);
}

static void *tick_main(void *arg)
{
    phase *p = arg;
    double next = p->begin + PHASE_TICK_S;
    while (!atomic_load(&p->stop)) {
        fl_sleep_s(0.05);
        double now = fl_clock_mono_s();
        char what[1024];
        awaited_now(p, what, sizeof what);   /* keeps p->last */
        if (p->bound_s > 0 && !atomic_load(&p->overdue) &&
            now - p->begin > p->bound_s) {
            phase_awaited(p, what, sizeof what);
            atomic_store(&p->overdue, true);
            announce(p, "%s: over its bound of %.0f s, still waiting for %s",
                     p->bound_s, what[0] ? what : "its last step");
        }
        if (now < next)
            continue;
        if (what[0])
            announce(p, "%s, %.0f s: waiting for %s", now - p->begin, what);
        next += PHASE_TICK_S;
    }
    return NULL;
}

int phase_begin(const char *name, double bound_s, size_t n,
                const char *const *names, phase_log_fn log, void *ctx,
                phase **out, fl_error *err)
{
    *out = NULL;
    phase *p = calloc(1, sizeof *p);
    if (!p)
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", name);
    p->name = name;
    p->bound_s = bound_s;
    p->n = n < PHASE_MAX_NODES ? n : PHASE_MAX_NODES;
    p->names = names;
    p->log = log;
    p->ctx = ctx;
    p->begin = fl_clock_mono_s();
    pthread_mutex_init(&p->lock, NULL);
    if (pthread_create(&p->thread, NULL, tick_main, p) != 0) {
        pthread_mutex_destroy(&p->lock);
        free(p);
        return fl_error_set(err, FL_EIO, "%s: cannot start a thread", name);
    }
    *out = p;
    return FL_OK;
}

void phase_end(phase *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
