/*
 * crashwatch: one long poll per node for the db's exit file. See
 * crashwatch.h.
 */
#include "run/crashwatch.h"
#include "base/clock.h"
#include "harness/target.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A round's command may take its round plus a margin for a loaded node. */
#define ROUND_TIMEOUT_MS (CRASHWATCH_ROUND_S * 1000 + 5000)

typedef struct watch_node {
    crashwatch *w;
    size_t i;
    char exit_file[1024];
    pthread_t thread;
    bool started;
    /* Bumped by every mark and unmark, so a check can tell whether one
     * happened while it ran. */
    atomic_uint epoch;
    atomic_bool down;
} watch_node;

struct crashwatch {
    remote *r;
    crashwatch_fn fn;
    void *ctx;
    atomic_bool quiet, stop;
    size_t n;
    watch_node *nodes;
};

char *crashwatch_cmd(const char *exit_file, bool present)
{
    char *s = NULL;
    int polls = (int)(CRASHWATCH_ROUND_S / CRASHWATCH_POLL_S);
    /* The file's content is the status; an empty one (the wrapper was
     * itself killed mid-write) still says it ended. */
    if (asprintf(&s, "f=%s; i=0; while [ $i -lt %d ]; do "
                 "if [ -e $f ]; then %s; else %s; fi; "
                 "sleep %g; i=$((i + 1)); done; echo %s",
                 exit_file, polls,
                 present ? ":" : "echo \"exited $(cat $f 2>/dev/null)\"; exit 0",
                 present ? "echo running; exit 0" : ":",
                 CRASHWATCH_POLL_S, present ? "exited" : "running") < 0)
        return NULL;
    return s;
}

static const char *signal_name(int sig)
{
    static const char *const names[] = {
        [1] = "HUP", [2] = "INT", [3] = "QUIT", [4] = "ILL", [6] = "ABRT",
        [7] = "BUS", [8] = "FPE", [9] = "KILL", [11] = "SEGV",
        [13] = "PIPE", [15] = "TERM",
    };
    return sig > 0 && sig < 16 && names[sig] ? names[sig] : NULL;
}

void crashwatch_how(const char *status, char *how, size_t size)
{
    char *end = NULL;
    long code = status ? strtol(status, &end, 10) : 0;
    if (!status || end == status || code < 0 || code > 255) {
        snprintf(how, size, "exited");
        return;
    }
    if (code > 128) {
        const char *name = signal_name((int)(code - 128));
        snprintf(how, size, "killed by signal %ld%s%s%s", code - 128,
                 name ? " (" : "", name ? name : "", name ? ")" : "");
    } else {
        snprintf(how, size, "exited with code %ld", code);
    }
}

/* One round: whether the file's presence changed, and the status text. */
static bool round_changed(watch_node *wn, bool present, char *status,
                          size_t size)
{
    char *cmd = crashwatch_cmd(wn->exit_file, present);
    fl_ssh_result res = {0};
    fl_error e = {0};
    if (!cmd) {
        fl_sleep_s(CRASHWATCH_POLL_S);
        return false;
    }
    int rc = remote_exec(wn->w->r, wn->i, cmd, ROUND_TIMEOUT_MS, &res, &e);
    free(cmd);
    if (rc != FL_OK) {
        /* A partition or a paused node may cut us off: try again soon; the
         * exit file will still be there. */
        fl_sleep_s(CRASHWATCH_POLL_S);
        return false;
    }
    const char *out = res.out ? res.out : "";
    bool changed = present ? strncmp(out, "running", 7) == 0
                           : strncmp(out, "exited", 6) == 0;
    if (changed && !present) {
        const char *st = out + 6;
        while (*st == ' ')
            st++;
        snprintf(status, size, "%.*s", (int)strcspn(st, "\n"), st);
    }
    fl_ssh_result_free(&res);
    return changed;
}

static void *watch_main(void *arg)
{
    watch_node *wn = arg;
    crashwatch *w = wn->w;
    bool present = false;
    while (!atomic_load(&w->stop)) {
        unsigned epoch = atomic_load(&wn->epoch);
        bool was_down = atomic_load(&wn->down);
        char status[64] = "";
        if (!round_changed(wn, present, status, sizeof status))
            continue;
        present = !present;
        /* An end the caller meant, or one that may have been: the mark was
         * set, or set and cleared, while the check ran. */
        bool meant = was_down || atomic_load(&wn->down) ||
                     atomic_load(&wn->epoch) != epoch;
        if (present && !meant && !atomic_load(&w->quiet)) {
            char how[96];
            crashwatch_how(status, how, sizeof how);
            w->fn(w->ctx, wn->i, how);
        }
    }
    return NULL;
}

int crashwatch_start(remote *r, const char *node_dir, crashwatch_fn fn,
                     void *ctx, crashwatch **out, fl_error *err)
{
    *out = NULL;
    crashwatch *w = calloc(1, sizeof *w);
    size_t n = remote_count(r);
    if (w)
        w->nodes = calloc(n ? n : 1, sizeof *w->nodes);
    if (!w || !w->nodes) {
        free(w);
        return fl_error_set(err, FL_ENOMEM, "crash watcher: out of memory");
    }
    w->r = r;
    w->fn = fn;
    w->ctx = ctx;
    w->n = n;
    for (size_t i = 0; i < n; i++) {
        watch_node *wn = &w->nodes[i];
        wn->w = w;
        wn->i = i;
        snprintf(wn->exit_file, sizeof wn->exit_file, "%s/%s/%s", node_dir,
                 remote_name(r, i), TARGET_DB_EXIT_FILE);
        if (!(wn->started = pthread_create(&wn->thread, NULL, watch_main,
                                           wn) == 0)) {
            crashwatch_free(w);
            return fl_error_set(err, FL_EIO, "crash watcher: cannot start a "
                                "thread for node %s", remote_name(r, i));
        }
    }
    *out = w;
    return FL_OK;
}

void crashwatch_expect_down(crashwatch *w, size_t node, bool down)
{
    if (!w || node >= w->n)
        return;
    atomic_store(&w->nodes[node].down, down);
    atomic_fetch_add(&w->nodes[node].epoch, 1);
}

void crashwatch_quiet(crashwatch *w)
{
    if (w)
        atomic_store(&w->quiet, true);
}

void crashwatch_free(crashwatch *w)
{
    if (!w)
        return;
    atomic_store(&w->quiet, true);
    atomic_store(&w->stop, true);
    for (size_t i = 0; i < w->n; i++)
        if (w->nodes[i].started)
            pthread_join(w->nodes[i].thread, NULL);
    free(w->nodes);
    free(w);
}
