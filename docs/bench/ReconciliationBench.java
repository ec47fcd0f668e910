// Reconciliation benchmark: starts the packaged hub (prod profile, embedded Kafka, file H2) against a stub that serves
// each vendor's suppression list as fast as it can, seeds the ledger with the same customers, runs one reconciliation
// (a dry run) and reports wall time, per-system pull and compare time, pages, the drift totals, and the hub's heap
// (the maximum of jvm_memory_used_bytes{area="heap"} sampled every 100 ms, with -Xmx as the ceiling) and RSS.
//
//   ./mvnw -B package -DskipTests
//   java -cp target/quarkus-app/lib/main/com.h2database.h2-2.4.240.jar docs/bench/ReconciliationBench.java \
//        [--contacts 1000000] [--systems salesforce] [--xmx 512m]
//   java -cp ... docs/bench/ReconciliationBench.java --contacts 250000 --systems salesforce,loyalty,shopify,klaviyo
//   java -cp target/quarkus-app/lib/main/org.postgresql.postgresql-42.7.9.jar docs/bench/ReconciliationBench.java \
//        --db postgresql [--pg jdbc:postgresql://127.0.0.1:5432/] [--pg-user postgres]   (a fresh database per run)
//
// Each system lists --contacts contacts; the ledger holds that many customers (shared by all systems). Of the listed:
// every 20th is unknown to the hub (u<k>), the customer c<k> it replaces is an opt-out the system does not list
// (would-mail), and every 20th + 19 is subscribed in the ledger but suppressed there (ledger-subscribed): 5% of each.
// Klaviyo's read limit (750/min) is switched off for the run: the stub answers as fast as it can.
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

public class ReconciliationBench {

    static int contacts;
    static final String SUPPRESSED_AT = "2026-11-02T00:00:00Z";
    static final HttpClient HTTP = HttpClient.newHttpClient();

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>(Map.of("--contacts", "1000000", "--systems", "salesforce",
                "--xmx", "512m", "--jar", "target/quarkus-app/quarkus-run.jar", "--db", "h2",
                "--pg", "jdbc:postgresql://127.0.0.1:5432/", "--pg-user", "postgres"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        contacts = Integer.parseInt(opt.get("--contacts"));
        List<String> systems = List.of(opt.get("--systems").split(","));

        // Without TCP_NODELAY the JDK server answers small pages 40 ms late (Nagle and delayed ACKs).
        System.setProperty("sun.net.httpserver.nodelay", "true");
        HttpServer stub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        stub.setExecutor(Executors.newFixedThreadPool(8));
        stub.createContext("/salesforce/", ReconciliationBench::salesforce);
        stub.createContext("/loyalty/", ReconciliationBench::loyalty);
        stub.createContext("/shopify/", ReconciliationBench::shopify);
        stub.createContext("/klaviyo/", ReconciliationBench::klaviyo);
        stub.start();
        String stubUrl = "http://127.0.0.1:" + stub.getAddress().getPort();

        Path data = Files.createTempDirectory("handoff-recon-bench");
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
                "-Dhub.sandbox.enabled=false", "-Dhub.admin.token=bench", "-Dquarkus.log.level=WARN",
                "-Dquarkus.log.category.\"io.handoff\".level=INFO"));
        for (String system : systems) {
            command.add("-Dhub.systems." + system + ".base-url=" + stubUrl + "/" + system);
            command.add("-Dhub.systems." + system + ".api-key=bench");
            command.add("-Dhub.systems." + system + ".access-token=bench");
            command.add("-Dhub.systems." + system + ".reconcile.rate-limit.per-second=0");
            command.add("-Dhub.systems." + system + ".reconcile.rate-limit.per-minute=0");
        }
        command.add("-Dhub.systems.loyalty.reconcile.page-size=1000");
        command.add("-jar");
        command.add(Path.of(opt.get("--jar")).toAbsolutePath().toString());
        Process hub = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(data.resolve("hub.log").toFile()).start();
        try {
            long t0 = System.nanoTime();
            waitReady(management, hub);
            System.out.printf("hub ready in %d ms (log: %s)%n", (System.nanoTime() - t0) / 1_000_000,
                    data.resolve("hub.log"));
            long seeded = System.nanoTime();
            // The ledger's rows, generated in the database: H2's SYSTEM_RANGE, PostgreSQL's generate_series.
            String range = postgres ? "generate_series(0, " + (contacts - 1) + ") AS r(x)"
                    : "SYSTEM_RANGE(0, " + (contacts - 1) + ") AS r(x)";
            try (Connection sql = DriverManager.getConnection(db, user, ""); Statement s = sql.createStatement()) {
                s.execute("INSERT INTO customer (hub_id, email, created_at) SELECT CONCAT('bench-', x),"
                        + " CONCAT('c', x, '@bench.example'), CURRENT_TIMESTAMP FROM " + range);
                s.execute("INSERT INTO consent_state (hub_id, channel, purpose, state, reason, source_system,"
                        + " event_source, event_id, event_time, updated_at, version) SELECT CONCAT('bench-', x), 'email',"
                        + " 'marketing', CASE WHEN MOD(x, 20) = 19 THEN 'subscribed' ELSE 'unsubscribed' END, NULL,"
                        + " 'bench', '/systems/bench', CONCAT('bench-', x), TIMESTAMP WITH TIME ZONE"
                        + " '2026-11-01 00:00:00+00', CURRENT_TIMESTAMP, 1 FROM " + range);
                if (postgres) {
                    s.execute("ANALYZE");
                }
            }
            System.out.printf("ledger seeded with %,d customers in %d ms%n", contacts,
                    (System.nanoTime() - seeded) / 1_000_000);

            String base = "http://127.0.0.1:" + http;
            long started = System.nanoTime();
            String answer = send(HttpRequest.newBuilder(URI.create(base + "/api/reconciliations"))
                    .header("Authorization", "Bearer bench").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"systems\": [\"" + String.join("\",\"", systems)
                            + "\"]}")).build());
            String id = field(answer, "id");
            long peakHeap = 0;
            String report;
            while (true) {
                peakHeap = Math.max(peakHeap, heap(management));
                report = send(HttpRequest.newBuilder(URI.create(base + "/api/reconciliations/" + id + "?limit=0"))
                        .header("Authorization", "Bearer bench").build());
                if (!report.contains("\"status\":\"running\"")) {
                    break;
                }
                Thread.sleep(100);
            }
            long wall = (System.nanoTime() - started) / 1_000_000;
            System.out.printf("reconciliation %s: %s in %,d ms wall; peak heap sampled %d MiB (-Xmx%s); hub RSS %d MiB%n",
                    id, field(report, "status"), wall, peakHeap >> 20, opt.get("--xmx"), rss(hub.pid()) >> 10);
            Matcher m = Pattern.compile("\\{\"system\":\"([a-z]+)\",\"status\":\"([a-z]+)\",\"pages\":(\\d+),"
                    + "\"pageRetries\":\\d+,\"pulled\":(\\d+),.*?\"durationMs\":(\\d+),\"pullMs\":(\\d+).*?"
                    + "\"totals\":(\\{[^}]*\\})").matcher(report);
            while (m.find()) {
                System.out.printf("  %-10s %s: %s pages, %,d contacts pulled in %,d ms, compared by %,d ms; %s%n",
                        m.group(1), m.group(2), m.group(3), Long.parseLong(m.group(4)), Long.parseLong(m.group(6)),
                        Long.parseLong(m.group(5)), m.group(7));
            }
        } finally {
            hub.destroy();
            hub.waitFor();
            stub.stop(0);
        }
    }

    /** Listed element k: every 20th is unknown to the hub, the rest are ledger customers. */
    static String email(int k) {
        return (k % 20 == 0 ? "u" : "c") + k + "@bench.example";
    }

    static void salesforce(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        int page = path.contains("/query/01gBENCH-") ? Integer.parseInt(path.substring(path.lastIndexOf('-') + 1)) : 0;
        int size = 2000;
        int from = page * size;
        int to = Math.min(contacts, from + size);
        StringBuilder b = new StringBuilder(to > from ? (to - from) * 200 : 64);
        b.append("{\"totalSize\":").append(contacts).append(",\"done\":").append(to >= contacts);
        if (to < contacts) {
            b.append(",\"nextRecordsUrl\":\"/services/data/v64.0/query/01gBENCH-").append(page + 1).append('"');
        }
        b.append(",\"records\":[");
        for (int k = from; k < to; k++) {
            b.append(k > from ? "," : "").append("{\"attributes\":{\"type\":\"Contact\",\"url\":\"/services/data/v64.0/"
                    + "sobjects/Contact/003B").append(k).append("\"},\"Id\":\"003B").append(k).append("\",\"Email\":\"")
                    .append(email(k)).append("\",\"HasOptedOutOfEmail\":true,\"LastModifiedDate\":\"2026-11-02T00:00:00."
                            + "000+0000\"}");
        }
        answer(ex, b.append("]}"));
    }

    static void loyalty(HttpExchange ex) throws IOException {
        Map<String, String> q = query(ex.getRequestURI().getRawQuery());
        int from = q.containsKey("cursor") ? Integer.parseInt(q.get("cursor")) : 0;
        int to = Math.min(contacts, from + Integer.parseInt(q.getOrDefault("limit", "100")));
        StringBuilder b = new StringBuilder("{\"members\":[");
        for (int k = from; k < to; k++) {
            b.append(k > from ? "," : "").append("{\"memberId\":\"M").append(k).append("\",\"email\":\"")
                    .append(email(k)).append("\",\"optIn\":false,\"reason\":\"unsubscribed\",\"updatedAt\":\"")
                    .append(SUPPRESSED_AT).append("\"}");
        }
        answer(ex, b.append("],\"nextCursor\":").append(to < contacts ? "\"" + to + "\"" : "null").append('}'));
    }

    static final Pattern CURSOR = Pattern.compile("\"cursor\":\"?(\\d+|null)");

    static void shopify(HttpExchange ex) throws IOException {
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        Matcher m = CURSOR.matcher(body);
        int from = m.find() && !"null".equals(m.group(1)) ? Integer.parseInt(m.group(1)) : 0;
        int to = Math.min(contacts, from + 250);
        StringBuilder b = new StringBuilder("{\"data\":{\"customers\":{\"edges\":[");
        for (int k = from; k < to; k++) {
            b.append(k > from ? "," : "").append("{\"cursor\":\"").append(k).append("\",\"node\":{\"id\":\"gid://shopify/"
                    + "Customer/").append(k).append("\",\"defaultEmailAddress\":{\"emailAddress\":\"").append(email(k))
                    .append("\",\"marketingState\":\"UNSUBSCRIBED\",\"marketingUpdatedAt\":\"").append(SUPPRESSED_AT)
                    .append("\"}}}");
        }
        answer(ex, b.append("],\"pageInfo\":{\"hasNextPage\":").append(to < contacts).append(",\"endCursor\":\"")
                .append(to).append("\"}}}}"));
    }

    static void klaviyo(HttpExchange ex) throws IOException {
        Map<String, String> q = query(ex.getRequestURI().getRawQuery());
        boolean unsubscribe = q.getOrDefault("filter", "").contains("\"UNSUBSCRIBE\"");
        int from = q.containsKey("page[cursor]") ? Integer.parseInt(q.get("page[cursor]")) : 0;
        int to = unsubscribe ? Math.min(contacts, from + 100) : from;
        StringBuilder b = new StringBuilder("{\"data\":[");
        for (int k = from; k < to; k++) {
            b.append(k > from ? "," : "").append("{\"type\":\"profile\",\"id\":\"01BENCH").append(k)
                    .append("\",\"attributes\":{\"email\":\"").append(email(k)).append("\",\"subscriptions\":{\"email\":"
                            + "{\"marketing\":{\"can_receive_email_marketing\":false,\"consent\":\"UNSUBSCRIBED\","
                            + "\"suppression\":[{\"reason\":\"UNSUBSCRIBE\",\"timestamp\":\"").append(SUPPRESSED_AT)
                    .append("\"}],\"list_suppressions\":[]}}}}}");
        }
        String self = "http://" + ex.getRequestHeaders().getFirst("Host") + ex.getRequestURI().getPath() + "?"
                + ex.getRequestURI().getRawQuery().replaceAll("&page%5Bcursor%5D=\\d+", "");
        b.append("],\"links\":{\"self\":\"").append(self).append("\",\"next\":")
                .append(unsubscribe && to < contacts ? "\"" + self + "&page%5Bcursor%5D=" + to + "\"" : "null")
                .append(",\"prev\":null}}");
        answer(ex, b);
    }

    static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    q.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return q;
    }

    static void answer(HttpExchange ex, CharSequence body) throws IOException {
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    static long heap(int management) {
        try {
            String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management
                    + "/q/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            long used = 0;
            Matcher m = Pattern.compile("jvm_memory_used_bytes\\{area=\"heap\",[^}]*\\} ([0-9.E]+)").matcher(metrics);
            while (m.find()) {
                used += (long) Double.parseDouble(m.group(1));
            }
            return used;
        } catch (IOException | InterruptedException e) {
            return 0;
        }
    }

    static long rss(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }

    static String send(HttpRequest request) throws IOException, InterruptedException {
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body();
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    static void waitReady(int management, Process hub) throws Exception {
        for (int i = 0; i < 240; i++) {
            if (!hub.isAlive()) {
                throw new IllegalStateException("the hub exited with " + hub.exitValue());
            }
            try {
                if (HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management + "/q/health/ready"))
                        .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the hub was not ready in 120 s");
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
