/*
 * Tests of the ssh module and the cluster's pure helpers that need no
 * network: the nodes file (good input, comments, every class of bad line
 * with its line number), shell quoting of remote commands (checked by
 * running the quoted line through /bin/sh), option checking, connecting
 * to a closed loopback port, host key fingerprints (OpenSSH's SHA256
 * form) and the command that accepts a key, and the names, sshd argv and sshd_config of
 * cluster nodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cluster.h"
#include "harness/ssh.h"

/* ---- the nodes file ----------------------------------------------------------- */

static int parse(const char *text, fl_nodes *out, fl_error *err)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    int rc = fl_nodes_read(f, "nodes.txt", out, err);
    fclose(f);
    return rc;
}

static void expect_bad(const char *text, const char *frag1, const char *frag2)
{
    fl_nodes ns = {0};
    fl_error err = {0};
    int rc = parse(text, &ns, &err);
    if (rc != FL_EDATA || !strstr(err.msg, frag1) || !strstr(err.msg, frag2))
        fail_msg("input:\n%s\ngot rc=%d msg=\"%s\", wanted 65 with \"%s\" and "
                 "\"%s\"", text, rc, err.msg, frag1, frag2);
    assert_null(ns.nodes);
    assert_int_equal(ns.count, 0);
}

static void test_nodes_good(void **state)
{
    (void)state;
    fl_nodes ns = {0};
    fl_error err = {0};
    const char *text = "# the test cluster\n"
                       "n1 10.231.0.11\n"
                       "\n"
                       "  n2\t10.231.0.12   # trailing comment\n"
                       "db-3.east host-3.example.org\r\n"
                       "v6 fd00::1\n";
    if (parse(text, &ns, &err) != FL_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(ns.count, 4);
    assert_string_equal(ns.nodes[0].name, "n1");
    assert_string_equal(ns.nodes[0].address, "10.231.0.11");
    assert_int_equal(ns.nodes[0].line, 2);
    assert_string_equal(ns.nodes[1].name, "n2");
    assert_string_equal(ns.nodes[1].address, "10.231.0.12");
    assert_int_equal(ns.nodes[1].line, 4);
    assert_string_equal(ns.nodes[2].address, "host-3.example.org");
    assert_string_equal(ns.nodes[3].address, "fd00::1");
    assert_ptr_equal(fl_nodes_find(&ns, "db-3.east"), &ns.nodes[2]);
    assert_null(fl_nodes_find(&ns, "n9"));
    fl_nodes_free(&ns);
    assert_null(ns.nodes);
}

static void test_nodes_bad(void **state)
{
    (void)state;
    expect_bad("n1 10.0.0.1\nn2\n", "nodes.txt:2:", "found only \"n2\"");
    expect_bad("n1 10.0.0.1 extra\n", "nodes.txt:1:", "found more: \"extra\"");
    expect_bad("# x\n\nn$1 10.0.0.1\n", "nodes.txt:3:", "bad node name \"n$1\"");
    expect_bad("n1 10.0.0.1;reboot\n", "nodes.txt:1:", "bad address");
    expect_bad("n1 10.0.0.1\nn2 10.0.0.2\nn1 10.0.0.3\n", "nodes.txt:3:",
               "already defined on line 1");
    expect_bad("# only comments\n\n", "nodes.txt:", "no nodes");
    expect_bad("", "nodes.txt", "no nodes");
    char longname[80];
    memset(longname, 'a', 64);
    strcpy(longname + 64, " 10.0.0.1\n");
    expect_bad(longname, "nodes.txt:1:", "bad node name");
}

static void test_nodes_missing_file(void **state)
{
    (void)state;
    fl_nodes ns = {0};
    fl_error err = {0};
    assert_int_equal(fl_nodes_load("/nonexistent/nodes", &ns, &err),
                     FL_ENOINPUT);
    assert_non_null(strstr(err.msg, "/nonexistent/nodes"));
}

/* ---- quoting -------------------------------------------------------------------- */

/* Run the quoted line with /bin/sh and check that printf saw exactly these
 * arguments: each is printed followed by a NUL. */
static void expect_roundtrip(const char *const *args)
{
    const char *argv[16] = {"printf", "%s\\0"};
    size_t n = 0, want_len = 0;
    char want[1024];
    for (; args[n]; n++) {
        argv[n + 2] = args[n];
        size_t l = strlen(args[n]) + 1;
        memcpy(want + want_len, args[n], l);
        want_len += l;
    }
    argv[n + 2] = NULL;
    char *cmd = fl_ssh_quote_argv(argv);
    assert_non_null(cmd);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char got[1024];
    size_t got_len = fread(got, 1, sizeof got, p);
    assert_int_equal(pclose(p), 0);
    if (got_len != want_len || memcmp(got, want, want_len) != 0)
        fail_msg("quoted as: %s", cmd);
    free(cmd);
}

static void test_quote_plain_words_unchanged(void **state)
{
    (void)state;
    const char *argv[] = {"iptables", "-A", "INPUT", "-s", "10.231.0.12/32",
                          "-j", "DROP", NULL};
    char *s = fl_ssh_quote_argv(argv);
    assert_string_equal(s, "iptables -A INPUT -s 10.231.0.12/32 -j DROP");
    free(s);
    const char *odd[] = {"echo", "", "a b", "it's", NULL};
    s = fl_ssh_quote_argv(odd);
    assert_string_equal(s, "echo '' 'a b' 'it'\\''s'");
    free(s);
}

static void test_quote_survives_the_shell(void **state)
{
    (void)state;
    expect_roundtrip((const char *const[]){"plain", NULL});
    expect_roundtrip((const char *const[]){"two words", "  lead", "trail  ",
                                           NULL});
    expect_roundtrip((const char *const[]){"'", "''", "it's", "\"dq\"", NULL});
    expect_roundtrip((const char *const[]){"$HOME", "${PATH}", "$(id)",
                                           "`id`", "\\n", NULL});
    expect_roundtrip((const char *const[]){"line1\nline2", "tab\there",
                                           "semi;colon", "a|b&c>d<e", NULL});
    expect_roundtrip((const char *const[]){"*", "?", "[a]", "~", "#", "!",
                                           "", NULL});
}

/* ---- connection options ------------------------------------------------------- */

static void test_connect_needs_known_hosts(void **state)
{
    (void)state;
    fl_ssh *s = (fl_ssh *)1;
    fl_error err = {0};
    fl_ssh_options o = {.host = "127.0.0.1", .private_key = "/nonexistent"};
    assert_int_equal(fl_ssh_connect(&o, &s, &err), FL_EUSAGE);
    assert_null(s);
    assert_non_null(strstr(err.msg, "known_hosts"));
    o.port = 70000;
    o.insecure_ignore_host_key = true;
    assert_int_equal(fl_ssh_connect(&o, &s, &err), FL_EUSAGE);
}

static void test_connect_refused(void **state)
{
    (void)state;
    fl_ssh *s = NULL;
    fl_error err = {0};
    /* Port 1 on loopback: nothing listens there on a test machine. */
    fl_ssh_options o = {.host = "127.0.0.1", .port = 1,
                        .private_key = "/nonexistent",
                        .insecure_ignore_host_key = true,
                        .connect_timeout_ms = 2000};
    assert_int_equal(fl_ssh_connect(&o, &s, &err), FL_SSH_EUNAVAILABLE);
    assert_null(s);
    assert_non_null(strstr(err.msg, "127.0.0.1 port 1: connect"));
}

/* An sshd that accepts the connection and then never says a word (a
 * paused VM, a wedged daemon): the handshake is bounded by the connect
 * time-out and the error names the host and the step. The listening
 * socket's backlog accepts for us; nothing ever reads or writes. */
static void test_connect_to_a_silent_server_times_out(void **state)
{
    (void)state;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 4), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
    fl_ssh *s = NULL;
    fl_error err = {0};
    fl_ssh_options o = {.host = "127.0.0.1", .port = ntohs(a.sin_port),
                        .private_key = "/nonexistent",
                        .insecure_ignore_host_key = true,
                        .connect_timeout_ms = 300};
    assert_int_equal(fl_ssh_connect(&o, &s, &err), FL_SSH_ETIMEOUT);
    assert_null(s);
    assert_non_null(strstr(err.msg, "127.0.0.1: handshake: timed out"));
    close(l);
}

/* ---- host key advice ------------------------------------------------------------ */

/* The SHA-256 of the empty string, as OpenSSH would print it: the known
 * base64 without the trailing '='. */
static void test_fingerprint_format(void **state)
{
    (void)state;
    static const unsigned char empty_sha256[32] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
        0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
        0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    char fp[FL_SSH_FINGERPRINT_MAX];
    fl_ssh_fingerprint(empty_sha256, fp);
    assert_string_equal(fp, "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
    unsigned char ones[32];
    memset(ones, 0xff, sizeof ones);
    fl_ssh_fingerprint(ones, fp);
    assert_string_equal(fp, "SHA256://////////////////////////////////////////8");
}

static void test_accept_key_command(void **state)
{
    (void)state;
    char *c = fl_ssh_accept_key_command("10.0.0.5", 22, "ed25519",
                                        "/home/u/.ssh/known_hosts", false);
    assert_string_equal(c, "ssh-keyscan -p 22 -t ed25519 10.0.0.5 >> "
                           "/home/u/.ssh/known_hosts");
    free(c);
    c = fl_ssh_accept_key_command("db1", 2222, "rsa", "/tmp/my hosts", true);
    assert_string_equal(c, "ssh-keygen -R '[db1]:2222' -f '/tmp/my hosts' && "
                           "ssh-keyscan -p 2222 -t rsa db1 >> '/tmp/my hosts'");
    free(c);
}

/* ---- cluster helpers ---------------------------------------------------------------- */

static void test_cluster_node_names(void **state)
{
    (void)state;
    cluster_node n;
    fl_error err = {0};
    assert_int_equal(cluster_node_at(3, &n, &err), FL_OK);
    assert_string_equal(n.name, "n3");
    assert_string_equal(n.netns, "fl-n3");
    assert_string_equal(n.veth, "flv3");
    assert_string_equal(n.address, "10.231.0.13");
    assert_int_equal(cluster_node_at(CLUSTER_MAX_NODES, &n, &err), FL_OK);
    assert_string_equal(n.address, "10.231.0.30");
    assert_int_equal(cluster_node_at(0, &n, &err), FL_EUSAGE);
    assert_int_equal(cluster_node_at(CLUSTER_MAX_NODES + 1, &n, &err),
                     FL_EUSAGE);
}

static void test_cluster_sshd_argv(void **state)
{
    (void)state;
    cluster_node n;
    cluster_node_at(2, &n, NULL);
    const char *argv[16];
    cluster_sshd_argv(&n, "/s/n2/sshd_config", "/s/n2/sshd.log", argv);
    const char *want[] = {"ip", "netns", "exec", "fl-n2", "unshare", "--uts",
                          "--", "/bin/sh", "-c", NULL, "sh", "n2",
                          "/s/n2/sshd_config", "/s/n2/sshd.log", NULL};
    for (size_t i = 0; i < sizeof want / sizeof *want - 1; i++)
        if (want[i])
            assert_string_equal(argv[i], want[i]);
    assert_null(argv[14]);
    /* Paths reach sshd as positional parameters, never inside the script. */
    assert_null(strstr(argv[9], "/s/n2"));
    assert_non_null(strstr(argv[9], "exec /usr/sbin/sshd -f \"$2\""));
}

static void test_cluster_sshd_config(void **state)
{
    (void)state;
    cluster_node n;
    cluster_node_at(4, &n, NULL);
    char *c = cluster_sshd_config("/var/lib/fl", &n);
    assert_non_null(c);
    const char *want[] = {
        "ListenAddress 10.231.0.14\n", "HostKey /var/lib/fl/n4/ssh_host_ed25519_key\n",
        "PidFile /var/lib/fl/n4/sshd.pid\n",
        "AuthorizedKeysFile /var/lib/fl/authorized_keys\n",
        "PasswordAuthentication no\n", "PermitRootLogin prohibit-password\n",
        "UsePAM no\n", "SetEnv SHLVL=1\n"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(c, want[i]))
            fail_msg("missing \"%s\" in:\n%s", want[i], c);
    free(c);
}

static void test_cluster_rejects_bad_arguments(void **state)
{
    (void)state;
    fl_error err = {0};
    assert_int_equal(cluster_up("/tmp/x", 0, &err), FL_EUSAGE);
    assert_int_equal(cluster_up("/tmp/x", CLUSTER_MAX_NODES + 1, &err),
                     FL_EUSAGE);
    cluster_status st;
    assert_int_equal(cluster_status_get("relative/dir", &st, &err), FL_EUSAGE);
    assert_int_equal(cluster_status_get("/tmp/with space", &st, &err),
                     FL_EUSAGE);
}

static int setup(void **state)
{
    (void)state;
    return fl_ssh_init(NULL) == FL_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fl_ssh_exit();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nodes_good),
        cmocka_unit_test(test_nodes_bad),
        cmocka_unit_test(test_nodes_missing_file),
        cmocka_unit_test(test_quote_plain_words_unchanged),
        cmocka_unit_test(test_quote_survives_the_shell),
        cmocka_unit_test(test_connect_needs_known_hosts),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_connect_to_a_silent_server_times_out),
        cmocka_unit_test(test_fingerprint_format),
        cmocka_unit_test(test_accept_key_command),
        cmocka_unit_test(test_cluster_node_names),
        cmocka_unit_test(test_cluster_sshd_argv),
        cmocka_unit_test(test_cluster_sshd_config),
        cmocka_unit_test(test_cluster_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
