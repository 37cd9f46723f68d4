/*
 * target_db: how faultline treats the database (--db), a plain value that
 * the target (harness/target.h) and existing mode's commands
 * (harness/db_existing.h) both read; its own header so that neither
 * includes the other.
 */
#ifndef FL_TARGET_DB_H
#define FL_TARGET_DB_H

#include <jansson.h>

/*
 * How faultline treats the database (--db). managed: it is faultline's —
 * set-up kills, wipes, installs and starts it; the nemesis and rest kill
 * it through the target. existing: it is the user's, already running —
 * faultline never installs, wipes, starts at set-up or kills it of its
 * own accord; the nemesis kills, starts, pauses and resumes it only
 * through the user's shell commands below (run on the node over SSH), and
 * rest only undoes what faultline itself did (harness/db_existing.h).
 * Every target gets existing mode from this one seam (target.c), with no
 * code of its own: its clients connect to the nodes' addresses on its
 * usual client port.
 */
typedef enum target_db_mode {
    TARGET_DB_MANAGED,
    TARGET_DB_EXISTING,
} target_db_mode;

/* The db calls a caller (a fault kind) makes: what existing mode needs a
 * command for. A mask. */
enum {
    TARGET_DB_KILL = 1u << 0,
    TARGET_DB_START = 1u << 1,
    TARGET_DB_PAUSE = 1u << 2,
    TARGET_DB_RESUME = 1u << 3,
    /* Acts on the database's files (its vtable data_dir): only a database
     * faultline manages, whose files are faultline's to touch. */
    TARGET_DB_DATA = 1u << 4,
    /* Watches the database's elections (the vtable's election call) and
     * restarts its process itself by repeating the managed start: only a
     * database faultline manages. */
    TARGET_DB_ELECTION = 1u << 5,
};

typedef struct target_db {
    target_db_mode mode;
    /* existing only: shell commands run on the node (NULL: not given). */
    const char *kill_cmd, *start_cmd, *pause_cmd, *resume_cmd;
    const char *logs_cmd;            /* its stdout is the node's log */
    const char *const *log_paths;    /* files downloaded; NULL-terminated,
                                        NULL: none */
    /* existing only: added to every integer key a client sends (the
     * history keeps the workload's own), so that a run never reads what
     * an earlier run left in a database nobody wipes. run_test sets it
     * per run (test.json's db.key_base). */
    json_int_t key_base;
} target_db;

#endif
