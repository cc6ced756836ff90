/*
 * fork(): a child keeps using the engine its parent created (pre-fork servers do this). The child sees the
 * parent's cache without any I/O, fetches a client_id the parent never resolved (the engine starts a new I/O
 * runtime in the child), and can free the engine; the parent's engine keeps working. Run by tests/c/run.sh.
 *
 * Leaks are checked in the parent only, by the explicit leak check at the end (run.sh runs this test with
 * --leak-check=no): a child inherits the parent's I/O runtime, whose threads do not exist in the child, and
 * what those threads held on their stacks can be neither reached nor freed there. The engine parks that
 * runtime for the life of the child (src/engine.rs, `Drop for Io`). Memory errors are checked everywhere.
 */
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/memcheck.h>

#include "check.h"

static cimd_engine *engine;
static char cached_url[128], new_url[128], third_url[128];

static void expect(const char *url, cimd_source source) {
    cimd_result *result = NULL;
    cimd_error *error = NULL;
    cimd_status status = resolve(engine, url, NULL, &result, &error);
    if (status != CIMD_STATUS_OK) {
        const char *message = "";
        if (error) cimd_error_message(error, &message, NULL);
        fprintf(stderr, "[pid %d] %s: %s %s\n", (int)getpid(), url, cimd_status_name(status), message);
        exit(1);
    }
    if (cimd_result_source(result) != source) {
        fprintf(stderr, "[pid %d] %s: source %s, expected %s\n", (int)getpid(), url,
                cimd_source_name(cimd_result_source(result)), cimd_source_name(source));
        exit(1);
    }
    cimd_result_free(&result);
}

/* Runs `child` in a forked process and checks that it exits 0. */
static void in_child(void (*child)(void)) {
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        child();
        exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "child failed (wait status %d)\n", status);
        exit(1);
    }
}

static void child_resolves(void) {
    cimd_result *probed = NULL;
    CHECK_STATUS(cimd_probe(engine, cached_url, strlen(cached_url), &probed), CIMD_STATUS_OK);
    cimd_result_free(&probed);
    expect(cached_url, CIMD_SOURCE_CACHE);
    expect(new_url, CIMD_SOURCE_NETWORK);
    expect(new_url, CIMD_SOURCE_CACHE);
    cimd_engine_free(&engine);
}

/* A child that never needs the network: it only reads the inherited cache, then frees the engine, whose I/O
 * runtime (and its threads) exist only in the parent. */
static void child_probes_only(void) {
    expect(cached_url, CIMD_SOURCE_CACHE);
    cimd_engine_free(&engine);
}

/* A grandchild: forked from a child whose engine had already started its own I/O runtime. */
static void grandchild_resolves(void) {
    expect(new_url, CIMD_SOURCE_CACHE);
    expect(third_url, CIMD_SOURCE_NETWORK);
    cimd_engine_free(&engine);
}

static void child_forks_again(void) {
    expect(new_url, CIMD_SOURCE_NETWORK);
    in_child(grandchild_resolves);
    expect(third_url, CIMD_SOURCE_NETWORK);
}

int main(void) {
    require_isolated_network();
    origin_url(cached_url, sizeof cached_url, "/ok.json");
    origin_url(new_url, sizeof new_url, "/fork-new.json");
    origin_url(third_url, sizeof third_url, "/c/0.json");
    engine = test_engine("");
    expect(cached_url, CIMD_SOURCE_NETWORK);

    in_child(child_resolves);
    in_child(child_probes_only);
    in_child(child_forks_again);

    /* The children's fetches stayed in the children; the parent's engine still fetches and serves hits. */
    cimd_result *result = NULL;
    CHECK_STATUS(cimd_probe(engine, new_url, strlen(new_url), &result), CIMD_STATUS_NOT_FOUND);
    expect(new_url, CIMD_SOURCE_NETWORK);
    expect(cached_url, CIMD_SOURCE_CACHE);
    cimd_engine_free(&engine);
    VALGRIND_DO_LEAK_CHECK;
    printf("test_fork: ok\n");
    return 0;
}
