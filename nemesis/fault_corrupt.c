/*
 * The file-corruption faults, Jepsen's corrupt-file modes, each on a
 * minority of nodes while their database is stopped:
 *
 *   bitflip    N random bits of one of its data files inverted
 *   truncate   the last N bytes of one of its data files cut off
 *   snapshot   its whole data directory put back as it was at this
 *              kind's previous fault on the node (a rolled-back disk: a
 *              lost write of everything since)
 *
 * Three kinds, not one with a mode: each has its own options and its own
 * events in the history (the report shades and counts them apart), and
 * `--nemesis bitflip` reads as what it does, as the clock kinds do.
 *
 * Sequence (apply): the target's kill (so the crash watcher knows the
 * stop as the nemesis's, as for kill and power-loss), then the
 * corruption, noted in the end event's "did" (fault_note_did): the file,
 * its size, the bits flipped or the bytes cut, or the snapshot's age.
 * heal: the target's start, then a watch until the node serves or its
 * process ends (at most the target's ready allowance, 5 s at least). A
 * database that refuses to start on what it found is noted ("refused":
 * how it ended, "log": the end of its output) and, since detecting the
 * corruption is the right answer, the node is repaired from the copy
 * apply kept (NODE_DIR/NAME/KIND.undo: the file before it was corrupted,
 * or the whole directory before the rollback) and started again, so that
 * a refusal is a finding in the history and not a node lost for the rest
 * of the run. A database that starts on corrupt data and crashes later is
 * the crash watcher's (a crash: the run is invalid).
 *
 * Which nodes: Jepsen's file-corruption nemeses are meant for a database
 * that tolerates disk faults on up to a minority of nodes over the whole
 * test (its nodes-gen), so these kinds only ever touch the last
 * (n-1)/2 nodes of the list (one node when n < 3), 1..all of them a time:
 * corrupted data on one node and a rollback on another would be a
 * majority over time.
 *
 * Mechanism: bitflip and truncate run faultline-corrupt
 * (nemesis/corrupt/main.c; build/faultline-corrupt, static, uploaded by
 * prepare to NODE_DIR/NAME/), which picks one of the target's data files
 * (target_data_files: raftkv's log and snapshot, etcd's WAL segments,
 * raft snapshots and db, ZooKeeper's version-2 logs and snapshots) from
 * the action's seed. snapshot is coreutils (cp -a, find -delete, date):
 * the copy taken at each fault is NODE_DIR/NAME/snapshot.saved, restored
 * at the next (the first fault on a node only takes it). What either
 * writes into the data directory is fsync'd (`sync FILE...`), so that
 * power-loss's powerfs, when both kinds run, never undoes it. Everything is
 * under the node's own directory; rest and teardown remove every copy.
 * A node needs coreutils and findutils; --db managed only (TARGET_DB_DATA:
 * the data directory of an existing database is the user's).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/build_path.h"
#include "base/clock.h"
#include "nemesis/fault.h"

#define CORRUPT_BINARY "faultline-corrupt"
#define CORRUPT_TIMEOUT_MS 60000
#define CORRUPT_WATCH_MS 5000

static const fault_option bitflip_options[] = {
    {"bitflip-bits", "N", "bitflip: how many bits of the chosen file to "
     "invert", 1, 4096, 1},
    {0},
};

static const fault_option truncate_options[] = {
    {"truncate-bytes", "N", "truncate: how many bytes to cut off the end "
     "of the chosen file's data", 1, 1e9, 64},
    {0},
};

/* ---- plan and description (pure) ------------------------------------------- */

static void corrupt_plan(fl_rng *rng, size_t n, long leader,
                         const fault_action *in_force, size_t nforce,
                         fault_action *out)
{
    (void)leader;
    (void)in_force;
    (void)nforce;
    size_t m = n >= 3 ? (n - 1) / 2 : 1, first = n - m, perm[FAULT_MAX_NODES];
    size_t count = (size_t)fl_rng_range(rng, 1, (int64_t)m);
    nem_shuffle(perm, m, rng);
    for (size_t i = 0; i < count; i++) {
        size_t node = first + perm[i];
        out->nodes[node] = true;
        out->amount[node] = (double)fl_rng_below(rng, UINT64_C(1) << 31);
    }
}

/* {"nodes": [...], OPTION: N, "seeds": {NODE: SEED}}: what the plan
 * chose; the completion adds what each node's corruption hit. */
static json_t *corrupt_describe(const fault_action *a, size_t n,
                                const char *const *names)
{
    json_t *v = json_pack("{s:o,s:o}", "nodes",
                          fault_nodes_json(a, n, names), "seeds",
                          json_object());
    const json_t *seeds = v ? json_object_get(v, "seeds") : NULL;
    for (size_t i = 0; seeds && i < n; i++)
        if (a->nodes[i] && json_object_set_new((json_t *)seeds, names[i],
                                               json_integer((json_int_t)
                                                            a->amount[i]))) {
            json_decref(v);
            return NULL;
        }
    for (const fault_option *o = a->kind->options; v && o && o->name; o++)
        if (json_object_set_new(v, o->name,
                                json_integer((json_int_t)
                                             fault_option_value(a, o->name)))) {
            json_decref(v);
            return NULL;
        }
    return v;
}

/* ---- commands (pure) ---------------------------------------------------------- */

char *fault_corrupt_apply_cmd(const char *kind, const char *d,
                              const char *data, const char *const *globs,
                              uint64_t seed, uint64_t amount)
{
    char *s = NULL;
    if (strcmp(kind, "snapshot") == 0) {
        /* The state before goes to the undo copy (a repair puts it back)
         * and becomes the next fault's saved copy; an older saved copy,
         * if any, replaces the data. */
        if (asprintf(&s, "d=%s; x=%s; u=$d/snapshot.undo; s=$d/snapshot.saved; "
                     "rm -rf $u && mkdir -p $x && cp -a $x $u && "
                     "if [ -d $s ] && [ -f $s.time ]; then "
                     "age=$(( $(date +%%s) - $(cat $s.time) )); "
                     "find $x -mindepth 1 -delete && cp -a $s/. $x/ && "
                     "echo \"{\\\"restored\\\":true,\\\"age_s\\\":$age}\"; "
                     "else echo '{\"restored\":false}'; fi && "
                     "rm -rf $s && cp -a $u $s && date +%%s > $s.time && "
                     "find $x -exec sync {} +",
                     d, data) < 0)
            return NULL;
        return s;
    }
    if (asprintf(&s, "d=%s; rm -rf $d/%s.undo && $d/%s %s %llu %llu "
                 "$d/%s.undo %s", d, kind, CORRUPT_BINARY, kind,
                 (unsigned long long)seed, (unsigned long long)amount, kind,
                 data) < 0)
        return NULL;
    for (size_t i = 0; s && globs && globs[i]; i++) {
        char *next = NULL;
        if (strchr(globs[i], '\'') ||
            asprintf(&next, "%s '%s'", s, globs[i]) < 0)
            next = NULL;
        free(s);
        s = next;
    }
    return s;
}

char *fault_corrupt_repair_cmd(const char *kind, const char *d,
                               const char *data)
{
    char *s = NULL;
    /* A rollback's undo is the whole directory: what the rollback brought
     * back that was not there before goes too. */
    bool whole = strcmp(kind, "snapshot") == 0;
    if (asprintf(&s, "d=%s; x=%s; u=$d/%s.undo; [ -d $u ] || exit 3; %s"
                 "cp -a $u/. $x/ && find $x -exec sync {} +", d, data, kind,
                 whole ? "find $x -mindepth 1 -delete && " : "") < 0)
        return NULL;
    return s;
}

char *fault_corrupt_rest_cmd(const char *kind, const char *d)
{
    char *s = NULL;
    if (asprintf(&s, "d=%s; n=0; for f in $d/%s.undo $d/%s.saved "
                 "$d/%s.saved.time; do [ -e $f ] && n=$((n + 1)); "
                 "rm -rf $f || exit 1; done; echo %s=$n", d, kind, kind, kind,
                 kind) < 0)
        return NULL;
    return s;
}

/* ---- on the nodes ----------------------------------------------------------- */

/* Run cmd (owned; NULL: out of memory) on the node; its stdout into *out
 * (the caller's) when out is not NULL. A non-zero exit is FL_EIO with its
 * stderr, unless it is `ok_status` (then *status says which). */
static int run(const fault_env *env, size_t node, const char *what, char *cmd,
               char **out, int *status, fl_error *err)
{
    if (!cmd)
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", what);
    fl_ssh_result res = {0};
    int rc = remote_exec(env->r, node, cmd, CORRUPT_TIMEOUT_MS, &res, err);
    free(cmd);
    if (rc != FL_OK)
        return fl_error_wrap(err, "%s on %s", what, env->names[node]);
    if (status)
        *status = res.exit_status;
    else if (res.exit_status != 0)
        rc = fl_error_set(err, FL_EIO, "%s on %s: exit %d: %.300s", what,
                          env->names[node], res.exit_status,
                          res.err ? res.err : "");
    if (rc == FL_OK && out) {
        *out = res.out;
        res.out = NULL;
    }
    fl_ssh_result_free(&res);
    return rc;
}

/* s (a database's output, cut anywhere) as a JSON string: a byte that
 * is not printable ASCII (a UTF-8 sequence the cut split) becomes '?'.
 * New reference; NULL on OOM. */
static json_t *text_json(char *s)
{
    for (unsigned char *p = (unsigned char *)s; p && *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p >= 0x7f)
            *p = '?';
    return json_string(s ? s : "");
}

/* The node's data directory and files, or FL_EUSAGE saying why not. */
static int data_of(const fault_env *env, size_t node, const char *kind,
                   char **data, const char *const **files, fl_error *err)
{
    *files = target_data_files(env->t);
    *data = *files ? target_data_path(env->t, node) : NULL;
    if (!*data)
        return fl_error_set(err, FL_EUSAGE, "--nemesis %s needs a database "
                            "faultline manages (--db managed) on a target "
                            "that names its data files (raftkv, etcd, "
                            "zookeeper); %s does not", kind,
                            target_name(env->t));
    return FL_OK;
}

static int corrupt_apply(const fault_env *env, const fault_action *a,
                         size_t node, fl_error *err)
{
    const char *kind = a->kind->name;
    const char *const *files = NULL;
    char *data = NULL, *d = fault_node_path(env, node), *out = NULL;
    int rc = d ? data_of(env, node, kind, &data, &files, err)
               : fl_error_set(err, FL_ENOMEM, "%s: out of memory", kind);
    if (rc == FL_OK)
        rc = target_kill(env->t, node, err);
    double n = a->kind->options ? fault_option_value(a,
                                                     a->kind->options->name)
                                : 0;
    if (rc == FL_OK)
        rc = run(env, node, kind, fault_corrupt_apply_cmd(kind, d, data, files,
                 (uint64_t)a->amount[node], (uint64_t)n), &out, NULL, err);
    if (rc == FL_OK) {
        json_t *did = json_loads(out ? out : "", JSON_DECODE_ANY, NULL);
        fault_note_did(env, node, did ? did : text_json(out));
    }
    free(out);
    free(data);
    free(d);
    return rc;
}

/* Until the node serves (true) or its process has ended (false: *how says
 * how, with the end of its output), at most the watch. */
static int watch(const fault_env *env, size_t node, const char *d,
                 bool *serving, char **how, fl_error *err)
{
    double until = fl_clock_mono_s() +
                   target_ready_timeout_ms(env->t, CORRUPT_WATCH_MS) / 1000.0;
    *serving = false;
    *how = NULL;
    do {
        char *cmd = NULL, *out = NULL;
        int status = 0;
        if (asprintf(&cmd, "d=%s; [ -e $d/%s ] || exit 0; echo \"exit status "
                     "$(cat $d/%s)\"; tail -c 300 $d/stdout.log; exit 3", d,
                     TARGET_DB_EXIT_FILE, TARGET_DB_EXIT_FILE) < 0)
            cmd = NULL;
        int rc = run(env, node, "watching the database", cmd, &out, &status,
                     err);
        if (rc != FL_OK)
            return rc;
        if (status == 3) {
            *how = out;
            return FL_OK;
        }
        free(out);
        fl_error e = {0};
        if (target_await_ready(env->t, node, 500, &e) == FL_OK) {
            *serving = true;
            return FL_OK;
        }
    } while (fl_clock_mono_s() < until);
    return FL_OK;
}

static int corrupt_heal(const fault_env *env, const fault_action *a,
                        size_t node, fl_error *err)
{
    const char *kind = a->kind->name;
    char *d = fault_node_path(env, node), *data = target_data_path(env->t, node);
    char *how = NULL;
    bool serving = false;
    int rc = d ? target_start(env->t, node, err)
               : fl_error_set(err, FL_ENOMEM, "%s: out of memory", kind);
    if (rc == FL_OK)
        rc = watch(env, node, d, &serving, &how, err);
    json_t *did = json_object();
    if (rc == FL_OK && how && data) {
        /* It refused: noted, then the node is repaired and started. */
        json_object_set_new(did, "refused", text_json(how));
        int status = 0;
        rc = run(env, node, "repairing", fault_corrupt_repair_cmd(kind, d,
                 data), NULL, &status, err);
        json_object_set_new(did, "repaired", json_boolean(status == 0));
        free(how);
        how = NULL;
        if (rc == FL_OK && (rc = target_start(env->t, node, err)) == FL_OK)
            rc = watch(env, node, d, &serving, &how, err);
        if (rc == FL_OK && how)
            rc = fl_error_set(err, FL_EIO, "%s: the database on %s does not "
                              "start even after its files were put back: "
                              "%.300s", kind, env->names[node], how);
    }
    json_object_set_new(did, "serving", json_boolean(serving));
    fault_note_did(env, node, did);
    free(how);
    if (d) {
        char *cmd = NULL;
        if (asprintf(&cmd, "rm -rf %s/%s.undo", d, kind) < 0)
            cmd = NULL;
        fl_error e = {0};
        if (run(env, node, "removing the undo copy", cmd, NULL, NULL, &e) &&
            rc == FL_OK) {
            rc = e.code;
            *err = e;
        }
    }
    free(data);
    free(d);
    return rc;
}

static char *corrupt_rest(const char *kind, const fault_env *env, size_t node)
{
    char *d = fault_node_path(env, node);
    char *s = d ? fault_corrupt_rest_cmd(kind, d) : NULL;
    free(d);
    return s;
}

/* The helper beside the database (bitflip and truncate): uploaded under
 * another name and renamed, as a binary in use cannot be overwritten. */
static int corrupt_prepare(const char *kind, const fault_env *env,
                           size_t node, fl_error *err)
{
    const char *const *files = NULL;
    char *data = NULL, *d = fault_node_path(env, node), *up = NULL, *cmd = NULL;
    char local[PATH_MAX];
    int rc = d ? data_of(env, node, kind, &data, &files, err)
               : fl_error_set(err, FL_ENOMEM, "%s: out of memory", kind);
    if (rc == FL_OK && strcmp(kind, "snapshot") == 0) {
        if (asprintf(&cmd, "mkdir -p %s && command -v cp find date "
                     ">/dev/null", d) < 0)
            cmd = NULL;
        rc = run(env, node, "snapshot's prepare", cmd, NULL, NULL, err);
        goto out;
    }
    if (rc == FL_OK && fl_build_path(CORRUPT_BINARY, local, sizeof local))
        rc = fl_error_set(err, FL_EIO, "%s: no %s build beside this binary "
                          "(run `make`)", kind, CORRUPT_BINARY);
    if (rc == FL_OK && asprintf(&cmd, "mkdir -p %s", d) < 0)
        cmd = NULL;
    if (rc == FL_OK)
        rc = run(env, node, kind, cmd, NULL, NULL, err);
    cmd = NULL;
    if (rc == FL_OK && asprintf(&up, "%s/%s.%s", d, CORRUPT_BINARY,
                                kind) < 0)
        rc = fl_error_set(err, FL_ENOMEM, "%s: out of memory", kind);
    if (rc == FL_OK && (rc = remote_upload(env->r, node, local, up, 0755,
                                           CORRUPT_TIMEOUT_MS, err)))
        fl_error_wrap(err, "%s: installing %s on %s", kind, local,
                      env->names[node]);
    if (rc == FL_OK && asprintf(&cmd, "mv -f %s %s/%s", up, d,
                                CORRUPT_BINARY) < 0)
        cmd = NULL;
    if (rc == FL_OK)
        rc = run(env, node, kind, cmd, NULL, NULL, err);
out:
    free(up);
    free(data);
    free(d);
    return rc;
}

/* rest's, and the helper removed. */
static int corrupt_teardown(const char *kind, const fault_env *env,
                            size_t node, fl_error *err)
{
    char *rest = corrupt_rest(kind, env, node), *d = fault_node_path(env, node);
    char *cmd = NULL;
    if (rest && d && asprintf(&cmd, "%s && rm -f %s/%s %s/%s.*", rest, d,
                              CORRUPT_BINARY, d, CORRUPT_BINARY) < 0)
        cmd = NULL;
    free(rest);
    free(d);
    return run(env, node, kind, cmd, NULL, NULL, err);
}

#define CORRUPT_HOOKS(id, kname) \
    static char *id##_rest(const fault_env *env, size_t node) \
    { \
        return corrupt_rest(kname, env, node); \
    } \
    static int id##_prepare(const fault_env *env, size_t node, fl_error *err) \
    { \
        return corrupt_prepare(kname, env, node, err); \
    } \
    static int id##_teardown(const fault_env *env, size_t node, \
                             fl_error *err) \
    { \
        return corrupt_teardown(kname, env, node, err); \
    }

#define CORRUPT_KIND(id, kname, begin, end, opts, what) \
    CORRUPT_HOOKS(id, kname) \
    const fault_kind id = { \
        .name = kname, .begin_f = begin, .end_f = end, .summary = what, \
        .plan = corrupt_plan, .describe = corrupt_describe, \
        .apply = corrupt_apply, .heal = corrupt_heal, \
        .db_needs = TARGET_DB_KILL | TARGET_DB_START | TARGET_DB_DATA, \
        .acts_on = FAULT_ON_PROCESS, /* the database is stopped */ \
        .options = opts, \
        .rest = id##_rest, .prepare = id##_prepare, \
        .teardown = id##_teardown, \
    }

CORRUPT_KIND(fault_bitflip, "bitflip", "bitflip", "bitflip-start",
             bitflip_options, "stop a minority's database, invert random "
             "bits of one data file, start it (faultline-corrupt)");
CORRUPT_KIND(fault_truncate, "truncate", "truncate", "truncate-start",
             truncate_options, "stop a minority's database, cut the end off "
             "one data file, start it (faultline-corrupt)");
CORRUPT_KIND(fault_snapshot, "snapshot", "restore-snapshot", "snapshot-start",
             NULL, "stop a minority's database, roll its data directory back "
             "to the previous such fault's copy, start it (coreutils)");
