/* C test of the iot-ffi SUIT API (iot_update_manifest): examples 0 (secure boot) and 3 (A/B by
 * component slot) of draft-ietf-suit-manifest, read from the hex blocks of
 * suit/manifest-spec/exampleN.txt, authenticated under the draft's key and processed against a
 * device in RAM whose platform is a table of C callbacks: identity, slot and image conditions,
 * fetch, invoke, anti-rollback, a failing callback, tampered envelopes and arguments; and
 * libcsuit's encrypted expAW (COSE_Mac0, A128KW) and expEW (ECDH-ES + A128KW) installed with
 * their keys through iot_suit_process_with_options, and expAF decrypted while copying what it
 * fetched; libcsuit's dependency manifests, expS3
 * (integrated) and expS2 and expD (fetched by URI through fetch_range), processed with a
 * scratch buffer.
 * Usage: test_suit MANIFEST_SPEC_DIR LIBCSUIT_DIR. Built and run by run.sh.
 * Prints "N passed, M failed" last and exits non-zero when anything failed. */
#include "iot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* The public key of the draft's private_key.pem (the README's example uses it too). */
static const uint8_t DRAFT_KEY[65] = {
    0x04, 0x84, 0x96, 0x81, 0x1a, 0xae, 0x0b, 0xaa, 0xab, 0xd2, 0x61, 0x57, 0x18, 0x9e, 0xec,
    0xda, 0x26, 0xbe, 0xaa, 0x8b, 0xf1, 0x1b, 0x6f, 0x3f, 0xe6, 0xe2, 0xb5, 0x65, 0x9c, 0x85,
    0xdb, 0xc0, 0xad, 0x3b, 0x1f, 0x2a, 0x4b, 0x6c, 0x09, 0x81, 0x31, 0xc0, 0xa3, 0x6d, 0xac,
    0xd1, 0xd7, 0x8b, 0xd3, 0x81, 0xdc, 0xdf, 0xb0, 0x9c, 0x05, 0x2d, 0xb3, 0x39, 0x91, 0xdb,
    0x73, 0x38, 0xb4, 0xa8, 0x96};
/* Vendor and class IDs of the examples. */
static const uint8_t VENDOR[16] = {0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf,
                                   0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe};
static const uint8_t CLASS[16] = {0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48,
                                  0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45};
/* The examples' sample image digests and sizes: no real image has them, so the device below
 * "declares" them for its stand-in images A and B (as a device that keeps each image's digest
 * would), or does not, and then the library hashes the image and the digests differ. */
static const uint8_t DIGEST_A[32] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
                                     0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                     0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
static const uint8_t DIGEST_B[32] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                     0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
                                     0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
#define SIZE_A 34768
#define SIZE_B 76834
/* Command codes (draft-ietf-suit-manifest). */
#define CLASS_IDENTIFIER 2
#define IMAGE_MATCH 3
#define COMPONENT_SLOT 5

static uint8_t image_a[SIZE_A];
static uint8_t image_b[SIZE_B];

/* ---- the device: components in RAM ---- */

#define MAX_STORES 6
#define STORE_CAP 80000
#define PATH_CAP 128

typedef struct {
    int used;
    uint8_t path[PATH_CAP]; /* segments, each as a length byte and its bytes */
    size_t path_len;
    int has_slot;
    uint64_t slot;
    uint8_t data[STORE_CAP];
    size_t len;
} Store;

/* A resource the device can fetch (whole, or by range). */
typedef struct {
    const char *uri;
    const uint8_t *data;
    size_t len;
} Served;

typedef struct {
    Store stores[MAX_STORES];
    const uint8_t *vendor, *class_id; /* the device's 16-byte vendor and class IDs */
    int class_ok;      /* the device's class is the examples' */
    int slot;          /* the slot check_slot accepts, -1 for none */
    int declare;       /* digest() declares the sample digests of images A and B */
    int has_seq;
    uint64_t seq;
    int fetches, invokes, reports, stores_of_seq;
    char last_uri[128];
    int fetch_fails;   /* fetch() returns IOT_SUIT_PLATFORM_UNAVAILABLE */
    Served served[2];  /* beside the examples' images */
    int range_fetches; /* fetch_range() calls at offset 0 */
    uint8_t seq_key[PATH_CAP]; /* the manifest whose sequence number was stored last */
    size_t seq_key_len;
    uint8_t invoked_key[PATH_CAP]; /* the component invoked last, and its arguments */
    size_t invoked_key_len;
    char invoked_args[32];
} Device;

static int key_of(const IotSuitComponent *c, uint8_t *out, size_t *out_len) {
    size_t n = 0;
    for (size_t i = 0; i < c->segment_count; i++) {
        if (c->segments[i].len > 255 || n + 1 + c->segments[i].len > PATH_CAP) return -1;
        out[n++] = (uint8_t)c->segments[i].len;
        memcpy(out + n, c->segments[i].ptr, c->segments[i].len);
        n += c->segments[i].len;
    }
    *out_len = n;
    return 0;
}

static Store *find(Device *d, const IotSuitComponent *c, int create) {
    uint8_t k[PATH_CAP];
    size_t k_len;
    if (key_of(c, k, &k_len) != 0) return NULL;
    for (int i = 0; i < MAX_STORES; i++) {
        Store *s = &d->stores[i];
        if (s->used && s->path_len == k_len && memcmp(s->path, k, k_len) == 0 &&
            s->has_slot == c->has_slot && (!c->has_slot || s->slot == c->slot))
            return s;
    }
    if (!create) return NULL;
    for (int i = 0; i < MAX_STORES; i++) {
        Store *s = &d->stores[i];
        if (!s->used) {
            s->used = 1;
            memcpy(s->path, k, k_len);
            s->path_len = k_len;
            s->has_slot = c->has_slot;
            s->slot = c->slot;
            s->len = 0;
            return s;
        }
    }
    return NULL;
}

static int32_t cb_check_identifier(void *ctx, uint32_t kind, const IotSuitComponent *c,
                                   const uint8_t *expected, size_t expected_len,
                                   uint8_t *matches) {
    Device *d = ctx;
    (void)c;
    if (kind == 0)
        *matches = expected_len == 16 && memcmp(expected, d->vendor, 16) == 0;
    else if (kind == 1)
        *matches = d->class_ok && expected_len == 16 && memcmp(expected, d->class_id, 16) == 0;
    else
        *matches = 0;
    return IOT_SUIT_PLATFORM_OK;
}

static int32_t cb_check_slot(void *ctx, const IotSuitComponent *c, uint64_t slot,
                             uint8_t *matches) {
    Device *d = ctx;
    (void)c;
    *matches = d->slot >= 0 && slot == (uint64_t)d->slot;
    return IOT_SUIT_PLATFORM_OK;
}

static int32_t cb_write(void *ctx, const IotSuitComponent *c, uint64_t offset,
                        const uint8_t *data, size_t data_len) {
    Store *s = find(ctx, c, 1);
    if (s == NULL) return IOT_SUIT_PLATFORM_OUT_OF_SPACE;
    if (offset > s->len || offset + data_len > STORE_CAP) return IOT_SUIT_PLATFORM_OUT_OF_SPACE;
    memcpy(s->data + offset, data, data_len);
    s->len = (size_t)offset + data_len;
    return IOT_SUIT_PLATFORM_OK;
}

static int32_t cb_fetch(void *ctx, const char *uri, size_t uri_len, const IotSuitComponent *c) {
    Device *d = ctx;
    d->fetches++;
    if (uri_len >= sizeof d->last_uri) return IOT_SUIT_PLATFORM_NOT_FOUND;
    memcpy(d->last_uri, uri, uri_len);
    d->last_uri[uri_len] = '\0';
    if (d->fetch_fails) return IOT_SUIT_PLATFORM_UNAVAILABLE;
    if (strcmp(d->last_uri, "http://example.com/file.bin") == 0 ||
        strcmp(d->last_uri, "http://example.com/file1.bin") == 0)
        return cb_write(ctx, c, 0, image_a, SIZE_A);
    if (strcmp(d->last_uri, "http://example.com/file2.bin") == 0)
        return cb_write(ctx, c, 0, image_b, SIZE_B);
    for (size_t i = 0; i < sizeof d->served / sizeof d->served[0]; i++)
        if (d->served[i].uri != NULL && strcmp(d->last_uri, d->served[i].uri) == 0)
            return cb_write(ctx, c, 0, d->served[i].data, d->served[i].len);
    return IOT_SUIT_PLATFORM_NOT_FOUND;
}

/* Serves a resource at most 100 bytes a call, so the library has to ask again. */
static int32_t cb_fetch_range(void *ctx, const char *uri, size_t uri_len, uint64_t offset,
                              uint8_t *buf, size_t buf_len, size_t *read) {
    Device *d = ctx;
    for (size_t i = 0; i < sizeof d->served / sizeof d->served[0]; i++) {
        const Served *r = &d->served[i];
        if (r->uri == NULL || strlen(r->uri) != uri_len || memcmp(r->uri, uri, uri_len) != 0)
            continue;
        if (offset == 0) d->range_fetches++;
        size_t n = offset >= r->len ? 0 : r->len - (size_t)offset;
        if (n > buf_len) n = buf_len;
        if (n > 100) n = 100;
        if (n) memcpy(buf, r->data + offset, n);
        *read = n;
        return IOT_SUIT_PLATFORM_OK;
    }
    return IOT_SUIT_PLATFORM_UNAVAILABLE;
}

static int32_t cb_read(void *ctx, const IotSuitComponent *c, uint64_t offset, uint8_t *buf,
                       size_t buf_len, size_t *read) {
    Store *s = find(ctx, c, 0);
    if (s == NULL) return IOT_SUIT_PLATFORM_NOT_FOUND;
    size_t n = offset >= s->len ? 0 : s->len - (size_t)offset;
    if (n > buf_len) n = buf_len;
    if (n) memcpy(buf, s->data + offset, n);
    *read = n;
    return IOT_SUIT_PLATFORM_OK;
}

static int32_t cb_digest(void *ctx, const IotSuitComponent *c, const uint64_t *len,
                         uint8_t *digest, uint8_t *known) {
    Device *d = ctx;
    Store *s = find(ctx, c, 0);
    *known = 0;
    if (!d->declare || s == NULL || (len != NULL && *len != s->len)) return IOT_SUIT_PLATFORM_OK;
    if (s->len == SIZE_A && memcmp(s->data, image_a, SIZE_A) == 0) {
        memcpy(digest, DIGEST_A, 32);
        *known = 1;
    } else if (s->len == SIZE_B && memcmp(s->data, image_b, SIZE_B) == 0) {
        memcpy(digest, DIGEST_B, 32);
        *known = 1;
    }
    return IOT_SUIT_PLATFORM_OK;
}

static int32_t cb_invoke(void *ctx, const IotSuitComponent *c, const uint8_t *args,
                         size_t args_len) {
    Device *d = ctx;
    if (find(ctx, c, 0) == NULL) return IOT_SUIT_PLATFORM_NOT_FOUND;
    if (key_of(c, d->invoked_key, &d->invoked_key_len) != 0 ||
        args_len >= sizeof d->invoked_args)
        return IOT_SUIT_PLATFORM_IO;
    if (args_len) memcpy(d->invoked_args, args, args_len);
    d->invoked_args[args_len] = '\0';
    d->invokes++;
    return IOT_SUIT_PLATFORM_OK;
}

static int32_t cb_stored_seq(void *ctx, const IotSuitComponent *manifest, uint8_t *present,
                             uint64_t *value) {
    Device *d = ctx;
    (void)manifest;
    *present = (uint8_t)d->has_seq;
    *value = d->seq;
    return IOT_SUIT_PLATFORM_OK;
}

static int32_t cb_store_seq(void *ctx, const IotSuitComponent *manifest, uint64_t value) {
    Device *d = ctx;
    d->seq_key_len = 0;
    if (manifest != NULL && key_of(manifest, d->seq_key, &d->seq_key_len) != 0)
        return IOT_SUIT_PLATFORM_IO;
    d->has_seq = 1;
    d->seq = value;
    d->stores_of_seq++;
    return IOT_SUIT_PLATFORM_OK;
}

static void cb_report(void *ctx, uint32_t sequence, int64_t command, int64_t component,
                      IotStatus status) {
    Device *d = ctx;
    (void)sequence;
    (void)command;
    (void)component;
    (void)status;
    d->reports++;
}

static Device *new_device(int declare) {
    static Device dev;
    memset(&dev, 0, sizeof dev);
    dev.vendor = VENDOR;
    dev.class_id = CLASS;
    dev.class_ok = 1;
    dev.slot = -1;
    dev.declare = declare;
    return &dev;
}

static IotSuitPlatform platform_of(Device *d) {
    IotSuitPlatform p;
    memset(&p, 0, sizeof p);
    p.ctx = d;
    p.check_identifier = cb_check_identifier;
    p.check_slot = cb_check_slot;
    p.fetch = cb_fetch;
    p.read = cb_read;
    p.write = cb_write;
    p.digest = cb_digest;
    p.invoke = cb_invoke;
    p.stored_sequence_number = cb_stored_seq;
    p.store_sequence_number = cb_store_seq;
    p.report = cb_report;
    p.fetch_range = cb_fetch_range;
    return p;
}

static const IotSuitComponent COMPONENT_0 = {
    (const IotBytes[]){{(const uint8_t *)"\0", 1}}, 1, 0, 0};

/* ---- the examples' envelopes ---- */

typedef struct {
    uint8_t bytes[2048];
    size_t len;
} Envelope;

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The whole file at dir/name into buf (at most cap bytes); its length, or 0 when unreadable. */
static size_t read_file(const char *dir, const char *name, uint8_t *buf, size_t cap) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return 0;
    }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* The hex blocks of exampleN.txt (fenced by ~~~, cbor-diag blocks skipped), decoded, in order;
 * returns how many. */
static int load_envelopes(const char *dir, int n, Envelope *out, int max) {
    char name[32];
    snprintf(name, sizeof name, "example%d.txt", n);
    static char text[65536];
    size_t len = read_file(dir, name, (uint8_t *)text, sizeof text - 1);
    text[len] = '\0';
    int count = 0;
    char *p = strstr(text, "~~~");
    while (p != NULL && count < max) {
        char *start = p + 3;
        char *end = strstr(start, "~~~");
        if (end == NULL) break;
        if (strncmp(start, " cbor-diag", 10) != 0) {
            Envelope *e = &out[count];
            int hi = -1, ok = 1;
            e->len = 0;
            for (char *c = start; c < end && ok; c++) {
                if (*c == ' ' || *c == '\n' || *c == '\r' || *c == '\t') continue;
                int v = hexval(*c);
                if (v < 0 || e->len >= sizeof e->bytes) {
                    ok = 0;
                } else if (hi < 0) {
                    hi = v;
                } else {
                    e->bytes[e->len++] = (uint8_t)(hi * 16 + v);
                    hi = -1;
                }
            }
            if (ok && hi < 0 && e->len > 0) count++;
        }
        p = strstr(end + 3, "~~~");
    }
    return count;
}

/* The one envelope of example n that authenticates under the draft's key; checks that the
 * others (without an authentication block) are refused. */
static int signed_envelope(const char *dir, int n, Envelope *out) {
    static Envelope all[4];
    int count = load_envelopes(dir, n, all, 4);
    int found = 0;
    CHECK(count >= 2);
    for (int i = 0; i < count; i++) {
        IotSuitResult r;
        IotStatus st = iot_suit_verify(all[i].bytes, all[i].len, DRAFT_KEY, sizeof DRAFT_KEY, &r);
        if (st == IOT_STATUS_OK) {
            *out = all[i];
            found++;
        } else {
            CHECK(st == IOT_STATUS_SUIT_NOT_AUTHENTICATED);
            CHECK(r.sequence_number == 0);
        }
    }
    CHECK(found == 1);
    return found == 1;
}

static IotStatus run(const Envelope *e, Device *d, uint32_t procedure, IotSuitResult *r) {
    IotSuitPlatform p = platform_of(d);
    return iot_suit_process(e->bytes, e->len, DRAFT_KEY, sizeof DRAFT_KEY, procedure, &p, r);
}

static void test_example0(const char *dir) {
    Envelope e;
    IotSuitResult r;
    Device *d;
    if (!signed_envelope(dir, 0, &e)) return;

    CHECK_STATUS(iot_suit_verify(e.bytes, e.len, DRAFT_KEY, sizeof DRAFT_KEY, &r), IOT_STATUS_OK);
    CHECK(r.sequence_number == 0 && r.component_count == 1);

    /* The real digest of the stored image is not the sample digest: image match fails. */
    d = new_device(0);
    CHECK(cb_write(d, &COMPONENT_0, 0, image_a, SIZE_A) == 0);
    CHECK_STATUS(run(&e, d, IOT_SUIT_BOOT, &r), IOT_STATUS_SUIT_CONDITION_FAILED);
    CHECK(r.command == IMAGE_MATCH && d->invokes == 0);
    /* Another class: refused at the class check. */
    d = new_device(1);
    d->class_ok = 0;
    CHECK(cb_write(d, &COMPONENT_0, 0, image_a, SIZE_A) == 0);
    CHECK_STATUS(run(&e, d, IOT_SUIT_BOOT, &r), IOT_STATUS_SUIT_CONDITION_FAILED);
    CHECK(r.command == CLASS_IDENTIFIER && d->invokes == 0);
    /* Declared digest: validate passes, the image is invoked, every command reported. */
    d = new_device(1);
    CHECK(cb_write(d, &COMPONENT_0, 0, image_a, SIZE_A) == 0);
    CHECK_STATUS(run(&e, d, IOT_SUIT_BOOT, &r), IOT_STATUS_OK);
    CHECK(d->invokes == 1 && d->reports > 3 && r.command == 0);
    /* A stored sequence number above the manifest's (0) refuses even the boot. */
    d->has_seq = 1;
    d->seq = 1;
    CHECK_STATUS(run(&e, d, IOT_SUIT_BOOT, &r), IOT_STATUS_SUIT_ROLLBACK);
    CHECK(d->invokes == 1);

    /* Tampered envelopes, another key, bad arguments. */
    d = new_device(1);
    CHECK(cb_write(d, &COMPONENT_0, 0, image_a, SIZE_A) == 0);
    for (size_t i = 0; i < e.len; i += 11) {
        Envelope t = e;
        t.bytes[i] ^= 0x01;
        IotStatus st = run(&t, d, IOT_SUIT_BOOT, &r);
        CHECK(st != IOT_STATUS_OK);
    }
    CHECK(d->invokes == 0);
    Envelope t = e;
    t.bytes[t.len - 1] ^= 0x01; /* inside the manifest */
    CHECK_STATUS(run(&t, d, IOT_SUIT_BOOT, &r), IOT_STATUS_SUIT_NOT_AUTHENTICATED);
    uint8_t other_key[65];
    memcpy(other_key, DRAFT_KEY, sizeof other_key);
    other_key[64] ^= 0x01;
    IotStatus st = iot_suit_verify(e.bytes, e.len, other_key, sizeof other_key, &r);
    CHECK(st == IOT_STATUS_SUIT_NOT_AUTHENTICATED || st == IOT_STATUS_INVALID_KEY);
    CHECK_STATUS(iot_suit_verify(e.bytes, e.len - 1, DRAFT_KEY, sizeof DRAFT_KEY, &r),
                 IOT_STATUS_CBOR);
    CHECK_STATUS(iot_suit_verify(NULL, 0, DRAFT_KEY, sizeof DRAFT_KEY, &r),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(run(&e, d, 3, &r), IOT_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(iot_suit_process(e.bytes, e.len, DRAFT_KEY, sizeof DRAFT_KEY, IOT_SUIT_BOOT,
                                  NULL, &r),
                 IOT_STATUS_NULL_ARGUMENT);
    /* A platform without callbacks: the first condition's call is unsupported. */
    IotSuitPlatform none;
    memset(&none, 0, sizeof none);
    CHECK_STATUS(iot_suit_process(e.bytes, e.len, DRAFT_KEY, sizeof DRAFT_KEY, IOT_SUIT_BOOT,
                                  &none, &r),
                 IOT_STATUS_SUIT_PLATFORM);
    CHECK(r.platform_error == IOT_SUIT_PLATFORM_UNSUPPORTED);
}

static void test_example3(const char *dir) {
    Envelope e;
    IotSuitResult r;
    Device *d;
    if (!signed_envelope(dir, 3, &e)) return;

    for (int slot = 0; slot <= 1; slot++) {
        const char *uri = slot == 0 ? "http://example.com/file1.bin" : "http://example.com/file2.bin";
        d = new_device(1);
        d->slot = slot;
        CHECK_STATUS(run(&e, d, IOT_SUIT_UPDATE, &r), IOT_STATUS_OK);
        CHECK(d->fetches == 1 && strcmp(d->last_uri, uri) == 0);
        IotSuitComponent in_slot = COMPONENT_0;
        in_slot.has_slot = 1;
        in_slot.slot = (uint64_t)slot;
        Store *s = find(d, &in_slot, 0);
        CHECK(s != NULL && s->len == (slot == 0 ? SIZE_A : SIZE_B));
        CHECK(d->has_seq && d->seq == r.sequence_number && d->stores_of_seq == 1);
        /* Booting it is allowed; installing it again is a replay. */
        CHECK_STATUS(run(&e, d, IOT_SUIT_BOOT, &r), IOT_STATUS_OK);
        CHECK_STATUS(run(&e, d, IOT_SUIT_UPDATE, &r), IOT_STATUS_SUIT_ROLLBACK);
        CHECK(d->fetches == 1 && d->stores_of_seq == 1);

        /* Undeclared: the fetched image's real digest is not the sample: nothing stored. */
        d = new_device(0);
        d->slot = slot;
        CHECK_STATUS(run(&e, d, IOT_SUIT_UPDATE, &r), IOT_STATUS_SUIT_CONDITION_FAILED);
        CHECK(r.command == IMAGE_MATCH && !d->has_seq);
    }
    /* No acceptable slot: the try-each finds no sequence. */
    d = new_device(1);
    CHECK_STATUS(run(&e, d, IOT_SUIT_UPDATE, &r), IOT_STATUS_SUIT_CONDITION_FAILED);
    CHECK(r.command == COMPONENT_SLOT && d->fetches == 0);
    /* A fetch that fails stops the update with the callback's error. */
    d = new_device(1);
    d->slot = 1;
    d->fetch_fails = 1;
    CHECK_STATUS(run(&e, d, IOT_SUIT_UPDATE, &r), IOT_STATUS_SUIT_PLATFORM);
    CHECK(r.platform_error == IOT_SUIT_PLATFORM_UNAVAILABLE && !d->has_seq);
}

/* ---- encrypted payloads: libcsuit expAW (A128KW) and expEW (ECDH-ES + A128KW) ---- */

/* The content of the store at the one-segment path `name`, NULL when there is none. */
static const Store *stored(Device *d, const char *name) {
    IotBytes seg = {(const uint8_t *)name, strlen(name)};
    IotSuitComponent c = {&seg, 1, 0, 0};
    return find(d, &c, 0);
}

/* The receiver key of libcsuit's ECDH-ES examples (the P-256 scalar). */
static const uint8_t ESDH_D[32] = {
    0x60, 0xFE, 0x6D, 0xD6, 0xD8, 0x5D, 0x57, 0x40, 0xA5, 0x34, 0x9B, 0x6F, 0x91, 0x26, 0x7E, 0xEA,
    0xC5, 0xBA, 0x81, 0xB8, 0xCB, 0x53, 0xEE, 0x24, 0x9E, 0x4B, 0x4E, 0xB1, 0x02, 0xC4, 0x76, 0xB3};

/* The options of a call: the trust anchor (libcsuit's P-256 key or its HMAC key) and a
 * decryption key of `kind` (NULL: none); no scratch buffer. */
static IotSuitOptions keys_of(const uint8_t *anchor, const uint8_t *mac, uint32_t kind,
                              const uint8_t *key, size_t key_len) {
    IotSuitOptions k;
    memset(&k, 0, sizeof k);
    k.public_key = anchor;
    k.public_key_len = anchor ? 65 : 0;
    k.mac_key = mac;
    k.mac_key_len = mac ? 32 : 0;
    k.decryption_kind = kind;
    k.decryption_key = key;
    k.decryption_key_len = key_len;
    return k;
}

static IotStatus process_with(const Envelope *e, Device *d, IotSuitOptions k, uint32_t procedure,
                              IotSuitResult *r) {
    IotSuitPlatform p = platform_of(d);
    return iot_suit_process_with_options(e->bytes, e->len, &k, procedure, &p, r);
}

static IotStatus update_with(const Envelope *e, Device *d, IotSuitOptions k, IotSuitResult *r) {
    return process_with(e, d, k, IOT_SUIT_UPDATE, r);
}

/* libcsuit's expAW and expEW, the image they carry, and its P-256 trust anchor. */
typedef struct {
    Envelope aw, ew;
    uint8_t spki[128], image[256];
    size_t image_len;
    const uint8_t *anchor; /* the 65-byte point that ends the SubjectPublicKeyInfo */
} Encrypted;

/* Reads them (one copy, shared by the tests); NULL when one is missing. */
static const Encrypted *load_encrypted(const char *libcsuit) {
    static Encrypted v;
    size_t spki_len =
        read_file(libcsuit, "key/trust_anchor_secp256r1_pub.der", v.spki, sizeof v.spki);
    v.image_len = read_file(libcsuit, "raw_image.bin", v.image, sizeof v.image);
    v.aw.len = read_file(libcsuit, "suit_manifest_expAW.suit", v.aw.bytes, sizeof v.aw.bytes);
    v.ew.len = read_file(libcsuit, "suit_manifest_expEW.suit", v.ew.bytes, sizeof v.ew.bytes);
    int ok = spki_len == 91 && v.image_len > 0 && v.aw.len > 0 && v.ew.len > 0;
    CHECK(ok);
    v.anchor = v.spki + spki_len - 65;
    return ok ? &v : NULL;
}

static void test_encrypted(const char *libcsuit) {
    const Encrypted *v = load_encrypted(libcsuit);
    if (v == NULL) return;
    const Envelope *aw = &v->aw, *ew = &v->ew;
    const uint8_t *anchor = v->anchor, *image = v->image;
    size_t image_len = v->image_len;
    /* expAW is MACed with HMAC 256/256 under 32 bytes of 'a'; its content key is wrapped with
     * A128KW under 16 bytes of 'a'. expEW is signed by the P-256 anchor and encrypted to
     * ESDH_D with ECDH-ES + A128KW. */
    uint8_t MAC[32], KEK[16], WRONG[16];
    memset(MAC, 'a', sizeof MAC);
    memset(KEK, 'a', sizeof KEK);
    memset(WRONG, 'b', sizeof WRONG);
    IotSuitResult r;
    Device *d = new_device(0);

    /* A MACed envelope is not authenticated by the P-256 key alone, nor by another MAC key. */
    CHECK_STATUS(update_with(aw, d, keys_of(anchor, NULL, IOT_SUIT_KEY_A128KW, KEK, 16), &r),
                 IOT_STATUS_SUIT_NOT_AUTHENTICATED);
    uint8_t other_mac[32];
    memset(other_mac, 'b', sizeof other_mac);
    CHECK_STATUS(update_with(aw, d, keys_of(NULL, other_mac, IOT_SUIT_KEY_A128KW, KEK, 16), &r),
                 IOT_STATUS_SUIT_NOT_AUTHENTICATED);
    CHECK(r.sequence_number == 0);
    /* Without a decryption key, with another key or with a key of the other kind the payload
     * is refused, with nothing written and no sequence number stored. */
    CHECK_STATUS(update_with(aw, d, keys_of(anchor, MAC, 0, NULL, 0), &r),
                 IOT_STATUS_SUIT_UNSUPPORTED);
    CHECK_STATUS(update_with(aw, d, keys_of(NULL, MAC, IOT_SUIT_KEY_A128KW, WRONG, 16), &r),
                 IOT_STATUS_BAD_TAG);
    CHECK(r.sequence_number == 1); /* authenticated: the key unwrap failed */
    CHECK_STATUS(update_with(aw, d, keys_of(NULL, MAC, IOT_SUIT_KEY_ECDH_ES_P256, ESDH_D, 32), &r),
                 IOT_STATUS_ALGORITHM_MISMATCH);
    /* Keys of the wrong length or kind, or no trust anchor, are refused before anything runs. */
    CHECK_STATUS(update_with(aw, d, keys_of(NULL, MAC, IOT_SUIT_KEY_A128KW, KEK, 15), &r),
                 IOT_STATUS_INVALID_KEY);
    CHECK_STATUS(update_with(aw, d, keys_of(NULL, MAC, 7, KEK, 16), &r),
                 IOT_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(update_with(aw, d, keys_of(NULL, MAC, IOT_SUIT_KEY_A128KW, NULL, 0), &r),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(update_with(aw, d, keys_of(NULL, NULL, IOT_SUIT_KEY_A128KW, KEK, 16), &r),
                 IOT_STATUS_NULL_ARGUMENT);
    IotSuitPlatform p = platform_of(d);
    CHECK_STATUS(iot_suit_process(ew->bytes, ew->len, NULL, 0, IOT_SUIT_UPDATE, &p, &r),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(iot_suit_process_with_options(ew->bytes, ew->len, NULL, IOT_SUIT_UPDATE, &p, &r),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK(stored(d, "plaintext-firmware") == NULL && !d->has_seq && d->stores_of_seq == 0);

    /* With the key, the payload is decrypted into the component. */
    CHECK_STATUS(update_with(aw, d, keys_of(anchor, MAC, IOT_SUIT_KEY_A128KW, KEK, 16), &r),
                 IOT_STATUS_OK);
    const Store *s = stored(d, "plaintext-firmware");
    CHECK(s != NULL && s->len == image_len && memcmp(s->data, image, image_len) == 0);
    CHECK(d->has_seq && d->seq == 1 && r.sequence_number == 1);

    d = new_device(0);
    CHECK_STATUS(update_with(ew, d, keys_of(anchor, NULL, IOT_SUIT_KEY_A128KW, KEK, 16), &r),
                 IOT_STATUS_ALGORITHM_MISMATCH);
    CHECK(stored(d, "decrypted-firmware") == NULL && !d->has_seq);
    CHECK_STATUS(update_with(ew, d, keys_of(anchor, NULL, IOT_SUIT_KEY_ECDH_ES_P256, ESDH_D, 32),
                             &r),
                 IOT_STATUS_OK);
    s = stored(d, "decrypted-firmware");
    CHECK(s != NULL && s->len == image_len && memcmp(s->data, image, image_len) == 0);
    CHECK(d->has_seq && d->seq == 1);
}

/* ---- dependency manifests: libcsuit expS3, expS2 and expD ---- */

/* The store at the path of `n` segments, NULL when there is none. */
static const Store *stored_at(Device *d, const IotBytes *segs, size_t n) {
    IotSuitComponent c = {segs, n, 0, 0};
    return find(d, &c, 0);
}

#define SEG(s) {(const uint8_t *)(s), sizeof(s) - 1}

static int holds(const Store *s, const uint8_t *data, size_t len) {
    return s != NULL && s->len == len && memcmp(s->data, data, len) == 0;
}

static int untouched(const Device *d) {
    for (int i = 0; i < MAX_STORES; i++)
        if (d->stores[i].used) return 0;
    return !d->has_seq && d->stores_of_seq == 0;
}

static IotSuitOptions with_scratch(IotSuitOptions o, uint8_t *scratch, size_t len) {
    o.scratch = scratch;
    o.scratch_len = len;
    return o;
}

/* expS3 carries expS0 integrated, expS2 fetches it from http://example.com/dependent.suit
 * (served through fetch_range); both process it under the prefix ['dependent.suit'] and then
 * write and invoke their own component ['10']. */
static void check_exp_s23(const Envelope *e, const Envelope *s0, const uint8_t *anchor) {
    static uint8_t scratch[1024];
    static const IotBytes DEP[] = {SEG("dependent.suit")};
    static const IotBytes DEP_00[] = {SEG("dependent.suit"), SEG("00")};
    static const IotBytes TEN[] = {SEG("10")};
    static const uint8_t DEPENDING[] = "\x0e" "depending.suit";
    const char *hello = "hello world", *more = " in multiple trust domains";
    IotSuitOptions o = keys_of(anchor, NULL, 0, NULL, 0);
    IotSuitResult r;

    /* Without a scratch buffer the dependency cannot be processed: refused with nothing
     * written and no sequence number stored. expS3's integrated dependency is refused by its
     * fetch, which finds it could not be read back into the scratch buffer; expS2's, fetched
     * by URI, needs the scratch buffer for the fetch itself. */
    Device *d = new_device(0);
    d->served[0] = (Served){"http://example.com/dependent.suit", s0->bytes, s0->len};
    CHECK_STATUS(update_with(e, d, o, &r), IOT_STATUS_CAPACITY_EXCEEDED);
    CHECK(untouched(d));
    CHECK(!d->has_seq && d->stores_of_seq == 0);
    /* Nor with one too small for it. */
    CHECK_STATUS(update_with(e, d, with_scratch(o, scratch, 100), &r),
                 IOT_STATUS_CAPACITY_EXCEEDED);
    CHECK(untouched(d));
    CHECK(!d->has_seq && d->stores_of_seq == 0);

    d = new_device(0);
    d->served[0] = (Served){"http://example.com/dependent.suit", s0->bytes, s0->len};
    CHECK_STATUS(update_with(e, d, with_scratch(o, scratch, sizeof scratch), &r), IOT_STATUS_OK);
    CHECK(holds(stored_at(d, DEP, 1), s0->bytes, s0->len));
    CHECK(holds(stored_at(d, DEP_00, 2), (const uint8_t *)hello, strlen(hello)));
    CHECK(holds(stored_at(d, TEN, 1), (const uint8_t *)more, strlen(more)));
    /* Two stores: the dependency manifest's number, then the dependent's, which this
     * one-counter device keeps. */
    CHECK(d->has_seq && d->seq == 0 && d->stores_of_seq == 2);
    CHECK(d->seq_key_len == sizeof DEPENDING - 1 &&
          memcmp(d->seq_key, DEPENDING, sizeof DEPENDING - 1) == 0);
    CHECK_STATUS(process_with(e, d, with_scratch(o, scratch, sizeof scratch), IOT_SUIT_BOOT, &r),
                 IOT_STATUS_OK);
    CHECK(d->invokes == 1 && d->invoked_key_len == 3 && memcmp(d->invoked_key, "\x02" "10", 3) == 0);
    CHECK(strcmp(d->invoked_args, "cat 00 10") == 0);
}

/* A fresh device in *d serving `payload` at expAF's URI, updated with expAF (MACed under `mac`)
 * and the A128KW key `kek`. */
static IotStatus update_af(const Envelope *af, Device **d, const uint8_t *payload, size_t n,
                           const uint8_t *mac, const uint8_t *kek, IotSuitResult *r) {
    *d = new_device(0);
    (*d)->served[0] = (Served){"coaps://example.com/encrypted-firmware", payload, n};
    return update_with(af, *d, keys_of(NULL, mac, IOT_SUIT_KEY_A128KW, kek, 16), r);
}

/* libcsuit expAF (MACed): fetches the draft's A128KW + A128GCM encrypted payload into
 * ['encrypted-firmware'], then copies it into ['plaintext-firmware'], decrypting on the way. */
static void test_encrypted_copy(const char *libcsuit) {
    static Envelope af;
    static uint8_t text[512], payload[128], image[256];
    af.len = read_file(libcsuit, "suit_manifest_expAF.suit", af.bytes, sizeof af.bytes);
    size_t text_len = read_file(libcsuit, "../encryption/encrypted-payload-aes-kw-aes-gcm.hex",
                                text, sizeof text);
    size_t image_len = read_file(libcsuit, "raw_image.bin", image, sizeof image);
    size_t n = 0;
    int hi = -1;
    for (size_t i = 0; i < text_len && n < sizeof payload; i++) {
        int v = hexval((char)text[i]);
        if (v < 0) continue;
        if (hi < 0) {
            hi = v;
        } else {
            payload[n++] = (uint8_t)(hi * 16 + v);
            hi = -1;
        }
    }
    /* 30 bytes of image and the 16-byte tag (the manifest's image size, 46). */
    CHECK(af.len > 0 && image_len == 30 && n == 46);
    if (af.len == 0 || image_len != 30 || n != 46) return;
    uint8_t MAC[32], KEK[16], WRONG[16];
    memset(MAC, 'a', sizeof MAC);
    memset(KEK, 'a', sizeof KEK);
    memset(WRONG, 'b', sizeof WRONG);
    IotSuitResult r;
    Device *d;

    /* Another key: the copy is refused before it writes; only the fetched ciphertext is there. */
    CHECK_STATUS(update_af(&af, &d, payload, n, MAC, WRONG, &r), IOT_STATUS_BAD_TAG);
    CHECK(holds(stored(d, "encrypted-firmware"), payload, n));
    CHECK(stored(d, "plaintext-firmware") == NULL && !d->has_seq);

    /* A flipped ciphertext bit fails the tag in the first pass: nothing is copied. */
    payload[3] ^= 1;
    CHECK_STATUS(update_af(&af, &d, payload, n, MAC, KEK, &r), IOT_STATUS_BAD_TAG);
    CHECK(stored(d, "plaintext-firmware") == NULL && !d->has_seq);
    payload[3] ^= 1;

    /* With the key, the copy decrypts the fetched payload into the image. */
    CHECK_STATUS(update_af(&af, &d, payload, n, MAC, KEK, &r), IOT_STATUS_OK);
    CHECK(holds(stored(d, "plaintext-firmware"), image, image_len));
    CHECK(d->has_seq && d->seq == 1 && d->fetches == 1);
}

static void test_dependencies(const char *libcsuit) {
    static uint8_t spki[128], scratch[2048], ta[64], config[128];
    static Envelope s0, s2, s3, exp_d, exp_u;
    size_t spki_len = read_file(libcsuit, "key/trust_anchor_secp256r1_pub.der", spki, sizeof spki);
    s0.len = read_file(libcsuit, "suit_manifest_expS0.suit", s0.bytes, sizeof s0.bytes);
    s2.len = read_file(libcsuit, "suit_manifest_expS2.suit", s2.bytes, sizeof s2.bytes);
    s3.len = read_file(libcsuit, "suit_manifest_expS3.suit", s3.bytes, sizeof s3.bytes);
    exp_d.len = read_file(libcsuit, "suit_manifest_expD.suit", exp_d.bytes, sizeof exp_d.bytes);
    /* expD's dependency, 8d82573a-926d-4754-9353-32dc29997f74.suit, is not among libcsuit's
     * files: it is expU as a tagged envelope (tests/dependency.rs of iot-update-manifest builds
     * it and checks it is these bytes), whose digest and size (389) expD names. */
    exp_u.bytes[0] = 0xd8;
    exp_u.bytes[1] = 0x6b;
    exp_u.len = 2 + read_file(libcsuit, "suit_manifest_expU.suit", exp_u.bytes + 2,
                              sizeof exp_u.bytes - 2);
    size_t ta_len = read_file(libcsuit, "8d82573a-926d-4754-9353-32dc29997f74.ta", ta, sizeof ta);
    size_t config_len = read_file(libcsuit, "config.json", config, sizeof config);
    int ok = spki_len == 91 && s0.len > 0 && s2.len > 0 && s3.len > 0 && exp_d.len > 0 &&
             exp_u.len == 389 && ta_len > 0 && config_len > 0;
    CHECK(ok);
    if (!ok) return;
    const uint8_t *anchor = spki + spki_len - 65;
    IotSuitOptions o = keys_of(anchor, NULL, 0, NULL, 0);
    IotSuitResult r;

    check_exp_s23(&s3, &s0, anchor);
    check_exp_s23(&s2, &s0, anchor);

    /* expS2: a dependency that does not authenticate is refused before anything of it runs;
     * without a fetch_range callback it cannot be fetched. */
    static Envelope forged;
    forged = s0;
    forged.bytes[forged.len - 1] ^= 0x01;
    Device *d = new_device(0);
    d->served[0] = (Served){"http://example.com/dependent.suit", forged.bytes, forged.len};
    CHECK_STATUS(update_with(&s2, d, with_scratch(o, scratch, sizeof scratch), &r),
                 IOT_STATUS_SUIT_NOT_AUTHENTICATED);
    CHECK(untouched(d) && d->range_fetches == 1);
    d = new_device(0);
    d->served[0] = (Served){"http://example.com/dependent.suit", s0.bytes, s0.len};
    IotSuitPlatform p = platform_of(d);
    p.fetch_range = NULL;
    IotSuitOptions os = with_scratch(o, scratch, sizeof scratch);
    CHECK_STATUS(iot_suit_process_with_options(s2.bytes, s2.len, &os, IOT_SUIT_UPDATE, &p, &r),
                 IOT_STATUS_SUIT_PLATFORM);
    CHECK(r.platform_error == IOT_SUIT_PLATFORM_UNSUPPORTED && untouched(d));

    /* A scratch buffer that overlaps the envelope or a key, or NULL with a length, is refused
     * before anything runs. */
    d = new_device(0);
    CHECK_STATUS(update_with(&s3, d, with_scratch(o, s3.bytes + 10, 100), &r),
                 IOT_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(update_with(&s3, d, with_scratch(o, spki + 60, 100), &r),
                 IOT_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(update_with(&s3, d, with_scratch(o, NULL, 100), &r), IOT_STATUS_NULL_ARGUMENT);
    CHECK(untouched(d));

    /* expD: the TEEP device fetches its dependency (expU, tagged) by URI, processes its
     * install (which fetches the TA) under the prefix, then decrypts config.json (ECDH-ES +
     * A128KW, A128CTR) and validates it. */
    static const uint8_t TEEP_VENDOR[16] = {0xc0, 0xdd, 0xd5, 0xf1, 0x52, 0x43, 0x56, 0x60,
                                            0x87, 0xdb, 0x4f, 0x5b, 0x0a, 0xa2, 0x6c, 0x2f};
    static const uint8_t TEEP_CLASS[16] = {0xdb, 0x42, 0xf7, 0x09, 0x3d, 0x8c, 0x55, 0xba,
                                           0xa8, 0xc5, 0x26, 0x5f, 0xc5, 0x82, 0x0f, 0x4e};
    static const uint8_t TC[16] = {0x8d, 0x82, 0x57, 0x3a, 0x92, 0x6d, 0x47, 0x54,
                                   0x93, 0x53, 0x32, 0xdc, 0x29, 0x99, 0x7f, 0x74};
    const IotBytes manifest_at[] = {SEG("TEEP-Device"), SEG("SecureFS"), {TC, 16}, SEG("suit")};
    const IotBytes ta_at[] = {SEG("TEEP-Device"), SEG("SecureFS"), {TC, 16}, SEG("suit"),
                              SEG("TEEP-Device"), SEG("SecureFS"), {TC, 16}, SEG("ta")};
    const IotBytes config_at[] = {SEG("TEEP-Device"), SEG("SecureFS"), SEG("config.json")};
    IotSuitOptions od = with_scratch(keys_of(anchor, NULL, IOT_SUIT_KEY_ECDH_ES_P256, ESDH_D, 32),
                                     scratch, sizeof scratch);
    d = new_device(0);
    d->vendor = TEEP_VENDOR;
    d->class_id = TEEP_CLASS;
    d->served[0] = (Served){"https://example.org/8d82573a-926d-4754-9353-32dc29997f74.suit",
                            exp_u.bytes, exp_u.len};
    d->served[1] = (Served){"https://example.org/8d82573a-926d-4754-9353-32dc29997f74.ta", ta,
                            ta_len};
    CHECK_STATUS(update_with(&exp_d, d, od, &r), IOT_STATUS_OK);
    CHECK(d->range_fetches == 1);
    CHECK(holds(stored_at(d, manifest_at, 4), exp_u.bytes, exp_u.len));
    CHECK(holds(stored_at(d, ta_at, 8), ta, ta_len));
    CHECK(holds(stored_at(d, config_at, 3), config, config_len));
    /* expU's number (3), then expD's (3), whose key this one-counter device keeps. */
    CHECK(d->has_seq && d->seq == 3 && d->stores_of_seq == 2);
    static const uint8_t EXP_D_ID[] = "\x0b" "TEEP-Device" "\x08" "SecureFS" "\x0b" "config.suit";
    CHECK(d->seq_key_len == sizeof EXP_D_ID - 1 &&
          memcmp(d->seq_key, EXP_D_ID, sizeof EXP_D_ID - 1) == 0);
    /* Another dependency than the one expD names (expU untagged: another size) writes
     * nothing. */
    d = new_device(0);
    d->vendor = TEEP_VENDOR;
    d->class_id = TEEP_CLASS;
    d->served[0] = (Served){"https://example.org/8d82573a-926d-4754-9353-32dc29997f74.suit",
                            exp_u.bytes + 2, exp_u.len - 2};
    d->served[1] = (Served){"https://example.org/8d82573a-926d-4754-9353-32dc29997f74.ta", ta,
                            ta_len};
    CHECK_STATUS(update_with(&exp_d, d, od, &r), IOT_STATUS_SUIT_IMAGE_MISMATCH);
    CHECK(untouched(d));
}

/* ---- several trusted keys of one kind (IotSuitOptions::public_keys, mac_keys) ---- */

/* The generator of P-256 (SEC 2 section 2.4.2) as an uncompressed point: a valid public key
 * that signed none of the envelopes. */
static const uint8_t P256_G[65] = {
    0x04, 0x6B, 0x17, 0xD1, 0xF2, 0xE1, 0x2C, 0x42, 0x47, 0xF8, 0xBC, 0xE6, 0xE5, 0x63, 0xA4,
    0x40, 0xF2, 0x77, 0x03, 0x7D, 0x81, 0x2D, 0xEB, 0x33, 0xA0, 0xF4, 0xA1, 0x39, 0x45, 0xD8,
    0x98, 0xC2, 0x96, 0x4F, 0xE3, 0x42, 0xE2, 0xFE, 0x1A, 0x7F, 0x9B, 0x8E, 0xE7, 0xEB, 0x4A,
    0x7C, 0x0F, 0x9E, 0x16, 0x2B, 0xCE, 0x33, 0x57, 0x6B, 0x31, 0x5E, 0xCE, 0xCB, 0xB6, 0x40,
    0x68, 0x37, 0xBF, 0x51, 0xF5};

/* The public key of ESDH_D (libcsuit's ECDH-ES receiver key; `openssl ec -pubout` of the
 * scalar): a valid key that signed none of the envelopes either. libcsuit's signing key is
 * DRAFT_KEY. */
static const uint8_t ESDH_PUB[65] = {
    0x04, 0x58, 0x86, 0xCD, 0x61, 0xDD, 0x87, 0x58, 0x62, 0xE5, 0xAA, 0xA8, 0x20, 0xE7, 0xA1,
    0x52, 0x74, 0xC9, 0x68, 0xA9, 0xBC, 0x96, 0x04, 0x8D, 0xDC, 0xAC, 0xE3, 0x2F, 0x50, 0xC3,
    0x65, 0x1B, 0xA3, 0x9E, 0xED, 0x81, 0x25, 0xE9, 0x32, 0xCD, 0x60, 0xC0, 0xEA, 0xD3, 0x65,
    0x0D, 0x0A, 0x48, 0x5C, 0xF7, 0x26, 0xD3, 0x78, 0xD1, 0xB0, 0x16, 0xED, 0x42, 0x98, 0xB2,
    0x96, 0x1E, 0x25, 0x8F, 0x1B};

static IotSuitOptions with_keys(IotSuitOptions o, const IotBytes *pub, size_t npub,
                                const IotBytes *mac, size_t nmac) {
    o.public_keys = pub;
    o.public_keys_count = npub;
    o.mac_keys = mac;
    o.mac_keys_count = nmac;
    return o;
}

/* expEW is signed by libcsuit's anchor (DRAFT_KEY), expAW MACed under 32 bytes of 'a': each
 * authenticates when its key is anywhere among the trusted keys of its kind, and is refused
 * with nothing written when none is; arrays over IOT_SUIT_MAX_TRUST_ANCHORS, with a malformed
 * or empty key, or NULL with a count are refused before anything runs. */
static void test_trust_anchors(const char *libcsuit) {
    const Encrypted *v = load_encrypted(libcsuit);
    if (v == NULL) return;
    const Envelope *aw = &v->aw, *ew = &v->ew;
    const uint8_t *anchor = v->anchor, *image = v->image;
    size_t image_len = v->image_len;
    uint8_t mac_a[32], mac_b[32], mac_c[32], kek[16], not_a_point[65];
    memset(mac_a, 'a', sizeof mac_a);
    memset(mac_b, 'b', sizeof mac_b);
    memset(mac_c, 'c', sizeof mac_c);
    memset(kek, 'a', sizeof kek);
    memcpy(not_a_point, P256_G, sizeof not_a_point);
    not_a_point[64] ^= 0x01;
    const IotBytes esdh = {ESDH_PUB, 65}, g = {P256_G, 65}, right = {anchor, 65};
    const IotBytes third[] = {esdh, g, right}, second[] = {g, right}, wrong[] = {esdh, g};
    const IotBytes five[] = {esdh, g, esdh, g, right}, four[] = {esdh, g, esdh, right};
    const IotBytes bad[] = {right, {not_a_point, 65}}, nul[] = {right, {NULL, 65}};
    const IotBytes empty[] = {right, {anchor, 0}};
    const IotBytes macs[] = {{mac_b, 32}, {mac_a, 32}}, wrong_macs[] = {{mac_b, 32}, {mac_c, 32}};
    const IotBytes empty_mac[] = {{mac_a, 32}, {mac_b, 0}};
    IotSuitOptions ecdh = keys_of(NULL, NULL, IOT_SUIT_KEY_ECDH_ES_P256, ESDH_D, 32);
    IotSuitOptions kw = keys_of(NULL, NULL, IOT_SUIT_KEY_A128KW, kek, 16);
    IotSuitResult r;
    Device *d;

    /* The right key third in the array, or second after the single key. */
    d = new_device(0);
    CHECK_STATUS(update_with(ew, d, with_keys(ecdh, third, 3, NULL, 0), &r), IOT_STATUS_OK);
    CHECK(holds(stored(d, "decrypted-firmware"), image, image_len) && d->seq == 1);
    d = new_device(0);
    IotSuitOptions o = with_keys(ecdh, second, 2, NULL, 0);
    o.public_key = ESDH_PUB;
    o.public_key_len = 65;
    CHECK_STATUS(update_with(ew, d, o, &r), IOT_STATUS_OK);
    CHECK(holds(stored(d, "decrypted-firmware"), image, image_len) && d->seq == 1);
    /* With the single key it is the fourth: IOT_SUIT_MAX_TRUST_ANCHORS keys are taken. */
    d = new_device(0);
    o = with_keys(ecdh, third, 3, NULL, 0);
    o.public_key = P256_G;
    o.public_key_len = 65;
    CHECK_STATUS(update_with(ew, d, o, &r), IOT_STATUS_OK);
    CHECK(holds(stored(d, "decrypted-firmware"), image, image_len));
    /* The MAC key second in its array; no P-256 key at all. */
    d = new_device(0);
    CHECK_STATUS(update_with(aw, d, with_keys(kw, NULL, 0, macs, 2), &r), IOT_STATUS_OK);
    CHECK(holds(stored(d, "plaintext-firmware"), image, image_len) && d->seq == 1);

    /* No right key among them: not authenticated, nothing written, no sequence number. */
    d = new_device(0);
    CHECK_STATUS(update_with(ew, d, with_keys(ecdh, wrong, 2, wrong_macs, 2), &r),
                 IOT_STATUS_SUIT_NOT_AUTHENTICATED);
    CHECK(r.sequence_number == 0);
    CHECK_STATUS(update_with(aw, d, with_keys(kw, third, 3, wrong_macs, 2), &r),
                 IOT_STATUS_SUIT_NOT_AUTHENTICATED);
    CHECK(untouched(d));

    /* Refused before anything runs, though the right key is there: more than
     * IOT_SUIT_MAX_TRUST_ANCHORS keys of one kind (counting the single one), a key that is not
     * a P-256 point or is empty, a NULL key with a length, a NULL array with a count. */
    CHECK(IOT_SUIT_MAX_TRUST_ANCHORS == 4);
    CHECK_STATUS(update_with(ew, d, with_keys(ecdh, five, 5, NULL, 0), &r),
                 IOT_STATUS_CAPACITY_EXCEEDED);
    o = with_keys(ecdh, four, 4, NULL, 0);
    o.public_key = anchor;
    o.public_key_len = 65;
    CHECK_STATUS(update_with(ew, d, o, &r), IOT_STATUS_CAPACITY_EXCEEDED);
    o = with_keys(kw, NULL, 0, five, 4);
    o.mac_key = mac_a;
    o.mac_key_len = 32;
    CHECK_STATUS(update_with(aw, d, o, &r), IOT_STATUS_CAPACITY_EXCEEDED);
    CHECK_STATUS(update_with(ew, d, with_keys(ecdh, bad, 2, NULL, 0), &r),
                 IOT_STATUS_INVALID_KEY);
    CHECK_STATUS(update_with(ew, d, with_keys(ecdh, empty, 2, NULL, 0), &r),
                 IOT_STATUS_INVALID_KEY);
    CHECK_STATUS(update_with(aw, d, with_keys(kw, NULL, 0, empty_mac, 2), &r),
                 IOT_STATUS_INVALID_KEY);
    CHECK_STATUS(update_with(ew, d, with_keys(ecdh, nul, 2, NULL, 0), &r),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(update_with(ew, d, with_keys(ecdh, NULL, 1, NULL, 0), &r),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(update_with(aw, d, with_keys(kw, NULL, 0, NULL, 2), &r),
                 IOT_STATUS_NULL_ARGUMENT);
    /* Empty arrays and no single key: no trust anchor. */
    CHECK_STATUS(update_with(ew, d, with_keys(ecdh, third, 0, macs, 0), &r),
                 IOT_STATUS_NULL_ARGUMENT);
    CHECK(untouched(d) && r.sequence_number == 0);

    /* iot_suit_verify_with_options takes the same keys, and reads nothing else. */
    IotSuitOptions keys_only;
    memset(&keys_only, 0, sizeof keys_only);
    CHECK_STATUS(iot_suit_verify_with_options(ew->bytes, ew->len,
                                              &(IotSuitOptions){0}, &r),
                 IOT_STATUS_NULL_ARGUMENT);
    o = with_keys(keys_only, third, 3, NULL, 0);
    CHECK_STATUS(iot_suit_verify_with_options(ew->bytes, ew->len, &o, &r), IOT_STATUS_OK);
    CHECK(r.sequence_number == 1);
    o = with_keys(keys_only, NULL, 0, macs, 2);
    CHECK_STATUS(iot_suit_verify_with_options(aw->bytes, aw->len, &o, &r), IOT_STATUS_OK);
    CHECK(r.sequence_number == 1);
    o = with_keys(keys_only, wrong, 2, wrong_macs, 2);
    CHECK_STATUS(iot_suit_verify_with_options(aw->bytes, aw->len, &o, &r),
                 IOT_STATUS_SUIT_NOT_AUTHENTICATED);
    CHECK(r.sequence_number == 0);
    o = with_keys(keys_only, five, 5, NULL, 0);
    CHECK_STATUS(iot_suit_verify_with_options(ew->bytes, ew->len, &o, &r),
                 IOT_STATUS_CAPACITY_EXCEEDED);
}

/* ---- a decryption key in a secure element (IotSuitOptions::key_unwrap) ---- */

/* The element: its key, and what the test makes it do. */
typedef struct {
    const uint8_t *key; /* 16-byte A128KW key or 32-byte P-256 scalar */
    int32_t fail;       /* returned instead of doing the operation, unless 0 */
    int flip;           /* flips a bit of the CEK or shared secret it returns */
    int calls;
} Element;

static int32_t se_refuse(void *ctx, const uint8_t *in, size_t in_len, uint8_t *out) {
    (void)in;
    (void)in_len;
    (void)out;
    ((Element *)ctx)->calls++;
    return IOT_SUIT_PLATFORM_DENIED;
}

static IotSuitOptions with_element(IotSuitOptions o, const IotSuitKeyUnwrap *u) {
    o.key_unwrap = u;
    return o;
}

/* What is refused before the element is called, with nothing written. */
static void check_element_arguments(const Envelope *aw, const uint8_t *mac_a) {
    Element e = {NULL, 0, 0, 0};
    IotSuitKeyUnwrap u;
    memset(&u, 0, sizeof u);
    u.ctx = &e;
    u.kind = IOT_SUIT_KEY_A128KW;
    u.ecdh_p256 = se_refuse; /* not the kind's callback */
    uint8_t kek[16];
    memset(kek, 'a', sizeof kek);
    IotSuitOptions mac = keys_of(NULL, mac_a, 0, NULL, 0);
    IotSuitResult r;
    Device *d = new_device(0);
    CHECK_STATUS(update_with(aw, d, with_element(mac, &u), &r), IOT_STATUS_NULL_ARGUMENT);
    u.unwrap_a128kw = se_refuse;
    u.kind = 7;
    CHECK_STATUS(update_with(aw, d, with_element(mac, &u), &r), IOT_STATUS_INVALID_ARGUMENT);
    u.kind = IOT_SUIT_KEY_A128KW;
    IotSuitOptions both = keys_of(NULL, mac_a, IOT_SUIT_KEY_A128KW, kek, 16);
    CHECK_STATUS(update_with(aw, d, with_element(both, &u), &r), IOT_STATUS_INVALID_ARGUMENT);
    CHECK(untouched(d) && e.calls == 0);
    /* The element refuses (its callback's error): IOT_STATUS_SUIT_PLATFORM with its code. */
    CHECK_STATUS(update_with(aw, d, with_element(mac, &u), &r), IOT_STATUS_SUIT_PLATFORM);
    CHECK(r.platform_error == IOT_SUIT_PLATFORM_DENIED && r.sequence_number == 1);
    CHECK(untouched(d) && e.calls == 1);
}

#ifdef IOT_TEST_LIBCRYPTO
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* A128KW unwrap (RFC 3394) with OpenSSL under the element's key. */
static int32_t se_unwrap(void *ctx, const uint8_t *wrapped, size_t wrapped_len, uint8_t *cek) {
    Element *e = ctx;
    e->calls++;
    if (e->fail) return e->fail;
    uint8_t out[40];
    int n = 0, m = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = c != NULL && wrapped_len == 24;
    if (ok) {
        EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
        ok = EVP_DecryptInit_ex(c, EVP_aes_128_wrap(), NULL, e->key, NULL) == 1 &&
             EVP_DecryptUpdate(c, out, &n, wrapped, (int)wrapped_len) == 1 &&
             EVP_DecryptFinal_ex(c, out + n, &m) == 1 && n + m == 16;
    }
    EVP_CIPHER_CTX_free(c);
    if (ok) {
        memcpy(cek, out, 16);
        cek[0] ^= (uint8_t)e->flip;
    }
    OPENSSL_cleanse(out, sizeof out);
    return ok ? IOT_SUIT_PLATFORM_OK : IOT_SUIT_KEY_REJECTED;
}

/* P-256 ECDH with OpenSSL: the element's scalar as an RFC 5915 ECPrivateKey, the ephemeral
 * point in a SubjectPublicKeyInfo (RFC 5480). */
static int32_t se_ecdh(void *ctx, const uint8_t *eph, size_t eph_len, uint8_t *shared) {
    static const uint8_t OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    static const uint8_t SPKI[] = {0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
                                   0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
                                   0x07};
    Element *e = ctx;
    e->calls++;
    if (e->fail) return e->fail;
    if (eph_len != 65 && eph_len != 33) return IOT_SUIT_KEY_REJECTED;
    uint8_t priv[51] = {0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20}, pub[96];
    memcpy(priv + 7, e->key, 32);
    priv[39] = 0xa0;
    priv[40] = 0x0a;
    memcpy(priv + 41, OID, sizeof OID);
    size_t pub_len = 0;
    pub[pub_len++] = 0x30;
    pub[pub_len++] = (uint8_t)(sizeof SPKI + 3 + eph_len);
    memcpy(pub + pub_len, SPKI, sizeof SPKI);
    pub_len += sizeof SPKI;
    pub[pub_len++] = 0x03;
    pub[pub_len++] = (uint8_t)(eph_len + 1);
    pub[pub_len++] = 0x00;
    memcpy(pub + pub_len, eph, eph_len);
    pub_len += eph_len;
    const unsigned char *pp = priv, *qp = pub;
    EVP_PKEY *key = d2i_PrivateKey(EVP_PKEY_EC, NULL, &pp, sizeof priv);
    EVP_PKEY *peer = d2i_PUBKEY(NULL, &qp, (long)pub_len);
    EVP_PKEY_CTX *c = key ? EVP_PKEY_CTX_new(key, NULL) : NULL;
    size_t len = 32;
    int ok = key != NULL && c != NULL;
    int32_t status = ok ? IOT_SUIT_KEY_REJECTED : IOT_SUIT_PLATFORM_IO;
    if (ok && peer != NULL && EVP_PKEY_derive_init(c) == 1 &&
        EVP_PKEY_derive_set_peer(c, peer) == 1 && EVP_PKEY_derive(c, shared, &len) == 1 &&
        len == 32) {
        shared[0] ^= (uint8_t)e->flip;
        status = IOT_SUIT_PLATFORM_OK;
    }
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(key);
    OPENSSL_cleanse(priv, sizeof priv);
    return status;
}

/* expAW and expEW decrypted by an element that holds the key and does the AES key unwrap or
 * the ECDH itself (with OpenSSL's libcrypto); a failing element, one that returns a wrong
 * content key or shared secret, or holds another key, writes nothing and stores no sequence
 * number. */
static void test_key_unwrap(const char *libcsuit) {
    const Encrypted *v = load_encrypted(libcsuit);
    if (v == NULL) return;
    const Envelope *aw = &v->aw, *ew = &v->ew;
    const uint8_t *anchor = v->anchor, *image = v->image;
    size_t image_len = v->image_len;
    uint8_t mac_a[32], kek[16], wrong_kek[16], wrong_d[32];
    memset(mac_a, 'a', sizeof mac_a);
    memset(kek, 'a', sizeof kek);
    memset(wrong_kek, 'b', sizeof wrong_kek);
    memcpy(wrong_d, ESDH_D, sizeof wrong_d);
    wrong_d[31] ^= 0x01;
    check_element_arguments(aw, mac_a);

    Element kw = {kek, 0, 0, 0}, dh = {ESDH_D, 0, 0, 0};
    IotSuitKeyUnwrap ukw, udh;
    memset(&ukw, 0, sizeof ukw);
    memset(&udh, 0, sizeof udh);
    ukw.ctx = &kw;
    ukw.kind = IOT_SUIT_KEY_A128KW;
    ukw.unwrap_a128kw = se_unwrap;
    udh.ctx = &dh;
    udh.kind = IOT_SUIT_KEY_ECDH_ES_P256;
    udh.ecdh_p256 = se_ecdh;
    IotSuitOptions mac = with_element(keys_of(NULL, mac_a, 0, NULL, 0), &ukw);
    IotSuitOptions sig = with_element(keys_of(anchor, NULL, 0, NULL, 0), &udh);
    IotSuitResult r;
    Device *d;

    /* The element does it: the image is decrypted into its component. */
    d = new_device(0);
    CHECK_STATUS(update_with(aw, d, mac, &r), IOT_STATUS_OK);
    CHECK(holds(stored(d, "plaintext-firmware"), image, image_len) && d->seq == 1);
    CHECK(kw.calls == 1);
    d = new_device(0);
    CHECK_STATUS(update_with(ew, d, sig, &r), IOT_STATUS_OK);
    CHECK(holds(stored(d, "decrypted-firmware"), image, image_len) && d->seq == 1);
    CHECK(dh.calls == 1);

    /* An element of the other kind: the recipient is not for it, and it is not called. */
    d = new_device(0);
    CHECK_STATUS(update_with(ew, d, with_element(sig, &ukw), &r), IOT_STATUS_ALGORITHM_MISMATCH);
    CHECK(untouched(d) && kw.calls == 1);

    /* A wrong content key: the payload's GCM tag fails before anything is written. A wrong
     * shared secret, or another key in the element: the content key does not unwrap. */
    kw.flip = 1;
    CHECK_STATUS(update_with(aw, d, mac, &r), IOT_STATUS_BAD_TAG);
    kw.flip = 0;
    kw.key = wrong_kek;
    CHECK_STATUS(update_with(aw, d, mac, &r), IOT_STATUS_BAD_TAG);
    kw.key = kek;
    dh.flip = 1;
    CHECK_STATUS(update_with(ew, d, sig, &r), IOT_STATUS_BAD_TAG);
    dh.flip = 0;
    dh.key = wrong_d;
    CHECK_STATUS(update_with(ew, d, sig, &r), IOT_STATUS_BAD_TAG);
    dh.key = ESDH_D;
    CHECK(untouched(d));

    /* The element fails: IOT_STATUS_SUIT_PLATFORM with its code (an unknown code is
     * IOT_SUIT_PLATFORM_IO); it rejects the input: BAD_TAG for an unwrap, INVALID_KEY for
     * ECDH. Nothing written, no sequence number stored. */
    kw.fail = IOT_SUIT_PLATFORM_UNAVAILABLE;
    CHECK_STATUS(update_with(aw, d, mac, &r), IOT_STATUS_SUIT_PLATFORM);
    CHECK(r.platform_error == IOT_SUIT_PLATFORM_UNAVAILABLE && r.sequence_number == 1);
    kw.fail = IOT_SUIT_KEY_REJECTED;
    CHECK_STATUS(update_with(aw, d, mac, &r), IOT_STATUS_BAD_TAG);
    dh.fail = 42;
    CHECK_STATUS(update_with(ew, d, sig, &r), IOT_STATUS_SUIT_PLATFORM);
    CHECK(r.platform_error == IOT_SUIT_PLATFORM_IO);
    dh.fail = IOT_SUIT_KEY_REJECTED;
    CHECK_STATUS(update_with(ew, d, sig, &r), IOT_STATUS_INVALID_KEY);
    CHECK(untouched(d));
}
#else
static void test_key_unwrap(const char *libcsuit) {
    const Encrypted *v = load_encrypted(libcsuit);
    uint8_t mac_a[32];
    memset(mac_a, 'a', sizeof mac_a);
    if (v != NULL) check_element_arguments(&v->aw, mac_a);
    printf("skipped: the secure-element decryption of expAW and expEW (built without "
           "libcrypto, IOT_TEST_LIBCRYPTO)\n");
}
#endif

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MANIFEST_SPEC_DIR LIBCSUIT_DIR\n", argv[0]);
        return 2;
    }
    memset(image_a, 0xa5, sizeof image_a);
    memset(image_b, 0xb6, sizeof image_b);
    test_example0(argv[1]);
    test_example3(argv[1]);
    test_encrypted(argv[2]);
    test_encrypted_copy(argv[2]);
    test_dependencies(argv[2]);
    test_trust_anchors(argv[2]);
    test_key_unwrap(argv[2]);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
