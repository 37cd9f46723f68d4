/*
 * The partition fault: a grudge (nemesis/nemesis.h) drawn from Jepsen's
 * shapes, applied as iptables rules inside each node over the remote's
 * SSH, healed by deleting exactly faultline's rules; at rest, the same
 * heal, after counting the rules an earlier run left. See fault.h.
 */
#include "nemesis/fault.h"

#include <stdio.h>
#include <stdlib.h>

/* The leader when known, else a random node. */
static size_t leader_or_any(fl_rng *rng, size_t n, long leader)
{
    if (leader >= 0 && (size_t)leader < n)
        return (size_t)leader;
    return (size_t)fl_rng_below(rng, n);
}

/* The nodes a clock fault in force acts on, into on; whether they are a
 * minority (and not none). */
static bool clock_minority(size_t n, const fault_action *in_force,
                           size_t nforce, bool *on)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += on[i] = fault_in_force_on(in_force, nforce, FAULT_ON_CLOCK,
                                           i);
    return count > 0 && count <= (n - 1) / 2;
}

static void partition_plan(fl_rng *rng, size_t n, long leader,
                           const fault_action *in_force, size_t nforce,
                           fault_action *a)
{
    nem_partition_kind shape;
    bool clocked[FAULT_MAX_NODES];
    /* A clock fault in force is on the leader it saw (fault_clock.c):
     * two times in three, cut its nodes off from the rest — a leader
     * whose clock jumped, cut off, is where a lease on its clock serves
     * stale reads. (Shape isolate-one, or halves for two nodes.) */
    if (clock_minority(n, in_force, nforce, clocked) &&
        fl_rng_below(rng, 3) != 0) {
        nem_grudge_split(&a->grudge, n, clocked);
        size_t count = 0;
        for (size_t i = 0; i < n; i++)
            count += clocked[i];
        a->shape = count == 1 ? NEM_PART_ISOLATE_ONE : NEM_PART_HALVES;
        for (size_t i = 0; i < n; i++)
            a->nodes[i] = true;
        return;
    }
    /* With a known leader, cut it off a third of the time: a deposed
     * leader that does not know it yet is where consensus bugs show. */
    if (leader >= 0 && fl_rng_below(rng, 3) == 0)
        shape = NEM_PART_ISOLATE_LEADER;
    else
        shape = (nem_partition_kind)fl_rng_below(rng, NEM_PART_KIND_COUNT);
    /* On 3 nodes every node already hears a majority (itself and one
     * other): a majorities ring would cut nothing, a fault in name only.
     * Halves instead. */
    if (shape == NEM_PART_RING && n < 4)
        shape = NEM_PART_HALVES;
    switch (shape) {
    case NEM_PART_HALVES: nem_grudge_halves(&a->grudge, n, rng); break;
    case NEM_PART_ISOLATE_ONE:
        nem_grudge_isolate(&a->grudge, n, leader_or_any(rng, n, -1));
        break;
    case NEM_PART_ISOLATE_LEADER:
        nem_grudge_isolate(&a->grudge, n, leader_or_any(rng, n, leader));
        break;
    case NEM_PART_RING: nem_grudge_ring(&a->grudge, n, rng); break;
    default: nem_grudge_bridge(&a->grudge, n, rng); break;
    }
    a->shape = (int)shape;
    /* Every node takes part (its rules may be none), and every node is
     * healed: rules can only be where a heal looks. */
    for (size_t i = 0; i < n; i++)
        a->nodes[i] = true;
}

static json_t *partition_describe(const fault_action *a, size_t n,
                                  const char *const *names)
{
    (void)n;
    if (!a->begin)
        return json_string("network healed");
    json_t *g = nem_grudge_to_json(&a->grudge, names);
    return g ? json_pack("{s:s,s:o}", "partition",
                         nem_partition_kind_name((nem_partition_kind)a->shape),
                         "grudge", g) : NULL;
}

static int partition_apply(const fault_env *env, const fault_action *a,
                           size_t node, fl_error *err)
{
    if (nem_grudge_idle(&a->grudge, node))
        return FL_OK;
    char *cmd = NULL;
    int rc = nem_iptables_apply_cmd(&a->grudge, node,
                                    remote_addresses(env->r), &cmd, err);
    if (rc == FL_OK)
        rc = remote_run(env->r, node, cmd, 10000, err);
    free(cmd);
    return rc;
}

static int partition_heal(const fault_env *env, const fault_action *a,
                          size_t node, fl_error *err)
{
    (void)a;
    return remote_run(env->r, node, nem_iptables_heal_cmd(), 10000, err);
}

static char *partition_rest(const fault_env *env, size_t node)
{
    (void)env;
    (void)node;
    /* The heal's own exit status is 1 when rules remain after it. */
    char *s = NULL;
    if (asprintf(&s, "echo partition=$(iptables -w -S | grep -c -e "
                 "'--comment " NEM_IPTABLES_TAG "\\( \\|$\\)'); %s",
                 nem_iptables_heal_cmd()) < 0)
        return NULL;
    return s;
}

const fault_kind fault_partition = {
    .name = "partition",
    .begin_f = "start-partition",
    .end_f = "stop-partition",
    .summary = "iptables cuts: halves, one node, leader, ring",
    .plan = partition_plan,
    .describe = partition_describe,
    .apply = partition_apply,
    .heal = partition_heal,
    .rest = partition_rest,
};
