/*
 * target: the dispatch from the generic db/client interface to one
 * target's vtable. See target.h.
 */
#include "harness/target.h"
#include "harness/db_existing.h"

#include "workloads/workload.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct target {
    const target_vtable *vt;
    void *state;
    target_db *db;          /* owned copy; mode managed when none given */
    remote *remote;         /* borrowed: existing mode's commands */
    char *node_dir;
};

struct target_client {
    const target_vtable *vt;
    void *client;
    json_int_t key_base;    /* existing mode's; 0: keys as they are */
};

void target_result_clear(target_result *r)
{
    json_decref(r->value);
    json_decref(r->error);
    r->value = r->error = NULL;
}

/* ---- declarations ---------------------------------------------------------------- */

const target_option *target_option_find(const target_vtable *vt,
                                        const char *name)
{
    for (const target_option *o = vt->options; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

int target_options_set(const target_vtable *vt, json_t **opts,
                       const char *name, const char *value, fl_error *err)
{
    const target_option *o = target_option_find(vt, name);
    if (o && o->alias_of)
        o = target_option_find(vt, o->alias_of);
    if (!o)
        return fl_error_set(err, FL_EUSAGE, "target %s takes no option --%s "
                            "(`faultline test --target %s --help` lists "
                            "its options)", vt->name, name, vt->name);
    if (!o->arg != !value)
        return fl_error_set(err, FL_EUSAGE, "--%s (target %s) %s", name,
                            vt->name, o->arg ? "needs an argument"
                                             : "takes no argument");
    if (!*opts && !(*opts = json_object()))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    json_t *v = value ? json_string(value) : json_true();
    json_t *list = json_object_get(*opts, o->name);
    int bad;
    if (o->repeatable && json_is_array(list)) {
        bad = json_array_append_new(list, v);
    } else if (o->repeatable) {
        json_t *a = json_array();
        bad = json_array_append_new(a, v) ||
              json_object_set_new(*opts, o->name, a);
    } else {
        bad = json_object_set_new(*opts, o->name, v);
    }
    return bad ? fl_error_set(err, FL_ENOMEM, "out of memory") : FL_OK;
}

/* Each declared default not given, into opts. */
static int fill_defaults(const target_vtable *vt, json_t *opts)
{
    for (const target_option *o = vt->options; o && o->name; o++) {
        if (o->alias_of || !o->default_value || json_object_get(opts, o->name))
            continue;
        json_t *v = json_string(o->default_value);
        if (o->repeatable) {
            json_t *a = json_array();
            if (json_array_append_new(a, v) != 0)
                return FL_ENOMEM;
            v = a;
        }
        if (json_object_set_new(opts, o->name, v) != 0)
            return FL_ENOMEM;
    }
    return FL_OK;
}

int target_options_resolve(const target_vtable *vt, const json_t *opts,
                           json_t **out, fl_error *err)
{
    json_t *o = opts ? json_deep_copy(opts) : json_object();
    int rc = o && fill_defaults(vt, o) == FL_OK
                 ? FL_OK : fl_error_set(err, FL_ENOMEM, "out of memory");
    if (rc == FL_OK && vt->resolve_options)
        rc = vt->resolve_options(o, err);
    if (rc != FL_OK) {
        json_decref(o);
        o = NULL;
    }
    *out = o;
    return rc;
}

void target_options_help(const target_vtable *vt, FILE *out)
{
    for (const target_option *o = vt->options; o && o->name; o++) {
        char head[128];
        snprintf(head, sizeof head, "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(out, "  %-21s %s", head, o->help);
        if (o->alias_of)
            fprintf(out, " (the same as --%s)", o->alias_of);
        if (o->default_value)
            fprintf(out, " (default %s)", o->default_value);
        if (o->repeatable)
            fprintf(out, " (repeatable)");
        fputc('\n', out);
    }
}

static bool listed(const char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

bool target_supports_workload(const target_vtable *vt, const char *wl_name,
                              const char **missing)
{
    const char *const *ops = workload_operations(wl_name);
    *missing = NULL;
    for (; ops && *ops; ops++)
        if (!listed(vt->operations, *ops)) {
            *missing = *ops;
            return false;
        }
    return true;
}

int target_new(const target_vtable *vt, const target_config *cfg,
               target **out, fl_error *err)
{
    *out = NULL;
    target *t = calloc(1, sizeof *t);
    const target_db managed = {.mode = TARGET_DB_MANAGED};
    if (t) {
        t->db = db_existing_dup(cfg->db ? cfg->db : &managed);
        t->node_dir = strdup(cfg->node_dir ? cfg->node_dir
                                           : TARGET_DEFAULT_NODE_DIR);
    }
    if (!t || !t->db || !t->node_dir) {
        target_free(t);
        return fl_error_set(err, FL_ENOMEM, "target: out of memory");
    }
    t->vt = vt;
    t->remote = cfg->remote;
    int rc = vt->create(cfg, &t->state, err);
    if (rc != FL_OK) {
        t->vt = NULL;
        target_free(t);
        return rc;
    }
    *out = t;
    return FL_OK;
}

void target_free(target *t)
{
    if (!t)
        return;
    if (t->vt)
        t->vt->destroy(t->state);
    db_existing_free(t->db);
    free(t->node_dir);
    free(t);
}

const char *target_name(const target *t) { return t->vt->name; }
const target_db *target_db_of(const target *t) { return t->db; }

static bool existing(const target *t)
{
    return t->db->mode == TARGET_DB_EXISTING;
}

int target_db_allows(const target_db *db, unsigned needs, const char *who,
                     fl_error *err)
{
    if (!db || db->mode != TARGET_DB_EXISTING)
        return FL_OK;
    if (needs & (TARGET_DB_DATA | TARGET_DB_ELECTION))
        return fl_error_set(err, FL_EUSAGE, "%s needs a database faultline "
                            "manages (--db managed): it acts on the "
                            "database's %s, which with --db existing are "
                            "yours", who, needs & TARGET_DB_DATA
                            ? "files" : "processes");
    const char *given[] = {db->kill_cmd, db->start_cmd, db->pause_cmd,
                           db->resume_cmd};
    char missing[200] = "";
    size_t len = 0;
    for (unsigned k = 0; k < 4; k++)
        if ((needs & (1u << k)) && !given[k] && len < sizeof missing)
            len += (size_t)snprintf(missing + len, sizeof missing - len,
                                    "%s%s", len ? " and " : "",
                                    db_existing_option(1u << k));
    if (!len)
        return FL_OK;
    return fl_error_set(err, FL_EUSAGE, "%s with --db existing needs %s: "
                        "faultline stops and starts a database it did not "
                        "start only through your own commands", who,
                        missing);
}

/* Existing mode's refusal of a call that would replace the user's data. */
static int not_existing(const target *t, const char *what, fl_error *err)
{
    return fl_error_set(err, FL_EUSAGE, "target %s, --db existing: faultline "
                        "never %s a database it did not start", t->vt->name,
                        what);
}

int target_install(target *t, size_t n, fl_error *e)
{
    return existing(t) ? not_existing(t, "installs", e)
                       : t->vt->install(t->state, n, e);
}

int target_wipe(target *t, size_t n, fl_error *e)
{
    return existing(t) ? not_existing(t, "wipes", e)
                       : t->vt->wipe(t->state, n, e);
}

/* The user's command for op, or the target's own call. */
#define DB_CALL(t, op, call, n, e) \
    (existing(t) ? db_existing_op((t)->remote, n, (t)->node_dir, (t)->db, \
                                  op, e) \
                 : (t)->vt->call((t)->state, n, e))

int target_start(target *t, size_t n, fl_error *e) { return DB_CALL(t, TARGET_DB_START, start, n, e); }
int target_kill(target *t, size_t n, fl_error *e) { return DB_CALL(t, TARGET_DB_KILL, kill, n, e); }
int target_pause(target *t, size_t n, fl_error *e) { return DB_CALL(t, TARGET_DB_PAUSE, pause, n, e); }
int target_resume(target *t, size_t n, fl_error *e) { return DB_CALL(t, TARGET_DB_RESUME, resume, n, e); }

int target_set_up(target *t, size_t n, fl_error *e)
{
    if (existing(t))
        return FL_OK;
    int rc;
    if ((rc = t->vt->kill(t->state, n, e)) == FL_OK &&
        (rc = t->vt->wipe(t->state, n, e)) == FL_OK &&
        (rc = t->vt->install(t->state, n, e)) == FL_OK)
        rc = t->vt->start(t->state, n, e);
    return rc;
}

int target_tear_down(target *t, size_t n, fl_error *e)
{
    return existing(t) ? FL_OK : t->vt->kill(t->state, n, e);
}

char *target_data_path(const target *t, size_t node)
{
    char *p = NULL;
    if (!t->vt->data_dir || existing(t))
        return NULL;
    if (asprintf(&p, "%s/%s/%s", t->node_dir, remote_name(t->remote, node),
                 t->vt->data_dir) < 0)
        return NULL;
    return p;
}

int target_ready_timeout_ms(const target *t, int default_ms)
{
    int own = t->vt->ready_timeout_ms;
    return own > default_ms ? own : default_ms;
}

int target_await_ready(target *t, size_t n, int timeout_ms, fl_error *e)
{
    return t->vt->await_ready(t->state, n, timeout_ms, e);
}

int target_collect_logs(target *t, size_t n, const char *dir, fl_error *e)
{
    return existing(t) ? db_existing_collect_logs(t->remote, n, t->db, dir, e)
                       : t->vt->collect_logs(t->state, n, dir, e);
}

char *target_rest_cmd(target *t, size_t node)
{
    if (!existing(t))
        return t->vt->rest_cmd(t->state, node);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", t->node_dir,
             remote_name(t->remote, node));
    return db_existing_rest_cmd(t->db, dir);
}

long target_leader(target *t)
{
    return t->vt->leader ? t->vt->leader(t->state) : -1;
}

bool target_has_leader(const target *t)
{
    return t->vt->leader != NULL;
}

int target_election_of(target *t, size_t node, target_election *out,
                       fl_error *err)
{
    if (!t->vt->election || existing(t))
        return fl_error_set(err, FL_EUSAGE, "target %s cannot have its "
                            "elections watched%s", t->vt->name,
                            existing(t) ? " in existing mode (no managed "
                            "start to repeat)" : "");
    return t->vt->election(t->state, node, out, err);
}

bool target_has_election(const target *t)
{
    return t->vt->election != NULL;
}

int target_client_open(target *t, size_t node, target_client **out,
                       fl_error *err)
{
    *out = NULL;
    target_client *c = calloc(1, sizeof *c);
    if (!c)
        return fl_error_set(err, FL_ENOMEM, "target client: out of memory");
    c->vt = t->vt;
    c->key_base = existing(t) ? t->db->key_base : 0;
    int rc = t->vt->client_open(t->state, node, &c->client, err);
    if (rc != FL_OK) {
        free(c);
        return rc;
    }
    *out = c;
    return FL_OK;
}

/* A transaction's micro-ops with every integer key moved by delta (a new
 * value), or NULL when out of memory or v is not such a list. */
static json_t *txn_shift(const json_t *v, json_int_t delta)
{
    json_t *out = json_deep_copy(v);
    size_t i;
    json_t *m;
    json_array_foreach(out, i, m) {
        json_t *k = json_array_get(m, 1);
        if (json_is_integer(k))
            json_integer_set(k, json_integer_value(k) + delta);
    }
    return out;
}

/* Existing mode's key offset for a transaction: inside its micro-ops,
 * sent shifted, the answer's shifted back. */
static void invoke_txn_shifted(target_client *c, const target_op *op,
                               target_result *out)
{
    json_t *v = txn_shift(op->value, c->key_base);
    if (v == NULL) {
        c->vt->client_invoke(c->client, op, out);
        return;
    }
    target_op shifted = *op;
    shifted.value = v;
    c->vt->client_invoke(c->client, &shifted, out);
    json_decref(v);
    if (out->type == HISTORY_OK && json_is_array(out->value)) {
        json_t *back = txn_shift(out->value, -c->key_base);
        json_decref(out->value);
        out->value = back;
    }
}

void target_client_invoke(target_client *c, const target_op *op,
                          target_result *out)
{
    memset(out, 0, sizeof *out);
    if (c->key_base && strcmp(op->f, "txn") == 0) {
        invoke_txn_shifted(c, op, out);
        return;
    }
    json_t *key = c->key_base && json_is_integer(op->key)
                      ? json_integer(json_integer_value(op->key) + c->key_base)
                      : NULL;
    if (!key) {
        c->vt->client_invoke(c->client, op, out);
        return;
    }
    target_op shifted = *op;
    shifted.key = key;
    c->vt->client_invoke(c->client, &shifted, out);
    json_decref(key);
}

void target_client_close(target_client *c)
{
    if (!c)
        return;
    c->vt->client_close(c->client);
    free(c);
}
