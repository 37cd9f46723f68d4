/*
 * serve_http.c — the HTTP side of serve.h on libmicrohttpd: GET and HEAD
 * only, a small pool of its threads, every request resolved through
 * serve_url_path() and serve_resolve() before anything is opened. The run
 * list is scanned afresh on every request, so runs stored while serving
 * appear on reload.
 */
#include "serve/serve.h"
#include "base/alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SERVE_THREADS 4u

struct serve_server {
    struct MHD_Daemon *d;
    char root[PATH_MAX]; /* realpath of the results directory */
    unsigned port;
};

/* ---- Responses --------------------------------------------------------------------- */

/* Queue r (destroyed here) with the headers every answer carries. */
static enum MHD_Result queue(struct MHD_Connection *c, unsigned status,
                             struct MHD_Response *r, const char *type)
{
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status)
{
    const char *why = status == 403   ? "403 forbidden: not inside the results directory"
                      : status == 404 ? "404 not found"
                      : status == 405 ? "405 method not allowed: GET or HEAD"
                      : status == 414 ? "414 path too long"
                      : status == 500 ? "500 internal error"
                                      : "400 bad request";
    char *body;
    if (asprintf(&body, "<!DOCTYPE html>\n<title>%s</title><p>%s</p>"
                        "<p><a href=\"/\">all runs</a></p>\n", why, why) < 0)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
        free(body);
    else if (status == 405)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    return queue(c, status, r, "text/html; charset=utf-8");
}

/* A page written by fill into memory, sent as HTML. */
static enum MHD_Result respond_page(struct MHD_Connection *c, int fill_rc,
                                    char *buf, size_t len)
{
    if (fill_rc != FL_OK) {
        free(buf);
        return respond_error(c, fill_rc == FL_ENOINPUT ? 404 : 500);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
        free(buf);
    return queue(c, 200, r, "text/html; charset=utf-8");
}

static enum MHD_Result respond_run_list(serve_server *s,
                                        struct MHD_Connection *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return respond_error(c, 500);
    serve_runs *runs = NULL;
    fl_error err = {0};
    int rc = serve_runs_scan(s->root, &runs, &err);
    if (rc == FL_OK)
        rc = serve_runs_html(runs, s->root, f, &err);
    serve_runs_free(runs);
    fclose(f);
    return respond_page(c, rc == FL_ENOINPUT ? FL_EIO : rc, buf, len);
}

static enum MHD_Result respond_dir(struct MHD_Connection *c, const char *url,
                                   const char *path)
{
    size_t ul = strlen(url);
    if (url[ul - 1] != '/') { /* so that relative links resolve inside it */
        char *loc;
        if (asprintf(&loc, "%s/", url) < 0)
            return MHD_NO;
        struct MHD_Response *r =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (r)
            MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, loc);
        free(loc);
        return queue(c, 301, r, "text/html; charset=utf-8");
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return respond_error(c, 500);
    fl_error err = {0};
    int rc = serve_listing_html(path, url, f, &err);
    fclose(f);
    return respond_page(c, rc, buf, len);
}

static enum MHD_Result respond_file(struct MHD_Connection *c, const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return respond_error(c, errno == ENOENT ? 404 : 403);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return respond_error(c, 403); /* a device, fifo or socket */
    }
    /* MHD owns fd from here, and closes it with the response. */
    struct MHD_Response *r =
        MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (r == NULL)
        close(fd);
    return queue(c, 200, r, serve_content_type(path));
}

/* ---- Requests ----------------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    serve_server *s = cls;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond_error(c, 405);
    char rel[PATH_MAX], path[PATH_MAX];
    int st = serve_url_path(url, rel, sizeof rel);
    if (st == 200 && rel[0] == '\0')
        return respond_run_list(s, c);
    if (st == 200)
        st = serve_resolve(s->root, rel, path, sizeof path);
    if (st != 200)
        return respond_error(c, (unsigned)st);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return respond_error(c, 404);
    return S_ISDIR(sb.st_mode) ? respond_dir(c, url, path)
                               : respond_file(c, path);
}

/* The path reaches on_request exactly as sent: serve_url_path() decodes
 * it once, after which nothing decodes it again. */
static size_t keep_escapes(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* ---- Starting and stopping ---------------------------------------------------------- */

static int parse_bind(const char *bind, unsigned port,
                      struct sockaddr_storage *sa, bool *v6, fl_error *err)
{
    memset(sa, 0, sizeof *sa);
    struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
    *v6 = false;
    if (inet_pton(AF_INET, bind, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, bind, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = true;
    } else {
        return fl_error_set(err, FL_EUSAGE, "--bind %s: not an IPv4 or IPv6 "
                            "address (e.g. 127.0.0.1, ::1, 0.0.0.0)", bind);
    }
    return FL_OK;
}

int serve_start(const serve_config *cfg, serve_server **out, fl_error *err)
{
    const char *bind = cfg->bind ? cfg->bind : "127.0.0.1";
    struct sockaddr_storage sa;
    bool v6;
    if (cfg->port > 65535)
        return fl_error_set(err, FL_EUSAGE, "port %u: at most 65535", cfg->port);
    int rc = parse_bind(bind, cfg->port, &sa, &v6, err);
    if (rc != FL_OK)
        return rc;
    serve_server *s = fl_calloc(1, sizeof *s);
    if (s == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    struct stat st;
    if (realpath(cfg->results, s->root) == NULL || stat(s->root, &st) != 0 ||
        !S_ISDIR(st.st_mode)) {
        fl_free(s);
        return fl_error_set(err, FL_ENOINPUT, "%s: not a directory I can "
                            "read (where `faultline test --results DIR` "
                            "stores runs)", cfg->results);
    }
    s->d = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | (v6 ? MHD_USE_IPv6 : 0),
        (uint16_t)cfg->port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, SERVE_THREADS,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_END);
    if (s->d == NULL) {
        fl_free(s);
        return fl_error_set(err, FL_EIO, "cannot listen on %s port %u (in "
                            "use? try another --port, or 0 for any)",
                            bind, cfg->port);
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    *out = s;
    return FL_OK;
}

unsigned serve_port(const serve_server *s) { return s->port; }

const char *serve_root(const serve_server *s) { return s->root; }

void serve_stop(serve_server *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->d);
    fl_free(s);
}
