/*
 * faultline cluster up|down|status — the local test cluster of network
 * namespaces with their own sshd (harness/cluster.h).
 */
#include "cli/cli.h"
#include "harness/cluster.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(FILE *out, int code)
{
    fprintf(out,
            "usage: faultline cluster up [--nodes N] [--force]\n"
            "       faultline cluster down [--force]\n"
            "       faultline cluster status\n"
            "\n"
            "up      create or repair nodes n1..nN (default %d, at most %d):\n"
            "        network namespaces fl-n<i> on bridge %s, addresses\n"
            "        10.231.0.<10+i>, each with its own sshd. Needs root.\n"
            "down    remove every node, the bridge and the sshds; safe to\n"
            "        run when nothing or only part exists.\n"
            "status  list the nodes and what is left on them (faultline iptables\n"
            "        rules, processes other than sshd); exit 0 when all are up\n"
            "        and at rest, 3 when not.\n"
            "\n"
            "up and down refuse (exit 3) while a `faultline test` holds the\n"
            "cluster's lock (%s). --force: go ahead anyway, which\n"
            "takes the cluster away from the running test, whose verdict is\n"
            "then worthless.\n"
            "\n"
            "State (keys, known_hosts, nodes, ssh.conf) lives in $%s,\n"
            "default %s. Exit 3 when the cluster cannot be made.\n",
            CLUSTER_DEFAULT_NODES, CLUSTER_MAX_NODES, CLUSTER_BRIDGE,
            CLUSTER_LOCK_PATH, CLUSTER_STATE_ENV,
            CLUSTER_DEFAULT_STATE_DIR);
    return code;
}

/* Library failures become exit 3 (the cluster cannot be made), except
 * usage errors. */
static int report(const char *what, const fl_error *err)
{
    fprintf(stderr, "faultline: cluster %s: %s\n", what, err->msg);
    return err->code == FL_EUSAGE ? FL_EUSAGE : CLI_EXIT_CANNOT_RUN;
}

#define FORCE_WARNING "takes the cluster away from the running test, whose " \
                      "verdict is then worthless"

/* Take the cluster's lock for the length of this command (released at
 * exit), or refuse because a test holds it — unless forced. */
static int lock_or_refuse(const char *what, const char *state, bool force,
                          bool create)
{
    int fd;
    fl_error err = {0};
    int rc = cluster_lock(state, create, &fd, &err);
    if (rc == FL_OK)
        return 0;
    if (rc == CLUSTER_EBUSY && force) {
        fprintf(stderr, "faultline: cluster %s --force: %s; this %s\n", what,
                err.msg, FORCE_WARNING);
        return 0;
    }
    if (rc == CLUSTER_EBUSY)
        fprintf(stderr, "faultline: cluster %s: refused: %s. Wait for it to "
                        "finish, or stop it; --force %s\n",
                what, err.msg, FORCE_WARNING);
    else
        fprintf(stderr, "faultline: cluster %s: %s\n", what, err.msg);
    return rc == FL_EUSAGE ? FL_EUSAGE : CLI_EXIT_CANNOT_RUN;
}

static int parse_nodes(const char *s, int *out)
{
    char *end = NULL;
    long n = strtol(s, &end, 10);
    if (end == s || *end != '\0' || n < 1 || n > CLUSTER_MAX_NODES) {
        fprintf(stderr, "faultline: cluster up: --nodes must be 1-%d, not "
                        "\"%s\"\n", CLUSTER_MAX_NODES, s);
        return FL_EUSAGE;
    }
    *out = (int)n;
    return 0;
}

static int up(int argc, char **argv)
{
    static const struct option opts[] = {
        {"nodes", required_argument, NULL, 'n'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int nodes = CLUSTER_DEFAULT_NODES, c;
    bool force = false;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        if (c == 'h')
            return usage(stdout, 0);
        if (c == 'f') {
            force = true;
            continue;
        }
        if (c != 'n')
            return usage(stderr, FL_EUSAGE);
        if (parse_nodes(optarg, &nodes) != 0)
            return FL_EUSAGE;
    }
    if (optind != argc)
        return usage(stderr, FL_EUSAGE);
    const char *state = cluster_state_dir();
    /* `up` removes nodes above N and restarts dead sshds: as disruptive to
     * a running test as `down`. Only root can make the state directory. */
    int lrc = geteuid() == 0 ? lock_or_refuse("up", state, force, true) : 0;
    if (lrc != 0)
        return lrc;
    fl_error err = {0};
    if (cluster_up(state, nodes, &err) != FL_OK)
        return report("up", &err);
    printf("cluster up: %d nodes (n1..n%d, 10.231.0.11..10.231.0.%d); "
           "state in %s\n"
           "  ssh -F %s/%s n1\n",
           nodes, nodes, 10 + nodes, state, state, CLUSTER_SSH_CONFIG_FILE);
    return 0;
}

static int down(int argc, char **argv)
{
    bool force = argc == 2 && strcmp(argv[1], "--force") == 0;
    if (argc != 1 && !force)
        return usage(stderr, FL_EUSAGE);
    const char *state = cluster_state_dir();
    int lrc = geteuid() == 0 ? lock_or_refuse("down", state, force, false) : 0;
    if (lrc != 0)
        return lrc;
    fl_error err = {0};
    if (cluster_down(state, &err) != FL_OK)
        return report("down", &err);
    printf("cluster down\n");
    return 0;
}

static const char *sshd_word(const cluster_node_status *n)
{
    if (n->answers)
        return "answers";
    return n->sshd ? "running, not answering" : "not running";
}

static int status(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return usage(stderr, FL_EUSAGE);
    const char *state = cluster_state_dir();
    cluster_status st;
    fl_error err = {0};
    if (cluster_status_get(state, &st, &err) != FL_OK)
        return report("status", &err);
    printf("state %s; bridge %s %s\n", state, CLUSTER_BRIDGE,
           st.bridge ? "present" : "missing");
    if (st.count > 0)
        printf("%-5s %-13s %-6s %-22s %s\n", "NODE", "ADDRESS", "NETNS",
               "SSHD", "LEFT BEHIND");
    int up_count = 0;
    for (int i = 0; i < st.count; i++) {
        const cluster_node_status *n = &st.nodes[i];
        char left[200] = "nothing";
        if (n->rules || n->processes)
            snprintf(left, sizeof left, "%d faultline rules, %d processes "
                     "(%d paused)%s%s", n->rules, n->processes, n->paused,
                     n->processes ? ": " : "", n->process_names);
        up_count += n->netns && n->sshd && n->answers;
        printf("%-5s %-13s %-6s %-22s %s\n", n->node.name, n->node.address,
               n->netns ? "yes" : "no", sshd_word(n), left);
    }
    bool left = cluster_status_leftovers(&st);
    if (left)
        fprintf(stderr, "faultline: cluster status: faults or processes are "
                        "left on the nodes (a test is running, or one died "
                        "without cleaning up; the next `faultline test` "
                        "removes them)\n");
    if (cluster_status_all_up(&st)) {
        printf("all %d nodes up%s\n", st.count, left ? ", not at rest" : "");
        return left ? CLI_EXIT_CANNOT_RUN : 0;
    }
    if (!st.configured)
        fprintf(stderr, "faultline: cluster status: no cluster is up (%s/%s "
                        "missing)%s; run `faultline cluster up`\n",
                state, CLUSTER_NODES_FILE,
                st.count ? ", but leftover namespaces exist" : "");
    else
        fprintf(stderr, "faultline: cluster status: %d of %d nodes up%s; run "
                        "`faultline cluster up` to repair\n",
                up_count, st.count, st.bridge ? "" : ", bridge missing");
    return CLI_EXIT_CANNOT_RUN;
}

int cmd_cluster(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, FL_EUSAGE);
    const char *sub = argv[1];
    if (strcmp(sub, "up") == 0)
        return up(argc - 1, argv + 1);
    if (strcmp(sub, "down") == 0)
        return down(argc - 1, argv + 1);
    if (strcmp(sub, "status") == 0)
        return status(argc - 1, argv + 1);
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0)
        return usage(stdout, 0);
    fprintf(stderr, "faultline cluster: unknown subcommand \"%s\"\n", sub);
    return usage(stderr, FL_EUSAGE);
}
