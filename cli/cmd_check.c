/*
 * faultline check — judge a recorded history with one checker of the
 * registry (checkers/checker.h; default linearizable) and print the verdict
 * as one JSON object (and, with --explain, in words on stderr).
 */
#include "base/alloc.h"
#include "checkers/checker.h"
#include "checkers/linearizable.h"
#include "cli/cli.h"
#include "history/history.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *out, int code)
{
    fprintf(out,
            "usage: faultline check [--checker C] [--model MODEL] [options] "
            "HISTORY\n"
            "\n"
            "Decides whether HISTORY (.jsonl, or Jepsen .edn) is linearizable\n"
            "(or, with --checker set, whether a set workload lost or invented\n"
            "elements) and prints one JSON result. Exit: 0 valid, 1 invalid,\n"
            "2 unknown (a budget ran out, or a set was never read), 64 usage,\n"
            "65 bad input, 66 cannot open.\n"
            "\n"
            "  --checker C          one of (default linearizable):\n");
    for (const char *const *c = checker_names(); *c; c++) {
        const checker *ck;
        if (checker_find(*c, &ck, NULL) == FL_OK)
            fprintf(out, "                         %-13s %s\n", ck->name,
                    ck->about);
    }
    fprintf(out,
            "  --model M            (linearizable) one of:");
    for (const char *const *m = lin_model_names(); *m; m++)
        fprintf(out, " %s", *m);
    fprintf(out,
            "\n"
            "  --consistency C      linearizable, sequential, or both (the\n"
            "                       default): both verdicts and the anomaly\n"
            "                       (stale read, non-sequential); the exit\n"
            "                       code is sequential's with sequential,\n"
            "                       else linearizability's\n"
            "  --initial JSON       the model's initial value (default: the\n"
            "                       model's empty value; null for registers)\n"
            "  --nil-reads-unknown  a read that returned null constrains\n"
            "                       nothing (Knossos's convention)\n"
            "  --time-limit S       give up with \"unknown\" after S seconds\n"
            "  --memory-limit MB    give up with \"unknown\" when the check's\n"
            "                       memory would pass MB megabytes (a hard\n"
            "                       limit; default: half of physical memory;\n"
            "                       0: none)\n"
            "  --threads N          keys checked in parallel (default: cores)\n"
            "  --no-split           check all keys as one object\n"
            "  --all-keys           finish every key even after one is found\n"
            "                       not linearizable\n"
            "  --no-shrink          do not minimise the counterexample\n"
            "  --explain            describe each violation on stderr\n"
            "  --keys auto|yes|no   EDN: are [k v] values independent keys\n");
    return code;
}

typedef struct check_args {
    checker_options opt;
    json_t *initial;
    bool explain;
    const checker *checker;
    history_edn_keys keys;
    const char *path;
} check_args;

static int parse_number(const char *flag, const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || *out < 0) {
        fprintf(stderr, "faultline check: %s: expected a number >= 0, got "
                        "\"%s\"\n", flag, s);
        return FL_EUSAGE;
    }
    return FL_OK;
}

static int parse_option(check_args *a, int c, const char *arg)
{
    double x;
    json_error_t jerr;
    fl_error err = {0};
    switch (c) {
    case 'm': a->opt.model = arg; return FL_OK;
    case 'C':
        if (checker_find(arg, &a->checker, &err) == FL_OK)
            return FL_OK;
        fprintf(stderr, "faultline check: --checker: %s\n", err.msg);
        return FL_EUSAGE;
    case 'c':
        if (strcmp(arg, "linearizable") == 0)
            a->opt.consistency = CHECKER_CONSISTENCY_LINEARIZABLE;
        else if (strcmp(arg, "sequential") == 0)
            a->opt.consistency = CHECKER_CONSISTENCY_SEQUENTIAL;
        else if (strcmp(arg, "both") == 0)
            a->opt.consistency = CHECKER_CONSISTENCY_BOTH;
        else {
            fprintf(stderr, "faultline check: --consistency: linearizable, "
                            "sequential or both, not \"%s\"\n", arg);
            return FL_EUSAGE;
        }
        return FL_OK;
    case 'i':
        json_decref(a->initial);
        a->initial = json_loads(arg, JSON_DECODE_ANY, &jerr);
        if (a->initial == NULL) {
            fprintf(stderr, "faultline check: --initial: not JSON: %s\n",
                    jerr.text);
            return FL_EUSAGE;
        }
        return FL_OK;
    case 'n': a->opt.nil_reads_unknown = true; return FL_OK;
    case 't':
        if (parse_number("--time-limit", arg, &x) != FL_OK)
            return FL_EUSAGE;
        a->opt.time_limit_s = x;
        return FL_OK;
    case 'M':
        if (parse_number("--memory-limit", arg, &x) != FL_OK)
            return FL_EUSAGE;
        a->opt.memory_limit_mb = (size_t)x;
        return FL_OK;
    case 'j':
        if (parse_number("--threads", arg, &x) != FL_OK)
            return FL_EUSAGE;
        a->opt.threads = (int)x;
        return FL_OK;
    case 's': a->opt.no_split = true; return FL_OK;
    case 'a': a->opt.all_keys = true; return FL_OK;
    case 'S': a->opt.shrink = false; return FL_OK;
    case 'e': a->explain = true; return FL_OK;
    case 'k':
        if (strcmp(arg, "auto") == 0)
            a->keys = HISTORY_EDN_KEYS_AUTO;
        else if (strcmp(arg, "yes") == 0)
            a->keys = HISTORY_EDN_KEYS_YES;
        else if (strcmp(arg, "no") == 0)
            a->keys = HISTORY_EDN_KEYS_NO;
        else {
            fprintf(stderr, "faultline check: --keys: auto, yes or no\n");
            return FL_EUSAGE;
        }
        return FL_OK;
    default: return FL_EUSAGE;
    }
}

static int parse_args(int argc, char **argv, check_args *a)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"checker", required_argument, NULL, 'C'},
        {"consistency", required_argument, NULL, 'c'},
        {"initial", required_argument, NULL, 'i'},
        {"nil-reads-unknown", no_argument, NULL, 'n'},
        {"time-limit", required_argument, NULL, 't'},
        {"memory-limit", required_argument, NULL, 'M'},
        {"threads", required_argument, NULL, 'j'},
        {"no-split", no_argument, NULL, 's'},
        {"all-keys", no_argument, NULL, 'a'},
        {"no-shrink", no_argument, NULL, 'S'},
        {"explain", no_argument, NULL, 'e'},
        {"keys", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h')
            return usage(stdout, -1);
        if (c == '?' || parse_option(a, c, optarg) != FL_OK)
            return usage(stderr, FL_EUSAGE);
    }
    if (optind != argc - 1) {
        fprintf(stderr, "faultline check: expected one HISTORY file\n");
        return usage(stderr, FL_EUSAGE);
    }
    a->path = argv[optind];
    a->opt.initial = a->initial;
    /* the linearizable checker's models all have both guarantees: unless
     * told otherwise, the sequential checker decides both */
    if (strcmp(a->checker->name, "linearizable") == 0 &&
        a->opt.consistency != CHECKER_CONSISTENCY_LINEARIZABLE &&
        checker_find("sequential", &a->checker, NULL) != FL_OK)
        return FL_EUSAGE;
    return FL_OK;
}

static int print_json(json_t *res)
{
    json_dumpf(res, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    json_decref(res);
    return ferror(stdout) ? FL_EIO : FL_OK;
}

static int judge(const check_args *a, history *h)
{
    fl_error err = {0};
    checker_result *r;
    int rc = checker_check(a->checker, h, &a->opt, &r, &err);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline check: %s: %s\n", a->path, err.msg);
        return rc;
    }
    print_json(json_incref(checker_result_json(r)));
    if (history_len(h) == 0) /* say why an empty file passes */
        fprintf(stderr, "faultline check: %s: %s: 0 operations\n", a->path,
                checker_verdict_word(checker_result_verdict(r)));
    if (a->explain)
        checker_result_explain(r, stderr);
    rc = (int)checker_result_verdict(r);
    checker_result_free(r);
    return rc;
}

int cmd_check(int argc, char **argv)
{
    check_args a = {.keys = HISTORY_EDN_KEYS_AUTO};
    checker_options_init(&a.opt);
    a.opt.shrink = true;
    a.opt.memory_limit_mb = fl_alloc_default_limit() >> 20;
    if (checker_find("linearizable", &a.checker, NULL) != FL_OK)
        return FL_EUSAGE; /* cannot happen: it is in the registry */
    int rc = parse_args(argc, argv, &a);
    if (rc != FL_OK) {
        json_decref(a.initial);
        return rc < 0 ? 0 : rc;
    }
    fl_error err = {0};
    history *h = NULL;
    rc = cli_read_history(a.path, a.keys, &h, &err);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline check: %s\n", err.msg);
    } else {
        cli_print_warnings(h);
        rc = judge(&a, h);
    }
    history_free(h);
    json_decref(a.initial);
    return rc;
}
