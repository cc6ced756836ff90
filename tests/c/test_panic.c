/*
 * A panic inside cimd comes back as CIMD_STATUS_PANIC, and the process and the library carry on. Needs the
 * test build of the library (cargo feature ffi-test-panic), which exports cimd_test_panic(): it is not part of
 * the ABI, so it is declared here rather than in cimd.h. Run by tests/c/run.sh.
 */
#include "check.h"

cimd_status cimd_test_panic(void);

int main(void) {
    require_isolated_network();
    char url[128];
    origin_url(url, sizeof url, "/ok.json");
    cimd_engine *engine = test_engine("");
    cimd_result *result = NULL;
    CHECK_STATUS(resolve(engine, url, NULL, &result, NULL), CIMD_STATUS_OK);
    cimd_result_free(&result);

    for (int i = 0; i < 3; i++) CHECK_STATUS(cimd_test_panic(), CIMD_STATUS_PANIC);

    /* Still alive, and the engine and its cache still work. */
    CHECK_STATUS(resolve(engine, url, NULL, &result, NULL), CIMD_STATUS_OK);
    CHECK(cimd_result_source(result) == CIMD_SOURCE_CACHE);
    cimd_result_free(&result);
    cimd_engine_free(&engine);
    printf("test_panic: ok\n");
    return 0;
}
