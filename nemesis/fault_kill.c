/*
 * The kill fault: kill -9 a minority of the nodes (the leader half the
 * time when known), then start them again, through the target. See
 * fault.h.
 */
#include "nemesis/fault.h"

static int kill_apply(const fault_env *env, const fault_action *a,
                      size_t node, fl_error *err)
{
    (void)a;
    return target_kill(env->t, node, err);
}

static int kill_heal(const fault_env *env, const fault_action *a,
                     size_t node, fl_error *err)
{
    (void)a;
    return target_start(env->t, node, err);
}

const fault_kind fault_kill = {
    .name = "kill",
    .begin_f = "kill",
    .end_f = "start",
    .summary = "kill -9 a minority, then start it again",
    .plan = fault_plan_minority,
    .acts_on = FAULT_ON_PROCESS,
    .describe = fault_nodes_json,
    .apply = kill_apply,
    .heal = kill_heal,
    .db_needs = TARGET_DB_KILL | TARGET_DB_START,
};
