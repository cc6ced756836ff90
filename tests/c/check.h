/*
 * Helpers shared by the C tests: assertions that name the failing line, the test origin's coordinates
 * (exported by tests/c/run.sh from the test origin, tests/origin/, serving tests/c/fixtures.rs), and engine
 * construction against it.
 *
 * Network safety: every test refuses to run outside scripts/netns, and only talks to https://localhost:PORT.
 */
#ifndef CIMD_TEST_CHECK_H
#define CIMD_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cimd.h"

#define CHECK(cond)                                                                                         \
    do {                                                                                                    \
        if (!(cond)) {                                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                        \
            exit(1);                                                                                        \
        }                                                                                                   \
    } while (0)

/* Checks a status and names both statuses when they differ. */
#define CHECK_STATUS(expr, expected)                                                                        \
    do {                                                                                                    \
        cimd_status got_ = (expr);                                                                          \
        if (got_ != (expected)) {                                                                           \
            const char *g_ = cimd_status_name(got_), *w_ = cimd_status_name(expected);                     \
            fprintf(stderr, "%s:%d: %s: status %s, expected %s\n", __FILE__, __LINE__, #expr,              \
                    g_ ? g_ : "?", w_ ? w_ : "?");                                                          \
            exit(1);                                                                                        \
        }                                                                                                   \
    } while (0)

/* True if the len bytes at data contain the NUL-terminated needle. */
static inline int contains(const void *data, size_t len, const char *needle) {
    size_t n = strlen(needle);
    const char *p = data;
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(p + i, needle, n) == 0) return 1;
    }
    return 0;
}

static inline const char *env_or_die(const char *name) {
    const char *value = getenv(name);
    if (value == NULL || *value == '\0') {
        fprintf(stderr, "%s is not set: run the C tests with tests/c/run.sh (make c-test)\n", name);
        exit(2);
    }
    return value;
}

/* Every test starts here: refuse to run where a stray request could leave the machine. */
static inline void require_isolated_network(void) {
    const char *netns = getenv("CIMD_IN_NETNS");
    if (netns == NULL || strcmp(netns, "1") != 0) {
        fprintf(stderr, "refusing to run outside scripts/netns (only loopback must be reachable)\n");
        exit(2);
    }
}

/* https://localhost:PORT<path> on the test origin, in a static buffer (one per call site is enough). */
static inline const char *origin_url(char *buf, size_t size, const char *path) {
    snprintf(buf, size, "https://localhost:%s%s", env_or_die("CIMD_TEST_PORT"), path);
    return buf;
}

/*
 * An engine for the test origin: loopback allowed, the test CA trusted, generous timeouts (valgrind slows
 * everything down), no practical per-host rate limit (every test fetches from the one host "localhost") unless
 * `extra` sets one, plus the JSON members in `extra` (either "" or starting with a comma).
 * With trust_test_ca == 0 the test CA is not trusted (for tls_error); with allow_loopback == 0 the origin is a
 * blocked address.
 */
static inline cimd_engine *test_engine_with(int allow_loopback, int trust_test_ca, const char *extra) {
    char config[4096];
    int n = snprintf(config, sizeof config,
                     "{\"allow_loopback\": %s, \"fetch_timeout_ms\": 30000, \"connect_timeout_ms\": 20000%s%s%s%s%s}",
                     allow_loopback ? "true" : "false", trust_test_ca ? ", \"extra_ca_file\": \"" : "",
                     trust_test_ca ? env_or_die("CIMD_TEST_CA") : "", trust_test_ca ? "\"" : "",
                     strstr(extra, "per_host_rate") ? "" : ", \"per_host_rate\": {\"per_minute\": 1000000, \"burst\": 100000}",
                     extra);
    CHECK(n > 0 && (size_t)n < sizeof config);
    cimd_engine *engine = NULL;
    cimd_error *error = NULL;
    cimd_status status = cimd_engine_new(config, (size_t)n, &engine, &error);
    if (status != CIMD_STATUS_OK) {
        const char *message = "(no error object)";
        if (error) cimd_error_message(error, &message, NULL);
        fprintf(stderr, "cimd_engine_new(%s): %s: %s\n", config, cimd_status_name(status), message);
        exit(1);
    }
    CHECK(engine != NULL && error == NULL);
    return engine;
}

static inline cimd_engine *test_engine(const char *extra) { return test_engine_with(1, 1, extra); }

/* cimd_resolve with NUL-terminated strings and no deadline. */
static inline cimd_status resolve(const cimd_engine *engine, const char *client_id, const char *redirect_uri,
                                  cimd_result **result, cimd_error **error) {
    return cimd_resolve(engine, client_id, strlen(client_id), redirect_uri,
                        redirect_uri ? strlen(redirect_uri) : 0, 0, result, error);
}

#endif /* CIMD_TEST_CHECK_H */
