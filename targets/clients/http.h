/*
 * http: one HTTP request from a target's client, and what a history needs
 * to know of how it ended. Shared by every HTTP target (raftkv, etcd,
 * Consul) so that they all answer the one question that decides between
 * a definite `fail` and an indeterminate `info` the same way: could the
 * request have reached the server?
 *
 *   answered   a whole HTTP answer came (status, body);
 *   unbound    the socket could not be bound to the test network's source
 *              address before connect (harness/netbind.h): nothing sent;
 *   sent       no answer, and curl wrote at least one byte of the request:
 *              it may have reached the server and taken effect;
 *   otherwise  no answer and not a byte written: it certainly did not.
 *
 * A request that may change state (the caller says so: etcd reads with
 * POST) always gets a connection of its own: on a kept connection that
 * turns out dead, curl sends the request again on a new one, and a server
 * that read the first copy before it died may have applied it — the write
 * would happen twice. Reads reuse kept connections.
 */
#ifndef FL_TARGET_HTTP_H
#define FL_TARGET_HTTP_H

#include <stdbool.h>
#include <curl/curl.h>
#include <jansson.h>

/* Bodies larger than this abort the transfer (too_large): a cut body must
 * never pass for a complete answer. */
#define HTTP_MAX_BODY 65536

typedef struct http_answer {
    bool answered;
    bool timed_out;       /* no answer: it ran out of time */
    bool sent;            /* no answer: a byte of the request went out */
    bool too_large;       /* the answer did not fit HTTP_MAX_BODY */
    bool unbound;         /* the bind to the test network failed: nothing
                             was sent */
    long status;          /* answered: the HTTP status */
    const json_t *body;   /* answered: the body parsed as any JSON value,
                             or NULL (not JSON, or empty); owned by the
                             caller's *body of http_request */
    size_t text_len;      /* answered: the body's length in bytes */
    char text[256];       /* answered: its first bytes, NUL-terminated
                             (plain-text errors: Consul's "No cluster
                             leader") */
} http_answer;

/* One request; every string borrowed for the call. */
typedef struct http_call {
    const char *method;       /* "GET", "PUT", "POST" ... */
    const char *url;
    const char *bind;         /* source address for every socket, or NULL */
    const char *payload;      /* the request body, or NULL */
    const char *content_type; /* the payload's type; NULL: none sent */
    bool may_change_state;    /* a write: never on a kept connection */
    int connect_timeout_ms;   /* part of timeout_ms */
    int timeout_ms;
} http_call;

/* Send call on handle h and wait at most call->timeout_ms. Fills *a;
 * *body is the parsed answer (caller frees with json_decref; NULL when
 * none). Never fails itself: every problem is an outcome in *a. */
void http_request(CURL *h, const http_call *call, http_answer *a,
                  json_t **body);

#endif
