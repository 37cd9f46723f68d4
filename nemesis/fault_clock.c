/*
 * The clock faults: clock-skew (a fixed offset, up to minutes, on a
 * minority of nodes), clock-strobe (a node's clock jumping back and forth,
 * as Jepsen's strobe-time) and clock-rate (a node's clock running fast or
 * slow).
 *
 * Mechanism: the nodes of a local cluster share one kernel clock, so a
 * node's clock is the database's own, through libfaketime preloaded into
 * it (FAULT_CLOCK_DB_ENV, given to the target's start command whenever a
 * clock fault is enabled). libfaketime reads the node's clock file
 * ($d/faketime.rc, FAULT_CLOCK_FILE) on every call (FAKETIME_NO_CACHE), so
 * rewriting it changes the clock at once; without the file the clock is
 * the real one. Only the wall clock (CLOCK_REALTIME, time(),
 * gettimeofday) moves: FAKETIME_DONT_FAKE_MONOTONIC keeps CLOCK_MONOTONIC
 * true, as clock_settime would, and FAKETIME_FORCE_MONOTONIC_FIX=0 keeps
 * libfaketime from shifting the deadlines of condition variables on the
 * monotonic clock (with it, raftkv under an offset timed every request
 * out at once). Heal and rest remove the file (and stop a
 * strobe). Remote nodes use the same mechanism and need libfaketime
 * installed (Debian: libfaketime) at FAULT_CLOCK_LIB; Jepsen's
 * clock_settime on the machine's real clock is not offered.
 *
 * A clock-rate of "+0 xF" counts from the database's start (libfaketime's
 * rule), so the clock also jumps, to start + elapsed * F, when the rate
 * begins; the heal jumps it back to true time. Only fast rates (F > 1):
 * under a slow one libfaketime stretches condition-variable waits too,
 * and raftkv answered no request at all (measured: 0 of 10 at x0.7) — an
 * artefact of the mechanism, not a clock a database could see.
 */
#include "nemesis/fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CLOCK_SKEW, CLOCK_STROBE, CLOCK_RATE };

static const fault_option skew_options[] = {
    {"clock-skew-max", "S", "clock-skew: the largest offset, either way, "
     "in seconds", 0.001, 86400, 60},
    {0},
};

static const fault_option strobe_options[] = {
    {"clock-strobe-delta", "MS", "clock-strobe: how far the clock jumps "
     "ahead and back", 1, 86400000, 10000},
    {"clock-strobe-period", "MS", "clock-strobe: how long between jumps",
     10, 600000, 100},
    {0},
};

static const fault_option rate_options[] = {
    {"clock-rate-max", "F", "clock-rate: the fastest rate (drawn in 1.01..F)",
     1.01, 100, 2},
    {0},
};

/* ---- plans -------------------------------------------------------------------- */
/* Each: a minority that holds the leader whenever it is known (a leader's
 * clock is what leases, locks and timestamps trust), and per node the
 * amount the history records. A node whose database a fault in force
 * holds killed (FAULT_ON_PROCESS) is never chosen: libfaketime lives in
 * the database process, and apply refuses a node where none runs. With
 * every node's database down, the fault begins on no node. */
static void leader_minority(fl_rng *rng, size_t n, long leader,
                            const fault_action *in_force, size_t nforce,
                            fault_action *a)
{
    bool busy[FAULT_MAX_NODES];
    size_t free_nodes = 0;
    for (size_t i = 0; i < n; i++) {
        busy[i] = fault_in_force_on(in_force, nforce, FAULT_ON_PROCESS, i);
        free_nodes += !busy[i];
    }
    fault_plan_minority(rng, n, -1, in_force, nforce, a);
    if (leader >= 0 && (size_t)leader < n && !busy[leader] &&
        !a->nodes[leader]) {
        /* Swap one chosen node for the leader: still a minority. */
        for (size_t i = 0; i < n; i++)
            if (a->nodes[i]) {
                a->nodes[i] = false;
                break;
            }
        a->nodes[leader] = true;
    }
    /* Move each busy choice to a free node not chosen (a swap keeps the
     * count, so still a minority), or drop it when there is none. */
    for (size_t i = 0; i < n; i++) {
        if (!a->nodes[i] || !busy[i])
            continue;
        a->nodes[i] = false;
        size_t pick = free_nodes ? (size_t)fl_rng_below(rng, free_nodes) : 0;
        for (size_t j = 0; j < n && free_nodes; j++)
            if (!busy[j] && pick-- == 0) {
                if (!a->nodes[j])
                    a->nodes[j] = true;
                break;
            }
    }
}

/* A uniform draw in [lo, hi], in thousandths. */
static double uniform(fl_rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * (double)fl_rng_below(rng, 1001) / 1000.0;
}

static void skew_plan(fl_rng *rng, size_t n, long leader,
                      const fault_action *in_force, size_t nforce,
                      fault_action *a)
{
    leader_minority(rng, n, leader, in_force, nforce, a);
    a->shape = CLOCK_SKEW;
    double max = fault_option_value(a, "clock-skew-max");
    for (size_t i = 0; i < n; i++)
        if (a->nodes[i]) {
            double s = uniform(rng, max / 10, max);
            a->amount[i] = fl_rng_below(rng, 2) ? s : -s;
        }
}

static void strobe_plan(fl_rng *rng, size_t n, long leader,
                        const fault_action *in_force, size_t nforce,
                        fault_action *a)
{
    leader_minority(rng, n, leader, in_force, nforce, a);
    a->shape = CLOCK_STROBE;
    double delta = fault_option_value(a, "clock-strobe-delta") / 1000;
    for (size_t i = 0; i < n; i++)
        if (a->nodes[i])
            a->amount[i] = delta;
}

static void rate_plan(fl_rng *rng, size_t n, long leader,
                      const fault_action *in_force, size_t nforce,
                      fault_action *a)
{
    leader_minority(rng, n, leader, in_force, nforce, a);
    a->shape = CLOCK_RATE;
    double max = fault_option_value(a, "clock-rate-max");
    for (size_t i = 0; i < n; i++)
        if (a->nodes[i])
            a->amount[i] = uniform(rng, 1.01, max);
}

/* ---- the history ---------------------------------------------------------------- */

/* {"n1": amount, ...} for a's nodes; begin only. */
static json_t *clock_describe(const fault_action *a, size_t n,
                              const char *const *names)
{
    if (!a->begin)
        return fault_nodes_json(a, n, names);
    static const char *const what[] = {"offset-s", "strobe-delta-s", "rate"};
    json_t *per = json_object();
    for (size_t i = 0; per && i < n; i++)
        if (a->nodes[i] &&
            json_object_set_new(per, names[i], json_real(a->amount[i]))) {
            json_decref(per);
            return NULL;
        }
    if (!per)
        return NULL;
    json_t *v = json_pack("{s:o}", what[a->shape % 3], per);
    if (v && a->shape == CLOCK_STROBE &&
        json_object_set_new(v, "period-ms", json_real(fault_option_value(
                                                a, "clock-strobe-period"))))
        json_decref(v), v = NULL;
    return v;
}

/* ---- command lines ---------------------------------------------------------------- */

char *fault_clock_apply_cmd(const fault_action *a, size_t node,
                            const char *node_dir, const char *name)
{
    char *cmd = NULL;
    /* Refuse a clock nobody reads: the database must have been started
     * under libfaketime with this node's file (a clock fault enabled at
     * set-up). Written by rename, so a reader never sees half a file. */
    const char *check =
        "ok=; for e in /proc/[0-9]*/environ; do "
        "if grep -qszxF \"FAKETIME_TIMESTAMP_FILE=$f\" $e; then "
        "p=${e%/environ}; grep -q libfaketime $p/maps 2>/dev/null && ok=1; "
        "fi; done; [ -n \"$ok\" ] || { echo \"no process on this node runs "
        "under libfaketime with $f (is libfaketime installed at "
        FAULT_CLOCK_LIB "?)\" >&2; exit 1; }; ";
    int rc;
    if (a->shape == CLOCK_STROBE) {
        double period = fault_option_value(a, "clock-strobe-period") / 1000;
        rc = asprintf(&cmd,
            "d=%s/%s; f=$d/" FAULT_CLOCK_FILE "; %s"
            "setsid sh -c 'while :; do echo %+.3f > $1.new && mv -f $1.new $1; "
            "sleep %.3f; echo +0 > $1.new && mv -f $1.new $1; sleep %.3f; "
            "done' faultline-clock-strobe $f >/dev/null 2>&1 </dev/null &",
            node_dir, name, check, a->amount[node], period, period);
    } else {
        char spec[64];
        if (a->shape == CLOCK_RATE)
            snprintf(spec, sizeof spec, "+0 x%.3f", a->amount[node]);
        else
            snprintf(spec, sizeof spec, "%+.3f", a->amount[node]);
        rc = asprintf(&cmd, "d=%s/%s; f=$d/" FAULT_CLOCK_FILE "; %s"
                      "echo '%s' > $f.new && mv -f $f.new $f",
                      node_dir, name, check, spec);
    }
    return rc < 0 ? NULL : cmd;
}

char *fault_clock_heal_cmd(const char *node_dir, const char *name)
{
    char *cmd = NULL;
    /* The strobe's loop first (anchored: never this shell), then the
     * file: the clock is true again. */
    if (asprintf(&cmd,
            "d=%s/%s; f=$d/" FAULT_CLOCK_FILE "; "
            "re=\"^sh -c while :; do .* faultline-clock-strobe $f\\$\"; "
            "pkill -f \"$re\"; i=0; while pgrep -f \"$re\" >/dev/null && "
            "[ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; "
            "pkill -KILL -f \"$re\"; rm -f $f $f.new",
            node_dir, name) < 0)
        return NULL;
    return cmd;
}

/* ---- apply and heal ------------------------------------------------------------------ */

static int run_owned(const fault_env *env, size_t node, char *cmd,
                     fl_error *err)
{
    if (!cmd)
        return fl_error_set(err, FL_ENOMEM, "clock command: out of memory");
    int rc = remote_run(env->r, node, cmd, 15000, err);
    free(cmd);
    return rc;
}

static int clock_apply(const fault_env *env, const fault_action *a,
                       size_t node, fl_error *err)
{
    return run_owned(env, node, fault_clock_apply_cmd(a, node,
                     fault_node_dir(env), env->names[node]), err);
}

static int clock_heal(const fault_env *env, const fault_action *a,
                      size_t node, fl_error *err)
{
    (void)a;
    return run_owned(env, node, fault_clock_heal_cmd(fault_node_dir(env),
                     env->names[node]), err);
}

/* The same for every clock kind: a strobe or a clock file left. */
static char *clock_rest(const fault_env *env, size_t node)
{
    return fault_clock_heal_cmd(fault_node_dir(env), env->names[node]);
}

#define CLOCK_KIND(id, kname, plan_fn, opts, what) \
    const fault_kind id = { \
        .name = kname, .begin_f = "start-" kname, .end_f = "stop-" kname, \
        .summary = what, .plan = plan_fn, .describe = clock_describe, \
        .apply = clock_apply, .heal = clock_heal, .rest = clock_rest, \
        .options = opts, .db_env = FAULT_CLOCK_DB_ENV, \
        .acts_on = FAULT_ON_CLOCK, \
    }

CLOCK_KIND(fault_clock_skew, "clock-skew", skew_plan, skew_options,
           "the leader's wall clock set off by up to minutes (libfaketime)");
CLOCK_KIND(fault_clock_strobe, "clock-strobe", strobe_plan, strobe_options,
           "the leader's wall clock jumping ahead and back (libfaketime)");
CLOCK_KIND(fault_clock_rate, "clock-rate", rate_plan, rate_options,
           "the leader's wall clock running fast (libfaketime)");
