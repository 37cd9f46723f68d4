/*
 * fake target: see fake.h.
 */
#include "targets/clients/fake.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One slot per key: a run at full speed (--rate 0) retires keys quickly
 * and used 5469 in 10 s on 2026-12-01, so 4096 slots made two keys share
 * one (a history the checker rightly called invalid). */
#define FAKE_KEYS 65536

typedef struct fake_db {
    pthread_mutex_t lock;
    json_t *values[FAKE_KEYS];
} fake_db;

static int fake_create(const target_config *cfg, void **state, fl_error *err)
{
    (void)cfg;
    fake_db *db = calloc(1, sizeof *db);
    if (!db)
        return fl_error_set(err, FL_ENOMEM, "fake target: out of memory");
    pthread_mutex_init(&db->lock, NULL);
    *state = db;
    return FL_OK;
}

static void fake_destroy(void *state)
{
    fake_db *db = state;
    if (!db)
        return;
    for (size_t i = 0; i < FAKE_KEYS; i++)
        json_decref(db->values[i]);
    pthread_mutex_destroy(&db->lock);
    free(db);
}

static int fake_node(void *state, size_t node, fl_error *err)
{
    (void)state, (void)node, (void)err;
    return FL_OK;
}

static int fake_ready(void *state, size_t node, int timeout_ms, fl_error *err)
{
    (void)timeout_ms;
    return fake_node(state, node, err);
}

static int fake_logs(void *state, size_t node, const char *dir, fl_error *err)
{
    (void)dir;
    return fake_node(state, node, err);
}

static long fake_leader(void *state)
{
    (void)state;
    return 0;
}

/* Nothing runs on a node: it is always at rest. */
static char *fake_rest_cmd(void *state, size_t node)
{
    (void)state, (void)node;
    return strdup("echo running=0 stopped=0");
}

static int fake_open(void *state, size_t node, void **client, fl_error *err)
{
    (void)node, (void)err;
    *client = state;
    return FL_OK;
}

/* Replace *slot by v (a new reference). */
static void put(json_t **slot, json_t *v)
{
    json_decref(*slot);
    *slot = v;
}

static void fake_apply(json_t **slot, const target_op *op, target_result *out)
{
    json_t *cur = *slot ? *slot : json_null();
    out->type = HISTORY_OK;
    if (strcmp(op->f, "read") == 0) {
        out->value = json_incref(cur);
    } else if (strcmp(op->f, "write") == 0) {
        put(slot, json_incref((json_t *)op->value));
        out->value = json_incref((json_t *)op->value);
    } else if (strcmp(op->f, "add") == 0) {
        if (!*slot)
            *slot = json_array();
        json_array_append(*slot, (json_t *)op->value);
        out->value = json_incref((json_t *)op->value);
    } else if (json_equal(cur, json_array_get(op->value, 0))) {
        put(slot, json_incref(json_array_get(op->value, 1)));
        out->value = json_incref((json_t *)op->value);
    } else {
        out->type = HISTORY_FAIL;
        out->refused = true;
        out->error = json_pack("{s:s}", "error", "precondition failed");
    }
}

static void fake_invoke(void *client, const target_op *op, target_result *out)
{
    fake_db *db = client;
    size_t k = (size_t)json_integer_value(op->key) % FAKE_KEYS;
    pthread_mutex_lock(&db->lock);
    fake_apply(&db->values[k], op, out);
    pthread_mutex_unlock(&db->lock);
}

static void fake_close(void *client)
{
    (void)client;
}

static const char *const fake_operations[] = {"read", "write", "cas", "add",
                                              NULL};

const target_vtable fake_target = {
    .name = "fake",
    .operations = fake_operations,
    .create = fake_create,
    .destroy = fake_destroy,
    .install = fake_node,
    .start = fake_node,
    .kill = fake_node,
    .pause = fake_node,
    .resume = fake_node,
    .wipe = fake_node,
    .await_ready = fake_ready,
    .collect_logs = fake_logs,
    .leader = fake_leader,
    .rest_cmd = fake_rest_cmd,
    .client_open = fake_open,
    .client_invoke = fake_invoke,
    .client_close = fake_close,
};
