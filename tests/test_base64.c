/*
 * base64 (base/base64.h): RFC 4648's test vectors, both ways, padded and
 * not; round trips of every length of random bytes; and what is not
 * base64 is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/rng.h"

static const char *const vectors[][2] = {
    {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},
    {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    char buf[64];
    for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
        const char *plain = vectors[i][0], *enc = vectors[i][1];
        assert_string_equal(fl_base64_encode(plain, strlen(plain), true, buf),
                            enc);
        char *dec;
        size_t n;
        assert_int_equal(fl_base64_decode(enc, &dec, &n), 0);
        assert_int_equal(n, strlen(plain));
        assert_string_equal(dec, plain);
        free(dec);
        /* Unpadded: the same without '=', and it decodes too. */
        fl_base64_encode(plain, strlen(plain), false, buf);
        assert_null(strchr(buf, '='));
        assert_int_equal(strncmp(buf, enc, strlen(buf)), 0);
        assert_int_equal(fl_base64_decode(buf, &dec, &n), 0);
        assert_string_equal(dec, plain);
        free(dec);
    }
}

static void test_round_trip_of_random_bytes(void **state)
{
    (void)state;
    fl_rng rng;
    fl_rng_seed(&rng, 7);
    unsigned char data[100];
    char enc[200];
    for (size_t len = 0; len <= sizeof data; len++) {
        for (size_t i = 0; i < len; i++)
            data[i] = (unsigned char)fl_rng_below(&rng, 256);
        assert_true(strlen(fl_base64_encode(data, len, true, enc)) + 1 ==
                    fl_base64_encoded_size(len));
        char *dec;
        size_t n;
        assert_int_equal(fl_base64_decode(enc, &dec, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(dec, data, len);
        free(dec);
    }
}

static void test_not_base64_is_refused(void **state)
{
    (void)state;
    const char *bad[] = {"!!", "Zg=!", "Z", "Zm9v\n", "Zg===", "Zm 9v"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *dec = (char *)1;
        size_t n;
        assert_int_equal(fl_base64_decode(bad[i], &dec, &n), -1);
        assert_null(dec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_round_trip_of_random_bytes),
        cmocka_unit_test(test_not_base64_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
