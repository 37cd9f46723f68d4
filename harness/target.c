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
    if ((o->type == TARGET_OPT_FLAG) != !value)
        return fl_error_set(err, FL_EUSAGE, "--%s (target %s) %s", name,
                            vt->name, value ? "takes no argument"
                                            : "needs an argument");
    if (!*opts && !(*opts = json_object()))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    if (json_object_set_new(*opts, o->name,
                            value ? json_string(value) : json_true()) != 0)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    return FL_OK;
}

struct target_options {
    json_t *json;            /* the resolved values; owns the strings */
    void *values;            /* the target's struct (options_size bytes) */
};

/* Each declared default not given, into opts. */
static int fill_defaults(const target_vtable *vt, json_t *opts)
{
    for (const target_option *o = vt->options; o && o->name; o++) {
        if (o->alias_of || !o->default_value || json_object_get(opts, o->name))
            continue;
        if (json_object_set_new(opts, o->name,
                                json_string(o->default_value)) != 0)
            return FL_ENOMEM;
    }
    return FL_OK;
}

static bool word_of(const char *s, const char *chars)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr(chars, *s)))
            return false;
    return true;
}

static int choice_index(const target_option *o, const char *v)
{
    for (int i = 0; v && o->choices && o->choices[i]; i++)
        if (strcmp(o->choices[i], v) == 0)
            return i;
    return -1;
}

/* "a, b or c": the choices in words. */
static void choices_text(const target_option *o, char *out, size_t size)
{
    size_t n = 0, len = 0;
    while (o->choices && o->choices[n])
        n++;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        int k = snprintf(out + len, size - len, "%s%s",
                         i == 0 ? "" : i + 1 == n ? " or " : ", ",
                         o->choices[i]);
        len += k > 0 ? (size_t)k : 0;
    }
}

/* Whether v (the JSON value stored for o) is one o takes; FL_EUSAGE
 * naming the option when not. */
static int check_value(const target_vtable *vt, const target_option *o,
                       const json_t *v, fl_error *err)
{
    const char *s = json_string_value(v);
    char words[256];
    switch (o->type) {
    case TARGET_OPT_FLAG:
        return json_is_boolean(v) ? FL_OK
            : fl_error_set(err, FL_EUSAGE, "target %s: --%s takes no "
                           "argument", vt->name, o->name);
    case TARGET_OPT_CHOICE:
        if (choice_index(o, s) >= 0)
            return FL_OK;
        choices_text(o, words, sizeof words);
        return fl_error_set(err, FL_EUSAGE, "target %s: --%s is %s, not "
                            "\"%s\"", vt->name, o->name, words, s ? s : "");
    case TARGET_OPT_TEXT:
        if (s && (*s || o->empty_ok) && (!o->chars || word_of(s, o->chars)))
            return FL_OK;
        return fl_error_set(err, FL_EUSAGE, "target %s: --%s \"%s\": "
                            "letters, digits and %s only%s", vt->name,
                            o->name, s ? s : "", o->chars ? o->chars : "",
                            o->empty_ok ? "" : ", not empty");
    }
    return fl_error_set(err, FL_EUSAGE, "target %s: --%s: unknown type",
                        vt->name, o->name);
}

/* Every value given or defaulted, checked; one the table does not know
 * (a hand-made object) is refused too. */
static int check_all(const target_vtable *vt, const json_t *opts,
                     fl_error *err)
{
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)opts, name, v) {
        const target_option *o = target_option_find(vt, name);
        if (!o || o->alias_of)
            return fl_error_set(err, FL_EUSAGE, "target %s takes no option "
                                "--%s", vt->name, name);
        int rc = check_value(vt, o, v, err);
        if (rc != FL_OK)
            return rc;
    }
    return FL_OK;
}

/* Each value into its field of the target's struct (options_size bytes:
 * a line whose field would not fit is left out, never written past it). */
static void place(const target_vtable *vt, const json_t *opts, char *values)
{
    for (const target_option *o = vt->options; o && o->name; o++) {
        size_t width = o->type == TARGET_OPT_TEXT ? sizeof(char *)
                     : o->type == TARGET_OPT_CHOICE ? sizeof(int)
                                                    : sizeof(bool);
        if (o->alias_of || o->offset + width > vt->options_size)
            continue;
        const json_t *v = json_object_get(opts, o->name);
        char *field = values + o->offset;
        if (o->type == TARGET_OPT_FLAG) {
            bool b = json_is_true(v);
            memcpy(field, &b, sizeof b);
        } else if (o->type == TARGET_OPT_CHOICE) {
            int i = choice_index(o, json_string_value(v));
            memcpy(field, &i, sizeof i);
        } else {
            const char *s = json_string_value(v);
            memcpy(field, &s, sizeof s);
        }
    }
}

int target_options_parse(const target_vtable *vt, const json_t *opts,
                         target_options **out, fl_error *err)
{
    *out = NULL;
    target_options *o = calloc(1, sizeof *o);
    if (o) {
        o->json = opts ? json_deep_copy(opts) : json_object();
        o->values = vt->options_size ? calloc(1, vt->options_size) : NULL;
    }
    int rc = o && o->json && (o->values || !vt->options_size) &&
                 fill_defaults(vt, o->json) == FL_OK
                 ? FL_OK : fl_error_set(err, FL_ENOMEM, "out of memory");
    if (rc == FL_OK)
        rc = check_all(vt, o->json, err);
    if (rc == FL_OK && vt->resolve_options &&
        (rc = vt->resolve_options(o->json, err)) == FL_OK)
        rc = check_all(vt, o->json, err);
    if (rc != FL_OK) {
        target_options_free(o);
        return rc;
    }
    place(vt, o->json, o->values);
    *out = o;
    return FL_OK;
}

const void *target_options_values(const target_options *o)
{
    return o ? o->values : NULL;
}

const json_t *target_options_json(const target_options *o)
{
    return o ? o->json : NULL;
}

void target_options_free(target_options *o)
{
    if (!o)
        return;
    json_decref(o->json);
    free(o->values);
    free(o);
}

void target_options_help(const target_vtable *vt, FILE *out)
{
    for (const target_option *o = vt->options; o && o->name; o++) {
        char head[128], words[256];
        snprintf(head, sizeof head, "--%s%s%s", o->name,
                 o->type == TARGET_OPT_FLAG ? "" : " ",
                 o->type == TARGET_OPT_FLAG ? "" : o->arg ? o->arg : "X");
        fprintf(out, "  %-21s %s", head, o->help);
        if (o->type == TARGET_OPT_CHOICE) {
            choices_text(o, words, sizeof words);
            fprintf(out, ": %s", words);
        }
        if (o->alias_of)
            fprintf(out, " (the same as --%s)", o->alias_of);
        if (o->default_value)
            fprintf(out, " (default %s)", o->default_value);
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

const char *const *target_data_files(const target *t)
{
    return t->vt->data_dir && !existing(t) ? t->vt->data_files : NULL;
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
