package dev.cimd.keycloak.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The Java client of the test origin ({@code tests/origin/origin.rs} at the repository's root, cargo example
 * {@code test-origin}): the one loopback HTTPS origin, with one throwaway CA per run, that the tests of every
 * language start. It runs as a child process whose path is in {@code CIMD_TEST_ORIGIN} (make java-unit sets it),
 * scripted through JSON lines on its standard input; it ends when that input closes ({@link #close}, or the JVM's
 * exit), so a crashed test never leaves it running. Every call waits at most {@link #TIMEOUT_SECONDS} for the
 * answer. Network safety: the origin listens on 127.0.0.1 only.
 */
public final class OriginClient implements AutoCloseable {
    public static final long TIMEOUT_SECONDS = 30;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EOF = "\0eof";

    private final Process process;
    private final OutputStream stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final String caFile;

    /** Starts a run of the test origin and waits for it to be ready. */
    public OriginClient() throws IOException {
        String path = System.getenv("CIMD_TEST_ORIGIN");
        if (path == null || path.isEmpty()) {
            throw new IllegalStateException("CIMD_TEST_ORIGIN is not set: run the tests through make java-unit (it "
                    + "builds the test origin with `cargo build --example test-origin` and sets it)");
        }
        if (!Files.isExecutable(Path.of(path))) {
            throw new IllegalStateException("CIMD_TEST_ORIGIN=" + path + " is not an executable program: build it "
                    + "with `cargo build --example test-origin` (make test-origin)");
        }
        process = new ProcessBuilder(path).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        stdin = process.getOutputStream();
        Thread reader = new Thread(this::read, "test-origin-reader");
        reader.setDaemon(true);
        reader.start();
        String ca = null;
        for (String line = next("start"); !line.equals("READY"); line = next("start")) {
            if (line.startsWith("CA=")) {
                ca = line.substring(3);
            }
        }
        if (ca == null) {
            throw new IllegalStateException("the test origin printed no CA= line");
        }
        caFile = ca;
    }

    private void read() {
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                lines.add(line);
            }
        } catch (IOException e) {
            // The origin is gone: next() says so.
        }
        lines.add(EOF);
    }

    private String next(String what) {
        String line;
        try {
            line = lines.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the test origin's answer to " + what);
        }
        if (line == null) {
            throw new IllegalStateException("the test origin did not answer " + what + " within " + TIMEOUT_SECONDS
                    + " s");
        }
        if (line.equals(EOF)) {
            lines.add(EOF);
            throw new IllegalStateException("the test origin exited before answering " + what);
        }
        return line;
    }

    /** The PEM file of this run's CA. */
    public String caFile() {
        return caFile;
    }

    /** Sends one command ({@code op} and its fields) and returns the answer; throws if it was refused. */
    public synchronized JsonNode call(String op, Map<String, ?> fields) throws IOException {
        ObjectNode command = JSON.createObjectNode().put("op", op);
        command.setAll(JSON.<ObjectNode>valueToTree(fields));
        stdin.write((JSON.writeValueAsString(command) + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
        JsonNode answer = JSON.readTree(next(op));
        if (!answer.path("ok").asBoolean()) {
            throw new IllegalStateException("the test origin refused " + op + ": " + answer.path("error").asText());
        }
        return answer;
    }

    /** A listener on 127.0.0.1 (port 0: any free port) with a certificate from this run's CA for {@code names}. */
    public Listener listen(List<String> names) throws IOException {
        JsonNode answer = call("listen", Map.of("names", names));
        return new Listener(answer.path("listener").asLong(), answer.path("port").asInt());
    }

    /** One reply: status, headers (in order), body. */
    public record Reply(int status, List<Map.Entry<String, String>> headers, String body) {
        ObjectNode wire() {
            ObjectNode r = JSON.createObjectNode().put("status", status).put("body", body);
            ArrayNode hs = r.putArray("headers");
            for (Map.Entry<String, String> h : headers) {
                hs.addArray().add(h.getKey()).add(h.getValue());
            }
            return r;
        }
    }

    /** One listening port of the origin, with its own routes and request counts. */
    public final class Listener {
        private final long id;
        private final int port;

        private Listener(long id, int port) {
            this.id = id;
            this.port = port;
        }

        public int port() {
            return port;
        }

        /** Scripts {@code path}: the n-th request gets the n-th reply, and the last one repeats. */
        public void route(String path, Reply... replies) throws IOException {
            ArrayNode wire = JSON.createArrayNode();
            for (Reply r : replies) {
                wire.add(r.wire());
            }
            call("route", Map.of("listener", id, "path", path, "replies", wire));
        }

        /** Requests that reached {@code path} since the listener opened or was last {@link #clear}ed. */
        public int count(String path) throws IOException {
            return call("count", Map.of("listener", id, "path", path)).path("count").asInt();
        }

        /** Forgets the requests recorded so far: counts start again at 0. */
        public void clear() throws IOException {
            call("clear", Map.of("listener", id));
        }
    }

    /** Closes the origin's standard input, which ends it; waits for it, and kills it if it lingers. */
    @Override
    public void close() throws IOException {
        stdin.close();
        try {
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
