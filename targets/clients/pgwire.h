/*
 * pgwire: the little of PostgreSQL's frontend/backend protocol (version
 * 3) the postgres target needs: connect from the test network's address,
 * start up with trust authentication, and run one simple query (several
 * statements in one string) collecting each statement's command tag and
 * the first column of its rows.
 *
 * Why not libpq: it cannot bind a connection's source address, and the
 * rule for every client here is that its sockets are bound to the test
 * network (harness/netbind.h) before they connect; Debian's static libpq
 * needs libpgcommon/libpgport, which it does not ship, so the
 * --wrap=connect route (targets/clients/zookeeper.h) is closed too.
 *
 * Ownership: a pgw is the caller's (pgw_close); a pgw_result owns its
 * strings (pgw_result_clear). Not thread safe: one connection per client.
 */
#ifndef FL_PGWIRE_H
#define FL_PGWIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/fl_error.h"

typedef struct pgw pgw;

/*
 * Connect to host:port (IPv4 literal) from source (NULL: unbound) and
 * start up as user on database; FL_OK with *out, or an error:
 * FL_NET_EUNBOUND (the bind failed: nothing was sent), FL_EIO (refused,
 * timed out, or the server said no: message has its words).
 */
int pgw_connect(const char *host, int port, const char *source,
                const char *user, const char *database, int timeout_ms,
                pgw **out, fl_error *err);
void pgw_close(pgw *c);

/* One statement's outcome within a query. */
typedef struct pgw_stmt {
    char *tag;       /* CommandComplete's tag ("SELECT 1", "COMMIT") */
    char *value;     /* first column of its first row; NULL: none or SQL null */
    bool has_row;
} pgw_stmt;

typedef struct pgw_result {
    pgw_stmt *stmts; /* the statements that completed, in order */
    size_t n;
    bool error;      /* the server answered an error (the rest skipped) */
    char sqlstate[6];
    char *message;   /* the error's message */
    bool sent;       /* a byte of the query went out */
    bool broken;     /* the connection failed before ReadyForQuery */
    bool timed_out;
} pgw_result;

/* Send sql as one simple query and read until ReadyForQuery (or the
 * connection fails: res->broken). FL_OK whenever res says what happened;
 * FL_ENOMEM. */
int pgw_query(pgw *c, const char *sql, int timeout_ms, pgw_result *res,
              fl_error *err);
void pgw_result_clear(pgw_result *res);

#endif
