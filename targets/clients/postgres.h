/*
 * postgres target: PostgreSQL 15 (Debian's postgresql-15) as a real SQL
 * database for the transactional workloads (list-append, rw-register;
 * checker elle). PostgreSQL is not replicated here: every node runs a
 * server of its own (the daemon default, targets/clients/daemon.h), and
 * every client talks to node 0's; the others are alike so that a fault
 * on any node meets a database, but their data is never read.
 *
 * On each node (NODE_DIR/NAME): pgdata/ (initdb'd by the start's prepare
 * the first time, as the postgres user, trust authentication), the
 * server running as user postgres, postgres.log, stdout.log, and the
 * daemon default's postgres.pid and db.exit (how the server ended, for
 * the crash watcher). The server listens on the node's address, port
 * 5432; its processes are found by the data dir (the postmaster) and by
 * cluster_name, set to the node's directory, which every child shows in
 * its title.
 *
 * Options (`faultline test --target postgres --help`):
 *   --bin-dir DIR      PostgreSQL's programs (default
 *                      /usr/lib/postgresql/15/bin)
 *   --isolation L      serializable (default), repeatable-read,
 *                      read-committed: every transaction's level
 *
 * Data: one table txn (k bigint primary key, v jsonb). An append is
 * INSERT ... VALUES (k, '[v]') ON CONFLICT (k) DO UPDATE SET v = txn.v ||
 * excluded.v (jsonb array concatenation); a register write sets v; a
 * read selects v (jsonb, so a read tells a list from a number). A
 * transaction is one simple query: BEGIN ISOLATION LEVEL ...; the
 * micro-ops' statements; COMMIT. The client speaks PostgreSQL's protocol
 * itself (targets/clients/pgwire.h: libpq cannot bind a source address).
 *
 * Errors and whether a fail with them is definite:
 *   cannot bind to the test network, no connection   definite (not sent)
 *   serialization failure (40001), deadlock (40P01),
 *   error (any other SQL error: "detail" has it)     definite: the
 *                                                    transaction aborted
 *   connection lost, timeout                         not definite (info):
 *                                                    the COMMIT may have
 *                                                    run; a read-only
 *                                                    transaction fails
 */
#ifndef FL_TARGET_POSTGRES_H
#define FL_TARGET_POSTGRES_H

#include <jansson.h>

#include "harness/target.h"
#include "targets/clients/pgwire.h"

#define POSTGRES_PORT 5432
#define POSTGRES_TIMEOUT_MS 5000

extern const target_vtable postgres_target;

/* The SQL of transaction txn at isolation level `isolation` ("SERIALIZABLE",
 * ...): new string, or NULL for a txn of the wrong shape (integer keys and
 * values only) or out of memory. */
char *postgres_txn_sql(const json_t *txn, const char *isolation);

/* The outcome of running txn's SQL: ok with the reads filled in, fail, or
 * info, as the table above says. res is pgw_query's. */
void postgres_classify(const json_t *txn, const pgw_result *res,
                       target_result *out);

#endif
