/*
 * target: the dispatch from the generic db/client interface to one
 * target's vtable. See target.h.
 */
#include "harness/target.h"

#include <stdlib.h>
#include <string.h>

extern const target_vtable raftkv_target;

static const target_vtable *const targets[] = {&raftkv_target};

struct target {
    const target_vtable *vt;
    void *state;
};

struct target_client {
    const target_vtable *vt;
    void *client;
};

void target_result_clear(target_result *r)
{
    json_decref(r->value);
    json_decref(r->error);
    r->value = r->error = NULL;
}

const target_vtable *target_find(const char *name)
{
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++)
        if (strcmp(targets[i]->name, name) == 0)
            return targets[i];
    return NULL;
}

int target_new(const target_vtable *vt, const target_config *cfg,
               target **out, fl_error *err)
{
    *out = NULL;
    target *t = calloc(1, sizeof *t);
    if (!t)
        return fl_error_set(err, FL_ENOMEM, "target: out of memory");
    t->vt = vt;
    int rc = vt->create(cfg, &t->state, err);
    if (rc != FL_OK) {
        free(t);
        return rc;
    }
    *out = t;
    return FL_OK;
}

void target_free(target *t)
{
    if (!t)
        return;
    t->vt->destroy(t->state);
    free(t);
}

const char *target_name(const target *t) { return t->vt->name; }

int target_install(target *t, size_t n, fl_error *e) { return t->vt->install(t->state, n, e); }
int target_start(target *t, size_t n, fl_error *e) { return t->vt->start(t->state, n, e); }
int target_kill(target *t, size_t n, fl_error *e) { return t->vt->kill(t->state, n, e); }
int target_pause(target *t, size_t n, fl_error *e) { return t->vt->pause(t->state, n, e); }
int target_resume(target *t, size_t n, fl_error *e) { return t->vt->resume(t->state, n, e); }
int target_wipe(target *t, size_t n, fl_error *e) { return t->vt->wipe(t->state, n, e); }

int target_await_ready(target *t, size_t n, int timeout_ms, fl_error *e)
{
    return t->vt->await_ready(t->state, n, timeout_ms, e);
}

int target_collect_logs(target *t, size_t n, const char *dir, fl_error *e)
{
    return t->vt->collect_logs(t->state, n, dir, e);
}

char *target_rest_cmd(target *t, size_t node)
{
    return t->vt->rest_cmd(t->state, node);
}

long target_leader(target *t)
{
    return t->vt->leader ? t->vt->leader(t->state) : -1;
}

int target_client_open(target *t, size_t node, target_client **out,
                       fl_error *err)
{
    *out = NULL;
    target_client *c = calloc(1, sizeof *c);
    if (!c)
        return fl_error_set(err, FL_ENOMEM, "target client: out of memory");
    c->vt = t->vt;
    int rc = t->vt->client_open(t->state, node, &c->client, err);
    if (rc != FL_OK) {
        free(c);
        return rc;
    }
    *out = c;
    return FL_OK;
}

void target_client_invoke(target_client *c, const target_op *op,
                          target_result *out)
{
    memset(out, 0, sizeof *out);
    c->vt->client_invoke(c->client, op, out);
}

void target_client_close(target_client *c)
{
    if (!c)
        return;
    c->vt->client_close(c->client);
    free(c);
}
