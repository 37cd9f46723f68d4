/*
 * ZooKeeper target: ZooKeeper 3.8 (Debian's zookeeper package), run by
 * faultline on each node as a JVM it starts itself (not zkServer.sh, whose
 * start-up checks and log set-up add seconds and hide the process); the
 * client is ZooKeeper's own C library (libzookeeper_mt), one session per
 * client process, bound to one node as Jepsen binds its clients.
 *
 * What ZooKeeper promises, and what the target lets a test see: writes
 * are linearizable (they all go through the leader, Zab orders them), a
 * session's operations take effect in its order, and a read is answered
 * by the node the session is connected to — so it may return a value
 * older than one another session has already written (sequential, not
 * linearizable, consistency), unless the client calls sync first.
 * `--read-mode plain` reads as ZooKeeper's users usually do;
 * `--read-mode sync` sends sync before each getData.
 *
 * On a node (NODE_DIR/NAME): zoo.cfg and log4j.properties (written by the
 * start command), data/ (dataDir: myid, the snapshots and the transaction
 * log), zookeeper.log (the server's log), stdout.log (the JVM's),
 * zookeeper.pid. Client port ADDR:2181 (clientPortAddress: the node's
 * address only), quorum ADDR:2888, election ADDR:3888. The four-letter
 * words srvr, ruok and mntr are enabled: await_ready and leader ask srvr,
 * from the controller, over a socket bound to the test network.
 *
 * Options (`faultline test --target zookeeper --help`):
 *   --java PATH        the JVM on the nodes (default /usr/bin/java)
 *   --classpath CP     ZooKeeper's jars on the nodes (default Debian's:
 *                      zookeeper.jar, slf4j-log4j12.jar, log4j-1.2.jar
 *                      under /usr/share/java; without the last two the
 *                      server logs nothing)
 *   --read-mode M      plain (default): getData from the session's node;
 *                      sync: zoo_async (sync) first, then getData
 *
 * Keys and values: key K is the znode /faultline-K, its data the value's
 * compact JSON text. read = getData (no node: null); write = setData,
 * creating the node on first use; cas [old, new] = getData, compare the
 * value with old (different: a definite fail), then setData with the
 * version read (ZBADVERSION: someone wrote in between, a definite fail).
 * The set workload's add is the shared read-modify-write
 * (targets/clients/rmw.h) with the znode's version as the compare: its
 * READ is getData, its CAS setData at the version read (or create, for a
 * set not yet there). Sequential child znodes would need a getChildren
 * per read and leave the node count growing with the test; the version
 * CAS keeps one znode per key, like the register.
 *
 * Errors (the "error" of a result) and whether a fail with it is
 * definite:
 *   cannot bind to the test network  definite: nothing was sent
 *   no node          (ZNONODE)       definite: the node was not there
 *   bad version      (ZBADVERSION)   definite: setData's version was stale
 *   node exists      (ZNODEEXISTS)   definite: create found it there
 *   precondition failed              definite: a cas read another value
 *   out of memory                    definite: nothing was sent
 *   connection loss  (ZCONNECTIONLOSS),
 *   operation timeout (ZOPERATIONTIMEOUT),
 *   zookeeper error  (any other)     not definite: a write with it is
 *                                    info (the request may have reached
 *                                    the leader); a read with it fails
 *   session expired  (ZSESSIONEXPIRED, or the handle found expired)
 *                                    info for every operation, reads too:
 *                                    the client opens a new session, and
 *                                    an info makes the runner carry on
 *                                    under a new process, so one process
 *                                    is always one session
 *
 * Every connection the C library makes is bound to the test network (see
 * zk_net_bind_source below).
 */
#ifndef FL_TARGET_ZOOKEEPER_H
#define FL_TARGET_ZOOKEEPER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "harness/target.h"

#define ZK_CLIENT_PORT 2181
#define ZK_QUORUM_PORT 2888
#define ZK_ELECTION_PORT 3888
/* The session timeout the client asks for. The servers' tick is 200 ms,
 * so their maximum is 20 ticks = 4 s; the C library declares the
 * connection dead after 2/3 of it without a sign of the server, which
 * bounds how long an operation on a partitioned or paused node waits. */
#define ZK_SESSION_TIMEOUT_MS 4000
/* The target's start-up allowance (target_vtable.ready_timeout_ms): a
 * 5-node ensemble served 3.4-5.0 s after its start commands, but one
 * JVM took 11.7 s to serve on the loaded 2-core machine it was measured
 * on (README, ZooKeeper), too close to the harness's 15 s. */
#define ZK_READY_TIMEOUT_MS 45000

extern const target_vtable zk_target;

/* The shell command that writes zoo.cfg, log4j.properties and myid for
 * node i of n (addrs: every node's) under NODE_DIR/NAME and starts the
 * server there as a daemon (a no-op when it already runs). New string,
 * NULL when out of memory. */
char *zk_start_cmd(const char *java, const char *classpath,
                   const char *node_dir, const char *name, size_t n,
                   const char *const *addrs, size_t i);

/* What srvr answered: the Mode line ("leader", "follower", "standalone";
 * NULL when the server does not serve: it answers "This ZooKeeper
 * instance is not currently serving requests"), copied into mode (size
 * bytes), and the Zxid (its high 32 bits are the leader's epoch). Returns
 * true when the text has a Mode line. */
bool zk_parse_srvr(const char *text, char *mode, size_t size,
                   unsigned long long *zxid);

/* Send a four-letter word to addr:port from a socket bound to source
 * (NULL: unbound) and read the answer into buf (NUL-terminated, cut at
 * size - 1). FL_OK, FL_NET_EUNBOUND (harness/netbind.h) or FL_EIO. */
int zk_four_letter(const char *source, const char *addr, int port,
                   const char *word, int timeout_ms, char *buf, size_t size,
                   fl_error *err);

/* The result for return code rc (a ZOO_ERRORS value) of an operation f
 * that changes nothing (is_read) or may change something: ZOK is not
 * handled here. See the table above. */
void zk_classify_error(int rc, bool is_read, target_result *out);

/*
 * The C library has no option to bind its sockets. The harness binary
 * (and the tests) link it statically with -Wl,--wrap=connect, so its
 * connect() calls come to __wrap_connect in zookeeper.c: when a source is
 * set here and the destination's port is `port`, a socket not yet bound
 * is bound to source (fl_net_bind) before the real connect; a failed bind
 * fails the connect (EADDRNOTAVAIL), so nothing leaves by another
 * interface. Every other connect passes through unchanged: the harness's
 * own sockets are bound already, and a port other than ZooKeeper's is not
 * this module's to touch. source NULL: none (remote nodes). Process-wide:
 * the last call counts; call before any client opens.
 */
void zk_net_bind_source(const char *source, int port);

#endif
