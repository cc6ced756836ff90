package dev.cimd.keycloak.jni;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads the cimd engine's native library once per class loader.
 *
 * <p>The library travels inside the jar ({@code native/linux-x86_64/libcimd.so}), because Keycloak operators install
 * providers by dropping one jar into {@code providers/}. The JVM can only {@code System.load} a file, so it is
 * copied to a private temporary file first, which is deleted when the JVM exits. A development build can point
 * at a library on disk instead with {@code -Dcimd.native.library=/path/to/libcimd.so}.
 */
final class NativeLoader {
    static final String OVERRIDE_PROPERTY = "cimd.native.library";

    private NativeLoader() {
    }

    /** The resource path of the library for this platform, or an error naming the unsupported platform. */
    static String resourcePath(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        if (os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
            return "/native/linux-x86_64/libcimd.so";
        }
        throw new UnsatisfiedLinkError("cimd: no native engine is packaged for " + osName + "/" + osArch
                + " (this build ships linux-x86_64); build it with `cargo build --release --features jni` and set -D"
                + OVERRIDE_PROPERTY + "=/path/to/libcimd.so");
    }

    static void load() {
        String override = System.getProperty(OVERRIDE_PROPERTY);
        if (override != null && !override.isBlank()) {
            System.load(Path.of(override).toAbsolutePath().toString());
            return;
        }
        String resource = resourcePath(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
        try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("cimd: the jar does not contain " + resource);
            }
            Path file = Files.createTempFile("libcimd-", ".so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            System.load(file.toAbsolutePath().toString());
        } catch (IOException e) {
            UnsatisfiedLinkError error = new UnsatisfiedLinkError("cimd: cannot unpack " + resource + ": " + e);
            error.initCause(e);
            throw error;
        }
    }
}
