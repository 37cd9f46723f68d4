/*
 * base64: the standard alphabet of RFC 4648 (etcd's JSON gateway and
 * Consul's KV API carry keys and values in it; OpenSSH prints key
 * fingerprints in it, unpadded).
 */
#ifndef FL_BASE64_H
#define FL_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* The encoding of data[0..len) into out, which holds at least
 * fl_base64_encoded_size(len) bytes; NUL-terminated. padded: with the
 * trailing '=' (RFC 4648), else without (OpenSSH). Returns out. */
char *fl_base64_encode(const void *data, size_t len, bool padded, char *out);
size_t fl_base64_encoded_size(size_t len);

/* Decode text (padded or not; no whitespace) into a new NUL-terminated
 * buffer *out of *len bytes (caller frees). Returns 0, or -1 when text is
 * not base64 (*out NULL), -2 when out of memory. */
int fl_base64_decode(const char *text, char **out, size_t *len);

#endif
