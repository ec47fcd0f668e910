package io.handoff.hub;

import static io.handoff.hub.support.HubTestResource.CHECKOUT_SECRET;
import static io.handoff.hub.support.HubTestResource.SHOPIFY_SECRET;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.handoff.hub.support.Fixtures;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.LogCapture;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** No log line, at any level, carries a customer's email address: not on success, not on rejection. */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class LogsWithoutPiiTest {

    private LogCapture capture;
    private Level previous;

    @BeforeEach
    void captureEverything() {
        previous = Logger.getLogger("io.handoff").getLevel();
        Logger.getLogger("io.handoff").setLevel(Level.ALL);
        capture = LogCapture.of("", Level.ALL);
    }

    @AfterEach
    void stopCapturing() {
        capture.close();
        Logger.getLogger("io.handoff").setLevel(previous);
    }

    @Test
    void acceptedRejectedAndFailedDeliveriesLogNoEmail() {
        byte[] consent = Fixtures.shopifyPayload("customers_email_marketing_consent-update.json");
        String id = UUID.randomUUID().toString();
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update", id, consent,
                SHOPIFY_SECRET), consent).then().statusCode(200);
        Webhooks.postShopify(Webhooks.shopifyHeaders("customers_email_marketing_consent/update", id, consent,
                "wrong"), consent).then().statusCode(401);
        byte[] invalid = "{\"type\": \"consent.changed\", \"timestamp\": \"2026-11-20T09:30:00Z\", \"data\": {\"customer\": {\"email\": \"bob@biller.com\"}, \"channel\": \"fax\"}}"
                .getBytes(UTF_8);
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, Webhooks.newId(), invalid).then().statusCode(400);

        List<String> lines = capture.lines();
        assertTrue(lines.stream().anyMatch(l -> l.contains("accepted shopify delivery " + id)),
                "the capture sees the hub's log lines: " + lines);
        assertFalse(lines.stream().anyMatch(l -> l.toLowerCase().contains("bob@biller.com")),
                "a log line carries the raw email: " + lines.stream().filter(l -> l.contains("@")).toList());
    }
}
