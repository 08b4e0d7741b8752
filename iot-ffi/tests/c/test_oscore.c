/* C test of the iot-ffi OSCORE API (RFC 8613): Appendix C.4 (request protection) and C.7 (response
 * protection without Partial IV) byte for byte, a replayed request refused, a tampered message
 * refused, and argument checks. Built and run by run.sh.
 * Prints "N passed, M failed" last and exits non-zero when anything failed. */
#include "iot.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

/* RFC 8613 Appendix C.1 (contexts with Master Salt), C.4 and C.7, transcribed from
 * /work/shared/vectors/oscore/rfc8613-appendix-c.json (cases T1 and T2). */
static const uint8_t MASTER_SECRET[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                        0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
static const uint8_t MASTER_SALT[] = {0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40};
static const uint8_t CLIENT_ID[] = {0}; /* the empty Sender ID: length 0 */
static const uint8_t SERVER_ID[] = {0x01};
/* C.4: the unprotected GET coap://localhost/tv1 and its protection with Sender Sequence Number 20. */
static const uint8_t COAP_REQUEST[] = {0x44, 0x01, 0x5d, 0x1f, 0x00, 0x00, 0x39, 0x74,
                                       0x39, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x68, 0x6f,
                                       0x73, 0x74, 0x83, 0x74, 0x76, 0x31};
static const uint8_t OSCORE_REQUEST[] = {
    0x44, 0x02, 0x5d, 0x1f, 0x00, 0x00, 0x39, 0x74, 0x39, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x68,
    0x6f, 0x73, 0x74, 0x62, 0x09, 0x14, 0xff, 0x61, 0x2f, 0x10, 0x92, 0xf1, 0x77, 0x6f, 0x1c,
    0x16, 0x68, 0xb3, 0x82, 0x5e};
/* C.7: the 2.05 "Hello World!" response and its protection with the request's nonce. */
static const uint8_t COAP_RESPONSE[] = {0x64, 0x45, 0x5d, 0x1f, 0x00, 0x00, 0x39, 0x74,
                                        0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x57,
                                        0x6f, 0x72, 0x6c, 0x64, 0x21};
static const uint8_t OSCORE_RESPONSE[] = {
    0x64, 0x44, 0x5d, 0x1f, 0x00, 0x00, 0x39, 0x74, 0x90, 0xff, 0xdb, 0xaa, 0xd1, 0xe9, 0xa7, 0xe7,
    0xb2, 0xa8, 0x13, 0xd3, 0xc3, 0x15, 0x24, 0x37, 0x83, 0x03, 0xcd, 0xaf, 0xae, 0x11, 0x91, 0x06};

static IotStatus derive(IotOscoreContext *ctx, const uint8_t *sender, size_t sender_len,
                        const uint8_t *recipient, size_t recipient_len) {
    return iot_oscore_context_derive(MASTER_SECRET, sizeof MASTER_SECRET, MASTER_SALT,
                                     sizeof MASTER_SALT, sender, sender_len, recipient,
                                     recipient_len, NULL, 0, IOT_ALG_AES_CCM_16_64_128, ctx);
}

static int same(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
    return a_len == b_len && memcmp(a, b, a_len) == 0;
}

/* C.4 and C.7 end to end: client protects, server verifies and answers, client verifies. Then
 * the same request replayed, and tampered messages. */
static void test_appendix_c(void) {
    IotOscoreContext client, server;
    IotOscoreRequest sent, received;
    uint8_t out[128], plain[128], input[128];
    size_t out_len, plain_len;
    uint64_t seq = 0;
    int64_t piv = 0;

    CHECK_STATUS(derive(&client, CLIENT_ID, 0, SERVER_ID, sizeof SERVER_ID), IOT_STATUS_OK);
    CHECK_STATUS(derive(&server, SERVER_ID, sizeof SERVER_ID, CLIENT_ID, 0), IOT_STATUS_OK);

    /* C.4 */
    CHECK_STATUS(iot_oscore_context_set_sender_sequence_number(&client, 20), IOT_STATUS_OK);
    out_len = sizeof out;
    CHECK_STATUS(iot_oscore_protect_request(&client, COAP_REQUEST, sizeof COAP_REQUEST, out,
                                            &out_len, &sent),
                 IOT_STATUS_OK);
    CHECK(same(out, out_len, OSCORE_REQUEST, sizeof OSCORE_REQUEST));
    CHECK_STATUS(iot_oscore_context_sender_sequence_number(&client, &seq), IOT_STATUS_OK);
    CHECK(seq == 21);
    /* Moving the counter back would reuse a nonce. */
    CHECK_STATUS(iot_oscore_context_set_sender_sequence_number(&client, 20),
                 IOT_STATUS_INVALID_CONTEXT);

    /* The server gets the original request back. */
    memcpy(input, OSCORE_REQUEST, sizeof OSCORE_REQUEST);
    plain_len = sizeof plain;
    CHECK_STATUS(iot_oscore_unprotect_request(&server, input, sizeof OSCORE_REQUEST, plain,
                                              &plain_len, &received),
                 IOT_STATUS_OK);
    CHECK(same(plain, plain_len, COAP_REQUEST, sizeof COAP_REQUEST));

    /* A replay of the same request is refused, and the output length is reset. */
    IotOscoreRequest replayed;
    memcpy(input, OSCORE_REQUEST, sizeof OSCORE_REQUEST);
    plain_len = sizeof plain;
    CHECK_STATUS(iot_oscore_unprotect_request(&server, input, sizeof OSCORE_REQUEST, plain,
                                              &plain_len, &replayed),
                 IOT_STATUS_REPLAY);
    CHECK(plain_len == 0);

    /* C.7 */
    out_len = sizeof out;
    CHECK_STATUS(iot_oscore_protect_response(&server, &received, COAP_RESPONSE,
                                             sizeof COAP_RESPONSE, 0, out, &out_len),
                 IOT_STATUS_OK);
    CHECK(same(out, out_len, OSCORE_RESPONSE, sizeof OSCORE_RESPONSE));
    CHECK_STATUS(iot_oscore_context_sender_sequence_number(&server, &seq), IOT_STATUS_OK);
    CHECK(seq == 0); /* no Partial IV was used */
    /* The request's nonce serves one response only. */
    out_len = sizeof out;
    CHECK_STATUS(iot_oscore_protect_response(&server, &received, COAP_RESPONSE,
                                             sizeof COAP_RESPONSE, 0, out, &out_len),
                 IOT_STATUS_REQUEST_NONCE_USED);
    CHECK(out_len == 0);

    /* The client verifies the response. */
    memcpy(input, OSCORE_RESPONSE, sizeof OSCORE_RESPONSE);
    plain_len = sizeof plain;
    CHECK_STATUS(iot_oscore_unprotect_response(&client, &sent, input, sizeof OSCORE_RESPONSE,
                                               plain, &plain_len, &piv),
                 IOT_STATUS_OK);
    CHECK(same(plain, plain_len, COAP_RESPONSE, sizeof COAP_RESPONSE));
    CHECK(piv == -1);

    /* Tampered response: one ciphertext bit flipped. */
    memcpy(input, OSCORE_RESPONSE, sizeof OSCORE_RESPONSE);
    input[12] ^= 0x01;
    plain_len = sizeof plain;
    CHECK_STATUS(iot_oscore_unprotect_response(&client, &sent, input, sizeof OSCORE_RESPONSE,
                                               plain, &plain_len, &piv),
                 IOT_STATUS_BAD_TAG);
    CHECK(plain_len == 0);

    /* Tampered request on a fresh server: a flipped tag bit. */
    IotOscoreContext server2;
    CHECK_STATUS(derive(&server2, SERVER_ID, sizeof SERVER_ID, CLIENT_ID, 0), IOT_STATUS_OK);
    memcpy(input, OSCORE_REQUEST, sizeof OSCORE_REQUEST);
    input[sizeof OSCORE_REQUEST - 1] ^= 0x80; /* last tag byte */
    plain_len = sizeof plain;
    CHECK_STATUS(iot_oscore_unprotect_request(&server2, input, sizeof OSCORE_REQUEST, plain,
                                              &plain_len, &replayed),
                 IOT_STATUS_BAD_TAG);
    /* A rejected request leaves the replay window alone: the genuine one still verifies. */
    memcpy(input, OSCORE_REQUEST, sizeof OSCORE_REQUEST);
    plain_len = sizeof plain;
    CHECK_STATUS(iot_oscore_unprotect_request(&server2, input, sizeof OSCORE_REQUEST, plain,
                                              &plain_len, &replayed),
                 IOT_STATUS_OK);
    /* A tampered Partial IV (0x14 -> 0x15) gives another nonce and AAD. */
    IotOscoreContext server3;
    CHECK_STATUS(derive(&server3, SERVER_ID, sizeof SERVER_ID, CLIENT_ID, 0), IOT_STATUS_OK);
    memcpy(input, OSCORE_REQUEST, sizeof OSCORE_REQUEST);
    input[20] = 0x15;
    plain_len = sizeof plain;
    CHECK_STATUS(iot_oscore_unprotect_request(&server3, input, sizeof OSCORE_REQUEST, plain,
                                              &plain_len, &replayed),
                 IOT_STATUS_BAD_TAG);

    /* A second response needs its own Partial IV (C.8 shape: Partial IV 0). */
    out_len = sizeof out;
    CHECK_STATUS(iot_oscore_protect_response(&server, &received, COAP_RESPONSE,
                                             sizeof COAP_RESPONSE,
                                             IOT_OSCORE_RESPONSE_OWN_PARTIAL_IV, out, &out_len),
                 IOT_STATUS_OK);
    memcpy(input, out, out_len);
    plain_len = sizeof plain;
    CHECK_STATUS(iot_oscore_unprotect_response(&client, &sent, input, out_len, plain, &plain_len,
                                               &piv),
                 IOT_STATUS_OK);
    CHECK(same(plain, plain_len, COAP_RESPONSE, sizeof COAP_RESPONSE));
    CHECK(piv == 0);

    CHECK_STATUS(iot_oscore_context_clear(&client), IOT_STATUS_OK);
    /* A cleared context is refused. */
    out_len = sizeof out;
    CHECK_STATUS(iot_oscore_protect_request(&client, COAP_REQUEST, sizeof COAP_REQUEST, out,
                                            &out_len, &sent),
                 IOT_STATUS_INVALID_ARGUMENT);
    iot_oscore_context_clear(&server);
    iot_oscore_context_clear(&server2);
    iot_oscore_context_clear(&server3);
}

static void test_bad_arguments(void) {
    IotOscoreContext ctx;
    IotOscoreRequest req;
    uint8_t out[128];
    size_t out_len;
    memset(&ctx, 0, sizeof ctx);

    /* Storage that was never derived into. */
    out_len = sizeof out;
    CHECK_STATUS(iot_oscore_protect_request(&ctx, COAP_REQUEST, sizeof COAP_REQUEST, out,
                                            &out_len, &req),
                 IOT_STATUS_INVALID_ARGUMENT);
    /* Equal Sender and Recipient IDs, an unknown algorithm, NULL secret. */
    CHECK_STATUS(derive(&ctx, SERVER_ID, sizeof SERVER_ID, SERVER_ID, sizeof SERVER_ID),
                 IOT_STATUS_INVALID_CONTEXT);
    CHECK_STATUS(iot_oscore_context_derive(MASTER_SECRET, sizeof MASTER_SECRET, NULL, 0, NULL, 0,
                                           SERVER_ID, 1, NULL, 0, -7, &ctx),
                 IOT_STATUS_UNSUPPORTED_ALGORITHM);
    CHECK_STATUS(iot_oscore_context_derive(NULL, 16, NULL, 0, NULL, 0, SERVER_ID, 1, NULL, 0,
                                           IOT_ALG_AES_CCM_16_64_128, &ctx),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(derive(NULL, CLIENT_ID, 0, SERVER_ID, 1), IOT_STATUS_NULL_ARGUMENT);

    CHECK_STATUS(derive(&ctx, CLIENT_ID, 0, SERVER_ID, 1), IOT_STATUS_OK);
    /* A buffer too small, NULL output, a response given to protect_request, garbage. */
    out_len = 10;
    CHECK_STATUS(iot_oscore_protect_request(&ctx, COAP_REQUEST, sizeof COAP_REQUEST, out,
                                            &out_len, &req),
                 IOT_STATUS_BUFFER_TOO_SMALL);
    CHECK(out_len == 0);
    out_len = sizeof out;
    CHECK_STATUS(iot_oscore_protect_request(&ctx, COAP_REQUEST, sizeof COAP_REQUEST, NULL,
                                            &out_len, &req),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK(out_len == 0);
    out_len = sizeof out;
    CHECK_STATUS(iot_oscore_protect_request(&ctx, COAP_RESPONSE, sizeof COAP_RESPONSE, out,
                                            &out_len, &req),
                 IOT_STATUS_WRONG_MESSAGE_KIND);
    static const uint8_t garbage[] = {0x84, 0x01};
    out_len = sizeof out;
    CHECK_STATUS(iot_oscore_protect_request(&ctx, garbage, sizeof garbage, out, &out_len, &req),
                 IOT_STATUS_COAP_FORMAT);
    /* An unprotected message to unprotect; the output overlapping the input. */
    uint8_t input[sizeof COAP_REQUEST];
    memcpy(input, COAP_REQUEST, sizeof input);
    out_len = sizeof out;
    CHECK_STATUS(iot_oscore_unprotect_request(&ctx, input, sizeof input, out, &out_len, &req),
                 IOT_STATUS_NOT_PROTECTED);
    uint8_t both[64];
    memcpy(both, COAP_REQUEST, sizeof COAP_REQUEST);
    out_len = sizeof both - 4;
    CHECK_STATUS(iot_oscore_protect_request(&ctx, both, sizeof COAP_REQUEST, both + 4, &out_len,
                                            &req),
                 IOT_STATUS_INVALID_ARGUMENT);
    CHECK(strcmp(iot_status_str(IOT_STATUS_REPLAY), "Replay detected") == 0);
    iot_oscore_context_clear(&ctx);
}

int main(void) {
    test_appendix_c();
    test_bad_arguments();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
