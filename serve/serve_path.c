/*
 * serve_path.c — a request's path to a file inside the results directory,
 * or a refusal. Two checks, because either alone can be fooled: the
 * decoded path's segments (no `..`, no empty or dot segment, so a path
 * cannot climb out by its text), and the realpath of the result (so a
 * symlink inside the directory cannot lead out).
 */
#include "serve/serve.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* %-decode s into out (NUL-terminated; a decoded NUL stays a byte and is
 * reported by *nul). 200, 400 for a bad escape, 414 if it does not fit. */
static int percent_decode(const char *s, char *out, size_t cap, size_t *len,
                          bool *nul)
{
    size_t n = 0;
    *nul = false;
    for (; *s; s++) {
        char c = *s;
        if (c == '%') {
            int hi = hex_digit(s[1]), lo = hi < 0 ? -1 : hex_digit(s[2]);
            if (lo < 0)
                return 400;
            c = (char)(hi * 16 + lo);
            *nul |= c == '\0';
            s += 2;
        }
        if (n + 1 >= cap)
            return 414;
        out[n++] = c;
    }
    out[n] = '\0';
    *len = n;
    return 200;
}

/* A segment of the decoded path that may name something to serve. */
static bool segment_ok(const char *seg, size_t len)
{
    return len > 0 && seg[0] != '.' && memchr(seg, '\\', len) == NULL;
}

int serve_url_path(const char *url, char *out, size_t cap)
{
    if (url == NULL || url[0] != '/' || cap == 0)
        return 400;
    size_t len;
    bool nul;
    int rc = percent_decode(url + 1, out, cap, &len, &nul);
    if (rc != 200)
        return rc;
    if (nul)
        return 403;
    if (out[0] == '/')
        return 403; /* an empty first segment: `//etc/passwd`, `//` */
    if (len > 0 && out[len - 1] == '/') /* a directory asked for as such */
        out[--len] = '\0';
    if (len > 0 && out[len - 1] == '/')
        return 403; /* `/a//` */
    for (size_t at = 0; at < len;) {
        size_t seg = strcspn(out + at, "/");
        if (!segment_ok(out + at, seg))
            return 403;
        at += seg + 1;
    }
    return 200;
}

int serve_resolve(const char *root_real, const char *rel, char *out,
                  size_t cap)
{
    char joined[PATH_MAX], real[PATH_MAX];
    int n = snprintf(joined, sizeof joined, "%s%s%s", root_real,
                     rel[0] ? "/" : "", rel);
    if (n < 0 || (size_t)n >= sizeof joined)
        return 414;
    if (realpath(joined, real) == NULL)
        return errno == EACCES ? 403 : 404;
    size_t rl = strlen(root_real);
    if (strncmp(real, root_real, rl) != 0 ||
        (real[rl] != '\0' && real[rl] != '/' && strcmp(root_real, "/") != 0))
        return 403;
    if (strlen(real) >= cap)
        return 414;
    strcpy(out, real);
    return 200;
}

const char *serve_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".json", "application/json"},
        /* JSON Lines, EDN and logs have no type a browser shows inline. */
        {".jsonl", "text/plain; charset=utf-8"},
        {".edn", "text/plain; charset=utf-8"},
        {".log", "text/plain; charset=utf-8"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
        {".xml", "application/xml"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".csv", "text/csv; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    if (dot && strchr(dot, '/') == NULL)
        for (size_t i = 0; i < sizeof types / sizeof *types; i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}
