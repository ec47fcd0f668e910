package io.handoff.hub;

import static io.handoff.hub.support.HubTestResource.SHOPIFY_SECRET;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.PackagedHub;
import io.handoff.hub.support.Webhooks;

/**
 * The packaged hub as an operator runs it, on its embedded default: it starts, works, and a SIGTERM stops it without
 * one ERROR line (the database outlives every route, lane and scheduled job); settings that would start it doing
 * something other than what was meant are refused, with one line naming the variable to set.
 */
class StartAndStopIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** The embedded broker on free ports, so that the test runs next to anything on 9092. */
    private static Map<String, String> embedded() {
        int[] kafka = HubTestResource.freePorts(2);
        return new HashMap<>(Map.of("HUB_KAFKA_EMBEDDED_PORT", Integer.toString(kafka[0]),
                "HUB_KAFKA_EMBEDDED_CONTROLLER_PORT", Integer.toString(kafka[1]), "HUB_SYSTEMS_SHOPIFY_WEBHOOK_SECRET",
                SHOPIFY_SECRET));
    }

    private static Path folder() {
        return Path.of("target", "start-stop", UUID.randomUUID().toString()).toAbsolutePath();
    }

    private static List<String> lines(Path dir, String level) throws Exception {
        return Files.readAllLines(PackagedHub.log(dir)).stream().filter(l -> l.contains(" " + level + " ")).toList();
    }

    @Test
    void aSigtermAfterWorkLogsNoError() throws Exception {
        Path dir = folder();
        Map<String, String> env = embedded();
        env.put("HUB_ROUTES_DIR", Path.of("routes").toAbsolutePath().toString());
        PackagedHub hub = PackagedHub.start(dir, env);
        // Work for every part that uses the database on the way down: an opt-out the sandbox systems (on by default
        // with the embedded broker) are sent, through intake, ledger, planner and lanes.
        byte[] body = Webhooks.shopifyConsent(9001, "stop.test@example.com", "unsubscribed",
                Instant.parse("2026-12-06T09:00:00Z"));
        assertEquals(200, HTTP.send(Webhooks.shopifyRequest(hub.url(), Webhooks.SHOPIFY_CONSENT_TOPIC,
                Webhooks.newId(), body, SHOPIFY_SECRET), HttpResponse.BodyHandlers.discarding()).statusCode());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> delivered(hub.metrics()) >= 4);

        assertEquals(143, hub.stop(), "the JVM's exit code after SIGTERM");
        assertEquals(List.of(), lines(dir, "ERROR"));
        String log = Files.readString(PackagedHub.log(dir));
        assertTrue(log.contains("Handoff started in "), "the start-up summary");
        assertTrue(log.contains("stopped in"), "Quarkus logged its stop");

        // Started again on the same data, as after every deployment: the broker and the database are not new.
        PackagedHub again = PackagedHub.start(dir, env);
        assertEquals(143, again.stop());
        assertEquals(List.of(), lines(dir, "ERROR"), "the restart");
        assertTrue(Files.readString(PackagedHub.log(dir)).contains("Handoff started in "));
    }

    /** Deliveries the lanes counted as delivered, all systems. */
    private static double delivered(String metrics) {
        return metrics.lines().filter(l -> l.startsWith("handoff_propagation_deliveries_total{")
                && l.contains("outcome=\"delivered\"")).mapToDouble(l -> Double.parseDouble(l.substring(
                        l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void aDatabaseUrlWithoutItsKindIsRefusedNamingHubDbKind() throws Exception {
        Path dir = folder();
        Map<String, String> env = embedded();
        env.put("HUB_ROUTES_DIR", Path.of("routes").toAbsolutePath().toString());
        env.put("HUB_DB_URL", "jdbc:postgresql://127.0.0.1:5432/handoff");
        assertNotEquals(0, PackagedHub.refusal(dir, env));
        List<String> errors = lines(dir, "ERROR");
        assertTrue(errors.stream().anyMatch(l -> l.contains("HUB_DB_URL is set but HUB_DB_KIND (hub.db.kind) is h2:"
                + " set HUB_DB_KIND=postgresql")), String.join("\n", errors));
        assertFalse(Files.exists(dir.resolve("kafka")), "refused before the embedded broker started");
    }

    @Test
    void startedFromAFolderWithoutRoutesItIsRefusedNamingHubRoutesDir() throws Exception {
        Path dir = folder();
        assertNotEquals(0, PackagedHub.refusal(dir, embedded()));
        List<String> errors = lines(dir, "ERROR");
        assertTrue(errors.stream().anyMatch(l -> l.contains("no routes folder at " + dir.resolve("routes")
                + ": start the hub from the folder that holds routes/, or set HUB_ROUTES_DIR")),
                String.join("\n", errors));
    }
}
