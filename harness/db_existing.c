/*
 * db_existing: existing mode's commands and their runs. See
 * db_existing.h.
 */
#include "harness/db_existing.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OP_TIMEOUT_MS 60000      /* a service manager's start may be slow */
#define LOGS_TIMEOUT_MS 60000

/* ---- the configuration ------------------------------------------------------------ */

static bool dup_str(const char *s, const char **out)
{
    *out = s ? strdup(s) : NULL;
    return !s || *out;
}

static bool dup_paths(const char *const *paths, const char *const **out)
{
    size_t n = 0;
    *out = NULL;
    if (!paths)
        return true;
    while (paths[n])
        n++;
    const char **copy = calloc(n + 1, sizeof *copy);
    if (!copy)
        return false;
    *out = copy;
    for (size_t i = 0; i < n; i++)
        if (!(copy[i] = strdup(paths[i])))
            return false;
    return true;
}

target_db *db_existing_dup(const target_db *db)
{
    target_db *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->mode = db->mode;
    c->key_base = db->key_base;
    if (!dup_str(db->kill_cmd, &c->kill_cmd) ||
        !dup_str(db->start_cmd, &c->start_cmd) ||
        !dup_str(db->pause_cmd, &c->pause_cmd) ||
        !dup_str(db->resume_cmd, &c->resume_cmd) ||
        !dup_str(db->logs_cmd, &c->logs_cmd) ||
        !dup_paths(db->log_paths, &c->log_paths)) {
        db_existing_free(c);
        return NULL;
    }
    return c;
}

void db_existing_free(target_db *db)
{
    if (!db)
        return;
    free((char *)db->kill_cmd);
    free((char *)db->start_cmd);
    free((char *)db->pause_cmd);
    free((char *)db->resume_cmd);
    free((char *)db->logs_cmd);
    for (size_t i = 0; db->log_paths && db->log_paths[i]; i++)
        free((char *)db->log_paths[i]);
    free((void *)db->log_paths);
    free(db);
}

/* ---- the commands (pure) ----------------------------------------------------------- */

typedef struct op_spec {
    unsigned op;
    const char *option;
    const char *marker;
    bool marks;                  /* makes the marker; else needs and clears it */
} op_spec;

static const op_spec op_specs[] = {
    {TARGET_DB_KILL, "--kill-cmd", DB_EXISTING_KILLED, true},
    {TARGET_DB_START, "--start-cmd", DB_EXISTING_KILLED, false},
    {TARGET_DB_PAUSE, "--pause-cmd", DB_EXISTING_PAUSED, true},
    {TARGET_DB_RESUME, "--resume-cmd", DB_EXISTING_PAUSED, false},
};

static const op_spec *spec_of(unsigned op)
{
    for (size_t i = 0; i < sizeof op_specs / sizeof *op_specs; i++)
        if (op_specs[i].op == op)
            return &op_specs[i];
    return NULL;
}

const char *db_existing_option(unsigned op)
{
    const op_spec *s = spec_of(op);
    return s ? s->option : "?";
}

static const char *command_of(const target_db *db, unsigned op)
{
    switch (op) {
    case TARGET_DB_KILL: return db->kill_cmd;
    case TARGET_DB_START: return db->start_cmd;
    case TARGET_DB_PAUSE: return db->pause_cmd;
    case TARGET_DB_RESUME: return db->resume_cmd;
    default: return NULL;
    }
}

/* The user's command, its output kept out of the SSH channel. The
 * newline ends a trailing comment or an unterminated line in it. */
#define USER_FMT "( %s\n) </dev/null >>$d/" DB_EXISTING_LOG " 2>&1"
#define LOG_TAIL "tail -n 5 $d/" DB_EXISTING_LOG " >&2"

char *db_existing_op_cmd(const char *dir, unsigned op, const char *user_cmd)
{
    const op_spec *sp = spec_of(op);
    char *s = NULL;
    if (!sp)
        return NULL;
    int n = sp->marks
        ? asprintf(&s, "d=%s; mkdir -p $d && touch $d/%s && "
                   "echo '== %s' >>$d/" DB_EXISTING_LOG " && "
                   "{ " USER_FMT " || { " LOG_TAIL "; exit 1; }; }",
                   dir, sp->marker, sp->option, user_cmd)
        : asprintf(&s, "d=%s; [ -f $d/%s ] || exit 0; "
                   "echo '== %s' >>$d/" DB_EXISTING_LOG "; "
                   "{ " USER_FMT " || { " LOG_TAIL "; exit 1; }; } && "
                   "rm -f $d/%s",
                   dir, sp->marker, sp->option, user_cmd, sp->marker);
    return n < 0 ? NULL : s;
}

/* One undo step of the rest command: if the marker is there, run cmd
 * (NULL: not given, counted as unrestored) and count it in var. */
static void rest_step(FILE *f, const char *marker, const char *state,
                      const char *option, const char *cmd, const char *var)
{
    fprintf(f, "if [ -f $d/%s ]; then echo '== rest: %s' >>$d/"
               DB_EXISTING_LOG "; ", marker, option);
    if (cmd)
        fprintf(f, "if " USER_FMT "; then rm -f $d/%s; %s=1; "
                   "else u=$((u + 1)); " LOG_TAIL "; fi; ", cmd, marker, var);
    else
        fprintf(f, "echo 'a faultline run left the database on this node "
                   "%s, and no %s was given to undo it' >&2; u=$((u + 1)); ",
                state, option);
    fputs("fi; ", f);
}

char *db_existing_rest_cmd(const target_db *db, const char *dir)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "d=%s; mkdir -p $d; r=0; s=0; u=0; ", dir);
    /* Resume before restart, as the runner's final sweep. */
    rest_step(f, DB_EXISTING_PAUSED, "paused", "--resume-cmd", db->resume_cmd,
              "r");
    rest_step(f, DB_EXISTING_KILLED, "killed", "--start-cmd", db->start_cmd,
              "s");
    fputs("echo \"resumed=$r restarted=$s unrestored=$u\"", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- over the remote ------------------------------------------------------------------ */

int db_existing_op(remote *r, size_t node, const char *node_dir,
                   const target_db *db, unsigned op, fl_error *err)
{
    const char *user = command_of(db, op);
    if (!user)
        return fl_error_set(err, FL_EUSAGE, "--db existing: faultline "
                            "touches a database it did not start only "
                            "through your commands, and %s was not given",
                            db_existing_option(op));
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", node_dir, remote_name(r, node));
    char *cmd = db_existing_op_cmd(dir, op, user);
    if (!cmd)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    int rc = remote_run(r, node, cmd, OP_TIMEOUT_MS, err);
    free(cmd);
    return rc == FL_OK ? FL_OK
                       : fl_error_wrap(err, "%s on node %s",
                                       db_existing_option(op),
                                       remote_name(r, node));
}

static int logs_cmd_output(remote *r, size_t node, const char *cmd,
                           const char *local_dir, fl_error *err)
{
    fl_ssh_result res = {0};
    int rc = remote_exec(r, node, cmd, LOGS_TIMEOUT_MS, &res, err);
    if (rc != FL_OK)
        return fl_error_wrap(err, "--logs-cmd on node %s", remote_name(r, node));
    char path[2048];
    snprintf(path, sizeof path, "%s/logs-cmd.out", local_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fwrite(res.out ? res.out : "", 1, res.out_len, f);
        rc = fclose(f) == 0 ? FL_OK : FL_EIO;
    }
    if (!f || rc != FL_OK)
        rc = fl_error_set(err, FL_EIO, "cannot write %s", path);
    else if (res.exit_status != 0)
        rc = fl_error_set(err, FL_EIO, "--logs-cmd on node %s exited %d: "
                          "%.200s", remote_name(r, node), res.exit_status,
                          res.err ? res.err : "");
    fl_ssh_result_free(&res);
    return rc;
}

int db_existing_collect_logs(remote *r, size_t node, const target_db *db,
                             const char *local_dir, fl_error *err)
{
    int first = FL_OK;
    fl_error e = {0};
    if (db->logs_cmd &&
        logs_cmd_output(r, node, db->logs_cmd, local_dir, &e) != FL_OK) {
        first = e.code;
        *err = e;
    }
    for (size_t i = 0; db->log_paths && db->log_paths[i]; i++) {
        const char *p = db->log_paths[i], *base = strrchr(p, '/');
        char local[2048];
        snprintf(local, sizeof local, "%s/%s", local_dir, base ? base + 1 : p);
        if (remote_download(r, node, p, local, LOGS_TIMEOUT_MS, &e) != FL_OK &&
            first == FL_OK) {
            first = e.code;
            *err = e;
        }
    }
    return first;
}
