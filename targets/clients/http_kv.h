/*
 * http_kv: the core an HTTP key-value client shares (etcd, Consul); each
 * target keeps only what differs — how it builds a request and how it
 * classifies its database's answer:
 *   - http_kv_error: an outcome's error object, {"error": MSG[, "detail":
 *     D][, "status": S]};
 *   - http_kv_unanswered: the outcome of a request nobody answered, from
 *     what http.h knows (was it bound, sent, timed out): a read or a
 *     request never sent certainly did not happen (fail), a sent write may
 *     have (info);
 *   - http_kv_key: an integer or string key as the text in a URL or body;
 *   - http_kv_add: the set workload's add as read-modify-write
 *     (targets/clients/rmw.h), each step one request the target makes.
 */
#ifndef FL_TARGET_HTTP_KV_H
#define FL_TARGET_HTTP_KV_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/target.h"
#include "targets/clients/http.h"
#include "targets/clients/rmw.h"

/* Set out's type and error (detail NULL or "": none; status 0: none). */
void http_kv_error(target_result *out, history_type type, const char *msg,
                   const char *detail, long status);

/* out (cleared first) for a request without an answer. Errors:
 * TARGET_ERROR_UNBOUND, "timeout", "answer too large", and otherwise "no
 * connection" (fail) or "connection lost" (info). */
void http_kv_unanswered(bool is_read, const http_answer *a,
                        target_result *out);

/* key's text: an integer's digits or a string ("" for anything else). */
void http_kv_key(const json_t *key, char *out, size_t size);

/* One step of an add: next NULL, the read (answer through
 * rmw_add_read_answer); otherwise the conditional write of next (answer
 * through rmw_add_cas_answer / rmw_add_cas_refused, or rmw_add_abandon).
 * At most timeout_ms. */
typedef void (*http_kv_add_step)(void *ctx, rmw_add *st, json_t *next,
                                 int timeout_ms);

/* Run an add of element within `attempts` steps and twice
 * request_timeout_ms: each step gets only the time left, so the bound
 * holds however the steps end. A non-integer element is a fail
 * "rejected". The outcome into *out (the caller's). */
void http_kv_add(const json_t *element, int attempts, int request_timeout_ms,
                 http_kv_add_step step, void *ctx, target_result *out);

#endif
