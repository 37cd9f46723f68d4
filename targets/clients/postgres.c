/*
 * postgres target: see postgres.h.
 */
#include "targets/clients/postgres.h"
#include "targets/clients/daemon.h"
#include "harness/netbind.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_BIN_DIR "/usr/lib/postgresql/15/bin"

/* The postmaster by its data dir; its children by cluster_name ($d).
 * The pid file is the waiting shell's (the daemon default's), not
 * pgdata/postmaster.pid, which is the postmaster's own lock. */
static const daemon_spec pg_daemon = {
    .what = "postgres",
    .cmdline_re = "^([^ ]*postgres -D $d/pgdata |postgres: $d: )",
    .pid_file = "postgres.pid",
    .wipe = (const char *const[]){"pgdata", "postgres.log", "stdout.log",
                                  "postgres.pid", NULL},
    .logs = (const char *const[]){"postgres.log", "stdout.log", NULL},
    .install_hint = "install postgresql-15, or give --bin-dir DIR",
};

/* ---- transactions (pure) ------------------------------------------------------------ */

char *postgres_txn_sql(const json_t *txn, const char *isolation)
{
    if (!json_is_array(txn) || json_array_size(txn) == 0)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return NULL;
    fprintf(f, "BEGIN ISOLATION LEVEL %s", isolation);
    size_t i;
    const json_t *m;
    bool ok = true;
    json_array_foreach(txn, i, m) {
        const char *op = json_string_value(json_array_get(m, 0));
        const json_t *k = json_array_get(m, 1), *v = json_array_get(m, 2);
        if (!json_is_array(m) || json_array_size(m) != 3 || !op ||
            !json_is_integer(k)) {
            ok = false;
            break;
        }
        json_int_t key = json_integer_value(k);
        if (strcmp(op, "r") == 0)
            fprintf(f, "; SELECT v FROM txn WHERE k = %" JSON_INTEGER_FORMAT, key);
        else if (strcmp(op, "append") == 0 && json_is_integer(v))
            fprintf(f, "; INSERT INTO txn (k, v) VALUES (%" JSON_INTEGER_FORMAT
                    ", '[%" JSON_INTEGER_FORMAT "]') ON CONFLICT (k) DO UPDATE "
                    "SET v = txn.v || excluded.v", key, json_integer_value(v));
        else if (strcmp(op, "w") == 0 && json_is_integer(v))
            fprintf(f, "; INSERT INTO txn (k, v) VALUES (%" JSON_INTEGER_FORMAT
                    ", '%" JSON_INTEGER_FORMAT "') ON CONFLICT (k) DO UPDATE "
                    "SET v = excluded.v", key, json_integer_value(v));
        else
            ok = false;
    }
    fputs("; COMMIT", f);
    if (fclose(f) != 0 || !ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void set_error(target_result *out, history_type type, const char *msg,
                      const char *detail)
{
    out->type = type;
    out->error = json_pack("{s:s}", "error", msg);
    if (out->error && detail)
        json_object_set_new(out->error, "detail", json_string(detail));
}

static bool writes(const json_t *txn)
{
    size_t i;
    const json_t *m;
    json_array_foreach(txn, i, m)
        if (strcmp(json_string_value(json_array_get(m, 0)), "r") != 0)
            return true;
    return false;
}

void postgres_classify(const json_t *txn, const pgw_result *res,
                       target_result *out)
{
    memset(out, 0, sizeof *out);
    size_t n = json_array_size(txn);
    if (res->broken) {
        /* the COMMIT may have run, unless nothing was sent or nothing
         * could be written */
        bool maybe = res->sent && writes(txn);
        set_error(out, maybe ? HISTORY_INFO : HISTORY_FAIL,
                  !res->sent ? "no connection"
                  : res->timed_out ? "timeout" : "connection lost", NULL);
        return;
    }
    if (res->error) {
        const char *why = strcmp(res->sqlstate, "40001") == 0
                              ? "serialization failure"
                          : strcmp(res->sqlstate, "40P01") == 0 ? "deadlock"
                                                                : "error";
        char detail[300];
        snprintf(detail, sizeof detail, "%s: %s", res->sqlstate,
                 res->message ? res->message : "");
        set_error(out, HISTORY_FAIL, why, detail);
        out->refused = strcmp(why, "error") != 0;
        return;
    }
    /* BEGIN, one statement per micro-op, COMMIT */
    const char *last = res->n == n + 2 ? res->stmts[n + 1].tag : NULL;
    if (last == NULL || strcmp(last, "COMMIT") != 0) {
        set_error(out, HISTORY_FAIL, "error", last ? last : "no COMMIT");
        return;
    }
    json_t *done = json_array();
    for (size_t i = 0; done && i < n; i++) {
        const json_t *m = json_array_get(txn, i);
        const pgw_stmt *st = &res->stmts[i + 1];
        json_t *v = NULL;
        if (strcmp(json_string_value(json_array_get(m, 0)), "r") == 0) {
            v = st->value ? json_loads(st->value, JSON_DECODE_ANY, NULL)
                          : json_null();
            json_array_append_new(done, json_pack("[O, O, o]",
                                                  json_array_get(m, 0),
                                                  json_array_get(m, 1),
                                                  v ? v : json_null()));
        } else {
            json_array_append(done, (json_t *)m);
        }
    }
    out->type = HISTORY_OK;
    out->value = done;
}

/* ---- state and options ------------------------------------------------------------------- */

typedef struct pg_state {
    daemon_db db;            /* first: the daemon default's calls use it;
                                its binary is BIN_DIR/postgres */
    const char *isolation;   /* static */
} pg_state;

/* The options, as target_options_parse leaves them. */
typedef struct pg_options {
    const char *bin_dir;
    int isolation;           /* an index of isolations and levels */
} pg_options;

static const char *const isolations[] = {"serializable", "repeatable-read",
                                         "read-committed", NULL};
/* Each isolation's SQL. */
static const char *const levels[] = {"SERIALIZABLE", "REPEATABLE READ",
                                     "READ COMMITTED"};

static const target_option pg_option_table[] = {
    {.name = "bin-dir", .arg = "DIR", .chars = "/._-+",
     .help = "PostgreSQL's programs on the nodes",
     .default_value = DEFAULT_BIN_DIR, .offset = offsetof(pg_options, bin_dir)},
    {.name = "isolation", .type = TARGET_OPT_CHOICE, .arg = "LEVEL",
     .choices = isolations, .help = "every transaction's isolation level",
     .default_value = "serializable",
     .offset = offsetof(pg_options, isolation)},
    {0},
};

static void pg_destroy(void *st)
{
    if (st)
        daemon_db_clear(st);
    free(st);
}

/* The node's start: initdb once as the postgres user (the data dir
 * survives restarts; wipe removes it), letting the controller in from any
 * address without a password; then the postmaster as that user, on the
 * node's address, its socket and cluster_name the node's directory. */
static int pg_start_parts(const void *st, size_t node, daemon_start *out)
{
    const pg_state *s = st;
    /* the programs' directory: the binary's, BIN_DIR/postgres */
    int bin = (int)(strrchr(s->db.binary, '/') - s->db.binary);
    if (asprintf(&out->prepare, "chown postgres $d; [ -f pgdata/PG_VERSION ] "
                 "|| { setpriv --reuid=postgres --regid=postgres "
                 "--init-groups %.*s/initdb -D $d/pgdata -U postgres "
                 "--auth=trust >>$d/stdout.log 2>&1; echo 'host all all "
                 "0.0.0.0/0 trust' >>pgdata/pg_hba.conf; }", bin,
                 s->db.binary) < 0)
        out->prepare = NULL;
    /* -D first: the postmaster is found by it (pg_daemon) */
    if (asprintf(&out->command, "setpriv --reuid=postgres --regid=postgres "
                 "--init-groups %s -D $d/pgdata -c "
                 "listen_addresses=%s -p %d -c unix_socket_directories=$d "
                 "-c cluster_name=$d -c max_connections=300 "
                 "-c logging_collector=off >>$d/postgres.log 2>&1",
                 s->db.binary,
                 remote_address(s->db.remote, node), POSTGRES_PORT) < 0)
        out->command = NULL;
    return out->prepare && out->command ? FL_OK : FL_ENOMEM;
}

static int pg_create(const target_config *cfg, void **out, fl_error *err)
{
    const pg_options *o = cfg->options;
    if (!o || o->isolation < 0)
        return fl_error_set(err, FL_EUSAGE, "postgres: options not parsed");
    char postgres[600];
    snprintf(postgres, sizeof postgres, "%s/postgres", o->bin_dir);
    pg_state *s = calloc(1, sizeof *s);
    if (!s)
        return fl_error_set(err, FL_ENOMEM, "postgres: out of memory");
    int rc = daemon_db_init(&s->db, cfg, &pg_daemon, postgres, pg_start_parts,
                            err);
    if (rc != FL_OK) {
        free(s);
        return rc;
    }
    s->isolation = levels[o->isolation];
    *out = s;
    return FL_OK;
}

/* Ready: the node's server answers, and the table exists (each node's
 * own: only node 0's is used, the others are alike for the faults). */
static int pg_await_ready(void *st, size_t node, int timeout_ms, fl_error *err)
{
    pg_state *s = st;
    fl_error last = {0};
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        pgw *c;
        if (pgw_connect(remote_address(s->db.remote, node), POSTGRES_PORT,
                        remote_bind_address(s->db.remote), "postgres",
                        "postgres", 1000, &c, &last) == FL_OK) {
            pgw_result r;
            int rc = pgw_query(c, "CREATE TABLE IF NOT EXISTS txn (k bigint "
                               "PRIMARY KEY, v jsonb)", 5000, &r, &last);
            bool ok = rc == FL_OK && !r.error && !r.broken;
            if (rc == FL_OK && !ok)
                fl_error_set(&last, FL_EIO, "postgres: CREATE TABLE: %s",
                             r.message ? r.message : "connection lost");
            pgw_result_clear(&r);
            pgw_close(c);
            if (ok)
                return FL_OK;
        } else if (last.code == FL_NET_EUNBOUND) {
            break;
        }
        usleep(200 * 1000);
    }
    return fl_error_set(err, FL_EIO, "postgres not ready on %s: %s",
                        remote_name(s->db.remote, node), last.msg);
}

/* The one server is the "leader" the run waits for. */
static long pg_leader(void *st)
{
    (void)st;
    return 0;
}

/* ---- client -------------------------------------------------------------------------------- */

typedef struct pg_client {
    pg_state *s;
    pgw *conn;    /* NULL until needed, and after a broken connection */
} pg_client;

static int pg_client_open(void *st, size_t node, void **out, fl_error *err)
{
    (void)node; /* every client talks to the one server */
    pg_client *c = calloc(1, sizeof *c);
    if (!c)
        return fl_error_set(err, FL_ENOMEM, "postgres: out of memory");
    c->s = st;
    *out = c;
    return FL_OK;
}

static void pg_client_close(void *cl)
{
    pg_client *c = cl;
    if (!c)
        return;
    pgw_close(c->conn);
    free(c);
}

static void pg_client_invoke(void *cl, const target_op *op, target_result *out)
{
    pg_client *c = cl;
    memset(out, 0, sizeof *out);
    char *sql = strcmp(op->f, "txn") == 0
                    ? postgres_txn_sql(op->value, c->s->isolation) : NULL;
    if (sql == NULL) {
        set_error(out, HISTORY_FAIL, "error", "only transactions of integer "
                  "keys and values");
        return;
    }
    fl_error err = {0};
    if (c->conn == NULL &&
        pgw_connect(remote_address(c->s->db.remote, 0), POSTGRES_PORT,
                    remote_bind_address(c->s->db.remote), "postgres",
                    "postgres", POSTGRES_TIMEOUT_MS, &c->conn, &err) != FL_OK) {
        set_error(out, HISTORY_FAIL, err.code == FL_NET_EUNBOUND
                                         ? TARGET_ERROR_UNBOUND
                                         : "no connection", err.msg);
        free(sql);
        return;
    }
    pgw_result res;
    if (pgw_query(c->conn, sql, POSTGRES_TIMEOUT_MS, &res, &err) != FL_OK) {
        set_error(out, HISTORY_FAIL, "error", err.msg);
        free(sql);
        return;
    }
    free(sql);
    postgres_classify(op->value, &res, out);
    if (res.broken) {
        pgw_close(c->conn);
        c->conn = NULL;
    } else if (res.error) { /* leave the aborted transaction */
        pgw_result rb;
        if (pgw_query(c->conn, "ROLLBACK", POSTGRES_TIMEOUT_MS, &rb, &err) !=
                FL_OK || rb.broken) {
            pgw_close(c->conn);
            c->conn = NULL;
        }
        pgw_result_clear(&rb);
    }
    pgw_result_clear(&res);
}

static const char *const pg_operations[] = {"txn", NULL};

const target_vtable postgres_target = {
    .name = "postgres",
    .options = pg_option_table,
    .options_size = sizeof(pg_options),
    .operations = pg_operations,
    /* A server that PANICs stops every backend: an internal error. */
    .crash_patterns = (const char *const[]){"PANIC:", NULL},
    .create = pg_create,
    .destroy = pg_destroy,
    DAEMON_DB_CALLS,
    .await_ready = pg_await_ready,
    .leader = pg_leader,
    .client_open = pg_client_open,
    .client_invoke = pg_client_invoke,
    .client_close = pg_client_close,
};
