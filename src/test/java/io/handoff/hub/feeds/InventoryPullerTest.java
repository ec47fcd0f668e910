package io.handoff.hub.feeds;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;
import jakarta.inject.Named;
import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.stubbing.Scenario;

import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Json;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

/**
 * The ERP's stock list through the YAML-only paged-puller route (routes/erp-inventory-puller.yaml) against a WireMock
 * ERP: two pages become stock levels and a feed.synced heartbeat of erp-inventory; a failed page is asked again with
 * the same cursor; a page that keeps failing fails the run, which the gap matrix shows.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
@QuarkusTestResource(value = InventoryPullerTest.Erp.class, restrictToAnnotatedClass = true)
class InventoryPullerTest {

    public static class Erp implements QuarkusTestResourceLifecycleManager {
        static WireMockServer server;

        @Override
        public Map<String, String> start() {
            server = new WireMockServer(WireMockConfiguration.options().dynamicPort());
            server.start();
            Map<String, String> config = new HashMap<>();
            config.put("hub.systems.erp.base-url", server.baseUrl());
            config.put("hub.systems.erp.api-key", "erp-test-key");
            // Runs only when the test asks (the schedule's first run is an hour away).
            config.put("hub.systems.erp.inventory.poll-interval", "PT1H");
            config.put("hub.systems.erp.inventory.page-attempts", "3");
            config.put("hub.systems.erp.inventory.page-initial-backoff-ms", "50");
            return config;
        }

        @Override
        public void stop() {
            server.stop();
        }
    }

    @Inject
    InventoryPuller puller;

    @Inject
    @Named("hubDataSource")
    DataSource dataSource;

    @Test
    void twoPagesBecomeStockLevelsAndAHeartbeatAndAFailedPageIsAskedAgainWithTheSameCursor() {
        WireMockServer erp = Erp.server;
        erp.resetAll();
        erp.stubFor(get(urlPathEqualTo("/api/v1/inventory")).withQueryParam("cursor", com.github.tomakehurst.wiremock
                .client.WireMock.absent()).willReturn(json("{\"items\":[{\"sku\":\"PULL-1\",\"available\":3,"
                        + "\"location\":\"WH-1\",\"updatedAt\":\"" + java.time.Instant.now() + "\"},{\"sku\":\"PULL-2\","
                        + "\"available\":0,\"location\":\"WH-1\"}],\"nextCursor\":\"p2\"}")));
        erp.stubFor(get(urlPathEqualTo("/api/v1/inventory")).withQueryParam("cursor",
                com.github.tomakehurst.wiremock.client.WireMock.equalTo("p2")).inScenario("p2")
                .whenScenarioStateIs(Scenario.STARTED).willReturn(aResponse().withStatus(503)).willSetStateTo("up"));
        erp.stubFor(get(urlPathEqualTo("/api/v1/inventory")).withQueryParam("cursor",
                com.github.tomakehurst.wiremock.client.WireMock.equalTo("p2")).inScenario("p2")
                .whenScenarioStateIs("up").willReturn(json("{\"items\":[{\"sku\":\"PULL-3\",\"available\":9}],"
                        + "\"nextCursor\":null}")));

        InventoryPuller.Run run = puller.pull("erp");

        assertEquals("erp-inventory", run.feed());
        assertEquals(3, run.records());
        assertEquals(1, erp.findAll(getRequestedFor(urlPathEqualTo("/api/v1/inventory"))).stream()
                .filter(r -> !r.queryParameter("cursor").isPresent()).count(),
                "the first page once: the failed second page was asked again, not the list from the start");
        assertEquals(2, erp.findAll(getRequestedFor(urlPathEqualTo("/api/v1/inventory"))).stream()
                .filter(r -> r.queryParameter("cursor").isPresent()).count());
        erp.findAll(getRequestedFor(urlPathEqualTo("/api/v1/inventory")))
                .forEach(r -> assertEquals("erp-test-key", r.getHeader("X-Api-Key")));
        await().atMost(Duration.ofSeconds(20)).until(() -> available("PULL-3") != null && available("PULL-1") != null);
        assertEquals(3, available("PULL-1"));
        assertEquals(0, available("PULL-2"));
        JsonNode row = await().atMost(Duration.ofSeconds(20)).until(() -> feed("erp-inventory"),
                r -> r.path("lastSyncRecords").asInt() == 3);
        assertEquals("fresh", row.path("status").asText(), row.toString());
    }

    @Test
    void aPageThatKeepsFailingFailsTheRunAndTheMatrixSaysWhy() {
        WireMockServer erp = Erp.server;
        erp.resetAll();
        erp.stubFor(get(urlPathEqualTo("/api/v1/inventory")).willReturn(aResponse().withStatus(502)));
        IllegalStateException failed = assertThrows(IllegalStateException.class, () -> puller.pull("erp"));
        assertTrue(failed.getMessage().contains("HTTP 502 after 3 attempt(s)"), failed.getMessage());
        assertEquals(3, erp.findAll(getRequestedFor(urlPathEqualTo("/api/v1/inventory"))).size());
        JsonNode row = feed("erp-inventory");
        assertTrue(row.path("lastFailure").asText().contains("HTTP 502"), row.toString());
    }

    static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder json(String body) {
        return aResponse().withStatus(200).withHeader("Content-Type", "application/json").withBody(body);
    }

    Integer available(String sku) {
        List<Integer> found = new org.springframework.jdbc.core.JdbcTemplate(dataSource).queryForList(
                "SELECT available FROM feed_inventory WHERE item = ?", Integer.class, sku);
        return found.isEmpty() ? null : found.get(0);
    }

    static JsonNode feed(String id) {
        try {
            JsonNode matrix = Json.MAPPER.readTree(RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/feeds")
                    .asString());
            for (JsonNode row : matrix.path("feeds")) {
                if (row.path("feed").asText().equals(id)) {
                    return row;
                }
            }
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no feed " + id);
    }
}
