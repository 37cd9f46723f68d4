/*
 * http: one HTTP request and how it ended. See http.h.
 */
#include "targets/clients/http.h"
#include "harness/netbind.h"

#include <stdio.h>
#include <string.h>

typedef struct http_body {
    char buf[HTTP_MAX_BODY];
    size_t len;
    bool too_large;
} http_body;

/* A body larger than the buffer aborts the transfer (curl then reports a
 * write error): a cut body must never pass for a complete answer — a read
 * of a large set would come back as some other value. The workloads keep
 * values far below this (a set key is retired after at most 400 adds). */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    http_body *b = arg;
    size_t n = size * nmemb;
    if (n > sizeof b->buf - 1 - b->len) {
        b->too_large = true;
        return 0;
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return n;
}

/* What the socket callback was asked to bind, and how it went. */
typedef struct bind_ctx {
    const char *source;
    bool failed;
    fl_error err;
} bind_ctx;

/* Called by curl for every socket after it is created and before it
 * connects: the bind happens here, through the same helper as SSH and the
 * probes, so a vanished bridge fails the request before any packet. */
static int on_socket(void *arg, curl_socket_t fd, curlsocktype purpose)
{
    bind_ctx *b = arg;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKOPT_OK;
    if (fl_net_bind(fd, b->source, &b->err) != FL_OK) {
        b->failed = true;
        return CURL_SOCKOPT_ERROR;
    }
    return CURL_SOCKOPT_OK;
}

void http_request(CURL *h, const http_call *call, http_answer *a,
                  json_t **body_json)
{
    http_body body = {.len = 0};
    bind_ctx bc = {.source = call->bind};
    struct curl_slist *hdr = NULL;
    memset(a, 0, sizeof *a);
    *body_json = NULL;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, call->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)call->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)call->timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_PROXY, "");   /* never via a proxy */
    if (call->bind) {
        curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_socket);
        curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, &bc);
    }
    if (call->may_change_state) /* a connection of its own (see http.h) */
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    if (strcmp(call->method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call->method);
    if (call->payload) {
        if (call->content_type) {
            char line[128];
            snprintf(line, sizeof line, "Content-Type: %s", call->content_type);
            hdr = curl_slist_append(hdr, line);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        }
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, call->payload);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    if (rc == CURLE_OK) {
        a->answered = true;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
        *body_json = json_loadb(body.buf, body.len, JSON_DECODE_ANY, NULL);
        a->body = *body_json;
        a->text_len = body.len;
        snprintf(a->text, sizeof a->text, "%.*s", (int)body.len, body.buf);
        return;
    }
    /* Our bind refused, or curl's own interface binding failed: the test
     * network is gone and nothing was sent. */
    if (bc.failed || rc == CURLE_INTERFACE_FAILED) {
        a->unbound = true;
        return;
    }
    a->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    a->too_large = body.too_large;
    /* Sent: curl handed the kernel at least one byte of the request (the
     * count is per transfer, retries included). Neither the error code nor
     * the connect time says so: on libcurl 7.88 a request that times out
     * on a reused connection has a connect time of 0, and one read by a
     * node that then died ends "could not connect" after curl's retry. */
    long request_bytes = 0;
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_bytes);
    a->sent = request_bytes > 0;
}
