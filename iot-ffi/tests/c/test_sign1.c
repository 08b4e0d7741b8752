/* C test of the iot-ffi COSE_Sign1 API (RFC 9052 section 4): round trips, the cose-wg vector
 * sign-pass-02, tampering, NULL arguments and small buffers. Built and run by run.sh.
 * Prints "N passed, M failed" last and exits non-zero when anything failed. */
#include "iot.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

/* cose-wg/Examples sign1-tests/sign-pass-02.json ("External"): output.cbor, the key and the
 * external AAD, transcribed. */
static const char SIGN_PASS_02_HEX[] =
    "D28443A10126A10442313154546869732069732074686520636F6E74656E742E584010729CD711CB3813D8D8E94"
    "4A8DA7111E7B258C9BDCA6135F7AE1ADBEE9509891267837E1E33BD36C150326AE62755C6BD8E540C3E8F92D7D2"
    "25E8DB72B8820B";
static const char X_HEX[] = "bac5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff";
static const char Y_HEX[] = "20138bf82dc1b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e";
/* The vector's private scalar d (base64url V8kgd2ZBRuh2dgyVINBUqpPDr7BOMGcF22CQMIUHtNM). */
static const char D_HEX[] = "57c92077664146e876760c9520d054aa93c3afb04e306705db6090308507b4d3";
static const uint8_t EXTERNAL_AAD[] = {0x11, 0xaa, 0x22, 0xbb, 0x33, 0xcc,
                                       0x44, 0xdd, 0x55, 0x00, 0x66, 0x99};
static const char CONTENT[] = "This is the content.";

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex into out (capacity cap); returns the length, or 0 on bad input. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap) return 0;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return 0;
        out[i] = (uint8_t)(hi * 16 + lo);
    }
    return n / 2;
}

static uint8_t priv_key[IOT_P256_PRIVATE_KEY_LEN];
static uint8_t pub_key[IOT_P256_PUBLIC_KEY_LEN]; /* 04 || x || y */
/* COSE_Key {1: 2, -1: 1, -2: x, -3: y}, and the same restricted to ESP256 {3: -9}. */
static uint8_t cose_key[8 + 32 + 3 + 32];
static uint8_t cose_key_esp256[sizeof cose_key + 2];

static void make_keys(void) {
    CHECK(unhex(D_HEX, priv_key, sizeof priv_key) == 32);
    pub_key[0] = 0x04;
    CHECK(unhex(X_HEX, pub_key + 1, 32) == 32);
    CHECK(unhex(Y_HEX, pub_key + 33, 32) == 32);

    static const uint8_t head[] = {0xa4, 0x01, 0x02, 0x20, 0x01, 0x21, 0x58, 0x20};
    uint8_t *p = cose_key;
    memcpy(p, head, sizeof head);
    p += sizeof head;
    memcpy(p, pub_key + 1, 32);
    p += 32;
    *p++ = 0x22;
    *p++ = 0x58;
    *p++ = 0x20;
    memcpy(p, pub_key + 33, 32);
    p += 32;
    CHECK((size_t)(p - cose_key) == sizeof cose_key);

    /* a5 (5 pairs), the same pairs, then 03: 28 (alg: -9). */
    memcpy(cose_key_esp256, cose_key, sizeof cose_key);
    cose_key_esp256[0] = 0xa5;
    cose_key_esp256[sizeof cose_key] = 0x03;
    cose_key_esp256[sizeof cose_key + 1] = 0x28;
}

static void test_status_str(void) {
    CHECK(strcmp(iot_status_str(IOT_STATUS_OK), "ok") == 0);
    CHECK(strcmp(iot_status_str(IOT_STATUS_BAD_SIGNATURE), "signature does not verify") == 0);
    CHECK(strcmp(iot_status_str(9999), "unknown status") == 0);
    CHECK(strcmp(iot_status_str(-1), "unknown status") == 0);
    for (int s = IOT_STATUS_OK; s <= IOT_STATUS_INTERNAL; s++) {
        const char *str = iot_status_str(s);
        CHECK(str != NULL && str[0] != '\0' && strcmp(str, "unknown status") != 0);
    }
}

static void test_round_trip(int32_t alg) {
    const uint8_t payload[] = "round trip payload";
    const size_t payload_len = sizeof payload - 1;
    const uint8_t kid[] = {'1', '1'};
    uint8_t msg[256];
    size_t msg_len = sizeof msg;
    CHECK_STATUS(iot_sign1_sign(priv_key, sizeof priv_key, alg, kid, sizeof kid, payload,
                                payload_len, EXTERNAL_AAD, sizeof EXTERNAL_AAD, 0, msg, &msg_len),
                 IOT_STATUS_OK);
    CHECK(msg_len > payload_len + 64 && msg_len < sizeof msg);
    CHECK(msg[0] == 0xd2); /* tag 18 */

    const uint8_t *p = NULL;
    size_t p_len = 0;
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, msg, msg_len, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_OK);
    /* The payload is borrowed from msg, not copied. */
    CHECK(p_len == payload_len && p >= msg && p + p_len <= msg + msg_len &&
          memcmp(p, payload, payload_len) == 0);
    CHECK_STATUS(iot_sign1_verify(cose_key, sizeof cose_key, msg, msg_len, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, NULL, NULL),
                 IOT_STATUS_OK);
    /* Another external AAD, or none. */
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, msg, msg_len, NULL, 0, NULL, 0, &p,
                                  &p_len),
                 IOT_STATUS_BAD_SIGNATURE);
    CHECK(p == NULL && p_len == 0);

    /* The exact capacity is enough; one byte less is not. */
    uint8_t exact[256];
    size_t exact_len = msg_len;
    CHECK_STATUS(iot_sign1_sign(priv_key, sizeof priv_key, alg, kid, sizeof kid, payload,
                                payload_len, EXTERNAL_AAD, sizeof EXTERNAL_AAD, 0, exact,
                                &exact_len),
                 IOT_STATUS_OK);
    /* ECDSA here is deterministic (RFC 6979): the same inputs give the same message. */
    CHECK(exact_len == msg_len && memcmp(exact, msg, msg_len) == 0);
    size_t short_len = msg_len - 1;
    CHECK_STATUS(iot_sign1_sign(priv_key, sizeof priv_key, alg, kid, sizeof kid, payload,
                                payload_len, EXTERNAL_AAD, sizeof EXTERNAL_AAD, 0, exact,
                                &short_len),
                 IOT_STATUS_BUFFER_TOO_SMALL);
    CHECK(short_len == 0);
}

static void test_detached_untagged(void) {
    const uint8_t payload[] = "travels separately";
    const size_t payload_len = sizeof payload - 1;
    uint8_t msg[256];
    size_t msg_len = sizeof msg;
    CHECK_STATUS(iot_sign1_sign(priv_key, sizeof priv_key, IOT_ALG_ESP256, NULL, 0, payload,
                                payload_len, NULL, 0, IOT_SIGN1_DETACHED | IOT_SIGN1_UNTAGGED, msg,
                                &msg_len),
                 IOT_STATUS_OK);
    CHECK(msg[0] == 0x84); /* untagged array of 4 */
    /* No payload inside: array head, protected h'A10128', {}, nil, 64-byte signature. */
    CHECK(msg_len == 1 + 4 + 1 + 1 + 66);

    const uint8_t *p = NULL;
    size_t p_len = 0;
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, msg, msg_len, payload, payload_len,
                                  NULL, 0, &p, &p_len),
                 IOT_STATUS_OK);
    CHECK(p == payload && p_len == payload_len);
    /* Without the detached payload, or with another one. */
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, msg, msg_len, NULL, 0, NULL, 0, &p,
                                  &p_len),
                 IOT_STATUS_PAYLOAD_MISMATCH);
    CHECK(p == NULL && p_len == 0);
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, msg, msg_len, payload, payload_len - 1,
                                  NULL, 0, NULL, NULL),
                 IOT_STATUS_BAD_SIGNATURE);
    /* An ESP256 message under a key restricted to ESP256 verifies. */
    CHECK_STATUS(iot_sign1_verify(cose_key_esp256, sizeof cose_key_esp256, msg, msg_len, payload,
                                  payload_len, NULL, 0, NULL, NULL),
                 IOT_STATUS_OK);
}

static void test_sign_pass_02(void) {
    uint8_t msg[256];
    size_t msg_len = unhex(SIGN_PASS_02_HEX, msg, sizeof msg);
    CHECK(msg_len == 98);
    const uint8_t *p = NULL;
    size_t p_len = 0;
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, msg, msg_len, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_OK);
    CHECK(p_len == strlen(CONTENT) && p != NULL && memcmp(p, CONTENT, p_len) == 0);
    CHECK_STATUS(iot_sign1_verify(cose_key, sizeof cose_key, msg, msg_len, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_OK);
    /* The vector is ES256: a key restricted to ESP256 refuses it. */
    CHECK_STATUS(iot_sign1_verify(cose_key_esp256, sizeof cose_key_esp256, msg, msg_len, NULL, 0,
                                  EXTERNAL_AAD, sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_ALGORITHM_MISMATCH);
    /* Without its external AAD it does not verify. */
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, msg, msg_len, NULL, 0, NULL, 0, &p,
                                  &p_len),
                 IOT_STATUS_BAD_SIGNATURE);

    /* Tampered copies: a payload byte, a signature byte, the kid (unprotected, not signed:
     * still verifies), the protected alg (-7 -> -9: signed, so rejected), truncation, a
     * trailing byte. */
    uint8_t t[256];
    memcpy(t, msg, msg_len);
    t[20] ^= 0x01; /* inside "This is the content." */
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, t, msg_len, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_BAD_SIGNATURE);
    CHECK(p == NULL && p_len == 0);
    memcpy(t, msg, msg_len);
    t[msg_len - 1] ^= 0x80;
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, t, msg_len, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_BAD_SIGNATURE);
    memcpy(t, msg, msg_len);
    CHECK(t[9] == 0x31);
    t[9] = 0x32; /* kid "11" -> "21" */
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, t, msg_len, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_OK);
    memcpy(t, msg, msg_len);
    CHECK(t[5] == 0x26);
    t[5] = 0x28; /* alg -7 -> -9 in the protected bucket */
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, t, msg_len, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_BAD_SIGNATURE);
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, msg, msg_len - 1, NULL, 0,
                                  EXTERNAL_AAD, sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_CBOR);
    memcpy(t, msg, msg_len);
    t[msg_len] = 0x00;
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, t, msg_len + 1, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_CBOR);
    memcpy(t, msg, msg_len);
    t[0] = 0xd1; /* tag 17 (COSE_Mac0) */
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, t, msg_len, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_WRONG_TAG);

    /* Another public key (the first coordinate byte changed is off the curve or another key). */
    uint8_t other[IOT_P256_PUBLIC_KEY_LEN];
    memcpy(other, pub_key, sizeof other);
    other[1] ^= 0x01;
    IotStatus st = iot_sign1_verify(other, sizeof other, msg, msg_len, NULL, 0, EXTERNAL_AAD,
                                    sizeof EXTERNAL_AAD, &p, &p_len);
    CHECK(st == IOT_STATUS_INVALID_KEY || st == IOT_STATUS_BAD_SIGNATURE);
    /* Malformed keys. */
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key - 1, msg, msg_len, NULL, 0,
                                  EXTERNAL_AAD, sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_INVALID_KEY);
    CHECK_STATUS(iot_sign1_verify(pub_key, 0, msg, msg_len, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_INVALID_KEY);
    /* A COSE_Key cut inside y (iot-core reports malformed CBOR or an invalid key), or cut
     * inside the map (malformed CBOR). */
    st = iot_sign1_verify(cose_key, sizeof cose_key - 1, msg, msg_len, NULL, 0, EXTERNAL_AAD,
                          sizeof EXTERNAL_AAD, &p, &p_len);
    CHECK(st == IOT_STATUS_CBOR || st == IOT_STATUS_INVALID_KEY);
    CHECK_STATUS(iot_sign1_verify(cose_key, 4, msg, msg_len, NULL, 0, EXTERNAL_AAD,
                                  sizeof EXTERNAL_AAD, &p, &p_len),
                 IOT_STATUS_CBOR);
}

static void test_bad_arguments(void) {
    const uint8_t payload[] = "x";
    uint8_t msg[256];
    size_t msg_len = sizeof msg;
    const uint8_t *p = (const uint8_t *)"not touched";
    size_t p_len = 99;

    /* NULL where a pointer is required, or NULL with a non-zero length. */
    CHECK_STATUS(iot_sign1_sign(NULL, 32, IOT_ALG_ES256, NULL, 0, payload, 1, NULL, 0, 0, msg,
                                &msg_len),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK(msg_len == sizeof msg); /* out_len is not written when the key is NULL... */
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, IOT_ALG_ES256, NULL, 0, payload, 1, NULL, 0, 0, NULL,
                                &msg_len),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, IOT_ALG_ES256, NULL, 0, payload, 1, NULL, 0, 0, msg,
                                NULL),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, IOT_ALG_ES256, NULL, 0, NULL, 5, NULL, 0, 0, msg,
                                &msg_len),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK(msg_len == 0); /* ...but is set to 0 on any later failure */
    msg_len = sizeof msg;
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, IOT_ALG_ES256, NULL, 3, payload, 1, NULL, 0, 0, msg,
                                &msg_len),
                 IOT_STATUS_NULL_ARGUMENT);
    msg_len = sizeof msg;
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, IOT_ALG_ES256, NULL, 0, payload, 1, NULL, 4, 0, msg,
                                &msg_len),
                 IOT_STATUS_NULL_ARGUMENT);
    /* An empty payload may be NULL. */
    msg_len = sizeof msg;
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, IOT_ALG_ES256, NULL, 0, NULL, 0, NULL, 0, 0, msg,
                                &msg_len),
                 IOT_STATUS_OK);
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, msg, msg_len, NULL, 0, NULL, 0, &p,
                                  &p_len),
                 IOT_STATUS_OK);
    CHECK(p_len == 0);

    CHECK_STATUS(iot_sign1_verify(NULL, 65, msg, msg_len, NULL, 0, NULL, 0, &p, &p_len),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK(p == NULL && p_len == 0);
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, NULL, 0, NULL, 0, NULL, 0, &p, &p_len),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(iot_sign1_verify(pub_key, sizeof pub_key, msg, msg_len, NULL, 0, NULL, 7, &p,
                                  &p_len),
                 IOT_STATUS_NULL_ARGUMENT);

    /* A buffer far too small, and one of size 0. */
    msg_len = 10;
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, IOT_ALG_ES256, NULL, 0, payload, 1, NULL, 0, 0, msg,
                                &msg_len),
                 IOT_STATUS_BUFFER_TOO_SMALL);
    CHECK(msg_len == 0);
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, IOT_ALG_ES256, NULL, 0, payload, 1, NULL, 0, 0, msg,
                                &msg_len),
                 IOT_STATUS_BUFFER_TOO_SMALL);

    /* Out-of-range arguments. */
    msg_len = sizeof msg;
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, IOT_ALG_ES256, NULL, 0, payload, 1, NULL, 0, 4, msg,
                                &msg_len),
                 IOT_STATUS_INVALID_ARGUMENT);
    msg_len = sizeof msg;
    CHECK_STATUS(iot_sign1_sign(priv_key, 31, IOT_ALG_ES256, NULL, 0, payload, 1, NULL, 0, 0, msg,
                                &msg_len),
                 IOT_STATUS_INVALID_KEY);
    static const uint8_t zero_key[32] = {0};
    msg_len = sizeof msg;
    CHECK_STATUS(iot_sign1_sign(zero_key, 32, IOT_ALG_ES256, NULL, 0, payload, 1, NULL, 0, 0, msg,
                                &msg_len),
                 IOT_STATUS_INVALID_KEY);
    msg_len = sizeof msg;
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, 42, NULL, 0, payload, 1, NULL, 0, 0, msg, &msg_len),
                 IOT_STATUS_UNSUPPORTED_ALGORITHM);
    msg_len = sizeof msg;
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, 5 /* HMAC 256/256 */, NULL, 0, payload, 1, NULL, 0,
                                0, msg, &msg_len),
                 IOT_STATUS_ALGORITHM_MISMATCH);
    /* The output buffer overlapping an input is refused. */
    memset(msg, 0x61, 16);
    msg_len = sizeof msg;
    CHECK_STATUS(iot_sign1_sign(priv_key, 32, IOT_ALG_ES256, NULL, 0, msg + 8, 8, NULL, 0, 0, msg,
                                &msg_len),
                 IOT_STATUS_INVALID_ARGUMENT);
}

int main(void) {
    make_keys();
    test_status_str();
    test_round_trip(IOT_ALG_ES256);
    test_round_trip(IOT_ALG_ESP256);
    test_detached_untagged();
    test_sign_pass_02();
    test_bad_arguments();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
