/*
 * kvsm: raftkv's replicated key-value state machine and its command format.
 *
 * Keys are byte strings; values are JSON texts in canonical form (compact,
 * object keys sorted: json_dumps with KVSM_JSON_FLAGS), so two nodes that
 * apply the same log hold byte-identical values and compare-and-set is a
 * byte comparison decided identically on every node.
 *
 * Command (the data of one Raft entry), big-endian:
 *   u8 version (KVSM_CMD_VERSION) | u8 op | u64 req_id
 *   | u32 key_len | key | u32 value_len | value | u32 prev_len | prev
 * value is empty for DELETE; prev is empty except for CAS. (Op 4, CREATE,
 * came after version 1 was fixed; an older node rejects it as malformed.)
 *
 * CAS semantics: the write happens iff the key exists and its current value
 * equals prev. A missing key never equals any prev (not even null).
 * CREATE writes iff the key does not exist: with CAS it lets a client
 * read-modify-write a key that may not exist yet without racing another
 * client's first write (the set workload needs both).
 *
 * TXN (op 5): value is a transaction, a JSON list of micro-ops ["r", k,
 * null], ["append", k, v] (the key holds a JSON list; v is appended) or
 * ["w", k, v], k an integer (its digits are the key) or a string; the key
 * field is unused ("txn"). They run in order as one step of the state
 * machine, so a transaction is atomic and isolated (strict serializable
 * with the log's order); the result's `current` is the transaction with
 * each read's value filled in (null for an absent key).
 *
 * Snapshot: "KVS1" | u64 count | count x (u32 klen | key | u32 vlen | value).
 *
 * Not thread safe: the server's raft thread owns the map.
 */
#ifndef KVSM_H
#define KVSM_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "base/fl_error.h"

#define KVSM_CMD_VERSION 1
#define KVSM_MAX_KEY 1024
/* Flags that make a jansson value canonical text. */
#define KVSM_JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

typedef enum kvsm_op {
    KVSM_PUT = 1,
    KVSM_CAS = 2,
    KVSM_DELETE = 3,
    KVSM_CREATE = 4,
    KVSM_TXN = 5,
} kvsm_op;

/* A decoded command. The pointers borrow from the encoded buffer (decode)
 * or from the caller (encode); lengths exclude any terminator. */
typedef struct kvsm_cmd {
    uint8_t op; /* kvsm_op */
    uint64_t req_id;
    const char *key;
    size_t key_len;
    const char *value; /* JSON text; unused for DELETE */
    size_t value_len;
    const char *prev;  /* JSON text; CAS only */
    size_t prev_len;
} kvsm_cmd;

/* Encode cmd. On success *out is malloc'd (caller frees), *out_len bytes.
 * Errors: FL_EUSAGE (unknown op, empty or oversized key), FL_ENOMEM. */
int kvsm_cmd_encode(const kvsm_cmd *cmd, uint8_t **out, size_t *out_len,
                    fl_error *err);

/* Decode len bytes at buf into *cmd (pointers into buf). Errors: FL_EDATA. */
int kvsm_cmd_decode(const uint8_t *buf, size_t len, kvsm_cmd *cmd,
                    fl_error *err);

typedef struct kvsm kvsm;

typedef enum kvsm_outcome {
    KVSM_APPLIED = 0,             /* put/delete done, CAS matched, or the
                                     created key was absent */
    KVSM_PRECONDITION_FAILED = 1, /* CAS did not match, or CREATE found the
                                     key; nothing changed */
} kvsm_outcome;

typedef struct kvsm_result {
    kvsm_outcome outcome;
    uint64_t req_id;
    /* PRECONDITION_FAILED only: malloc'd copy of the current value (JSON
     * text), NULL when the key is absent. TXN: the completed transaction
     * (JSON text). Caller frees. */
    char *current;
} kvsm_result;

/* Create an empty map; NULL on out of memory. Free with kvsm_free. */
kvsm *kvsm_new(void);
void kvsm_free(kvsm *sm);

/* Apply one command (an entry's data). res may be NULL. A command that does
 * not decode changes nothing and returns FL_EDATA (every node does the
 * same). Errors: FL_EDATA, FL_ENOMEM. */
int kvsm_apply(kvsm *sm, const uint8_t *data, size_t len, kvsm_result *res,
               fl_error *err);

/* The value of key as NUL-terminated JSON text (borrowed, valid until the
 * next apply/restore/free), or NULL if absent. */
const char *kvsm_get(const kvsm *sm, const char *key, size_t key_len);

size_t kvsm_count(const kvsm *sm);

/* Whether t is a transaction TXN accepts (see above): 1 or 0. */
int kvsm_txn_valid(const json_t *t);

/* Serialize the whole map. *out is malloc'd (caller frees). Errors:
 * FL_ENOMEM. */
int kvsm_snapshot(const kvsm *sm, uint8_t **out, size_t *out_len,
                  fl_error *err);

/* Replace the map's contents with a snapshot. On error the map is left
 * unchanged. Errors: FL_EDATA, FL_ENOMEM. */
int kvsm_restore(kvsm *sm, const uint8_t *data, size_t len, fl_error *err);

#endif
