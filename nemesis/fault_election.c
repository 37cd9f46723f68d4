/*
 * The election-kill fault: elections under jittered links, with every
 * node that just voted killed -9 and started again at once. It is the
 * schedule the Raft simulation found to expose a vote that is not
 * persisted (raftkv --bug volatile-vote; bench/bench_vv_hunt.c with
 * VV_VOTEKILL): a voter restarted with its vote forgotten grants a second
 * candidate of the same term, whose pre-vote grant it sent before voting
 * arrived late (the jitter), so two leaders share a term.
 *
 * For its window (election-kill-window ms) on every node at once:
 *   - each node's links to the others are shaped as the packet fault
 *     does (nemesis/fault_packet.c's shaper): election-kill-delay ms
 *     +- election-kill-jitter;
 *   - an agent on the node (faultline-election, nemesis/election/main.c,
 *     uploaded by prepare) polls the node's own view of its election
 *     (target_election_of: a Raft node's term and role) every 2 ms, and
 *     kills -9 and starts again at once, repeating the managed start, a
 *     leader every election-kill-period ms, so elections keep coming, and
 *     a follower whose term rose (it voted, or heard of a new term) with
 *     election-kill-chance percent. Through the target's kill and start
 *     (SSH round trips, seconds on a loaded machine) the restart came far
 *     too late: the simulation needs it within tens of ms.
 * Heal: the links unshaped and the database started (a no-op where it
 * runs). Rest: an agent left running is killed; the shapers are the
 * packet fault's rest's, which every run composes anyway. The database is never read: what the fault
 * does is judged by the history's checkers. Needs a target that reports a
 * node's election (raftkv) and runs it managed; a remote node needs what
 * the packet fault needs (the agent is a static binary).
 */
#include "nemesis/fault.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const fault_kind fault_packet; /* its prepare uploads the shaper */

enum { OPT_DELAY, OPT_JITTER, OPT_WINDOW, OPT_PERIOD, OPT_CHANCE,
       OPT_LAG, OPT_HOLD };

/* The holding proxy's port on each node, and the tag of its rule. */
#define HOLD_PORT 7099
#define HOLD_TAG "faultline-election"

static const fault_option election_options[] = {
    {"election-kill-delay", "MS", "election-kill: delay on every link", 0,
     60000, 50},
    {"election-kill-jitter", "MS", "election-kill: +- uniform jitter on it",
     0, 60000, 50},
    {"election-kill-window", "MS", "election-kill: how long each fault acts "
     "(keep it under the nemesis interval)", 100, 60000, 4000},
    {"election-kill-period", "MS", "election-kill: kill the leader this "
     "often", 100, 600000, 1000},
    {"election-kill-chance", "PCT", "election-kill: kill a follower whose "
     "term rose with this chance", 0, 100, 100},
    {"election-kill-lag", "MS", "election-kill: kill a voter this long after "
     "its status shows the vote (time for its transport to send it)", 0,
     1000, 5},
    {"election-kill-hold", "0|1", "election-kill: 1: a proxy in front of "
     "each node's peer port holds messages across its restarts", 0, 1, 0},
    {0},
};

static double opt(const fault_action *a, int i)
{
    return fault_option_value(a, election_options[i].name);
}

/* Every node, each with its own seed. */
static void election_plan(fl_rng *rng, size_t n, long leader,
                          const fault_action *in_force, size_t nforce,
                          fault_action *a)
{
    (void)leader;
    (void)in_force;
    (void)nforce;
    for (size_t i = 0; i < n; i++) {
        a->nodes[i] = true;
        a->amount[i] = (double)fl_rng_below(rng, 1u << 30);
    }
}

static json_t *election_describe(const fault_action *a, size_t n,
                                 const char *const *names)
{
    json_t *nodes = fault_nodes_json(a, n, names);
    if (!nodes)
        return NULL;
    if (!a->begin)
        return json_pack("{s:o,s:s}", "nodes", nodes, "then",
                         "links unshaped, databases started");
    return json_pack("{s:o,s:f,s:f,s:f,s:f,s:f,s:f,s:b}", "nodes", nodes,
                     "delay_ms", opt(a, OPT_DELAY), "jitter_ms",
                     opt(a, OPT_JITTER), "window_ms", opt(a, OPT_WINDOW),
                     "leader_kill_every_ms", opt(a, OPT_PERIOD),
                     "voter_kill_pct", opt(a, OPT_CHANCE), "voter_kill_lag_ms",
                     opt(a, OPT_LAG), "hold", opt(a, OPT_HOLD) >= 1);
}

/* node's links to every other node through the packet fault's shaper. */
static int shape(const fault_env *env, const fault_action *a, size_t node,
                 fl_error *err)
{
    fault_action p = *a;
    p.grudge.n = env->n;
    for (size_t i = 0; i < env->n; i++)
        for (size_t j = 0; j < env->n; j++)
            p.grudge.drop[i][j] = i != j;
    json_t *o = json_pack("{s:f,s:f}", "packet-delay", opt(a, OPT_DELAY),
                          "packet-jitter", opt(a, OPT_JITTER));
    if (!o)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    p.options = o;
    char *cmd = fault_packet_apply_cmd(&p, node, fault_node_dir(env),
                                       env->names[node],
                                       remote_addresses(env->r), err);
    json_decref(o);
    if (!cmd)
        return err->code;
    int rc = remote_run(env->r, node, cmd, 15000, err);
    free(cmd);
    return rc;
}

/* Delete every rule tagged HOLD_TAG in the nat table's PREROUTING. */
#define HOLD_UNSTEER \
    "iptables -w -t nat -S PREROUTING 2>/dev/null | " \
    "grep -e '--comment " HOLD_TAG "\\( \\|$\\)' | sed 's/^-A /-D /' | " \
    "xargs -r -L1 iptables -w -t nat"

/* The agent on the node for the window (nemesis/election/main.c): the
 * polling and the restarts happen there, in milliseconds. With hold, the
 * peers' new connections are steered to its proxy once it listens, and
 * back when it ends. */
static int watch(const fault_env *env, const fault_action *a, size_t node,
                 fl_error *err)
{
    target_election w;
    int rc = target_election_of(env->t, node, &w, err);
    if (rc)
        return rc;
    bool hold = opt(a, OPT_HOLD) >= 1;
    const char *colon = strrchr(w.peer, ':');
    if (hold && !colon)
        return fl_error_set(err, FL_EUSAGE, "election-kill: no peer port");
    char *cmd = NULL, *agent_hold = NULL, *steer = NULL;
    double window = opt(a, OPT_WINDOW);
    if (hold && (asprintf(&agent_hold, " --peer %s --hold %d", w.peer,
                          HOLD_PORT) < 0 ||
                 asprintf(&steer, "sleep 0.2; iptables -w -t nat -A "
                          "PREROUTING -p tcp -d %.*s --dport %s -m comment "
                          "--comment " HOLD_TAG " -j REDIRECT --to-ports %d; ",
                          (int)(colon - w.peer), w.peer, colon + 1,
                          HOLD_PORT) < 0)) {
        free(agent_hold);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    /* Its summary line (how many kills) goes to the node's
     * election.log, beside the database's logs. */
    int n = asprintf(&cmd,
        "d=%s/%s; $d/faultline-election --status %s --path %s "
        "--pid-file %s --window-ms %.0f --period-ms %.0f --chance %g "
        "--lag-ms %g --seed %.0f%s >>$d/election.log 2>&1 & p=$!; "
        "%swait $p; rc=$?; " HOLD_UNSTEER "; exit $rc",
        fault_node_dir(env), env->names[node], w.status, w.path, w.pid_file,
        window, opt(a, OPT_PERIOD), opt(a, OPT_CHANCE), opt(a, OPT_LAG),
        a->amount[node], hold ? agent_hold : "", hold ? steer : "");
    free(agent_hold);
    free(steer);
    if (n < 0)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    rc = remote_run(env->r, node, cmd, (int)window + 15000, err);
    free(cmd);
    return rc;
}

static int election_apply(const fault_env *env, const fault_action *a,
                          size_t node, fl_error *err)
{
    target_election w;
    int rc = target_election_of(env->t, node, &w, err);
    if (rc == FL_OK)
        rc = shape(env, a, node, err);
    return rc ? rc : watch(env, a, node, err);
}

static int election_heal(const fault_env *env, const fault_action *a,
                         size_t node, fl_error *err)
{
    int rc = fault_packet.heal(env, a, node, err);
    fl_error e3 = {0};
    int rc3 = remote_run(env->r, node, HOLD_UNSTEER, 15000,
                         rc ? &e3 : err);
    if (!rc)
        rc = rc3;
    fl_error e2 = {0};
    int rc2 = target_start(env->t, node, rc ? &e2 : err);
    return rc ? rc : rc2;
}

/* An agent an earlier run (or a dead controller) left: stopped, so
 * that it restarts nothing once the target's rest has stopped the
 * database. The agent ends by itself when its window does, and the
 * window is bounded by its option's maximum, so this is for a rest that
 * comes sooner. */
static char *election_rest(const fault_env *env, size_t node)
{
    char *cmd = NULL;
    if (asprintf(&cmd, "d=%s/%s; re=\"^[^ ]*faultline-election .*--pid-file "
                 "$d/\"; echo election-kill=$(pgrep -c -f \"$re\"); "
                 "pkill -KILL -f \"$re\"; " HOLD_UNSTEER "; true",
                 fault_node_dir(env), env->names[node]) < 0)
        return NULL;
    return cmd;
}

/* The shaper and the agent on every node before the run. */
static int election_prepare(const fault_env *env, size_t node, fl_error *err)
{
    int rc = fault_packet.prepare(env, node, err);
    return rc ? rc : fault_install_tool(env->r, fault_node_dir(env), node,
                                        "faultline-election", err);
}

const fault_kind fault_election_kill = {
    .name = "election-kill",
    .begin_f = "start-election-kill",
    .end_f = "stop-election-kill",
    .summary = "jittered links; kill -9 and restart the leader every period "
               "and each follower whose term rose (it just voted)",
    .plan = election_plan,
    .describe = election_describe,
    .apply = election_apply,
    .heal = election_heal,
    .prepare = election_prepare,
    .rest = election_rest,
    .db_needs = TARGET_DB_KILL | TARGET_DB_START | TARGET_DB_ELECTION,
    .options = election_options,
    /* It kills the database (as kill does) and shapes its links (as
     * packet does): it shares a cycle with both. */
    .acts_on = FAULT_ON_PROCESS | FAULT_ON_SHAPER,
};
