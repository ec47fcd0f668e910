import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The class archive's training run (Maven profile {@code cds}, after the package phase): starts the packaged hub on
 * its embedded default, on free ports and a throw-away data folder, with {@code -XX:ArchiveClassesAtExit}, waits until
 * it is ready, and stops it with SIGTERM; the JVM writes the classes it loaded to the archive as it exits. Starting the
 * hub with {@code -XX:SharedArchiveFile} then maps those classes instead of loading, parsing and verifying each one.
 * The archive fits this jar and this JVM build only: with any other, the JVM says so in one warning line and starts
 * without it.
 *
 * <p>Run from the repository root: {@code java src/build/CdsTraining.java <java> <archive>}.
 */
public final class CdsTraining {

    private static final Duration READY_WITHIN = Duration.ofMinutes(3);

    public static void main(String[] args) throws Exception {
        String java = args[0];
        Path archive = Path.of(args[1]).toAbsolutePath();
        Path data = Files.createTempDirectory("handoff-cds-training");
        int http = freePort();
        int management = freePort();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:ArchiveClassesAtExit=" + archive,
                "-jar", Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath().toString()));
        // Started in the throw-away folder: Quarkus reads a .env file and config/application.properties from the
        // working directory, and a developer's (an external cluster, a real database) must not reach the training run.
        ProcessBuilder builder = new ProcessBuilder(command).directory(data.toFile()).redirectErrorStream(true)
                .redirectOutput(data.resolve("hub.log").toFile());
        // The hub's own defaults only: none of the developer's hub, Kafka, Quarkus or Camel settings (an external
        // cluster, a database) reach the training run.
        builder.environment().keySet().removeIf(name -> name.startsWith("HUB_") || name.startsWith("KAFKA_")
                || name.startsWith("QUARKUS_") || name.startsWith("CAMEL_"));
        builder.environment().put("HUB_ROUTES_DIR", Path.of("routes").toAbsolutePath().toString());
        builder.environment().put("HUB_DATA_DIR", data.toString());
        builder.environment().put("QUARKUS_HTTP_PORT", Integer.toString(http));
        builder.environment().put("QUARKUS_MANAGEMENT_PORT", Integer.toString(management));
        builder.environment().put("HUB_KAFKA_EMBEDDED_PORT", Integer.toString(freePort()));
        builder.environment().put("HUB_KAFKA_EMBEDDED_CONTROLLER_PORT", Integer.toString(freePort()));
        Files.deleteIfExists(archive);
        long started = System.nanoTime();
        Process hub = builder.start();
        try {
            awaitReady(hub, management, data.resolve("hub.log"));
            System.out.printf("cds training: hub ready after %d ms; stopping it to write %s%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), archive);
        } finally {
            hub.destroy(); // SIGTERM: the JVM exits normally and writes the archive
            if (!hub.waitFor(2, TimeUnit.MINUTES)) {
                hub.destroyForcibly();
            }
        }
        if (!Files.exists(archive)) {
            throw new IllegalStateException("the training run wrote no class archive; its log: " + data.resolve("hub.log"));
        }
        System.out.printf("cds training: %s written (%d MiB)%n", archive, Files.size(archive) >> 20);
        delete(data);
    }

    private static void awaitReady(Process hub, int management, Path log) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management + "/q/health/ready"))
                .timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + READY_WITHIN.toNanos();
        while (System.nanoTime() < deadline) {
            if (!hub.isAlive()) {
                throw new IllegalStateException("the hub of the training run ended with exit code " + hub.exitValue()
                        + "; its log: " + log);
            }
            try {
                if (client.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the hub of the training run was not ready within " + READY_WITHIN
                + "; its log: " + log);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
