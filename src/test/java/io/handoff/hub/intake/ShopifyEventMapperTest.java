package io.handoff.hub.intake;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.EventType;
import io.handoff.hub.intake.shopify.ShopifyDelivery;
import io.handoff.hub.intake.shopify.ShopifyEventMapper;
import io.handoff.hub.intake.signed.CanonicalWebhookMapper;
import io.handoff.hub.support.Fixtures;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

class ShopifyEventMapperTest {

    static final String TRIGGERED_AT = "2025-07-10T16:15:47.000000Z";
    static final Instant RECEIVED = Instant.parse("2026-11-22T12:00:00Z");

    private final ShopifyEventMapper mapper = new ShopifyEventMapper();
    private final CanonicalWebhookMapper schema = new CanonicalWebhookMapper();

    private CanonicalEvent map(String topic, String file) {
        return map(topic, Fixtures.shopifyPayload(file), TRIGGERED_AT);
    }

    private CanonicalEvent map(String topic, byte[] body, String triggeredAt) {
        ShopifyDelivery delivery = new ShopifyDelivery(topic, "wh-1", "shop.myshopify.com", "2026-07", triggeredAt,
                "ev-1");
        return mapper.map(delivery, body, RECEIVED).orElseThrow();
    }

    /** Every mapped event's data must satisfy the published canonical schema of its type. */
    private void assertConformsToSchema(CanonicalEvent event) {
        ObjectNode envelope = Json.MAPPER.createObjectNode()
                .put("type", event.type().wireName())
                .put("timestamp", event.time().toString());
        envelope.set("data", event.data());
        assertEquals(List.of(), schema.violations(envelope), event.type().wireName());
    }

    @Test
    void emailConsentSampleWithNullTimestampTakesTriggeredAt() {
        CanonicalEvent event = map("customers_email_marketing_consent/update",
                "customers_email_marketing_consent-update.json");
        assertEquals(EventType.CONSENT_CHANGED, event.type());
        assertEquals("/systems/shopify", event.source());
        assertEquals("wh-1", event.id());
        assertEquals(Instant.parse("2025-07-10T16:15:47Z"), event.time());
        assertEquals(TimeSource.DELIVERY, event.timeSource());
        assertEquals("emailsha256:" + Pii.emailHash("bob@biller.com"), event.key());
        ObjectNode data = event.data();
        assertEquals("bob@biller.com", data.at("/customer/email").asText());
        assertEquals("706405506930370084", data.at("/customer/ids/shopify").asText(), "64-bit id kept exactly");
        assertEquals("email", data.get("channel").asText());
        assertEquals("marketing", data.get("purpose").asText());
        assertEquals("not_subscribed", data.get("state").asText());
        assertTrue(data.get("optInLevel").isNull());
        assertEquals("customers_email_marketing_consent/update", event.extensions().get("hubsourcetopic"));
        assertConformsToSchema(event);
    }

    @Test
    void consentUpdatedAtWinsOverTriggeredAt() {
        byte[] body = """
                {"customer_id": 706405506930370084, "email_address": " Bob@Biller.COM ",
                 "email_marketing_consent": {"state": "unsubscribed", "opt_in_level": "confirmed_opt_in",
                                             "consent_updated_at": "2026-01-02T03:04:05-05:00"}}
                """.getBytes(UTF_8);
        CanonicalEvent event = map("customers_email_marketing_consent/update", body, TRIGGERED_AT);
        assertEquals(Instant.parse("2026-01-02T08:04:05Z"), event.time());
        assertEquals(TimeSource.PAYLOAD, event.timeSource());
        assertEquals("unsubscribed", event.data().get("state").asText());
        assertEquals("bob@biller.com", event.data().at("/customer/email").asText(), "normalised");
        assertEquals("emailsha256:" + Pii.emailHash("bob@biller.com"), event.key(), "same key as the lower-case form");
        assertConformsToSchema(event);
    }

    @Test
    void shopifyOwnStatesBecomeSuppressions() {
        for (String state : List.of("invalid", "redacted")) {
            byte[] body = ("{\"customer_id\": 1, \"email_address\": \"a@b.example\", \"email_marketing_consent\": "
                    + "{\"state\": \"" + state.toUpperCase() + "\", \"opt_in_level\": null, \"consent_updated_at\": null}}")
                    .getBytes(UTF_8);
            CanonicalEvent event = map("customers_email_marketing_consent/update", body, TRIGGERED_AT);
            assertEquals("suppressed", event.data().get("state").asText());
            assertEquals(state, event.data().get("reason").asText());
            assertEquals(state.toUpperCase(), event.data().get("sourceState").asText());
            assertConformsToSchema(event);
        }
    }

    @Test
    void smsConsentSampleWithNullStateIsUnknown() {
        CanonicalEvent event = map("customers_marketing_consent/update", "customers_marketing_consent-update.json");
        assertEquals(EventType.CONSENT_CHANGED, event.type());
        ObjectNode data = event.data();
        assertEquals("sms", data.get("channel").asText());
        assertEquals("unknown", data.get("state").asText());
        assertTrue(data.get("sourceState").isNull());
        assertEquals("other", data.get("collectedFrom").asText());
        assertFalse(data.get("customer").has("email"));
        assertEquals("shopify:706405506930370084", event.key(), "no email or phone: keyed by the Shopify id");
        assertConformsToSchema(event);
    }

    @Test
    void customerCreateAndUpdateCarryNoConsent() {
        for (String topic : List.of("customers/create", "customers/update")) {
            CanonicalEvent event = map(topic, topic.replace('/', '-') + ".json");
            assertEquals(topic.endsWith("create") ? EventType.CUSTOMER_CREATED : EventType.CUSTOMER_UPDATED,
                    event.type());
            assertEquals(Instant.parse("2022-01-01T00:00:00Z"), event.time(), "updated_at, -05:00 offset applied");
            assertEquals(TimeSource.PAYLOAD, event.timeSource());
            ObjectNode data = event.data();
            assertEquals("706405506930370084", data.at("/customer/ids/shopify").asText());
            assertEquals("151 O'Connor Street", data.at("/defaultAddress/line1").asText());
            assertEquals("K2P 2L8", data.at("/defaultAddress/postalCode").asText());
            assertEquals("CA", data.at("/defaultAddress/countryCode").asText());
            assertFalse(data.has("state") && data.get("state").asText().contains("subscribed"));
            assertConformsToSchema(event);
        }
    }

    @Test
    void orderSampleKeepsIdsAndAmountsExact() {
        CanonicalEvent event = map("orders/create", "orders-create.json");
        assertEquals(EventType.ORDER_PLACED, event.type());
        ObjectNode data = event.data();
        assertEquals("820982911946154508", data.at("/order/id").asText());
        assertEquals("404.95", data.at("/order/totalPrice").asText());
        assertEquals("jon@example.com", data.at("/customer/email").asText(), "the order's email");
        assertEquals("115310627314723954", data.at("/customer/ids/shopify").asText());
        assertEquals(5, data.get("lines").size());
        assertEquals("487817672276298554", data.at("/lines/0/id").asText());
        assertEquals("788032119674292922", data.at("/lines/0/productId").asText());
        assertEquals("SKU2006-001", data.at("/lines/0/sku").asText());
        assertEquals("89.99", data.at("/lines/0/price").asText());
        assertEquals("123 Shipping Street", data.at("/shippingAddress/line1").asText());
        assertEquals("KY", data.at("/billingAddress/regionCode").asText());
        assertEquals(Instant.parse("2022-01-01T00:00:00Z"), event.time());
        assertConformsToSchema(event);
    }

    @Test
    void inventorySampleIsKeyedByItem() {
        CanonicalEvent event = map("inventory_levels/update", "inventory_levels-update.json");
        assertEquals(EventType.INVENTORY_CHANGED, event.type());
        assertEquals("271878346596884015", event.data().get("inventoryItemId").asText());
        assertEquals("24826418", event.data().get("locationId").asText());
        assertEquals(10, event.data().get("available").asInt());
        assertEquals("shopify:inventory-item:271878346596884015", event.key());
        assertConformsToSchema(event);
    }

    @Test
    void unmappedTopicMapsToNothing() {
        ShopifyDelivery delivery = new ShopifyDelivery("products/update", "wh-2", "s", "2026-07", null, null);
        assertTrue(mapper.map(delivery, "{}".getBytes(UTF_8), RECEIVED).isEmpty());
    }

    @Test
    void missingFieldsAndMalformedJsonAre400() {
        var missingConsent = assertThrows(WebhookRejectedException.class, () -> map(
                "customers_email_marketing_consent/update", "{\"customer_id\": 1}".getBytes(UTF_8), TRIGGERED_AT));
        assertEquals(400, missingConsent.status());
        assertEquals("email_marketing_consent is missing or not an object", missingConsent.getMessage());
        var malformed = assertThrows(WebhookRejectedException.class,
                () -> map("orders/create", "{\"id\": 1,".getBytes(UTF_8), TRIGGERED_AT));
        assertEquals("malformed_json", malformed.code());
        var floatId = assertThrows(WebhookRejectedException.class,
                () -> map("customers/update", "{\"id\": 7.064055069303701E17}".getBytes(UTF_8), TRIGGERED_AT));
        assertEquals("id is not an integer or string id", floatId.getMessage());
        var badTime = assertThrows(WebhookRejectedException.class, () -> map("inventory_levels/update",
                "{\"inventory_item_id\": 1, \"location_id\": 2, \"available\": 1, \"updated_at\": \"yesterday\"}"
                        .getBytes(UTF_8), TRIGGERED_AT));
        assertEquals(400, badTime.status());
    }

    @Test
    void withoutAnyTimestampTheReceiveTimeIsUsedAndMarked() {
        CanonicalEvent event = map("customers_email_marketing_consent/update",
                Fixtures.shopifyPayload("customers_email_marketing_consent-update.json"), null);
        assertEquals(RECEIVED, event.time());
        assertEquals(TimeSource.RECEIVED, event.timeSource());
    }
}
