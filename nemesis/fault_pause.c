/*
 * The pause fault: SIGSTOP a minority of the nodes (the leader half the
 * time when known), then SIGCONT them, through the target. See fault.h.
 */
#include "nemesis/fault.h"

static int pause_apply(const fault_env *env, const fault_action *a,
                       size_t node, fl_error *err)
{
    (void)a;
    return target_pause(env->t, node, err);
}

static int pause_heal(const fault_env *env, const fault_action *a,
                      size_t node, fl_error *err)
{
    (void)a;
    return target_resume(env->t, node, err);
}

const fault_kind fault_pause = {
    .name = "pause",
    .begin_f = "pause",
    .end_f = "resume",
    .summary = "SIGSTOP a minority, then SIGCONT it",
    .plan = fault_plan_minority,
    .acts_on = FAULT_ON_PROCESS,
    .describe = fault_nodes_json,
    .apply = pause_apply,
    .heal = pause_heal,
    .db_needs = TARGET_DB_PAUSE | TARGET_DB_RESUME,
};
