/*
 * base64: RFC 4648. See base64.h.
 */
#include "base/base64.h"

#include <stdlib.h>
#include <string.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t fl_base64_encoded_size(size_t len)
{
    return (len + 2) / 3 * 4 + 1;
}

char *fl_base64_encode(const void *data, size_t len, bool padded, char *out)
{
    const unsigned char *p = data;
    char *d = out;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        v = (v << 8) | p[i];
        for (bits += 8; bits >= 6; bits -= 6)
            *d++ = alphabet[(v >> (bits - 6)) & 63];
    }
    if (bits > 0)
        *d++ = alphabet[(v << (6 - bits)) & 63];
    while (padded && (d - out) % 4)
        *d++ = '=';
    *d = '\0';
    return out;
}

static int digit(char c)
{
    const char *at = c ? strchr(alphabet, c) : NULL;
    return at ? (int)(at - alphabet) : -1;
}

int fl_base64_decode(const char *text, char **out, size_t *len)
{
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '=')
        n--;
    *out = NULL;
    *len = 0;
    /* One leftover digit cannot hold a byte; more than two '=' is not
     * padding. */
    if (n % 4 == 1 || strlen(text) - n > 2)
        return -1;
    char *buf = malloc(n * 3 / 4 + 1);
    if (!buf)
        return -2;
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digit(text[i]);
        if (d < 0) {
            free(buf);
            return -1;
        }
        v = (v << 6) | (unsigned)d;
        if ((bits += 6) >= 8) {
            bits -= 8;
            buf[o++] = (char)((v >> bits) & 0xff);
        }
    }
    buf[o] = '\0';
    *out = buf;
    *len = o;
    return 0;
}
