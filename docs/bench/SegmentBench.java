// Segment benchmark: starts the packaged hub (prod profile, embedded Kafka, file H2 or PostgreSQL), seeds 1,000,000
// orders (one line each) over 200,000 customers and 1,000 SKUs, 100,000 waitlist entries, stock for half the SKUs,
// consent (every 10th customer not subscribed) and fresh feed states, then evaluates back-in-stock through
// POST /api/segments/back-in-stock/evaluate and reports the answer's latency (p50, max over --runs) and size.
//
//   ./mvnw -B package -DskipTests
//   java -cp target/quarkus-app/lib/main/com.h2database.h2-2.4.240.jar docs/bench/SegmentBench.java \
//        [--orders 1000000] [--waitlist 100000] [--runs 10]
//   java -cp target/quarkus-app/lib/main/org.postgresql.postgresql-42.7.9.jar docs/bench/SegmentBench.java \
//        --db postgresql [--pg jdbc:postgresql://127.0.0.1:5432/] [--pg-user postgres]   (a fresh database per run)
//
// Of the waitlisted customers (c0..c<waitlist-1>, SKU = x mod 1000): every 7th bought its SKU after joining (excluded),
// every 10th is not subscribed (excluded), SKUs with an odd number are out of stock (excluded).
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

public class SegmentBench {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>(Map.of("--orders", "1000000", "--waitlist", "100000", "--runs", "10",
                "--xmx", "512m", "--jar", "target/quarkus-app/quarkus-run.jar", "--db", "h2",
                "--pg", "jdbc:postgresql://127.0.0.1:5432/", "--pg-user", "postgres"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        int orders = Integer.parseInt(opt.get("--orders"));
        int waitlist = Integer.parseInt(opt.get("--waitlist"));
        int customers = Math.max(waitlist, orders / 5);
        Path data = Files.createTempDirectory("handoff-segment-bench");
        boolean postgres = "postgresql".equals(opt.get("--db"));
        String user = postgres ? opt.get("--pg-user") : "sa";
        String db;
        if (postgres) {
            String name = "handoff_bench_" + Long.toHexString(System.nanoTime());
            try (Connection admin = DriverManager.getConnection(opt.get("--pg") + "postgres", user, "");
                    Statement s = admin.createStatement()) {
                s.execute("CREATE DATABASE " + name);
            }
            db = opt.get("--pg") + name;
        } else {
            db = "jdbc:h2:file:" + data.resolve("h2/handoff") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;"
                    + "DEFAULT_NULL_ORDERING=HIGH;AUTO_SERVER=TRUE";
        }
        int http = freePort();
        int management = freePort();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx" + opt.get("--xmx"), "-Dhub.data-dir=" + data,
                postgres ? "-Dhub.db.kind=postgresql" : "-Dhub.db.kind=h2",
                "-Dquarkus.datasource." + (postgres ? "postgresql" : "h2") + ".jdbc.url=" + db,
                "-Dquarkus.datasource.postgresql.username=" + user, "-Dquarkus.datasource.postgresql.password=",
                "-Dquarkus.http.port=" + http, "-Dquarkus.management.port=" + management,
                "-Dhub.kafka.embedded.port=" + freePort(), "-Dhub.kafka.embedded.controller-port=" + freePort(),
                "-Dhub.sandbox.enabled=false", "-Dhub.admin.token=bench", "-Dhub.feeds.check-interval=1h",
                "-Dquarkus.log.level=WARN", "-Dquarkus.log.category.\"io.handoff\".level=INFO",
                "-Dhub.routes-dir=" + Path.of("routes").toAbsolutePath(), "-jar",
                Path.of(opt.get("--jar")).toAbsolutePath().toString()));
        Process hub = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(data.resolve("hub.log").toFile()).start();
        try {
            waitReady(management, hub);
            long seeded = System.nanoTime();
            String cust = postgres ? "generate_series(0, " + (customers - 1) + ") AS r(x)"
                    : "SYSTEM_RANGE(0, " + (customers - 1) + ") AS r(x)";
            String ord = postgres ? "generate_series(0, " + (orders - 1) + ") AS r(x)"
                    : "SYSTEM_RANGE(0, " + (orders - 1) + ") AS r(x)";
            String wait = postgres ? "generate_series(0, " + (waitlist - 1) + ") AS r(x)"
                    : "SYSTEM_RANGE(0, " + (waitlist - 1) + ") AS r(x)";
            String skus = postgres ? "generate_series(0, 999) AS r(x)" : "SYSTEM_RANGE(0, 999) AS r(x)";
            try (Connection sql = DriverManager.getConnection(db, user, ""); Statement s = sql.createStatement()) {
                s.execute("INSERT INTO customer (hub_id, email, created_at) SELECT CONCAT('bench-', x),"
                        + " CONCAT('c', x, '@bench.example'), CURRENT_TIMESTAMP FROM " + cust);
                s.execute("INSERT INTO consent_state (hub_id, channel, purpose, state, reason, source_system,"
                        + " event_source, event_id, event_time, updated_at, version) SELECT CONCAT('bench-', x), 'email',"
                        + " 'marketing', CASE WHEN MOD(x, 10) = 9 THEN 'unsubscribed' ELSE 'subscribed' END, NULL,"
                        + " 'bench', '/systems/bench', CONCAT('bench-', x), TIMESTAMP WITH TIME ZONE"
                        + " '2026-11-01 00:00:00+00', CURRENT_TIMESTAMP, 1 FROM " + cust);
                // Order x belongs to customer x mod customers, on SKU (x / customers) mod 1000, placed on 2026-11-10;
                // every 7th waitlisted customer gets one more order of its own SKU after joining.
                s.execute("INSERT INTO feed_order (system, order_id, hub_id, placed_at, status, event_id, updated_at)"
                        + " SELECT CASE WHEN MOD(x, 3) = 0 THEN 'amazon' ELSE 'shopify' END, CONCAT('o', x),"
                        + " CONCAT('bench-', MOD(x, " + customers + ")), TIMESTAMP WITH TIME ZONE"
                        + " '2026-11-10 00:00:00+00', 'paid', CONCAT('e', x), CURRENT_TIMESTAMP FROM " + ord);
                s.execute("INSERT INTO feed_order_line (system, order_id, line_no, sku, quantity) SELECT CASE WHEN"
                        + " MOD(x, 3) = 0 THEN 'amazon' ELSE 'shopify' END, CONCAT('o', x), 0, CONCAT('SKU-',"
                        + " MOD(x / " + customers + ", 1000)), 1 FROM " + ord);
                s.execute("INSERT INTO feed_order (system, order_id, hub_id, placed_at, status, event_id, updated_at)"
                        + " SELECT 'amazon', CONCAT('w', x), CONCAT('bench-', x), TIMESTAMP WITH TIME ZONE"
                        + " '2026-11-22 00:00:00+00', 'paid', CONCAT('w', x), CURRENT_TIMESTAMP FROM " + wait
                        + " WHERE MOD(x, 7) = 0");
                s.execute("INSERT INTO feed_order_line (system, order_id, line_no, sku, quantity) SELECT 'amazon',"
                        + " CONCAT('w', x), 0, CONCAT('SKU-', MOD(x, 1000)), 1 FROM " + wait + " WHERE MOD(x, 7) = 0");
                s.execute("INSERT INTO feed_waitlist (hub_id, sku, joined_at, source_system) SELECT CONCAT('bench-', x),"
                        + " CONCAT('SKU-', MOD(x, 1000)), TIMESTAMP WITH TIME ZONE '2026-11-20 00:00:00+00', 'checkout'"
                        + " FROM " + wait);
                s.execute("INSERT INTO feed_inventory (item, location, available, source_system, event_time, updated_at)"
                        + " SELECT CONCAT('SKU-', x), 'WH-1', CASE WHEN MOD(x, 2) = 0 THEN 5 ELSE 0 END, 'erp',"
                        + " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM " + skus);
                // Every feed back-in-stock depends on is fresh.
                s.execute("INSERT INTO feed_state (feed, last_event_time, last_received_at, last_sync_at,"
                        + " last_sync_records, last_records_at, zero_runs, stale_events) VALUES"
                        + " ('shopify-orders', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, NULL, NULL, NULL, 0, 0),"
                        + " ('amazon-orders', NULL, NULL, CURRENT_TIMESTAMP, 5, CURRENT_TIMESTAMP, 0, 0),"
                        + " ('erp-inventory', NULL, NULL, CURRENT_TIMESTAMP, 1000, CURRENT_TIMESTAMP, 0, 0)");
                if (postgres) {
                    s.execute("ANALYZE");
                }
            }
            System.out.printf("seeded %,d customers, %,d orders, %,d waitlist entries in %d ms%n", customers, orders,
                    waitlist, (System.nanoTime() - seeded) / 1_000_000);
            List<Long> millis = new ArrayList<>();
            String last = "";
            for (int i = 0; i < Integer.parseInt(opt.get("--runs")); i++) {
                long t = System.nanoTime();
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http
                        + "/api/segments/back-in-stock/evaluate")).header("Authorization", "Bearer bench")
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                millis.add((System.nanoTime() - t) / 1_000_000);
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
                }
                last = r.body();
            }
            List<Long> sorted = millis.stream().sorted().toList();
            String count = last.replaceAll("(?s).*\"count\":(\\d+).*", "$1");
            String evaluation = last.replaceAll("(?s).*\"evaluationMs\":(\\d+).*", "$1");
            System.out.printf("back-in-stock over %,d orders and %,d waitlist entries: %s members, answer in ms:"
                    + " first %d, p50 %d, max %d (runs %s); answer %,d bytes, of which the hub's evaluation (freshness and"
                    + " SQL) %s ms in the last run%n", orders, waitlist, count, millis.get(0), sorted.get(sorted.size() / 2),
                    sorted.get(sorted.size() - 1), millis, last.length(), evaluation);
        } finally {
            hub.destroy();
            hub.waitFor();
        }
    }

    static void waitReady(int management, Process hub) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            if (!hub.isAlive()) {
                throw new IllegalStateException("the hub exited with " + hub.exitValue());
            }
            try {
                if (HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management + "/q/health/ready"))
                        .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException e) {
                // not up yet
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the hub was not ready in 120 s");
    }

    static int freePort() throws java.io.IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
