/* C test of the iot-ffi identity API (iot_identity): a key generated and sealed, opened again,
 * refused when tampered with or opened for another slot or under another sealing key; a PKCS#10
 * request made with it (written to OUT_DIR/identity-csr.der, which run.sh checks with
 * `openssl req -verify` when IOT_OPENSSL is set); the checked-in chains of
 * iot-identity/tests/data validated, good and bad, with their typed reasons.
 * Usage: test_identity DATA_DIR OUT_DIR. Built and run by run.sh.
 * Prints "N passed, M failed" last and exits non-zero when anything failed. */
#include "iot.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

/* Tests validate at 2026-01-01T00:00:00Z (iot-identity/tests/data/README.md). */
#define NOW 1767225600u

static const char *data_dir;
static const char *out_dir;

/* The caller's random number generator: the operating system's. */
static int32_t os_random(void *ctx, uint8_t *out, size_t len) {
    FILE *f = (FILE *)ctx;
    return fread(out, 1, len, f) == len ? 0 : -1;
}

static int32_t broken_random(void *ctx, uint8_t *out, size_t len) {
    (void)ctx;
    (void)out;
    (void)len;
    return -1;
}

static const uint8_t SEALING_KEY[16] = {0x5e, 0xa1, 0x10, 0x6b, 0x01, 0x02, 0x03, 0x04,
                                        0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};
/* An EUI-64 UEID (RFC 9711 section 4.2.1, type 0x02). */
static const uint8_t UEID[9] = {0x02, 0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6, 0x00, 0x01};

static uint8_t sealed[IOT_SEALED_KEY_MAX_LEN];
static size_t sealed_len;
static uint8_t pub_key[IOT_P256_PUBLIC_KEY_LEN];

static void test_keys(FILE *rng) {
    uint8_t pub2[IOT_P256_PUBLIC_KEY_LEN];
    uint8_t sig1[IOT_P256_SIGNATURE_LEN], sig2[IOT_P256_SIGNATURE_LEN];
    uint8_t digest[IOT_SHA256_LEN];
    uint8_t t[IOT_SEALED_KEY_MAX_LEN];
    size_t n;

    sealed_len = sizeof sealed;
    CHECK_STATUS(iot_identity_key_generate(SEALING_KEY, sizeof SEALING_KEY, 0, os_random, rng,
                                           sealed, &sealed_len, pub_key),
                 IOT_STATUS_OK);
    CHECK(sealed_len > 0 && sealed_len <= IOT_SEALED_KEY_MAX_LEN);
    CHECK(pub_key[0] == 0x04);
    CHECK_STATUS(iot_identity_public_key(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len,
                                         pub2),
                 IOT_STATUS_OK);
    CHECK(memcmp(pub_key, pub2, sizeof pub2) == 0);

    /* A second key is another key. */
    n = sizeof t;
    CHECK_STATUS(iot_identity_key_generate(SEALING_KEY, sizeof SEALING_KEY, 0, os_random, rng, t,
                                           &n, pub2),
                 IOT_STATUS_OK);
    CHECK(memcmp(pub_key, pub2, sizeof pub2) != 0);

    /* RFC 6979: the same digest gives the same signature, another digest another one. */
    memset(digest, 0xab, sizeof digest);
    CHECK_STATUS(iot_identity_sign_digest(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len,
                                          digest, sig1),
                 IOT_STATUS_OK);
    CHECK_STATUS(iot_identity_sign_digest(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len,
                                          digest, sig2),
                 IOT_STATUS_OK);
    CHECK(memcmp(sig1, sig2, sizeof sig1) == 0);
    digest[0] ^= 1;
    CHECK_STATUS(iot_identity_sign_digest(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len,
                                          digest, sig2),
                 IOT_STATUS_OK);
    CHECK(memcmp(sig1, sig2, sizeof sig1) != 0);

    /* The sealed key opens only unaltered, for its slot, under its sealing key. */
    for (size_t i = 0; i < sealed_len; i += 7) {
        memcpy(t, sealed, sealed_len);
        t[i] ^= 0x01;
        IotStatus st = iot_identity_public_key(SEALING_KEY, sizeof SEALING_KEY, 0, t, sealed_len,
                                               pub2);
        CHECK(st == IOT_STATUS_SEALED_KEY_TAMPERED);
    }
    CHECK_STATUS(iot_identity_public_key(SEALING_KEY, sizeof SEALING_KEY, 0, sealed,
                                         sealed_len - 1, pub2),
                 IOT_STATUS_SEALED_KEY_TAMPERED);
    CHECK_STATUS(iot_identity_sign_digest(SEALING_KEY, sizeof SEALING_KEY, 1, sealed, sealed_len,
                                          digest, sig2),
                 IOT_STATUS_SEALED_KEY_TAMPERED);
    uint8_t other_key[16];
    memcpy(other_key, SEALING_KEY, sizeof other_key);
    other_key[15] ^= 0x80;
    CHECK_STATUS(iot_identity_sign_digest(other_key, sizeof other_key, 0, sealed, sealed_len,
                                          digest, sig2),
                 IOT_STATUS_SEALED_KEY_TAMPERED);

    /* Arguments. */
    n = sizeof t;
    CHECK_STATUS(iot_identity_key_generate(SEALING_KEY, 20, 0, os_random, rng, t, &n, NULL),
                 IOT_STATUS_INVALID_KEY);
    CHECK(n == 0);
    n = sizeof t;
    CHECK_STATUS(iot_identity_key_generate(SEALING_KEY, sizeof SEALING_KEY, IOT_KEY_SLOTS,
                                           os_random, rng, t, &n, NULL),
                 IOT_STATUS_INVALID_ARGUMENT);
    n = sizeof t;
    CHECK_STATUS(iot_identity_key_generate(SEALING_KEY, sizeof SEALING_KEY, 0, NULL, rng, t, &n,
                                           NULL),
                 IOT_STATUS_NULL_ARGUMENT);
    n = sizeof t;
    CHECK_STATUS(iot_identity_key_generate(SEALING_KEY, sizeof SEALING_KEY, 0, broken_random,
                                           NULL, t, &n, NULL),
                 IOT_STATUS_RNG);
    /* Too small: told the length a sealed key takes. */
    n = 40;
    CHECK_STATUS(iot_identity_key_generate(SEALING_KEY, sizeof SEALING_KEY, 0, os_random, rng, t,
                                           &n, NULL),
                 IOT_STATUS_BUFFER_TOO_SMALL);
    CHECK(n == sealed_len);
    CHECK_STATUS(iot_identity_public_key(SEALING_KEY, sizeof SEALING_KEY, 0, NULL, 0, pub2),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(iot_identity_sign_digest(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len,
                                          NULL, sig2),
                 IOT_STATUS_NULL_ARGUMENT);
    /* A signature written over the sealed key is refused. */
    memcpy(t, sealed, sealed_len);
    CHECK_STATUS(iot_identity_sign_digest(SEALING_KEY, sizeof SEALING_KEY, 0, t, sealed_len,
                                          digest, t + 8),
                 IOT_STATUS_INVALID_ARGUMENT);
}

static void test_csr(void) {
    uint8_t csr[400];
    size_t csr_len = sizeof csr;
    static const char CN[] = "Thermostat 7";

    CHECK_STATUS(iot_identity_csr(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len, UEID,
                                  sizeof UEID, (const uint8_t *)CN, sizeof CN - 1, csr, &csr_len),
                 IOT_STATUS_OK);
    /* A DER SEQUENCE with a two-byte length that covers the whole request. */
    CHECK(csr_len > 200 && csr[0] == 0x30 && csr[1] == 0x81 && (size_t)csr[2] + 3 == csr_len);
    /* The public key is in it, and the names. */
    int found = 0;
    for (size_t i = 0; i + sizeof pub_key <= csr_len; i++) {
        found |= memcmp(csr + i, pub_key, sizeof pub_key) == 0;
    }
    CHECK(found);
    found = 0;
    for (size_t i = 0; i + 18 <= csr_len; i++) {
        found |= memcmp(csr + i, "02001B638445E60001", 18) == 0;
    }
    CHECK(found);

    char path[1024];
    snprintf(path, sizeof path, "%s/identity-csr.der", out_dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK(fwrite(csr, 1, csr_len, f) == csr_len);
        fclose(f);
    }

    /* The common name defaults to the UEID in hex. */
    size_t n = sizeof csr;
    CHECK_STATUS(iot_identity_csr(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len, UEID,
                                  sizeof UEID, NULL, 0, csr, &n),
                 IOT_STATUS_OK);
    const size_t default_len = n;
    /* Bad subjects, a small buffer, a tampered key. */
    static const uint8_t bad_ueid[9] = {0x07, 0, 0, 0, 0, 0, 0, 0, 1};
    n = sizeof csr;
    CHECK_STATUS(iot_identity_csr(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len,
                                  bad_ueid, sizeof bad_ueid, NULL, 0, csr, &n),
                 IOT_STATUS_INVALID_UEID);
    CHECK(n == 0);
    static const uint8_t bad_utf8[2] = {0xc3, 0x28};
    n = sizeof csr;
    CHECK_STATUS(iot_identity_csr(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len, UEID,
                                  sizeof UEID, bad_utf8, sizeof bad_utf8, csr, &n),
                 IOT_STATUS_INVALID_NAME);
    char long_cn[65];
    memset(long_cn, 'a', sizeof long_cn);
    n = sizeof csr;
    CHECK_STATUS(iot_identity_csr(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len, UEID,
                                  sizeof UEID, (const uint8_t *)long_cn, sizeof long_cn, csr, &n),
                 IOT_STATUS_INVALID_NAME);
    /* Too small: told the request's length, whether short by a byte or by more. */
    n = 100;
    CHECK_STATUS(iot_identity_csr(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len, UEID,
                                  sizeof UEID, NULL, 0, csr, &n),
                 IOT_STATUS_BUFFER_TOO_SMALL);
    CHECK(n == default_len);
    n = default_len - 1;
    CHECK_STATUS(iot_identity_csr(SEALING_KEY, sizeof SEALING_KEY, 0, sealed, sealed_len, UEID,
                                  sizeof UEID, NULL, 0, csr, &n),
                 IOT_STATUS_BUFFER_TOO_SMALL);
    CHECK(n == default_len);
    n = sizeof csr;
    CHECK_STATUS(iot_identity_csr(SEALING_KEY, sizeof SEALING_KEY, 2, sealed, sealed_len, UEID,
                                  sizeof UEID, NULL, 0, csr, &n),
                 IOT_STATUS_SEALED_KEY_TAMPERED);
}

/* Reads DATA_DIR/name into buf; returns its length, 0 on failure. */
static size_t load(const char *name, uint8_t *buf, size_t cap) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        failed++;
        return 0;
    }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static uint8_t files[5][2048];
static size_t file_lens[5];

/* Validates the files named (leaf first) against root.der at `now`; checks status and index. */
static void expect_chain(int line, const char *names[], size_t count, uint64_t now,
                         IotStatus want, size_t want_index) {
    const uint8_t *certs[5];
    uint8_t anchor[2048];
    size_t anchor_len = load("root.der", anchor, sizeof anchor);
    for (size_t i = 0; i < count; i++) {
        file_lens[i] = load(names[i], files[i], sizeof files[i]);
        certs[i] = files[i];
    }
    size_t index = 99;
    IotStatus got = iot_identity_validate_chain(certs, file_lens, count, anchor, anchor_len, now,
                                                &index);
    if (got == want && index == want_index) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: chain %s...: got %d (%s) at %zu, want %d (%s) at %zu\n",
                line, count ? names[0] : "(empty)", (int)got, iot_status_str(got), index,
                (int)want, iot_status_str(want), want_index);
    }
}

#define EXPECT_CHAIN(now, want, index, ...)                                       \
    do {                                                                          \
        const char *names_[] = {__VA_ARGS__};                                     \
        expect_chain(__LINE__, names_, sizeof names_ / sizeof names_[0], (now),   \
                     (want), (index));                                            \
    } while (0)

static void test_chains(void) {
    EXPECT_CHAIN(NOW, IOT_STATUS_OK, 0, "leaf.der", "inter.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_OK, 0, "leaf.der", "inter.der", "root.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_OK, 0, "leaf-under-open.der", "inter-open.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_CERT_EXPIRED, 0, "leaf-expired.der", "inter.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_CERT_NOT_YET_VALID, 0, "leaf-future.der", "inter.der");
    /* Before every certificate: the top one (the intermediate) fails first. */
    EXPECT_CHAIN(0, IOT_STATUS_CERT_NOT_YET_VALID, 1, "leaf.der", "inter.der");
    EXPECT_CHAIN(4102444800u /* 2100 */, IOT_STATUS_CERT_EXPIRED, 1, "leaf.der", "inter.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_KEY_USAGE, 0, "leaf-wrong-ku.der", "inter.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_UNKNOWN_CRITICAL_EXTENSION, 0, "leaf-unknown-critical.der",
                 "inter.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_ISSUER_MISMATCH, 0, "leaf-other-issuer.der", "inter.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_ISSUER_MISMATCH, 0, "leaf.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_BAD_SIGNATURE, 0, "leaf-impostor.der", "inter.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_NOT_CA, 1, "leaf-under-noca.der", "inter-noca.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_KEY_USAGE, 1, "leaf-under-noku.der", "inter-noku.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_PATH_LEN_EXCEEDED, 2, "leaf-under-inter2.der", "inter2.der",
                 "inter.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_CHAIN_TOO_LONG, 0, "leaf.der", "inter.der", "inter.der",
                 "inter.der", "root.der");
    EXPECT_CHAIN(NOW, IOT_STATUS_EMPTY_CHAIN, 0, "root.der");

    /* A truncated leaf, an empty chain, a bad anchor, NULL arguments. */
    uint8_t anchor[2048];
    size_t anchor_len = load("root.der", anchor, sizeof anchor);
    const uint8_t *certs[2] = {files[0], files[1]};
    size_t lens[2];
    size_t index = 99;
    lens[0] = load("leaf.der", files[0], sizeof files[0]) - 1;
    lens[1] = load("inter.der", files[1], sizeof files[1]);
    CHECK_STATUS(iot_identity_validate_chain(certs, lens, 2, anchor, anchor_len, NOW, &index),
                 IOT_STATUS_X509_MALFORMED);
    CHECK(index == 0);
    CHECK_STATUS(iot_identity_validate_chain(NULL, NULL, 0, anchor, anchor_len, NOW, &index),
                 IOT_STATUS_EMPTY_CHAIN);
    lens[0]++;
    CHECK_STATUS(iot_identity_validate_chain(certs, lens, 2, anchor, anchor_len - 1, NOW, &index),
                 IOT_STATUS_X509_MALFORMED);
    CHECK(index == 2);
    CHECK_STATUS(iot_identity_validate_chain(certs, lens, 2, NULL, 0, NOW, &index),
                 IOT_STATUS_NULL_ARGUMENT);
    certs[1] = NULL;
    CHECK_STATUS(iot_identity_validate_chain(certs, lens, 2, anchor, anchor_len, NOW, &index),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK(index == 1);
    certs[1] = files[1];
    CHECK_STATUS(iot_identity_validate_chain(certs, lens, 2, anchor, anchor_len, NOW, NULL),
                 IOT_STATUS_OK);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DATA_DIR OUT_DIR\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    out_dir = argv[2];
    FILE *rng = fopen("/dev/urandom", "rb");
    if (rng == NULL) {
        fprintf(stderr, "cannot open /dev/urandom\n");
        return 2;
    }
    test_keys(rng);
    test_csr();
    test_chains();
    fclose(rng);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
