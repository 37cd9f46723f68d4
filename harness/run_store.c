/*
 * run_store: the results directory of a run, and its analysis. See
 * run_store.h.
 */
#include "harness/run_store.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness/history.h"

static int mkdir_p(const char *path, fl_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return fl_error_set(err, FL_EUSAGE, "path too long: %s", path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return fl_error_set(err, FL_EIO, "cannot create %s: %s", buf,
                                    strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return FL_OK;
}

int run_store_create(const char *root, const char *name, char *dir,
                     size_t size, fl_error *err)
{
    char stamp[32], rel[512], link[4096], tmp[4096];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(rel, sizeof rel, "%s/%s", name, stamp);
    if (snprintf(dir, size, "%s/%s", root, rel) >= (int)size)
        return fl_error_set(err, FL_EUSAGE, "results path too long");
    /* Two runs in the same second: add a suffix rather than mix them. */
    for (int i = 2; access(dir, F_OK) == 0; i++) {
        snprintf(rel, sizeof rel, "%s/%s-%d", name, stamp, i);
        snprintf(dir, size, "%s/%s", root, rel);
    }
    int rc = mkdir_p(dir, err);
    if (rc != FL_OK)
        return rc;
    snprintf(link, sizeof link, "%s/latest", root);
    snprintf(tmp, sizeof tmp, "%s/.latest.%ld", root, (long)getpid());
    unlink(tmp);
    if (symlink(rel, tmp) != 0 || rename(tmp, link) != 0)
        return fl_error_set(err, FL_EIO, "cannot point %s at %s: %s", link,
                            rel, strerror(errno));
    return FL_OK;
}

int run_store_node_dir(const char *dir, const char *node, char *out,
                       size_t size, fl_error *err)
{
    if (snprintf(out, size, "%s/nodes/%s", dir, node) >= (int)size)
        return fl_error_set(err, FL_EUSAGE, "path too long");
    return mkdir_p(out, err);
}

int run_store_write_json(const char *dir, const char *file, const json_t *v,
                         fl_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (json_dump_file(v, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
        return fl_error_set(err, FL_EIO, "cannot write %s", path);
    return FL_OK;
}

static const char *verdict_word(lin_verdict v)
{
    return v == LIN_VALID ? "valid" : v == LIN_INVALID ? "invalid" : "unknown";
}

static json_t *verdict_json(lin_verdict v)
{
    return v == LIN_VALID ? json_true() : v == LIN_INVALID ? json_false()
                                                          : json_string("unknown");
}

int run_store_analyze(const char *dir, double check_time_limit_s,
                      FILE *summary, lin_verdict *verdict, fl_error *err)
{
    char path[4096];
    history *h = NULL;
    lin_result *res = NULL;
    snprintf(path, sizeof path, "%s/history.jsonl", dir);
    int rc = history_read_file(path, HISTORY_FORMAT_JSONL, &h, err);
    if (rc != FL_OK)
        return rc;
    for (size_t i = 0; summary && i < history_warning_count(h); i++)
        fprintf(summary, "warning: %s\n", history_warning(h, i));
    snprintf(path, sizeof path, "%s/history.edn", dir);
    if ((rc = history_write_file(h, path, HISTORY_FORMAT_EDN, err)) != FL_OK)
        goto out;
    lin_options opt;
    lin_options_init(&opt);
    opt.model = "cas-register";
    opt.time_limit_s = check_time_limit_s;
    opt.shrink = true;
    if ((rc = lin_check(h, &opt, &res, err)) != FL_OK)
        goto out;
    *verdict = lin_result_verdict(res);
    json_t *reg = lin_result_to_json(res, h);
    json_t *top = json_pack("{s:o,s:{s:o},s:I,s:I}",
                            "valid", verdict_json(*verdict),
                            "workloads", "register", reg,
                            "events", (json_int_t)history_len(h),
                            "pending", (json_int_t)history_pending(h));
    if (!top)
        rc = fl_error_set(err, FL_ENOMEM, "results: out of memory");
    else
        rc = run_store_write_json(dir, "results.json", top, err);
    json_decref(top);
    if (rc == FL_OK && summary) {
        fprintf(summary, "register (cas-register, linearizable): %s — %zu "
                "events; details in %s/results.json\n",
                verdict_word(*verdict), history_len(h), dir);
        if (*verdict == LIN_INVALID)
            lin_result_explain(res, h, summary);
    }
out:
    lin_result_free(res);
    history_free(h);
    return rc;
}
