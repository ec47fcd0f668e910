package io.handoff.hub.bench;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The packaged hub ({@code target/quarkus-app/quarkus-run.jar}, prod profile) as a child process of a benchmark or
 * fault run: started with the given settings against a Kafka and a database the run owns, measured (time to ready,
 * RSS), killed with SIGKILL and started again on the same data.
 */
final class BenchHub implements AutoCloseable {

    static final String SHOPIFY_SECRET = "bench-shopify-secret";
    static final String ADMIN_TOKEN = "bench-admin-token";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** Where the run's database lives: a file H2 the bench can read while the hub runs, or a fresh PostgreSQL one. */
    record Database(String kind, String url, String user) {

        /** {@code bench.db} = h2 (default) or postgresql ({@code bench.pg}, {@code bench.pg-user}). */
        static Database create(Path dir) throws SQLException {
            if ("postgresql".equals(System.getProperty("bench.db"))) {
                String server = System.getProperty("bench.pg", "jdbc:postgresql://127.0.0.1:5432/");
                String user = System.getProperty("bench.pg-user", "postgres");
                String name = "bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
                try (Connection c = DriverManager.getConnection(server + "postgres", user, "");
                        Statement s = c.createStatement()) {
                    s.execute("CREATE DATABASE " + name);
                }
                return new Database("postgresql", server + name, user);
            }
            // The embedded default's URL (application.properties), plus AUTO_SERVER: the hub serves the file to the
            // bench's reads while it runs (H2 refuses DB_CLOSE_ON_EXIT=FALSE with it); bench.h2-settings appends
            // settings to try (";RETENTION_TIME=0").
            return new Database("h2", "jdbc:h2:file:" + dir.resolve("h2/handoff") + ";MODE=PostgreSQL;"
                    + "DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;WRITE_DELAY=" + System.getProperty("bench.h2-write-delay", "0")
                    + ";AUTO_SERVER=TRUE" + System.getProperty("bench.h2-settings", ""), "sa");
        }

        Connection connect() throws SQLException {
            return DriverManager.getConnection(url, user, "");
        }

        /**
         * Stands in for autovacuum where the PostgreSQL server runs without it (this machine's CI configuration sets
         * {@code autovacuum = off}): the hub's hot tables are vacuumed every 15 s, as autovacuum would in production.
         * Without it, every claimed and delivered row stays behind as a dead tuple, and after 100,000 changes each lane
         * claim walked tens of thousands of them (seconds per claim). Null for H2, or a server with autovacuum on.
         */
        java.util.concurrent.ScheduledExecutorService vacuumLikeAutovacuum() throws SQLException {
            if (!"postgresql".equals(kind)) {
                return null;
            }
            try (Connection c = connect(); Statement s = c.createStatement();
                    java.sql.ResultSet rs = s.executeQuery("SHOW autovacuum")) {
                if (rs.next() && rs.getString(1).equals("on")) {
                    return null;
                }
            }
            var vacuum = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
            vacuum.scheduleWithFixedDelay(() -> {
                try (Connection c = connect(); Statement s = c.createStatement()) {
                    for (String table : List.of("delivery", "delivery_attempt", "system_consent", "consent_state",
                            "consent_history", "customer", "customer_system_id", "camel_messageprocessed")) {
                        s.execute("VACUUM ANALYZE " + table);
                    }
                } catch (SQLException e) {
                    // the database is gone or not migrated yet; the next round tries again
                }
            }, 15, 15, TimeUnit.SECONDS);
            return vacuum;
        }
    }

    /**
     * A run's database file and Kafka logs go when it ends (a long H2 run leaves gigabytes; several runs filled the
     * disk), unless {@code -Dbench.keep-data=true}. Returns the size of the run's H2 file in MiB first (-1: none).
     */
    static long dropData(Path runDir) throws IOException {
        Path h2File = runDir.resolve("h2/handoff.mv.db");
        long mib = Files.exists(h2File) ? Files.size(h2File) >> 20 : -1;
        if (!Boolean.getBoolean("bench.keep-data")) {
            for (String data : List.of("h2", "kafka")) {
                Path root = runDir.resolve(data);
                if (Files.exists(root)) {
                    try (var paths = Files.walk(root)) {
                        for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                            Files.delete(path);
                        }
                    }
                }
            }
        }
        return mib;
    }

    final Path dir;
    final int httpPort;
    final int managementPort;
    private final Map<String, String> settings = new LinkedHashMap<>();
    private final String heap;
    private Process process;
    private int starts;
    private final java.util.concurrent.ScheduledExecutorService vacuum;

    /**
     * @param dir the hub's data folder (logs go to {@code hub-<n>.log} in it)
     * @param kafka the bootstrap servers of the run's broker, or null for the embedded default (its own broker and
     *        sandbox, as the README's first command starts it)
     * @param db the run's database, or null for the hub's default (H2 in its data folder)
     * @param vendors base URL of the simulated vendors ({@code .../sandbox}), or null for the hub's own sandbox
     * @param heap the -Xmx value
     * @param extra more settings, overriding the defaults here
     */
    BenchHub(Path dir, String kafka, Database db, String vendors, String heap, Map<String, String> extra)
            throws IOException {
        this.dir = dir;
        this.heap = heap;
        this.httpPort = freePort();
        this.managementPort = freePort();
        Files.createDirectories(dir);
        settings.put("hub.data-dir", dir.toString());
        settings.put("hub.routes-dir", Path.of("routes").toAbsolutePath().toString());
        settings.put("quarkus.http.port", Integer.toString(httpPort));
        settings.put("quarkus.management.port", Integer.toString(managementPort));
        if (kafka == null) {
            settings.put("hub.kafka.embedded.port", Integer.toString(freePort()));
            settings.put("hub.kafka.embedded.controller-port", Integer.toString(freePort()));
        } else {
            settings.put("hub.kafka.bootstrap-servers", kafka);
            settings.put("camel.component.kafka.brokers", kafka);
        }
        try {
            vacuum = db == null ? null : db.vacuumLikeAutovacuum();
        } catch (SQLException e) {
            throw new IOException("the run's database does not answer", e);
        }
        if (db != null) {
            settings.put("hub.db.kind", db.kind());
            settings.put("quarkus.datasource." + db.kind() + ".jdbc.url", db.url());
            settings.put("quarkus.datasource." + db.kind() + ".username", db.user());
        }
        if (vendors != null) {
            settings.put("hub.sandbox.enabled", "true");
            settings.put("hub.sandbox.base-url", vendors);
        }
        settings.put("hub.systems.shopify.webhook-secret", SHOPIFY_SECRET);
        settings.put("hub.admin.token", ADMIN_TOKEN);
        settings.put("hub.feeds.check-interval", "1h");
        settings.putAll(extra);
    }

    String url() {
        return "http://127.0.0.1:" + httpPort;
    }

    /** Starts the hub and waits for readiness; answers the milliseconds from the process start to the first 200. */
    long start() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx" + heap));
        // Extra JVM options for the hub, e.g. a JFR recording: -Dbench.hub-jvm-args="-XX:StartFlightRecording=..."
        String jvmArgs = System.getProperty("bench.hub-jvm-args", "").strip();
        if (!jvmArgs.isEmpty()) {
            command.addAll(List.of(jvmArgs.replace("{n}", Integer.toString(starts + 1)).split("\\s+")));
        }
        settings.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(Path.of("target", "quarkus-app", "quarkus-run.jar").toAbsolutePath().toString());
        long begin = System.nanoTime();
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("hub-" + (++starts) + ".log").toFile()).start();
        Process started = process;
        await("the hub ready (see " + dir + ")").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                .pollInSameThread().until(() -> {
                    if (!started.isAlive()) {
                        throw new IllegalStateException("the hub exited with " + started.exitValue() + "; see " + dir);
                    }
                    return ready();
                });
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
    }

    private boolean ready() throws InterruptedException {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort
                    + "/q/health/ready")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /** The hub's resident set size in MiB (Linux {@code /proc/<pid>/status} {@code VmRSS}, in KiB). */
    long rssMiB() throws IOException {
        return procField("status", "VmRSS:") / 1024;
    }

    /**
     * Bytes the hub's process has had written to storage since it started, in MiB (Linux {@code /proc/<pid>/io}
     * {@code write_bytes}): the H2 file's pages and the embedded broker's log, if any, with the page cache's writes
     * counted when they are made.
     */
    long writtenMiB() throws IOException {
        return procField("io", "write_bytes:") / (1024 * 1024);
    }

    /** The number on the line of {@code /proc/<pid>/<file>} that starts with {@code key}. */
    private long procField(String file, String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), file))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no " + key + " in /proc/" + process.pid() + "/" + file);
    }

    /** True if any of this hub's starts logged an OutOfMemoryError. */
    boolean outOfMemory() throws IOException {
        for (int n = 1; n <= starts; n++) {
            Path log = dir.resolve("hub-" + n + ".log");
            if (Files.exists(log)) {
                try (var text = Files.lines(log, java.nio.charset.StandardCharsets.ISO_8859_1)) {
                    if (text.anyMatch(line -> line.contains("OutOfMemoryError"))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** SIGKILL: no shutdown hook, no in-flight work finished. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        if (vacuum != null) {
            vacuum.shutdownNow();
        }
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
