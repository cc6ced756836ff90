/*
 * resolve: resolve one OAuth client_id through libcimd and print the result as one JSON line.
 *
 *   CIMD_CONFIG='{"auth_methods_supported": ["none"]}' ./resolve CLIENT_ID [REDIRECT_URI]
 *
 * CIMD_CONFIG is the engine configuration (JSON, the same keys as every cimd front end; default {}).
 * Exit status: 0 resolved, 1 rejected, 2 usage, configuration or library error.
 *
 * Build (see docs/c-abi.md):
 *   shared: cc -Iinclude examples/c/resolve.c -Ltarget/release -lcimd -Wl,-rpath,$PWD/target/release -o resolve
 *   static: cc -Iinclude examples/c/resolve.c target/release/libcimd.a -lpthread -ldl -lm -o resolve
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cimd.h"

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s CLIENT_ID [REDIRECT_URI]\n", argv[0]);
        return 2;
    }
    /* A library with another major ABI version is not the library this program was written for. */
    if (cimd_abi_version() >> 16 != CIMD_ABI_VERSION_MAJOR) {
        fprintf(stderr, "libcimd ABI %u, expected major version %d\n", cimd_abi_version() >> 16,
                CIMD_ABI_VERSION_MAJOR);
        return 2;
    }
    const char *config = getenv("CIMD_CONFIG");
    if (config == NULL) config = "{}";

    cimd_engine *engine = NULL;
    cimd_error *error = NULL;
    cimd_status status = cimd_engine_new(config, strlen(config), &engine, &error);
    if (status != CIMD_STATUS_OK) {
        const char *message = "";
        if (error != NULL) cimd_error_message(error, &message, NULL);
        fprintf(stderr, "cimd_engine_new: %s: %s\n", cimd_status_name(status), message);
        cimd_error_free(&error);
        return 2;
    }

    const char *client_id = argv[1];
    const char *redirect_uri = argc == 3 ? argv[2] : NULL;
    cimd_result *result = NULL;
    status = cimd_resolve(engine, client_id, strlen(client_id), redirect_uri,
                          redirect_uri != NULL ? strlen(redirect_uri) : 0, 0, &result, &error);
    int exit_status;
    if (status == CIMD_STATUS_OK) {
        /* Borrowed bytes, not NUL-terminated, valid until the result is freed. */
        const uint8_t *json = NULL;
        size_t len = 0;
        cimd_result_json(result, &json, &len);
        printf("{\"ok\":true,\"source\":\"%s\",\"document\":%.*s}\n", cimd_source_name(cimd_result_source(result)),
               (int)len, (const char *)json);
        cimd_result_free(&result);
        exit_status = 0;
    } else if (status == CIMD_STATUS_REJECTED) {
        const char *message = NULL;
        cimd_error_message(error, &message, NULL);
        /* The description names the rule; a real host would escape it for its error page or log. */
        fprintf(stderr, "rejected: %s (OAuth error %s): %s\n", cimd_code_name(cimd_error_code(error)),
                cimd_error_oauth_error(error), message);
        cimd_error_free(&error);
        exit_status = 1;
    } else {
        fprintf(stderr, "cimd_resolve: %s\n", cimd_status_name(status));
        exit_status = 2;
    }
    cimd_engine_free(&engine);
    return exit_status;
}
