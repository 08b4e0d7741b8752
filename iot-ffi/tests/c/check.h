/* The checks every C test of iot-ffi counts with: CHECK(cond) and CHECK_STATUS(expr, want)
 * record a pass or print the failing line; each test prints "N passed, M failed" at its end.
 * Included once per test program (the counters are that program's own). */
#ifndef IOT_FFI_TEST_CHECK_H
#define IOT_FFI_TEST_CHECK_H

#include <stdio.h>

#include "iot.h"

static int passed;
static int failed;

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (cond) {                                                               \
            passed++;                                                             \
        } else {                                                                  \
            failed++;                                                             \
            fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #cond);               \
        }                                                                         \
    } while (0)

#define CHECK_STATUS(expr, want)                                                  \
    do {                                                                          \
        IotStatus got_ = (expr);                                                  \
        if (got_ == (want)) {                                                     \
            passed++;                                                             \
        } else {                                                                  \
            failed++;                                                             \
            fprintf(stderr, "FAIL line %d: %s\n  got %d (%s), want %d (%s)\n",    \
                    __LINE__, #expr, (int)got_, iot_status_str(got_), (int)(want), \
                    iot_status_str(want));                                        \
        }                                                                         \
    } while (0)

#endif
