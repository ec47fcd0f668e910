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
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Receipts;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Runs the worked example of docs/adding-a-system.md as written: the route file the guide shows is loaded next to
 * the files of routes/, the system is switched on with the guide's two settings, and after a Shopify opt-out the
 * simulated Acme Points receives the request the guide says it will, and the customer has an {@code acme-points}
 * receipt.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
@QuarkusTestResource(value = AddingASystemGuideTest.WorkedExample.class, restrictToAnnotatedClass = true)
class AddingASystemGuideTest {

    static final Path GUIDE = Path.of("docs", "adding-a-system.md");
    static final String API_KEY = "acme-test-key";
    static final ObjectMapper JSON = new ObjectMapper();
    static WireMockServer acme;

    /** The guide's route file and settings, with a stub of Acme Points' API. */
    public static class WorkedExample implements QuarkusTestResourceLifecycleManager {

        @Override
        public Map<String, String> start() {
            acme = new WireMockServer(WireMockConfiguration.options().dynamicPort());
            acme.start();
            acme.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(204)));
            try {
                Path routes = Path.of("target", "guide-routes", UUID.randomUUID().toString());
                Files.createDirectories(routes);
                try (Stream<Path> files = Files.list(Path.of("routes"))) {
                    for (Path file : files.toList()) {
                        Files.copy(file, routes.resolve(file.getFileName()));
                    }
                }
                Files.writeString(routes.resolve("acme-points-subscriber.yaml"),
                        block("routes/acme-points-subscriber.yaml"));
                Map<String, String> config = new LinkedHashMap<>();
                config.put("hub.routes-dir", routes.toAbsolutePath().toString());
                // The guide's HUB_SYSTEMS_ACME_POINTS_BASE_URL and HUB_SYSTEMS_ACME_POINTS_API_KEY.
                config.put("hub.systems.acme-points.base-url", acme.baseUrl());
                config.put("hub.systems.acme-points.api-key", API_KEY);
                return config;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void stop() {
            acme.stop();
        }
    }

    @Test
    void theGuidesRouteFileAndSettingsConnectAcmePoints() throws IOException {
        String email = "ada.lovelace@example.com";
        byte[] body = ("{\"customer_id\":7001,\"email_address\":\"" + email + "\",\"email_marketing_consent\":"
                + "{\"state\":\"unsubscribed\",\"opt_in_level\":\"single_opt_in\","
                + "\"consent_updated_at\":\"2026-11-24T09:00:00Z\"}}").getBytes(StandardCharsets.UTF_8);
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update", Webhooks.newId(), body,
                HubTestResource.SHOPIFY_SECRET), body).then().statusCode(200);

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

        Receipts.awaitUntil(email, Duration.ofSeconds(20), Receipts.status("delivered", "acme-points"));
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
