/* C test of the iot-ffi attestation API (iot_attest): the PSA token of RFC 9783's example
 * (psa/example/sign1-claims in ../shared/vectors, key tfm-es-iak) built from an IotPsaClaims,
 * signed, verified back through iot_sign1_verify, its claims-set compared byte for byte with the
 * example's claims in deterministic order; an EAT of the Constrained Device Standard Profile
 * likewise; both signed with a key sealed by iot_identity_key_generate too; profile violations,
 * bad claims, buffer sizes and arguments refused.
 * Built and run by run.sh. Prints "N passed, M failed" last and exits non-zero on failure. */
#include "iot.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decodes lower-case hex into out (capacity cap); returns the length, or 0 on bad input. */
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

/* tfm-es-iak.json (psa/example): d, and 04 || x || y. */
static const char IAK_D[] = "43fffecb95f8085a7c40e1d3ea790bef4eb78cdd77d58503a64c1600f91b33e7";
static const char IAK_PUB[] =
    "044e5e22099e3bceb45b446d1355fd1dc3b545947b6fd7c1c89d886798c3726e8f"
    "80d70b840b256aac34a62ede1043364f044095f003474b91e0182092afb13f2e";

/* sign1-claims.diag of psa/example, its keys in deterministic order (RFC 8949 section 4.2.1):
 * nonce 10, ueid 256, eat_profile 265, bootseed 268, client id 2394, lifecycle 2395,
 * implementation id 2396, software components 2399 (each map's keys sorted too). */
static const char PSA_PAYLOAD[] =
    "a80a582001010101010101010101010101010101010101010101010101010101010101011901005821010202"
    "02020202020202020202020202020202020202020202020202020202020219010978217461673a7073616365"
    "727469666965642e6f72672c323032333a7073612374666d19010c48000000000000000019095a1a7fffffff"
    "19095b19300019095c5820000000000000000000000000000000000000000000000000000000000000000019"
    "095f81a3016450526f5402582003030303030303030303030303030303030303030303030303030303030303"
    "030558200404040404040404040404040404040404040404040404040404040404040404";

/* The EAT of test_eat: iat 6, nonce 10, ueid 256, dbgstat 263, eat_profile 265, bootcount 267,
 * swname 270, swversion 271, manifests 272, intuse 275. */
static const char EAT_PAYLOAD[] =
    "aa061a695580000a50a0a1a2a3a4a5a6a7a8a9aaabacadaeaf1901005101101112131415161718191a1b1c1d1e1f1901"
    "07031901097475726e3a696574663a7266633a7266633937313119010b0719010e69746865726d6f2d667719010f8165"
    "312e322e301901108182183c58205d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d1901"
    "1302";

static uint8_t iak[32];
static uint8_t iak_pub[65];

static uint8_t nonce[32], instance_id[33], implementation_id[32], boot_seed[8];
static uint8_t measurement[32], signer[32];
static IotSwComponent prot;
static IotPsaClaims psa;

static void make_psa_claims(void) {
    memset(nonce, 0x01, sizeof nonce);
    memset(instance_id, 0x02, sizeof instance_id);
    instance_id[0] = 0x01;
    memset(implementation_id, 0x00, sizeof implementation_id);
    memset(boot_seed, 0x00, sizeof boot_seed);
    memset(measurement, 0x03, sizeof measurement);
    memset(signer, 0x04, sizeof signer);
    memset(&prot, 0, sizeof prot);
    prot.measurement_type = "PRoT";
    prot.measurement_type_len = 4;
    prot.measurement_value = measurement;
    prot.measurement_value_len = sizeof measurement;
    prot.signer_id = signer;
    prot.signer_id_len = sizeof signer;
    memset(&psa, 0, sizeof psa);
    psa.nonce = nonce;
    psa.nonce_len = sizeof nonce;
    psa.instance_id = instance_id;
    psa.instance_id_len = sizeof instance_id;
    psa.implementation_id = implementation_id;
    psa.implementation_id_len = sizeof implementation_id;
    psa.client_id = 2147483647;
    psa.lifecycle = 0x3000; /* secured */
    psa.boot_seed = boot_seed;
    psa.boot_seed_len = sizeof boot_seed;
    psa.software_components = &prot;
    psa.software_components_count = 1;
}

static IotStatus sign_psa(const IotPsaClaims *c, uint32_t flags, uint8_t *out, size_t *out_len) {
    return iot_attest_psa_sign(c, iak, sizeof iak, IOT_ALG_ES256, NULL, 0, flags, out, out_len);
}

static void test_psa(void) {
    uint8_t token[1024], again[1024], expected[512];
    size_t token_len = sizeof token, again_len = sizeof again;
    size_t expected_len = unhex(PSA_PAYLOAD, expected, sizeof expected);
    const uint8_t *p;
    size_t p_len;
    CHECK(expected_len == 256);

    /* Without tag 61 the token is a COSE_Sign1 that iot_sign1_verify reads. */
    CHECK_STATUS(sign_psa(&psa, IOT_ATTEST_NO_CWT_TAG, token, &token_len), IOT_STATUS_OK);
    CHECK(token[0] == 0xd2);
    CHECK_STATUS(iot_sign1_verify(iak_pub, sizeof iak_pub, token, token_len, NULL, 0, NULL, 0, &p,
                                  &p_len),
                 IOT_STATUS_OK);
    CHECK(p_len == expected_len && memcmp(p, expected, expected_len) == 0);
    /* RFC 6979: signing again gives the same bytes. */
    CHECK_STATUS(sign_psa(&psa, IOT_ATTEST_NO_CWT_TAG, again, &again_len), IOT_STATUS_OK);
    CHECK(again_len == token_len && memcmp(again, token, token_len) == 0);
    /* Tampering with the payload breaks the signature. */
    token[token_len - 80] ^= 0x01;
    CHECK_STATUS(iot_sign1_verify(iak_pub, sizeof iak_pub, token, token_len, NULL, 0, NULL, 0, &p,
                                  &p_len),
                 IOT_STATUS_BAD_SIGNATURE);

    /* By default, tag 61 (d8 3d) around the tagged COSE_Sign1; a kid goes in. */
    token_len = sizeof token;
    CHECK_STATUS(iot_attest_psa_sign(&psa, iak, sizeof iak, IOT_ALG_ESP256,
                                     (const uint8_t *)"iak-1", 5, 0, token, &token_len),
                 IOT_STATUS_OK);
    CHECK(token[0] == 0xd8 && token[1] == 0x3d && token[2] == 0xd2);
    CHECK_STATUS(iot_sign1_verify(iak_pub, sizeof iak_pub, token + 2, token_len - 2, NULL, 0, NULL,
                                  0, &p, &p_len),
                 IOT_STATUS_OK);
    CHECK(p_len == expected_len && memcmp(p, expected, expected_len) == 0);

    /* The buffer must hold the token and the claims-set: exactly that is enough. */
    size_t need = token_len + expected_len;
    size_t n = need;
    CHECK_STATUS(iot_attest_psa_sign(&psa, iak, sizeof iak, IOT_ALG_ESP256,
                                     (const uint8_t *)"iak-1", 5, 0, again, &n),
                 IOT_STATUS_OK);
    CHECK(n == token_len && memcmp(again, token, n) == 0);
    n = need - 1;
    CHECK_STATUS(iot_attest_psa_sign(&psa, iak, sizeof iak, IOT_ALG_ESP256,
                                     (const uint8_t *)"iak-1", 5, 0, again, &n),
                 IOT_STATUS_BUFFER_TOO_SMALL);
    CHECK(n == 0);
    n = 100;
    CHECK_STATUS(sign_psa(&psa, 0, again, &n), IOT_STATUS_BUFFER_TOO_SMALL);
}

static void test_psa_refused(void) {
    _Alignas(8) uint8_t out[2048];
    size_t n;
    IotPsaClaims c;
    IotSwComponent comps[IOT_ATTEST_MAX_ITEMS + 1];

#define EXPECT_PSA(want)                                                          \
    do {                                                                          \
        n = sizeof out;                                                           \
        CHECK_STATUS(sign_psa(&c, 0, out, &n), (want));                           \
        if ((want) != IOT_STATUS_OK) CHECK(n == 0);                               \
    } while (0)

    c = psa;
    c.nonce_len = 31;
    EXPECT_PSA(IOT_STATUS_PROFILE_VIOLATION);
    c = psa;
    c.client_id = 0;
    EXPECT_PSA(IOT_STATUS_PROFILE_VIOLATION);
    c = psa;
    c.lifecycle = 0x7000;
    EXPECT_PSA(IOT_STATUS_PROFILE_VIOLATION);
    c = psa;
    c.instance_id_len = 32;
    EXPECT_PSA(IOT_STATUS_PROFILE_VIOLATION);
    c = psa;
    c.implementation_id_len = 16;
    EXPECT_PSA(IOT_STATUS_PROFILE_VIOLATION);
    c = psa;
    c.software_components_count = 0;
    EXPECT_PSA(IOT_STATUS_PROFILE_VIOLATION);
    c = psa;
    c.certification_reference = "1234567890123-1234"; /* EAN-13+5 needs five digits */
    c.certification_reference_len = 18;
    EXPECT_PSA(IOT_STATUS_PROFILE_VIOLATION);
    c.certification_reference = "1234567890123-12345";
    c.certification_reference_len = 19;
    EXPECT_PSA(IOT_STATUS_OK);

    /* A component without its signer ID, one with text that is not UTF-8. */
    for (size_t i = 0; i < IOT_ATTEST_MAX_ITEMS + 1; i++) comps[i] = prot;
    c = psa;
    c.software_components = comps;
    comps[0].signer_id = NULL;
    comps[0].signer_id_len = 0;
    EXPECT_PSA(IOT_STATUS_PROFILE_VIOLATION);
    comps[0] = prot;
    comps[0].version = "\xff";
    comps[0].version_len = 1;
    EXPECT_PSA(IOT_STATUS_INVALID_CLAIM);
    comps[0] = prot;
    c.software_components_count = IOT_ATTEST_MAX_ITEMS;
    EXPECT_PSA(IOT_STATUS_OK);
    c.software_components_count = IOT_ATTEST_MAX_ITEMS + 1;
    EXPECT_PSA(IOT_STATUS_CAPACITY_EXCEEDED);
    c.software_components = NULL;
    c.software_components_count = 1;
    EXPECT_PSA(IOT_STATUS_NULL_ARGUMENT);

    /* Arguments. */
    n = sizeof out;
    CHECK_STATUS(sign_psa(NULL, 0, out, &n), IOT_STATUS_NULL_ARGUMENT);
    CHECK(n == 0);
    n = sizeof out;
    CHECK_STATUS(sign_psa(&psa, 2, out, &n), IOT_STATUS_INVALID_ARGUMENT);
    n = sizeof out;
    CHECK_STATUS(iot_attest_psa_sign(&psa, iak, 31, IOT_ALG_ES256, NULL, 0, 0, out, &n),
                 IOT_STATUS_INVALID_KEY);
    n = sizeof out;
    CHECK_STATUS(iot_attest_psa_sign(&psa, iak, sizeof iak, 5, NULL, 0, 0, out, &n),
                 IOT_STATUS_ALGORITHM_MISMATCH);
    /* The output overlapping a claim, or the claims struct itself, is refused. */
    c = psa;
    memcpy(out, nonce, sizeof nonce);
    c.nonce = out + 512;
    memcpy(out + 512, nonce, sizeof nonce);
    EXPECT_PSA(IOT_STATUS_INVALID_ARGUMENT);
    IotPsaClaims *inside = (IotPsaClaims *)(void *)(out + 512);
    memcpy(inside, &psa, sizeof psa);
    n = sizeof out;
    CHECK_STATUS(sign_psa(inside, 0, out, &n), IOT_STATUS_INVALID_ARGUMENT);
#undef EXPECT_PSA
}

static void test_eat(void) {
    uint8_t eat_nonce[16], ueid[17], digest[32];
    for (int i = 0; i < 16; i++) eat_nonce[i] = (uint8_t)(0xa0 + i);
    ueid[0] = 0x01; /* RAND */
    for (int i = 0; i < 16; i++) ueid[1 + i] = (uint8_t)(0x10 + i);
    memset(digest, 0x5d, sizeof digest);
    IotTypedContent manifest = {60 /* application/cbor */, digest, sizeof digest};
    IotEatClaims c;
    memset(&c, 0, sizeof c);
    c.nonce = eat_nonce;
    c.nonce_len = sizeof eat_nonce;
    c.ueid = ueid;
    c.ueid_len = sizeof ueid;
    c.swname = "thermo-fw";
    c.swname_len = 9;
    c.swversion = "1.2.0";
    c.swversion_len = 5;
    c.present = IOT_EAT_IAT | IOT_EAT_DBGSTAT | IOT_EAT_BOOTCOUNT | IOT_EAT_INTUSE;
    c.iat = 0x69558000;
    c.dbgstat = 3;
    c.bootcount = 7;
    c.intuse = 2;
    c.manifests = &manifest;
    c.manifests_count = 1;

    uint8_t token[512], expected[256];
    size_t token_len = sizeof token;
    size_t expected_len = unhex(EAT_PAYLOAD, expected, sizeof expected);
    const uint8_t *p;
    size_t p_len;
    CHECK(expected_len == 146);
    CHECK_STATUS(iot_attest_eat_sign(&c, iak, sizeof iak, IOT_ALG_ES256, NULL, 0,
                                     IOT_ATTEST_NO_CWT_TAG, token, &token_len),
                 IOT_STATUS_OK);
    CHECK_STATUS(iot_sign1_verify(iak_pub, sizeof iak_pub, token, token_len, NULL, 0, NULL, 0, &p,
                                  &p_len),
                 IOT_STATUS_OK);
    CHECK(p_len == expected_len && memcmp(p, expected, expected_len) == 0);

    /* Bad claims. */
    IotEatClaims b;
#define EXPECT_EAT(want)                                                          \
    do {                                                                          \
        token_len = sizeof token;                                                 \
        CHECK_STATUS(iot_attest_eat_sign(&b, iak, sizeof iak, IOT_ALG_ES256, NULL, 0, 0, token, \
                                         &token_len),                             \
                     (want));                                                     \
    } while (0)
    b = c;
    b.dbgstat = 5;
    EXPECT_EAT(IOT_STATUS_INVALID_CLAIM);
    b = c;
    b.intuse = 0;
    EXPECT_EAT(IOT_STATUS_INVALID_CLAIM);
    b = c;
    b.present |= 64;
    EXPECT_EAT(IOT_STATUS_INVALID_CLAIM);
    b = c;
    b.nonce_len = 7; /* RFC 9711 section 4.1: 8 to 64 bytes */
    EXPECT_EAT(IOT_STATUS_INVALID_CLAIM);
    b = c;
    b.ueid_len = 5;
    EXPECT_EAT(IOT_STATUS_INVALID_CLAIM);
    b = c;
    b.manifests_count = IOT_ATTEST_MAX_ITEMS + 1;
    EXPECT_EAT(IOT_STATUS_CAPACITY_EXCEEDED);
    /* Absent optional claims: only the nonce (and the profile) remain. */
    memset(&b, 0, sizeof b);
    b.nonce = eat_nonce;
    b.nonce_len = sizeof eat_nonce;
    EXPECT_EAT(IOT_STATUS_OK);
    CHECK(token_len > 0 && token[0] == 0xd8 && token[1] == 0x3d);
#undef EXPECT_EAT
}

static int32_t os_random(void *ctx, uint8_t *out, size_t len) {
    return fread(out, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

/* The attestation key sealed in the identity key store (slot 2) signs the same evidence. */
static void test_sealed_key(void) {
    static const uint8_t sealing_key[32] = {0x11, 0x22, 0x33};
    uint8_t sealed[IOT_SEALED_KEY_MAX_LEN], pub[IOT_P256_PUBLIC_KEY_LEN];
    uint8_t token[1024], expected[512];
    size_t sealed_len = sizeof sealed, token_len = sizeof token;
    size_t expected_len = unhex(PSA_PAYLOAD, expected, sizeof expected);
    const uint8_t *p;
    size_t p_len;
    FILE *rng = fopen("/dev/urandom", "rb");
    CHECK(rng != NULL);
    if (rng == NULL) return;
    CHECK_STATUS(iot_identity_key_generate(sealing_key, sizeof sealing_key, 2, os_random, rng,
                                           sealed, &sealed_len, pub),
                 IOT_STATUS_OK);
    fclose(rng);

    CHECK_STATUS(iot_attest_psa_sign_sealed(&psa, sealing_key, sizeof sealing_key, 2, sealed,
                                            sealed_len, IOT_ALG_ES256, NULL, 0,
                                            IOT_ATTEST_NO_CWT_TAG, token, &token_len),
                 IOT_STATUS_OK);
    CHECK_STATUS(iot_sign1_verify(pub, sizeof pub, token, token_len, NULL, 0, NULL, 0, &p, &p_len),
                 IOT_STATUS_OK);
    CHECK(p_len == expected_len && memcmp(p, expected, expected_len) == 0);
    /* Not under the example's key. */
    CHECK_STATUS(iot_sign1_verify(iak_pub, sizeof iak_pub, token, token_len, NULL, 0, NULL, 0, &p,
                                  &p_len),
                 IOT_STATUS_BAD_SIGNATURE);

    IotEatClaims eat;
    uint8_t eat_nonce[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    memset(&eat, 0, sizeof eat);
    eat.nonce = eat_nonce;
    eat.nonce_len = sizeof eat_nonce;
    token_len = sizeof token;
    CHECK_STATUS(iot_attest_eat_sign_sealed(&eat, sealing_key, sizeof sealing_key, 2, sealed,
                                            sealed_len, IOT_ALG_ESP256, NULL, 0,
                                            IOT_ATTEST_NO_CWT_TAG, token, &token_len),
                 IOT_STATUS_OK);
    CHECK_STATUS(iot_sign1_verify(pub, sizeof pub, token, token_len, NULL, 0, NULL, 0, &p, &p_len),
                 IOT_STATUS_OK);

    /* Another slot, an altered sealed key, a NULL sealed key. */
    token_len = sizeof token;
    CHECK_STATUS(iot_attest_psa_sign_sealed(&psa, sealing_key, sizeof sealing_key, 1, sealed,
                                            sealed_len, IOT_ALG_ES256, NULL, 0, 0, token,
                                            &token_len),
                 IOT_STATUS_SEALED_KEY_TAMPERED);
    CHECK(token_len == 0);
    sealed[sealed_len / 2] ^= 0x20;
    token_len = sizeof token;
    CHECK_STATUS(iot_attest_eat_sign_sealed(&eat, sealing_key, sizeof sealing_key, 2, sealed,
                                            sealed_len, IOT_ALG_ES256, NULL, 0, 0, token,
                                            &token_len),
                 IOT_STATUS_SEALED_KEY_TAMPERED);
    token_len = sizeof token;
    CHECK_STATUS(iot_attest_psa_sign_sealed(&psa, sealing_key, sizeof sealing_key, 2, NULL, 0,
                                            IOT_ALG_ES256, NULL, 0, 0, token, &token_len),
                 IOT_STATUS_NULL_ARGUMENT);
}

int main(void) {
    CHECK(unhex(IAK_D, iak, sizeof iak) == 32);
    CHECK(unhex(IAK_PUB, iak_pub, sizeof iak_pub) == 65);
    make_psa_claims();
    test_psa();
    test_psa_refused();
    test_eat();
    test_sealed_key();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
