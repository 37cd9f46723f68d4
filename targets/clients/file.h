/*
 * file target: a database described by a JSON file instead of C code
 * (`faultline test --target-file FILE`). Its db is the daemon default
 * (targets/clients/daemon.h) configured with the file's commands; its
 * client is a process in any language speaking JSON lines
 * (targets/clients/jsonl_client.h). docs/any-database.md walks through
 * two examples (examples/raftkv, examples/etcd).
 *
 * The schema (unknown keys are errors, so a typo is caught):
 *
 *   {
 *     "name": "mykv",                   required; letters, digits, - _
 *     "client_port": 8000,              required; the client's port
 *     "operations": ["read", "write", "cas"],   required; of read, write,
 *                                       cas, add: what the client does
 *     "db": {                           required
 *       "start": "CMD",                 required in managed mode: runs in
 *                                       the foreground; faultline keeps
 *                                       it in the background under
 *                                       setsid with {dir}/stdout.log and
 *                                       a pid file, and finds every
 *                                       process it starts by an
 *                                       environment marker
 *       "install": "CMD",               optional; run at set-up
 *       "ready": {"tcp": true} | {"http": "/path"} | {"command": "CMD"},
 *                                       optional, default tcp: when the
 *                                       node serves (connect; GET 200;
 *                                       exit 0 on the node)
 *       "leader": "CMD",                optional; exits 0 on the leader
 *       "kill": "CMD", "pause": "CMD", "resume": "CMD",
 *                                       optional; default: SIGKILL,
 *                                       SIGSTOP, SIGCONT to every process
 *                                       the start command began
 *       "wipe": "CMD",                  optional; default: remove
 *                                       {data_dir}, {log}, stdout.log
 *       "logs": ["FILE", ...],          optional; files under {dir}
 *                                       downloaded besides stdout.log
 *       "peer": "{addr}:7000"           optional; one node's entry in
 *                                       {peers} (default "{addr}")
 *     },
 *     "client": {                       required
 *       "command": "python3 client.py", required; runs on the controller,
 *                                       in the file's directory
 *       "timeout_ms": 5000,             optional, 100..600000
 *       "options": {...}                optional; passed in the handshake
 *     },
 *     "crash_patterns": ["panic:"]      optional; text that marks a crash
 *                                       when a line of the node's logs
 *                                       contains it (as --log-pattern)
 *   }
 *
 * Placeholders in every command: {node} (its name), {addr}, {index}
 * (0-based), {id} (1-based), {n} (how many nodes), {port} (client_port),
 * {peers} (every node's "peer", comma-separated), {dir} (the node's
 * directory), {data_dir} ({dir}/data, made before start), {log}
 * ({dir}/db.log). Node commands run in {dir} over SSH.
 *
 * The client's connections stay on the test network: on the local
 * cluster it runs with faultline-bind.so preloaded (preload/), which
 * binds every IPv4 connect() to the controller's bridge address, as the C
 * clients bind theirs (harness/netbind.h).
 */
#ifndef FL_TARGET_FILE_H
#define FL_TARGET_FILE_H

#include "harness/target.h"

/*
 * Read and check the target file at path. *out is a target_vtable named
 * after the file's "name", with its operations and one option, "file"
 * (the file's absolute path, its default: test.json records it), that
 * create() reads the file from again. Free it with file_target_free.
 * Errors: FL_EUSAGE "PATH:LINE: FIELD: what is wrong" (the line where
 * the field is, or the JSON syntax error's), FL_EIO (cannot read it),
 * FL_ENOMEM.
 */
int file_target_load(const char *path, target_vtable **out, fl_error *err);

/* Free what file_target_load made. NULL: nothing. */
void file_target_free(target_vtable *vt);

/*
 * Expand tmpl's {NAME} placeholders from vars (pairs name, value,
 * NULL-terminated). New string; NULL with *bad naming the first unknown
 * placeholder (a static string up to its '}' is copied into bad, of size
 * bad_size) or "" when out of memory. Pure.
 */
char *file_expand(const char *tmpl, const char *const *vars, char *bad,
                  size_t bad_size);


#endif
