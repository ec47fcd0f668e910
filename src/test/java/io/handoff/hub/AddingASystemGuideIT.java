package io.handoff.hub;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.PackagedHub;
import io.handoff.hub.support.Webhooks;

/**
 * Runs the worked example of docs/adding-a-system.md as written, on the packaged hub (embedded default, prod profile):
 * the route file the guide shows goes next to the files of routes/, the system is switched on with exactly the guide's
 * two environment variables, and after a Shopify opt-out the simulated Acme Points receives the request the guide
 * says it will, once, and the customer's consent shows an {@code acme-points} receipt, delivered.
 */
class AddingASystemGuideIT {

    static final Path GUIDE = Path.of("docs", "adding-a-system.md");
    static final String API_KEY = "acme-test-key";
    static final String ADMIN_TOKEN = "guide-admin-token";
    static final String SHOPIFY_SECRET = "guide-shopify-secret";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    WireMockServer acme;
    PackagedHub hub;

    @AfterEach
    void stop() throws InterruptedException {
        if (hub != null) {
            hub.close();
        }
        if (acme != null) {
            acme.stop();
        }
    }

    @Test
    void theGuidesRouteFileAndSettingsConnectAcmePoints() throws Exception {
        acme = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        acme.start();
        acme.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(204)));
        Path root = Path.of("target", "guide", UUID.randomUUID().toString()).toAbsolutePath();
        Path routes = root.resolve("routes");
        Files.createDirectories(routes);
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path file : files.toList()) {
                Files.copy(file, routes.resolve(file.getFileName()));
            }
        }
        Files.writeString(routes.resolve("acme-points-subscriber.yaml"), block("routes/acme-points-subscriber.yaml"));
        int[] kafka = HubTestResource.freePorts(2);
        Map<String, String> env = new HashMap<>(Map.of("HUB_ROUTES_DIR", routes.toString(), "HUB_SANDBOX_ENABLED",
                "false", "HUB_KAFKA_EMBEDDED_PORT", Integer.toString(kafka[0]), "HUB_KAFKA_EMBEDDED_CONTROLLER_PORT",
                Integer.toString(kafka[1]), "HUB_ADMIN_TOKEN", ADMIN_TOKEN, "HUB_SYSTEMS_SHOPIFY_WEBHOOK_SECRET",
                SHOPIFY_SECRET));
        // Step 3 of the guide.
        env.put("HUB_SYSTEMS_ACME_POINTS_BASE_URL", acme.baseUrl());
        env.put("HUB_SYSTEMS_ACME_POINTS_API_KEY", API_KEY);
        hub = PackagedHub.start(root.resolve("hub"), env);

        String email = "ada.lovelace@example.com";
        byte[] body = Webhooks.shopifyConsent(7001, email, "unsubscribed", Instant.parse("2026-11-24T09:00:00Z"));
        assertEquals(200, HTTP.send(Webhooks.shopifyRequest(hub.url(), Webhooks.SHOPIFY_CONSENT_TOPIC,
                Webhooks.newId(), body, SHOPIFY_SECRET), HttpResponse.BodyHandlers.discarding()).statusCode());

        List<LoggedRequest> calls = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> acme.findAll(anyRequestedFor(anyUrl())), list -> !list.isEmpty());
        assertEquals(1, calls.size(), "one call for one change");
        LoggedRequest call = calls.get(0);
        // The guide's request, line by line: method and path, headers, then the body.
        String[] expected = block("request").split("\n\n", 2);
        String[] lines = expected[0].split("\n");
        assertEquals(lines[0], call.getMethod().getName() + " " + call.getUrl());
        for (int i = 1; i < lines.length; i++) {
            String[] header = lines[i].split(":\\s*", 2);
            String actual = call.getHeader(header[0]);
            assertNotNull(actual, "header " + header[0]);
            expect(header[1], actual, header[0]);
        }
        assertEquals("Token " + API_KEY, call.getHeader("Authorization"));
        JsonNode want = JSON.readTree(expected[1]);
        JsonNode got = JSON.readTree(call.getBodyAsString());
        assertEquals(want.size(), got.size(), "the body's fields: " + got);
        for (Iterator<Map.Entry<String, JsonNode>> fields = want.fields(); fields.hasNext();) {
            Map.Entry<String, JsonNode> field = fields.next();
            assertTrue(got.has(field.getKey()), "body field " + field.getKey());
            if (field.getValue().isTextual()) {
                expect(field.getValue().asText(), got.get(field.getKey()).asText(), field.getKey());
            } else {
                assertEquals(field.getValue(), got.get(field.getKey()), field.getKey());
            }
        }
        assertEquals(call.getHeader("Idempotency-Key"), got.get("ref").asText(), "the change id, in both places");

        // Step 5: the customer's consent shows the acme-points receipt, delivered, and nothing was sent twice.
        HttpRequest consent = HttpRequest.newBuilder(URI.create(hub.url() + "/api/customers/" + email + "/consent"))
                .header("Authorization", "Bearer " + ADMIN_TOKEN).build();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> {
            JsonNode receipts = JSON.readTree(HTTP.send(consent, HttpResponse.BodyHandlers.ofString()).body())
                    .path("receipts");
            for (JsonNode receipt : receipts) {
                if (receipt.path("system").asText().equals("acme-points")) {
                    return receipt.path("status").asText().equals("delivered");
                }
            }
            return false;
        });
        assertEquals(1, acme.findAll(anyRequestedFor(anyUrl())).size(), "delivered once, not again after the receipt");
    }

    /** A value of the guide, where each {@code <placeholder>} stands for any non-empty text. */
    private static void expect(String guide, String actual, String what) {
        StringBuilder pattern = new StringBuilder();
        for (String literal : guide.split("<[^<>]+>", -1)) {
            pattern.append(pattern.isEmpty() ? "" : ".+").append(Pattern.quote(literal));
        }
        assertTrue(actual.matches(pattern.toString()), what + ": " + actual + " is not what the guide shows: " + guide);
    }

    /** The fenced block that follows {@code <!-- worked-example: name -->} in the guide. */
    static String block(String name) throws IOException {
        Matcher m = Pattern.compile("<!-- worked-example: " + Pattern.quote(name) + " -->\\n```[a-z]*\\n(.*?)```",
                Pattern.DOTALL).matcher(Files.readString(GUIDE));
        assertTrue(m.find(), "the guide has the worked example's " + name);
        return m.group(1);
    }
}
