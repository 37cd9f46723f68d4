/*
 * The packet fault: netem's behaviours (delay and jitter, loss, duplicate,
 * reorder, corrupt, rate) on the links of chosen nodes, per destination as
 * Jepsen's net/shape! does: the targets' packets to every other node, and
 * every other node's packets to the targets, are shaped; the rest of the
 * traffic (clients, SSH, the links between untouched nodes) is not.
 *
 * Mechanism: this kernel has no sch_netem, so instead of tc each shaped
 * node runs faultline-netem (nemesis/netem/main.c, uploaded beside the
 * database by prepare) bound to an NFQUEUE, and one iptables rule per destination in
 * the mangle table's POSTROUTING steers its packets there. POSTROUTING
 * comes after the filter table's OUTPUT, so a partition's DROP still
 * wins; the rule skips the shaper's own duplicates (their mark) and has
 * --queue-bypass, so traffic flows unshaped whenever no shaper is bound.
 * Heal (and rest) deletes every rule tagged FAULT_PACKET_TAG and stops
 * the node's shaper, which lets every packet it holds go first.
 * A remote node needs iptables with the NFQUEUE target (xt_NFQUEUE and
 * nfnetlink_queue) and root; the shaper is a static binary.
 */
#include "nemesis/fault.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PACKET_QUEUE 4242
#define PACKET_MARK "0x464c"

/* Which nodes a packet fault targets (Jepsen's node specs). */
enum { TARGET_ONE, TARGET_MINORITY, TARGET_MAJORITY, TARGET_ALL,
       TARGET_KINDS };
static const char *const target_names[] = {"one", "minority", "majority",
                                           "all"};

/* The options, in the order the shaper takes them. */
static const fault_option packet_options[] = {
    {"packet-delay", "MS", "packet: delay each shaped packet", 0, 60000, 50},
    {"packet-jitter", "MS", "packet: +- uniform jitter on the delay", 0, 60000,
     10},
    {"packet-loss", "PCT", "packet: drop this share of packets", 0, 100, 0},
    {"packet-duplicate", "PCT", "packet: send this share twice", 0, 100, 0},
    {"packet-reorder", "PCT", "packet: send this share at once, ahead of "
     "the delayed", 0, 100, 0},
    {"packet-corrupt", "PCT", "packet: damage this share (the receiver "
     "drops them)", 0, 100, 0},
    {"packet-rate", "KBIT", "packet: limit each shaped link to KBIT/s "
     "(0: none)", 0, 1e7, 0},
    {0},
};

/* The shaper's flag for packet_options[i]. */
static const char *const shaper_flags[] = {"delay", "jitter", "loss",
                                           "duplicate", "reorder", "corrupt",
                                           "rate"};

static void packet_plan(fl_rng *rng, size_t n, long leader,
                        const fault_action *in_force, size_t nforce,
                        fault_action *a)
{
    (void)in_force;
    (void)nforce;
    bool chosen[FAULT_MAX_NODES] = {false};
    size_t perm[FAULT_MAX_NODES], count;
    a->shape = (int)fl_rng_below(rng, TARGET_KINDS);
    switch (a->shape) {
    case TARGET_ONE: count = 1; break;
    case TARGET_MINORITY: count = n > 2 ? (n - 1) / 2 : 1; break;
    case TARGET_MAJORITY: count = n / 2 + 1; break;
    default: count = n; break;
    }
    nem_shuffle(perm, n, rng);
    if (a->shape == TARGET_ONE && leader >= 0 && (size_t)leader < n)
        perm[0] = (size_t)leader;
    for (size_t i = 0; i < count && i < n; i++)
        chosen[perm[i]] = true;
    /* Both ends of every link that touches a target shape it. */
    a->grudge.n = n;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            a->grudge.drop[i][j] = i != j && (chosen[i] || chosen[j]);
        a->nodes[i] = true;   /* heal everywhere, as for a partition */
        a->amount[i] = (double)fl_rng_below(rng, 1u << 30);   /* its seed */
    }
}

/* The behaviour in force: every option that is not zero. */
static json_t *behaviour_json(const fault_action *a)
{
    json_t *b = json_object();
    for (size_t i = 0; b && packet_options[i].name; i++) {
        double v = fault_option_value(a, packet_options[i].name);
        if (v != 0 && json_object_set_new(b, shaper_flags[i], json_real(v))) {
            json_decref(b);
            return NULL;
        }
    }
    return b;
}

static json_t *packet_describe(const fault_action *a, size_t n,
                               const char *const *names)
{
    if (!a->begin)
        return json_string("packets unshaped");
    json_t *targets = json_array();
    for (size_t i = 0; targets && i < n; i++) {
        bool t = true;
        for (size_t j = 0; j < n; j++)
            t = t && (i == j || a->grudge.drop[i][j]);
        if (t && json_array_append_new(targets, json_string(names[i]))) {
            json_decref(targets);
            targets = NULL;
        }
    }
    json_t *b = behaviour_json(a), *g = nem_grudge_to_json(&a->grudge, names);
    if (!targets || !b || !g) {
        json_decref(targets);
        json_decref(b);
        json_decref(g);
        return NULL;
    }
    return json_pack("{s:s,s:o,s:o,s:o}", "targets",
                     target_names[a->shape % TARGET_KINDS], "nodes", targets,
                     "behaviour", b, "shaped", g);
}

char *fault_packet_apply_cmd(const fault_action *a, size_t node,
                             const char *node_dir, const char *name,
                             const char *const *addrs, fl_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        fl_error_set(err, FL_ENOMEM, "packet command: out of memory");
        return NULL;
    }
    /* The shaper first (bound before any packet is steered to it), its
     * output to a log: a daemon holding SSH's stderr would hold the
     * command open. */
    fprintf(f, "set -e; d=%s/%s; cd $d; "
               "if ! ./faultline-netem --daemon --queue %d --mark %s "
               "--tag $d --seed %.0f",
            node_dir, name, PACKET_QUEUE, PACKET_MARK, a->amount[node]);
    for (size_t i = 0; packet_options[i].name; i++)
        fprintf(f, " --%s %g", shaper_flags[i],
                fault_option_value(a, packet_options[i].name));
    fputs(" >>$d/netem.log 2>&1 </dev/null; then tail -n 3 $d/netem.log >&2; "
          "exit 1; fi", f);
    for (size_t j = 0; j < a->grudge.n; j++) {
        if (!a->grudge.drop[node][j])
            continue;
        if (strspn(addrs[j], "0123456789abcdefghijklmnopqrstuvwxyz"
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.:-") != strlen(addrs[j]) ||
            !*addrs[j]) {
            fclose(f);
            free(buf);
            fl_error_set(err, FL_EUSAGE, "node address \"%s\" is not a plain "
                         "host name or IP address", addrs[j]);
            return NULL;
        }
        fprintf(f, "; iptables -w -t mangle -A POSTROUTING -d %s -m mark ! "
                   "--mark %s -m comment --comment %s -j NFQUEUE "
                   "--queue-num %d --queue-bypass",
                addrs[j], PACKET_MARK, FAULT_PACKET_TAG, PACKET_QUEUE);
    }
    if (fclose(f) != 0) {
        free(buf);
        fl_error_set(err, FL_ENOMEM, "packet command: out of memory");
        return NULL;
    }
    return buf;
}

char *fault_packet_heal_cmd(const char *node_dir, const char *name)
{
    char *cmd = NULL;
    /* Rules first, so nothing more is steered; then the shaper, which
     * lets what it holds go on SIGTERM (KILL after 5 s). The pattern is
     * anchored at the start of the command line so that it never matches
     * the shell running this. */
    if (asprintf(&cmd,
            "d=%s/%s; echo packet=$(iptables -w -t mangle -S POSTROUTING "
            "2>/dev/null | grep -c -e '--comment %s\\( \\|$\\)'); "
            "iptables -w -t mangle -S POSTROUTING | "
            "grep -e '--comment %s\\( \\|$\\)' | sed 's/^-A /-D /' | "
            "xargs -r -L1 iptables -w -t mangle || exit 1; "
            "re=\"^[^ ]*faultline-netem .*--tag $d( |\\$)\"; "
            "pkill -TERM -f \"$re\"; i=0; "
            "while pgrep -f \"$re\" >/dev/null && [ $i -lt 50 ]; do "
            "sleep 0.1; i=$((i+1)); done; pkill -KILL -f \"$re\"; "
            "! iptables -w -t mangle -S POSTROUTING | "
            "grep -q -e '--comment %s\\( \\|$\\)'",
            node_dir, name, FAULT_PACKET_TAG, FAULT_PACKET_TAG,
            FAULT_PACKET_TAG) < 0)
        return NULL;
    return cmd;
}

static int packet_apply(const fault_env *env, const fault_action *a,
                        size_t node, fl_error *err)
{
    if (nem_grudge_idle(&a->grudge, node))
        return FL_OK;
    char *cmd = fault_packet_apply_cmd(a, node, fault_node_dir(env),
                                       remote_name(env->r, node),
                                       remote_addresses(env->r), err);
    if (!cmd)
        return err->code;
    int rc = remote_run(env->r, node, cmd, 15000, err);
    free(cmd);
    return rc;
}

/* The shaper on every node before the run (uploaded once, not at each
 * fault). */
static int packet_prepare(const fault_env *env, size_t node, fl_error *err)
{
    return fault_install_tool(env->r, fault_node_dir(env), node,
                              "faultline-netem", err);
}

static int packet_heal(const fault_env *env, const fault_action *a,
                       size_t node, fl_error *err)
{
    (void)a;
    char *cmd = fault_packet_heal_cmd(fault_node_dir(env), env->names[node]);
    if (!cmd)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    int rc = remote_run(env->r, node, cmd, 15000, err);
    free(cmd);
    return rc;
}

/* Rules and shapers an earlier run (or a dead controller) left. */
static char *packet_rest(const fault_env *env, size_t node)
{
    return fault_packet_heal_cmd(fault_node_dir(env), env->names[node]);
}

const fault_kind fault_packet = {
    .name = "packet",
    .summary = "netem's behaviours on the targets' links (NFQUEUE)",
    .rest = packet_rest,
    .prepare = packet_prepare,
    .begin_f = "start-packet",
    .end_f = "stop-packet",
    .plan = packet_plan,
    .describe = packet_describe,
    .apply = packet_apply,
    .heal = packet_heal,
    .options = packet_options,
    .acts_on = FAULT_ON_SHAPER,
};
