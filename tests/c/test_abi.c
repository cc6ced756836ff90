/*
 * The C ABI from a C program, one thread: version, success and the cache, every error code the engine can
 * return, configuration errors, NULL and invalid UTF-8 arguments, handle checks and double frees, the
 * operator calls. Run by tests/c/run.sh (make c-test), under valgrind.
 */
#include <time.h>

#include "check.h"

/* A pointer value no cimd call returns: shows that an out-parameter was left untouched. */
#define UNTOUCHED ((void *)0x5a5a5a5a)

static void test_version(void) {
    uint32_t v = cimd_abi_version();
    CHECK(v >> 16 == CIMD_ABI_VERSION_MAJOR);
    CHECK(((v >> 8) & 0xff) == CIMD_ABI_VERSION_MINOR);
    CHECK((v & 0xff) == CIMD_ABI_VERSION_PATCH);
    CHECK(strcmp(cimd_status_name(CIMD_STATUS_OK), "ok") == 0);
    CHECK(strcmp(cimd_status_name(CIMD_STATUS_PANIC), "panic") == 0);
    CHECK(cimd_status_name(1000) == NULL);
    CHECK(strcmp(cimd_code_name(CIMD_CODE_INVALID_CLIENT_ID_URL), "invalid_client_id_url") == 0);
    CHECK(strcmp(cimd_code_name(CIMD_CODE_INTERNAL), "internal") == 0);
    CHECK(cimd_code_name(CIMD_CODE_NONE) == NULL);
    CHECK(cimd_code_name(1000) == NULL);
    CHECK(strcmp(cimd_source_name(CIMD_SOURCE_CACHE), "cache") == 0);
    CHECK(cimd_source_name(CIMD_SOURCE_NONE) == NULL);
}

static void test_success_and_cache(void) {
    char url[256];
    origin_url(url, sizeof url, "/ok.json");
    cimd_engine *engine = test_engine("");
    cimd_result *first = NULL, *second = NULL, *probed = NULL;
    cimd_error *error = UNTOUCHED;

    /* A loopback redirect_uri on any port matches the registered http://localhost/callback. */
    CHECK_STATUS(resolve(engine, url, "http://localhost:49152/callback", &first, &error), CIMD_STATUS_OK);
    CHECK(first != NULL);
    CHECK(error == UNTOUCHED);
    CHECK(cimd_result_source(first) == CIMD_SOURCE_NETWORK);
    const uint8_t *json = NULL;
    size_t len = 0;
    CHECK_STATUS(cimd_result_json(first, &json, &len), CIMD_STATUS_OK);
    CHECK(json != NULL && len > 0 && json[0] == '{' && json[len - 1] == '}');
    char expected[300];
    snprintf(expected, sizeof expected, "\"client_id\":\"%s\"", url);
    CHECK(contains(json, len, expected));
    CHECK(contains(json, len, "\"client_name\":\"C test client\""));
    CHECK(contains(json, len, "\"display_host\""));
    uint64_t generation = cimd_result_generation(first);
    CHECK(generation >= 1);
    CHECK(contains(json, len, "\"generation\":"));
    CHECK(cimd_result_expires_at_unix_ms(first) > (int64_t)time(NULL) * 1000);

    /* A cache hit shares the same serialisation: the very same bytes, not a copy. */
    CHECK_STATUS(resolve(engine, url, NULL, &second, NULL), CIMD_STATUS_OK);
    CHECK(cimd_result_source(second) == CIMD_SOURCE_CACHE);
    CHECK(cimd_result_generation(second) == generation);
    const uint8_t *json2 = NULL;
    size_t len2 = 0;
    CHECK_STATUS(cimd_result_json(second, &json2, &len2), CIMD_STATUS_OK);
    CHECK(json2 == json && len2 == len);

    /* The probe sees the cached entry without I/O. */
    CHECK_STATUS(cimd_probe(engine, url, strlen(url), &probed), CIMD_STATUS_OK);
    CHECK(cimd_result_generation(probed) == generation);

    /* The client_id is taken by length: no NUL needed, bytes after it are not read. */
    char unterminated[256];
    size_t url_len = strlen(url);
    memcpy(unterminated, url, url_len);
    memset(unterminated + url_len, 'X', sizeof unterminated - url_len);
    cimd_result *by_length = NULL;
    CHECK_STATUS(cimd_resolve(engine, unterminated, url_len, NULL, 0, 0, &by_length, NULL), CIMD_STATUS_OK);
    CHECK(cimd_result_source(by_length) == CIMD_SOURCE_CACHE);
    cimd_result_free(&by_length);

    /* Results outlive the engine. */
    cimd_engine_free(&engine);
    CHECK(engine == NULL);
    CHECK_STATUS(cimd_result_json(first, &json, &len), CIMD_STATUS_OK);
    CHECK(contains(json, len, expected));

    cimd_result_free(&first);
    cimd_result_free(&second);
    cimd_result_free(&probed);
    CHECK(first == NULL && second == NULL && probed == NULL);
}

/* Resolves and checks that the engine refused with `code`, that the error object says so, and that the
 * result out-parameter was left untouched. */
static void expect_rejected(const cimd_engine *engine, const char *client_id, const char *redirect_uri,
                            uint64_t timeout_ms, cimd_code code, const char *oauth_error, int transient) {
    cimd_result *result = UNTOUCHED;
    cimd_error *error = NULL;
    cimd_status status = cimd_resolve(engine, client_id, strlen(client_id), redirect_uri,
                                      redirect_uri ? strlen(redirect_uri) : 0, timeout_ms, &result, &error);
    if (status != CIMD_STATUS_REJECTED || cimd_error_code(error) != code) {
        const char *message = "";
        if (error) cimd_error_message(error, &message, NULL);
        fprintf(stderr, "%s: expected rejected/%s, got %s/%s: %s\n", client_id, cimd_code_name(code),
                cimd_status_name(status), error ? cimd_code_name(cimd_error_code(error)) : "-", message);
        exit(1);
    }
    CHECK(result == UNTOUCHED);
    CHECK(cimd_error_status(error) == CIMD_STATUS_REJECTED);
    const char *message = NULL;
    size_t len = 0;
    CHECK_STATUS(cimd_error_message(error, &message, &len), CIMD_STATUS_OK);
    CHECK(message != NULL && len > 0 && strlen(message) == len);
    CHECK(strcmp(cimd_error_oauth_error(error), oauth_error) == 0);
    CHECK(cimd_error_is_transient(error) == transient);
    cimd_error_free(&error);
    CHECK(error == NULL);
    /* Without an error object, the status alone. */
    CHECK_STATUS(cimd_resolve(engine, client_id, strlen(client_id), redirect_uri,
                              redirect_uri ? strlen(redirect_uri) : 0, timeout_ms, &result, NULL),
                 CIMD_STATUS_REJECTED);
    CHECK(result == UNTOUCHED);
}

static void test_every_error_code(void) {
    char url[256], closed[256];
    cimd_engine *engine = test_engine("");
#define AT(path) origin_url(url, sizeof url, path)
    expect_rejected(engine, "http://localhost/client.json", NULL, 0, CIMD_CODE_INVALID_CLIENT_ID_URL,
                    "invalid_client", 0);
    expect_rejected(engine, "", NULL, 0, CIMD_CODE_INVALID_CLIENT_ID_URL, "invalid_client", 0);
    /* Taken by length: an embedded NUL is part of the client_id, not its end. */
    {
        char with_nul[300];
        size_t n = strlen(AT("/ok.json"));
        memcpy(with_nul, url, n);
        memcpy(with_nul + n, "\0x", 2);
        cimd_error *error = NULL;
        cimd_result *result = UNTOUCHED;
        CHECK_STATUS(cimd_resolve(engine, with_nul, n + 2, NULL, 0, 0, &result, &error), CIMD_STATUS_REJECTED);
        CHECK(cimd_error_code(error) == CIMD_CODE_INVALID_CLIENT_ID_URL);
        CHECK(result == UNTOUCHED);
        cimd_error_free(&error);
    }
    {
        cimd_engine *denied = test_engine(", \"denied_hosts\": [\"localhost\"]");
        expect_rejected(denied, AT("/ok.json"), NULL, 0, CIMD_CODE_HOST_NOT_ALLOWED, "invalid_client", 0);
        cimd_engine_free(&denied);
    }
    {
        cimd_engine *strict = test_engine_with(0, 1, "");
        expect_rejected(strict, AT("/ok.json"), NULL, 0, CIMD_CODE_BLOCKED_ADDRESS, "invalid_client", 0);
        cimd_engine_free(&strict);
    }
    /* Inside the network namespace no name server is reachable: the lookup fails, nothing leaves. */
    expect_rejected(engine, "https://cimd-c-test.invalid/client.json", NULL, 0, CIMD_CODE_DNS_ERROR,
                    "invalid_client", 1);
    snprintf(closed, sizeof closed, "https://localhost:%s/client.json", env_or_die("CIMD_TEST_CLOSED_PORT"));
    expect_rejected(engine, closed, NULL, 0, CIMD_CODE_CONNECT_ERROR, "invalid_client", 1);
    {
        cimd_engine *untrusting = test_engine_with(1, 0, "");
        expect_rejected(untrusting, AT("/ok.json"), NULL, 0, CIMD_CODE_TLS_ERROR, "invalid_client", 1);
        cimd_engine_free(&untrusting);
    }
    expect_rejected(engine, AT("/hang.json"), NULL, 300, CIMD_CODE_TIMEOUT, "invalid_client", 1);
    expect_rejected(engine, AT("/not-found.json"), NULL, 0, CIMD_CODE_HTTP_STATUS, "invalid_client", 0);
    expect_rejected(engine, AT("/redirect.json"), NULL, 0, CIMD_CODE_REDIRECT_NOT_FOLLOWED, "invalid_client", 0);
    expect_rejected(engine, AT("/large.json"), NULL, 0, CIMD_CODE_TOO_LARGE, "invalid_client", 0);
    expect_rejected(engine, AT("/text.json"), NULL, 0, CIMD_CODE_INVALID_CONTENT_TYPE, "invalid_client", 0);
    expect_rejected(engine, AT("/bad-json.json"), NULL, 0, CIMD_CODE_INVALID_JSON, "invalid_client", 0);
    expect_rejected(engine, AT("/not-object.json"), NULL, 0, CIMD_CODE_INVALID_METADATA, "invalid_client", 0);
    expect_rejected(engine, AT("/mismatch.json"), NULL, 0, CIMD_CODE_CLIENT_ID_MISMATCH, "invalid_client", 0);
    expect_rejected(engine, AT("/secret.json"), NULL, 0, CIMD_CODE_FORBIDDEN_METADATA, "invalid_client", 0);
    /* Draft -03 §6 (AUTH-16): no method in common is answered unauthorized_client. */
    expect_rejected(engine, AT("/private-key-jwt.json"), NULL, 0, CIMD_CODE_UNSUPPORTED_AUTH_METHOD,
                    "unauthorized_client", 0);
    expect_rejected(engine, AT("/ok.json"), "https://attacker.example/callback", 0,
                    CIMD_CODE_REDIRECT_URI_MISMATCH, "invalid_request", 0);
    {
        cimd_engine *limited = test_engine(", \"per_host_rate\": {\"per_minute\": 1, \"burst\": 1}");
        cimd_result *result = NULL;
        CHECK_STATUS(resolve(limited, AT("/c/0.json"), NULL, &result, NULL), CIMD_STATUS_OK);
        cimd_result_free(&result);
        expect_rejected(limited, AT("/c/1.json"), NULL, 0, CIMD_CODE_RATE_LIMITED, "temporarily_unavailable", 1);
        cimd_engine_free(&limited);
    }
    /* CIMD_CODE_INTERNAL is a bug by definition; nothing a test origin serves produces it. */

    /* Every failure was counted, by code name. */
    cimd_bytes stats = {0};
    CHECK_STATUS(cimd_stats_json(engine, &stats), CIMD_STATUS_OK);
    CHECK(contains(stats.data, stats.len, "\"redirect_uri_mismatch\":2"));
    CHECK(contains(stats.data, stats.len, "\"too_large\":2"));
    cimd_bytes_free(&stats);
    cimd_engine_free(&engine);
#undef AT
}

static void expect_config_error(const char *config, size_t len, const char *fragment) {
    cimd_engine *engine = UNTOUCHED;
    cimd_error *error = NULL;
    CHECK_STATUS(cimd_engine_new(config, len, &engine, &error), CIMD_STATUS_CONFIG_ERROR);
    CHECK(engine == UNTOUCHED);
    CHECK(cimd_error_status(error) == CIMD_STATUS_CONFIG_ERROR);
    CHECK(cimd_error_code(error) == CIMD_CODE_NONE);
    CHECK(cimd_error_oauth_error(error) == NULL);
    CHECK(!cimd_error_is_transient(error));
    const char *message = NULL;
    size_t message_len = 0;
    CHECK_STATUS(cimd_error_message(error, &message, &message_len), CIMD_STATUS_OK);
    if (strstr(message, fragment) == NULL) {
        fprintf(stderr, "config %.*s: message \"%s\" lacks \"%s\"\n", (int)len, config, message, fragment);
        exit(1);
    }
    cimd_error_free(&error);
    CHECK_STATUS(cimd_engine_new(config, len, &engine, NULL), CIMD_STATUS_CONFIG_ERROR);
    CHECK(engine == UNTOUCHED);
}

static void test_config_errors(void) {
#define CONFIG(text, fragment) expect_config_error(text, strlen(text), fragment)
    CONFIG("not json", "not valid JSON");
    CONFIG("[]", "expected a JSON object, got an array");
    CONFIG("{\"allow_loopbak\": true}", "allow_loopbak: unknown key; did you mean allow_loopback?");
    CONFIG("{\"allow_loopback\": \"yes\"}", "allow_loopback: expected a boolean, got a string");
    CONFIG("{\"per_host_rate\": {\"per_minute\": 60}}", "per_host_rate.burst: missing");
    CONFIG("{\"max_document_bytes\": 0}", "max_document_bytes");
    CONFIG("{\"extra_ca_file\": \"/nonexistent/ca.pem\"}", "/nonexistent/ca.pem");
#undef CONFIG
    cimd_engine *engine = NULL;
    CHECK_STATUS(cimd_engine_new("{}", 2, &engine, NULL), CIMD_STATUS_OK);
    cimd_bytes discovery = {0};
    CHECK_STATUS(cimd_discovery_json(engine, &discovery), CIMD_STATUS_OK);
    CHECK(discovery.data[discovery.len] == '\0');
    CHECK(contains(discovery.data, discovery.len, "\"client_id_metadata_document_supported\":true"));
    CHECK(contains(discovery.data, discovery.len, "\"code_challenge_methods_supported\":[\"S256\"]"));
    CHECK(contains(discovery.data, discovery.len, "\"token_endpoint_auth_methods_supported\":[\"none\"]"));
    cimd_bytes_free(&discovery);
    cimd_engine_free(&engine);
}

/* The engine's description of every configuration key (ABI 1.1): no engine needed. */
static void test_config_schema(void) {
    cimd_bytes schema = {0};
    CHECK_STATUS(cimd_config_schema_json(&schema), CIMD_STATUS_OK);
    CHECK(schema.data != NULL && schema.data[schema.len] == '\0');
    CHECK(contains(schema.data, schema.len, "{\"keys\":["));
    CHECK(contains(schema.data, schema.len, "\"name\":\"max_json_depth\""));
    CHECK(contains(schema.data, schema.len, "\"name\":\"per_host_rate\""));
    cimd_bytes_free(&schema);
    CHECK(schema.data == NULL);
    CHECK_STATUS(cimd_config_schema_json(NULL), CIMD_STATUS_INVALID_ARGUMENT);
}

static void test_null_and_utf8_arguments(void) {
    char url[256];
    origin_url(url, sizeof url, "/ok.json");
    size_t n = strlen(url);
    cimd_engine *engine = UNTOUCHED;
    cimd_error *error = UNTOUCHED;
    cimd_result *result = UNTOUCHED;

    CHECK_STATUS(cimd_engine_new(NULL, 0, &engine, &error), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_engine_new("{}", 2, NULL, &error), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_engine_new("{\"\xff\": 1}", 7, &engine, &error), CIMD_STATUS_INVALID_UTF8);
    CHECK(engine == UNTOUCHED && error == UNTOUCHED);

    engine = test_engine("");
    cimd_bytes stats = {0};
    CHECK_STATUS(cimd_stats_json(engine, &stats), CIMD_STATUS_OK);
    CHECK(contains(stats.data, stats.len, "\"fetches\":0"));
    cimd_bytes_free(&stats);

    CHECK_STATUS(cimd_resolve(NULL, url, n, NULL, 0, 0, &result, &error), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_resolve(engine, NULL, n, NULL, 0, 0, &result, &error), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_resolve(engine, NULL, 0, NULL, 0, 0, &result, &error), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_resolve(engine, url, SIZE_MAX, NULL, 0, 0, &result, &error), CIMD_STATUS_INVALID_ARGUMENT);
    /* A NULL result out-parameter is refused before any work: nothing is fetched. */
    CHECK_STATUS(cimd_resolve(engine, url, n, NULL, 0, 0, NULL, &error), CIMD_STATUS_INVALID_ARGUMENT);
    static const char *const invalid_utf8[] = {
        "https://localhost/\xff.json",         /* not UTF-8 at all */
        "https://localhost/\xc0\xaf.json",     /* overlong '/' */
        "https://localhost/\xed\xa0\x80.json", /* a UTF-16 surrogate */
        "https://localhost/\xe2\x82.json",     /* truncated sequence */
    };
    for (size_t i = 0; i < sizeof invalid_utf8 / sizeof *invalid_utf8; i++) {
        const char *bad = invalid_utf8[i];
        CHECK_STATUS(cimd_resolve(engine, bad, strlen(bad), NULL, 0, 0, &result, &error), CIMD_STATUS_INVALID_UTF8);
        CHECK_STATUS(cimd_resolve(engine, url, n, bad, strlen(bad), 0, &result, &error), CIMD_STATUS_INVALID_UTF8);
        CHECK_STATUS(cimd_probe(engine, bad, strlen(bad), &result), CIMD_STATUS_INVALID_UTF8);
        CHECK_STATUS(cimd_invalidate(engine, bad, strlen(bad)), CIMD_STATUS_INVALID_UTF8);
        CHECK_STATUS(cimd_refresh(engine, bad, strlen(bad), 0, &result, &error), CIMD_STATUS_INVALID_UTF8);
    }
    CHECK(result == UNTOUCHED && error == UNTOUCHED);
    CHECK_STATUS(cimd_stats_json(engine, &stats), CIMD_STATUS_OK);
    CHECK(contains(stats.data, stats.len, "\"fetches\":0"));
    cimd_bytes_free(&stats);

    CHECK_STATUS(cimd_probe(NULL, url, n, &result), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_probe(engine, NULL, n, &result), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_probe(engine, url, n, NULL), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_refresh(NULL, url, n, 0, &result, &error), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_refresh(engine, url, n, 0, NULL, &error), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_invalidate(NULL, url, n), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_invalidate(engine, NULL, n), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_stats_json(NULL, &stats), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_stats_json(engine, NULL), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_discovery_json(engine, NULL), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_entries_json(NULL, &stats), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK(result == UNTOUCHED && error == UNTOUCHED && stats.data == NULL);

    /* Accessors on NULL: a status, or their documented neutral value. */
    const uint8_t *json = UNTOUCHED;
    const char *message = UNTOUCHED;
    size_t len = 77;
    CHECK_STATUS(cimd_result_json(NULL, &json, &len), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK(json == UNTOUCHED && len == 77);
    CHECK(cimd_result_generation(NULL) == 0);
    CHECK(cimd_result_source(NULL) == CIMD_SOURCE_NONE);
    CHECK(cimd_result_expires_at_unix_ms(NULL) == 0);
    CHECK_STATUS(cimd_error_message(NULL, &message, &len), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK(message == UNTOUCHED && len == 77);
    CHECK(cimd_error_status(NULL) == CIMD_STATUS_INVALID_ARGUMENT);
    CHECK(cimd_error_code(NULL) == CIMD_CODE_NONE);
    CHECK(cimd_error_oauth_error(NULL) == NULL);
    CHECK(!cimd_error_is_transient(NULL));

    /* Out-parameters of accessors. */
    result = NULL;
    CHECK_STATUS(resolve(engine, url, NULL, &result, NULL), CIMD_STATUS_OK);
    CHECK_STATUS(cimd_result_json(result, NULL, &len), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_result_json(result, &json, NULL), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK(json == UNTOUCHED && len == 77);
    cimd_result_free(&result);
    error = NULL;
    expect_rejected(engine, "http://localhost/", NULL, 0, CIMD_CODE_INVALID_CLIENT_ID_URL, "invalid_client", 0);
    CHECK_STATUS(resolve(engine, "http://localhost/", NULL, &result, &error), CIMD_STATUS_REJECTED);
    CHECK_STATUS(cimd_error_message(error, NULL, &len), CIMD_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(cimd_error_message(error, &message, NULL), CIMD_STATUS_OK);
    CHECK(strlen(message) > 0);
    cimd_error_free(&error);

    /* Freeing NULL, or through a NULL slot, does nothing. */
    cimd_engine_free(NULL);
    cimd_result_free(NULL);
    cimd_error_free(NULL);
    cimd_bytes_free(NULL);
    cimd_engine_free(&engine);
}

static void test_handles_and_double_free(void) {
    char url[256];
    origin_url(url, sizeof url, "/ok.json");
    cimd_engine *engine = test_engine("");
    cimd_result *result = NULL;
    cimd_error *error = NULL;
    CHECK_STATUS(resolve(engine, url, NULL, &result, NULL), CIMD_STATUS_OK);
    cimd_result *unused = NULL;
    CHECK_STATUS(resolve(engine, "http://localhost/", NULL, &unused, &error), CIMD_STATUS_REJECTED);
    CHECK(unused == NULL);

    /* A handle of one kind passed where another is expected is refused, not misread or freed. */
    const uint8_t *json = NULL;
    size_t len = 0;
    CHECK_STATUS(cimd_result_json((const cimd_result *)error, &json, &len), CIMD_STATUS_INVALID_HANDLE);
    CHECK(cimd_error_status((const cimd_error *)result) == CIMD_STATUS_INVALID_HANDLE);
    CHECK(cimd_error_code((const cimd_error *)result) == CIMD_CODE_NONE);
    CHECK(cimd_result_generation((const cimd_result *)engine) == 0);
    CHECK_STATUS(resolve((const cimd_engine *)result, url, NULL, &unused, NULL), CIMD_STATUS_INVALID_HANDLE);
    CHECK(unused == NULL);
    cimd_result *error_as_result = (cimd_result *)error;
    cimd_result_free(&error_as_result);
    CHECK(error_as_result != NULL);
    CHECK(cimd_error_code(error) == CIMD_CODE_INVALID_CLIENT_ID_URL);

    /* Freeing twice through the same variable frees once. */
    cimd_result_free(&result);
    CHECK(result == NULL);
    cimd_result_free(&result);
    cimd_error_free(&error);
    CHECK(error == NULL);
    cimd_error_free(&error);
    cimd_bytes entries = {0};
    CHECK_STATUS(cimd_entries_json(engine, &entries), CIMD_STATUS_OK);
    cimd_bytes_free(&entries);
    CHECK(entries.data == NULL && entries.len == 0);
    cimd_bytes_free(&entries);
    cimd_engine_free(&engine);
    CHECK(engine == NULL);
    cimd_engine_free(&engine);
}

static void test_operator_calls(void) {
    char url[256], changes[256];
    origin_url(url, sizeof url, "/ok.json");
    origin_url(changes, sizeof changes, "/changes.json");
    cimd_engine *engine = test_engine("");
    cimd_result *result = NULL;

    CHECK_STATUS(cimd_probe(engine, url, strlen(url), &result), CIMD_STATUS_NOT_FOUND);
    CHECK(result == NULL);
    CHECK_STATUS(cimd_invalidate(engine, url, strlen(url)), CIMD_STATUS_NOT_FOUND);
    CHECK_STATUS(resolve(engine, url, NULL, &result, NULL), CIMD_STATUS_OK);
    cimd_result_free(&result);

    cimd_bytes entries = {0};
    CHECK_STATUS(cimd_entries_json(engine, &entries), CIMD_STATUS_OK);
    CHECK(entries.data[0] == '[' && entries.data[entries.len] == '\0');
    CHECK(contains(entries.data, entries.len, url));
    CHECK(contains(entries.data, entries.len, "\"state\":\"fresh\""));
    cimd_bytes_free(&entries);

    CHECK_STATUS(cimd_invalidate(engine, url, strlen(url)), CIMD_STATUS_OK);
    CHECK_STATUS(cimd_invalidate(engine, url, strlen(url)), CIMD_STATUS_NOT_FOUND);
    CHECK_STATUS(cimd_probe(engine, url, strlen(url), &result), CIMD_STATUS_NOT_FOUND);

    /* A refresh that brings a changed document: new generation, the changed field listed. */
    cimd_result *before = NULL, *after = NULL, *cached = NULL;
    CHECK_STATUS(resolve(engine, changes, NULL, &before, NULL), CIMD_STATUS_OK);
    CHECK_STATUS(cimd_refresh(engine, changes, strlen(changes), 0, &after, NULL), CIMD_STATUS_OK);
    CHECK(cimd_result_source(after) == CIMD_SOURCE_NETWORK);
    CHECK(cimd_result_generation(after) != cimd_result_generation(before));
    const uint8_t *json = NULL;
    size_t len = 0;
    CHECK_STATUS(cimd_result_json(before, &json, &len), CIMD_STATUS_OK);
    CHECK(contains(json, len, "\"scope\":\"a\"") && contains(json, len, "\"changed\":[]"));
    CHECK_STATUS(cimd_result_json(after, &json, &len), CIMD_STATUS_OK);
    CHECK(contains(json, len, "\"scope\":\"b\"") && contains(json, len, "\"changed\":[\"scope\"]"));
    CHECK_STATUS(resolve(engine, changes, NULL, &cached, NULL), CIMD_STATUS_OK);
    CHECK(cimd_result_source(cached) == CIMD_SOURCE_CACHE);
    CHECK(cimd_result_generation(cached) == cimd_result_generation(after));
    /* A refresh that brings the same document keeps its generation. */
    cimd_result *same = NULL;
    CHECK_STATUS(cimd_refresh(engine, changes, strlen(changes), 0, &same, NULL), CIMD_STATUS_OK);
    CHECK(cimd_result_generation(same) == cimd_result_generation(after));
    cimd_result_free(&same);
    cimd_result_free(&before);
    cimd_result_free(&after);
    cimd_result_free(&cached);

    cimd_error *error = NULL;
    CHECK_STATUS(cimd_refresh(engine, "http://localhost/", 17, 0, &result, &error), CIMD_STATUS_REJECTED);
    CHECK(cimd_error_code(error) == CIMD_CODE_INVALID_CLIENT_ID_URL);
    cimd_error_free(&error);

    cimd_bytes stats = {0};
    CHECK_STATUS(cimd_stats_json(engine, &stats), CIMD_STATUS_OK);
    CHECK(contains(stats.data, stats.len, "\"invalidations\":1"));
    CHECK(contains(stats.data, stats.len, "\"hits\":1"));
    cimd_bytes_free(&stats);
    cimd_engine_free(&engine);
}

int main(void) {
    require_isolated_network();
    test_version();
    test_success_and_cache();
    test_every_error_code();
    test_config_errors();
    test_config_schema();
    test_null_and_utf8_arguments();
    test_handles_and_double_free();
    test_operator_calls();
    printf("test_abi: ok\n");
    return 0;
}
