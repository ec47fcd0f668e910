package io.handoff.hub.reconciliation;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.WireMockServer;

/**
 * Two packaged hub instances ({@code target/quarkus-app/quarkus-run.jar}, prod profile) share one database (a file
 * H2 in automatic mixed mode, which both processes open) and both schedule a Salesforce reconciliation every two
 * seconds: each fire is run by exactly one of them, and both compete for every fire.
 */
class TwoReplicasScheduleIT {

    static final String FIRES = "SELECT COUNT(*) FROM scheduled_fire WHERE job = 'reconcile-salesforce'";
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final List<Process> hubs = new ArrayList<>();
    WireMockServer salesforce;

    @AfterEach
    void stop() {
        hubs.forEach(Process::destroy);
        hubs.forEach(p -> {
            try {
                if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        if (salesforce != null) {
            salesforce.stop();
        }
    }

    @Test
    void aScheduledReconciliationRunsOncePerFireOnTwoInstancesSharingOneDatabase() throws Exception {
        salesforce = new WireMockServer(options().dynamicPort());
        salesforce.start();
        salesforce.stubFor(get(urlPathEqualTo("/services/data/v64.0/query")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"totalSize\":0,\"done\":true,\"records\":[]}")));
        Path root = Path.of("target", "it-two-replicas", UUID.randomUUID().toString()).toAbsolutePath();
        Files.createDirectories(root);
        String db = "jdbc:h2:file:" + root.resolve("shared") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;"
                + "DEFAULT_NULL_ORDERING=HIGH;AUTO_SERVER=TRUE";
        int[] management = new int[2];
        for (int i = 0; i < 2; i++) {
            management[i] = freePort();
            hubs.add(start(root.resolve("hub-" + i), db, freePort(), management[i]));
            waitReady(management[i], hubs.get(i));
        }

        try (Connection sql = DriverManager.getConnection(db, "sa", "")) {
            // From the moment both run, wait for three more fires, and for three fires both instances competed
            // for (on a loaded machine an instance's scheduler may check late and skip a fire; the other one
            // then runs it alone, which is correct but not what this test is about).
            long before = count(sql, FIRES);
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> count(sql, FIRES) >= before + 3 && lostClaims(management) >= 3);
            await().atMost(Duration.ofSeconds(20)).until(() -> count(sql, "SELECT COUNT(*) FROM reconciliation_run"
                    + " WHERE status = 'running'") == 0);
            long won = 0;
            long lost = 0;
            for (int port : management) {
                String metrics = fetch("http://127.0.0.1:" + port + "/q/metrics");
                won += metric(metrics, "won");
                lost += metric(metrics, "lost");
            }
            // Runs first: a fire claimed between the two counts then adds to fires only.
            long runs = count(sql, "SELECT COUNT(*) FROM reconciliation_run WHERE trigger_kind = 'schedule'");
            long fires = count(sql, FIRES);
            // Each claimed fire started one run; a fire claimed after the metrics were read may be one more.
            assertTrue(runs == fires || runs == fires - 1, "runs " + runs + " for fires " + fires);
            assertTrue(won == fires || won == fires - 1, "claims won " + won + " for fires " + fires);
            assertTrue(lost >= 3, "both instances competed for the fires (lost claims: " + lost + ")");
            assertEquals(0, count(sql, "SELECT COUNT(*) FROM reconciliation_run WHERE status = 'failed'"));
            // No fire ran twice: Salesforce was asked once per run.
            long finished = count(sql, "SELECT COUNT(*) FROM reconciliation_run WHERE status = 'completed'");
            int asked = salesforce.findAll(getRequestedFor(urlPathEqualTo("/services/data/v64.0/query"))).size();
            assertTrue(asked == finished || asked == finished + 1, asked + " list requests for " + finished
                    + " finished runs (one more may be on its way)");
        }
    }
    static long lostClaims(int[] management) throws IOException, InterruptedException {
        long lost = 0;
        for (int port : management) {
            lost += metric(fetch("http://127.0.0.1:" + port + "/q/metrics"), "lost");
        }
        return lost;
    }

    static long metric(String metrics, String outcome) {
        Matcher m = Pattern.compile("handoff_schedule_claims_total\\{job=\"reconcile-salesforce\",outcome=\"" + outcome
                + "\"} ([0-9.E]+)").matcher(metrics);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }

    Process start(Path dir, String db, int http, int management) throws IOException {
        Files.createDirectories(dir);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m"));
        for (String setting : List.of("hub.data-dir=" + dir, "quarkus.datasource.h2.jdbc.url=" + db,
                "quarkus.http.port=" + http, "quarkus.management.port=" + management,
                "hub.kafka.embedded.port=" + freePort(), "hub.kafka.embedded.controller-port=" + freePort(),
                "hub.sandbox.enabled=false", "hub.systems.salesforce.base-url=" + salesforce.baseUrl(),
                "hub.systems.salesforce.access-token=test-token",
                "hub.systems.salesforce.reconcile.cron=*/2 * * * * ?", "hub.routes-dir=" + Path.of("routes")
                        .toAbsolutePath())) {
            command.add("-D" + setting);
        }
        command.add("-jar");
        command.add(Path.of("target", "quarkus-app", "quarkus-run.jar").toAbsolutePath().toString());
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("hub.log").toFile())
                .start();
    }

    static void waitReady(int management, Process hub) {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
            if (!hub.isAlive()) {
                throw new IllegalStateException("a hub instance exited with " + hub.exitValue());
            }
            try {
                return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management
                        + "/q/health/ready")).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            }
        });
    }

    static String fetch(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    static long count(Connection sql, String query) throws SQLException {
        try (Statement s = sql.createStatement(); ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
