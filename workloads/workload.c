/*
 * workload: dispatch to the register and set generators. See workload.h.
 */
#include "workloads/workload.h"

#include <stdlib.h>
#include <string.h>

#include "workloads/register.h"
#include "workloads/set.h"

struct workload {
    const char *name;
    wl_register *reg;   /* exactly one of these is set */
    wl_set *set;
};

static const char *const names[] = {"register", "set", NULL};

const char *const *workload_names(void)
{
    return names;
}

bool workload_known(const char *name)
{
    for (const char *const *n = names; *n; n++)
        if (strcmp(*n, name) == 0)
            return true;
    return false;
}

const char *const *workload_operations(const char *name)
{
    static const char *const reg[] = {"read", "write", "cas", NULL};
    static const char *const set[] = {"add", "read", NULL};
    if (strcmp(name, "register") == 0)
        return reg;
    return strcmp(name, "set") == 0 ? set : NULL;
}

int workload_new(const char *name, const workload_options *opt,
                 workload **out, fl_error *err)
{
    *out = NULL;
    workload *w = calloc(1, sizeof *w);
    if (!w)
        return fl_error_set(err, FL_ENOMEM, "workload: out of memory");
    int keys = opt->active_keys > 0 ? opt->active_keys
                                    : wl_register_keys_for(opt->concurrency);
    int rc;
    if (strcmp(name, "register") == 0) {
        wl_register_options ro;
        wl_register_options_init(&ro);
        ro.seed = opt->seed;
        ro.active_keys = keys;
        w->name = names[0];
        rc = wl_register_new(&ro, &w->reg, err);
    } else if (strcmp(name, "set") == 0) {
        wl_set_options so;
        wl_set_options_init(&so);
        so.seed = opt->seed;
        so.active_keys = keys;
        w->name = names[1];
        rc = wl_set_new(&so, &w->set, err);
    } else {
        rc = fl_error_set(err, FL_EUSAGE, "unknown workload \"%s\" (known: "
                          "register, set)", name);
    }
    if (rc != FL_OK) {
        free(w);
        return rc;
    }
    *out = w;
    return FL_OK;
}

void workload_free(workload *w)
{
    if (!w)
        return;
    wl_register_free(w->reg);
    wl_set_free(w->set);
    free(w);
}

const char *workload_name(const workload *w)
{
    return w->name;
}

int workload_next(workload *w, workload_op *out, fl_error *err)
{
    if (w->reg) {
        wl_op op;
        wl_register_next(w->reg, &op);
        out->f = wl_f_name(op.f);
        out->key = json_integer(op.key);
        out->value = wl_op_invoke_value(&op);
    } else {
        int64_t key, element;
        wl_set_next(w->set, &key, &element);
        out->f = "add";
        out->key = json_integer(key);
        out->value = json_integer(element);
    }
    if (!out->key || !out->value) {
        workload_op_clear(out);
        return fl_error_set(err, FL_ENOMEM, "workload: out of memory");
    }
    return FL_OK;
}

void workload_op_clear(workload_op *op)
{
    json_decref(op->key);
    json_decref(op->value);
    op->key = op->value = NULL;
}

int64_t workload_keys_used(const workload *w)
{
    return w->reg ? wl_register_keys_used(w->reg) : wl_set_keys_used(w->set);
}
