/*
 * 16 threads share one engine: resolves of overlapping client_ids (concurrent misses share one fetch, then
 * everything is a cache hit), probes, counters and results passed between threads. Run by tests/c/run.sh.
 */
#include <pthread.h>

#include "check.h"

#define THREADS 16
#define CLIENTS 64
#define ROUNDS 100

static cimd_engine *engine;
static char urls[CLIENTS][128];
/* The generation each client_id got first, shared by all threads (0 = not seen yet). */
static uint64_t generations[CLIENTS];
static pthread_mutex_t generations_lock = PTHREAD_MUTEX_INITIALIZER;
/* One result per thread, read by another thread after the join. */
static cimd_result *handed_over[THREADS];

static void *worker(void *arg) {
    size_t id = (size_t)arg;
    for (size_t round = 0; round < ROUNDS; round++) {
        size_t client = (id * 7 + round) % CLIENTS;
        cimd_result *result = NULL;
        cimd_error *error = NULL;
        cimd_status status = resolve(engine, urls[client], "https://localhost/callback", &result, &error);
        if (status != CIMD_STATUS_OK) {
            const char *message = "";
            if (error) cimd_error_message(error, &message, NULL);
            fprintf(stderr, "thread %zu: %s: %s %s\n", id, urls[client], cimd_status_name(status), message);
            exit(1);
        }
        const uint8_t *json = NULL;
        size_t len = 0;
        CHECK_STATUS(cimd_result_json(result, &json, &len), CIMD_STATUS_OK);
        CHECK(contains(json, len, urls[client]));
        uint64_t generation = cimd_result_generation(result);
        pthread_mutex_lock(&generations_lock);
        if (generations[client] == 0) generations[client] = generation;
        CHECK(generations[client] == generation);
        pthread_mutex_unlock(&generations_lock);

        cimd_result *probed = NULL;
        CHECK_STATUS(cimd_probe(engine, urls[client], strlen(urls[client]), &probed), CIMD_STATUS_OK);
        CHECK(cimd_result_generation(probed) == generation);
        cimd_result_free(&probed);
        if (round % 25 == 0) {
            cimd_bytes stats = {0};
            CHECK_STATUS(cimd_stats_json(engine, &stats), CIMD_STATUS_OK);
            cimd_bytes_free(&stats);
        }
        if (round + 1 == ROUNDS) {
            handed_over[id] = result;
        } else {
            cimd_result_free(&result);
        }
    }
    return NULL;
}

int main(void) {
    require_isolated_network();
    for (size_t i = 0; i < CLIENTS; i++) {
        char path[32];
        snprintf(path, sizeof path, "/c/%zu.json", i);
        origin_url(urls[i], sizeof urls[i], path);
    }
    engine = test_engine("");
    pthread_t threads[THREADS];
    for (size_t i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, worker, (void *)i) == 0);
    for (size_t i = 0; i < THREADS; i++) CHECK(pthread_join(threads[i], NULL) == 0);

    for (size_t i = 0; i < THREADS; i++) {
        const uint8_t *json = NULL;
        size_t len = 0;
        CHECK_STATUS(cimd_result_json(handed_over[i], &json, &len), CIMD_STATUS_OK);
        CHECK(contains(json, len, "\"client_name\":\"C test client\""));
        cimd_result_free(&handed_over[i]);
    }
    /* Every client_id was fetched exactly once: concurrent misses waited for one fetch. */
    cimd_bytes stats = {0};
    CHECK_STATUS(cimd_stats_json(engine, &stats), CIMD_STATUS_OK);
    char expected[64];
    snprintf(expected, sizeof expected, "\"fetches\":%d,", CLIENTS);
    if (!contains(stats.data, stats.len, expected)) {
        fprintf(stderr, "stats %s lack %s\n", (const char *)stats.data, expected);
        exit(1);
    }
    CHECK(contains(stats.data, stats.len, "\"failures\":{}"));
    printf("test_threads: ok: %d threads x %d resolves; %s\n", THREADS, ROUNDS, (const char *)stats.data);
    cimd_bytes_free(&stats);
    cimd_engine_free(&engine);
    return 0;
}
