package io.handoff.hub.intake.shopify;

import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.CustomerRefs;
import io.handoff.hub.event.EventType;
import io.handoff.hub.intake.WebhookRejectedException;
import io.handoff.hub.support.Json;

/**
 * Maps Shopify webhook payloads (API 2026-07 shapes) to canonical events.
 * <p>
 * Mapped topics: {@code customers_email_marketing_consent/update} and {@code customers_marketing_consent/update}
 * (consent; since API 2025-01 the only place consent arrives), {@code customers/create}, {@code customers/update}
 * (customer records, no consent), {@code orders/create} and {@code inventory_levels/update}. Other topics map to
 * nothing: the intake acknowledges and counts them.
 * <p>
 * The event time is the payload's own timestamp ({@code consent_updated_at}, {@code updated_at}, {@code created_at});
 * when that is null (Shopify's published consent samples have {@code consent_updated_at: null}) it is
 * {@code X-Shopify-Triggered-At}, and only if that is missing too the hub's receive time. Values are read leniently
 * (an unknown consent state becomes {@code unknown} with the raw value kept) and structure strictly (a payload missing
 * the fields a topic always carries is a 400).
 */
@ApplicationScoped
public class ShopifyEventMapper {

    public static final String SYSTEM = "shopify";
    public static final String SOURCE = "/systems/" + SYSTEM;

    public static final Set<String> MAPPED_TOPICS = Set.of(
            "customers_email_marketing_consent/update",
            "customers_marketing_consent/update",
            "customers/create",
            "customers/update",
            "orders/create",
            "inventory_levels/update");

    private static final Set<String> OPT_IN_LEVELS = Set.of("single_opt_in", "confirmed_opt_in", "unknown");

    /**
     * @return the canonical event, or empty for a topic the hub does not map
     * @throws WebhookRejectedException (400) for malformed JSON or a payload missing required fields
     */
    public Optional<CanonicalEvent> map(ShopifyDelivery delivery, byte[] body, Instant receivedAt) {
        if (!MAPPED_TOPICS.contains(delivery.topic())) {
            return Optional.empty();
        }
        ObjectNode payload = parse(body);
        Mapped mapped = switch (delivery.topic()) {
            case "customers_email_marketing_consent/update" -> emailConsent(payload);
            case "customers_marketing_consent/update" -> smsConsent(payload);
            case "customers/create" -> customer(payload, EventType.CUSTOMER_CREATED);
            case "customers/update" -> customer(payload, EventType.CUSTOMER_UPDATED);
            case "orders/create" -> order(payload);
            case "inventory_levels/update" -> inventory(payload);
            default -> throw new IllegalStateException("unmapped topic " + delivery.topic());
        };

        Instant time = mapped.payloadTime();
        TimeSource timeSource = TimeSource.PAYLOAD;
        if (time == null) {
            time = headerInstant(delivery.triggeredAt());
            timeSource = TimeSource.DELIVERY;
        }
        if (time == null) {
            time = receivedAt;
            timeSource = TimeSource.RECEIVED;
        }
        Map<String, String> extensions = new LinkedHashMap<>();
        extensions.put("hubsourcetopic", delivery.topic());
        extensions.put("hubaccount", delivery.shopDomain());
        extensions.put("hubapiversion", delivery.apiVersion());
        if (delivery.eventId() != null && !delivery.eventId().isBlank()) {
            extensions.put("hubsourceeventid", delivery.eventId());
        }
        return Optional.of(new CanonicalEvent(delivery.webhookId(), SOURCE, mapped.type(), mapped.key(), time,
                receivedAt, timeSource, extensions, mapped.data(), mapped.key()));
    }

    private record Mapped(EventType type, ObjectNode data, Instant payloadTime, String key) {
    }

    private static Mapped emailConsent(ObjectNode payload) {
        String customerId = requiredId(payload, "customer_id");
        JsonNode consent = requiredObject(payload, "email_marketing_consent");
        ObjectNode customer = CustomerRefs.of(Json.text(payload, "email_address"), null, SYSTEM, customerId);
        ObjectNode data = consentData(customer, "email", consent);
        return new Mapped(EventType.CONSENT_CHANGED, data, timestamp(consent, "consent_updated_at"),
                CustomerRefs.key(customer));
    }

    private static Mapped smsConsent(ObjectNode payload) {
        String customerId = requiredId(payload, "id");
        JsonNode consent = requiredObject(payload, "sms_marketing_consent");
        ObjectNode customer = CustomerRefs.of(null, Json.text(payload, "phone"), SYSTEM, customerId);
        ObjectNode data = consentData(customer, "sms", consent);
        String collectedFrom = Json.text(consent, "consent_collected_from");
        if (collectedFrom != null) {
            // The webhook says "other", REST fixtures "OTHER": one case for comparisons.
            data.put("collectedFrom", collectedFrom.toLowerCase(Locale.ROOT));
        }
        return new Mapped(EventType.CONSENT_CHANGED, data, timestamp(consent, "consent_updated_at"),
                CustomerRefs.key(customer));
    }

    private static ObjectNode consentData(ObjectNode customer, String channel, JsonNode consent) {
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.set("customer", customer);
        data.put("channel", channel);
        data.put("purpose", "marketing");
        String sourceState = Json.text(consent, "state");
        String state = sourceState == null ? "unknown" : sourceState.toLowerCase(Locale.ROOT);
        switch (state) {
            case "subscribed", "unsubscribed", "not_subscribed", "pending", "unknown" -> data.put("state", state);
            // INVALID and REDACTED are set by Shopify itself: the address must not be mailed.
            case "invalid" -> data.put("state", "suppressed").put("reason", "invalid");
            case "redacted" -> data.put("state", "suppressed").put("reason", "redacted");
            default -> data.put("state", "unknown");
        }
        String optInLevel = Json.text(consent, "opt_in_level");
        if (optInLevel == null) {
            data.putNull("optInLevel");
        } else {
            String level = optInLevel.toLowerCase(Locale.ROOT);
            data.put("optInLevel", OPT_IN_LEVELS.contains(level) ? level : "unknown");
        }
        if (sourceState == null) {
            data.putNull("sourceState");
        } else {
            data.put("sourceState", sourceState);
        }
        return data;
    }

    private static Mapped customer(ObjectNode payload, EventType type) {
        String customerId = requiredId(payload, "id");
        ObjectNode customer = CustomerRefs.of(Json.text(payload, "email"), Json.text(payload, "phone"), SYSTEM,
                customerId);
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.set("customer", customer);
        data.put("firstName", Json.text(payload, "first_name"));
        data.put("lastName", Json.text(payload, "last_name"));
        data.put("state", Json.text(payload, "state"));
        JsonNode verified = payload.get("verified_email");
        if (verified != null && verified.isBoolean()) {
            data.put("verifiedEmail", verified.booleanValue());
        } else {
            data.putNull("verifiedEmail");
        }
        data.set("defaultAddress", address(payload.get("default_address"), "default_address"));
        Instant time = timestamp(payload, "updated_at");
        if (time == null) {
            time = timestamp(payload, "created_at");
        }
        return new Mapped(type, data, time, CustomerRefs.key(customer));
    }

    private static Mapped order(ObjectNode payload) {
        String orderId = requiredId(payload, "id");
        JsonNode lineItems = payload.get("line_items");
        if (lineItems == null || !lineItems.isArray()) {
            throw WebhookRejectedException.badRequest("invalid_payload", "line_items is missing or not an array");
        }
        ObjectNode data = Json.MAPPER.createObjectNode();
        ObjectNode order = data.putObject("order");
        order.put("id", orderId);
        order.put("name", Json.text(payload, "name"));
        order.put("channel", SYSTEM);
        order.put("currency", Json.text(payload, "currency"));
        order.put("totalPrice", decimal(payload, "total_price"));
        order.put("subtotalPrice", decimal(payload, "subtotal_price"));
        order.put("financialStatus", Json.text(payload, "financial_status"));
        order.put("fulfillmentStatus", Json.text(payload, "fulfillment_status"));
        Instant cancelledAt = timestamp(payload, "cancelled_at");
        order.put("cancelledAt", cancelledAt == null ? null : cancelledAt.toString());
        putBoolean(order, "test", payload.get("test"));
        putBoolean(order, "buyerAcceptsMarketing", payload.get("buyer_accepts_marketing"));

        JsonNode buyer = payload.get("customer");
        String email = Json.text(payload, "email");
        if (email == null) {
            email = Json.text(payload, "contact_email");
        }
        String customerId = null;
        if (buyer != null && buyer.isObject()) {
            customerId = id(buyer, "id", "customer.id");
            if (email == null) {
                email = Json.text(buyer, "email");
            }
        }
        ObjectNode customer = CustomerRefs.of(email, null, SYSTEM, customerId);
        String key;
        if (CustomerRefs.identifies(customer)) {
            data.set("customer", customer);
            key = CustomerRefs.key(customer);
        } else {
            data.putNull("customer");
            key = SYSTEM + ":order:" + orderId;
        }

        ArrayNode lines = data.putArray("lines");
        int index = 0;
        for (JsonNode item : lineItems) {
            String where = "line_items[" + index++ + "]";
            if (!item.isObject()) {
                throw WebhookRejectedException.badRequest("invalid_payload", where + " is not an object");
            }
            ObjectNode line = lines.addObject();
            String lineId = id(item, "id", where + ".id");
            if (lineId != null) {
                line.put("id", lineId);
            }
            line.put("sku", Json.text(item, "sku"));
            line.put("productId", id(item, "product_id", where + ".product_id"));
            line.put("variantId", id(item, "variant_id", where + ".variant_id"));
            line.put("title", Json.text(item, "title"));
            JsonNode quantity = item.get("quantity");
            if (quantity == null || !quantity.canConvertToInt() || !quantity.isIntegralNumber() || quantity.intValue() < 0) {
                throw WebhookRejectedException.badRequest("invalid_payload", where + ".quantity is missing or not a count");
            }
            line.put("quantity", quantity.intValue());
            line.put("price", decimal(item, "price"));
        }
        data.set("shippingAddress", address(payload.get("shipping_address"), "shipping_address"));
        data.set("billingAddress", address(payload.get("billing_address"), "billing_address"));
        return new Mapped(EventType.ORDER_PLACED, data, timestamp(payload, "created_at"), key);
    }

    private static Mapped inventory(ObjectNode payload) {
        String itemId = requiredId(payload, "inventory_item_id");
        String locationId = requiredId(payload, "location_id");
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.put("inventoryItemId", itemId);
        data.put("locationId", locationId);
        JsonNode available = payload.get("available");
        if (available == null || available.isNull()) {
            // Shopify sends null when the item is not tracked at the location.
            data.putNull("available");
        } else if (available.isIntegralNumber() && available.canConvertToLong()) {
            data.put("available", available.longValue());
        } else {
            throw WebhookRejectedException.badRequest("invalid_payload", "available is not an integer");
        }
        return new Mapped(EventType.INVENTORY_CHANGED, data, timestamp(payload, "updated_at"),
                SYSTEM + ":inventory-item:" + itemId);
    }

    private static ObjectNode parse(byte[] body) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw WebhookRejectedException.badRequest("malformed_json", "body is not valid JSON");
        }
        if (!(node instanceof ObjectNode object)) {
            throw WebhookRejectedException.badRequest("invalid_payload", "body is not a JSON object");
        }
        return object;
    }

    private static JsonNode address(JsonNode source, String where) {
        if (source == null || source.isNull()) {
            return Json.MAPPER.nullNode();
        }
        if (!source.isObject()) {
            throw WebhookRejectedException.badRequest("invalid_payload", where + " is not an object");
        }
        ObjectNode address = Json.MAPPER.createObjectNode();
        address.put("firstName", Json.text(source, "first_name"));
        address.put("lastName", Json.text(source, "last_name"));
        address.put("name", Json.text(source, "name"));
        address.put("company", Json.text(source, "company"));
        address.put("line1", Json.text(source, "address1"));
        address.put("line2", Json.text(source, "address2"));
        address.put("city", Json.text(source, "city"));
        address.put("region", Json.text(source, "province"));
        address.put("regionCode", Json.text(source, "province_code"));
        address.put("postalCode", Json.text(source, "zip"));
        // "country" is a code in customer payloads ("CA") and a name in orders ("Canada"): keep it as sent and
        // rely on country_code for comparisons.
        address.put("country", Json.text(source, "country"));
        address.put("countryCode", Json.text(source, "country_code"));
        address.put("phone", Json.text(source, "phone"));
        return address;
    }

    private static String requiredId(JsonNode payload, String field) {
        String id = id(payload, field, field);
        if (id == null) {
            throw WebhookRejectedException.badRequest("invalid_payload", field + " is missing");
        }
        return id;
    }

    private static String id(JsonNode payload, String field, String where) {
        try {
            return Json.idText(payload.get(field));
        } catch (IllegalArgumentException e) {
            throw WebhookRejectedException.badRequest("invalid_payload", where + " " + e.getMessage());
        }
    }

    private static JsonNode requiredObject(JsonNode payload, String field) {
        JsonNode node = payload.get(field);
        if (node == null || !node.isObject()) {
            throw WebhookRejectedException.badRequest("invalid_payload", field + " is missing or not an object");
        }
        return node;
    }

    private static Instant timestamp(JsonNode payload, String field) {
        JsonNode node = payload.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw WebhookRejectedException.badRequest("invalid_payload", field + " is not a timestamp");
        }
        try {
            return Json.instant(node.asText());
        } catch (IllegalArgumentException e) {
            throw WebhookRejectedException.badRequest("invalid_payload", field + " " + e.getMessage());
        }
    }

    private static Instant headerInstant(String value) {
        try {
            return Json.instant(value);
        } catch (IllegalArgumentException e) {
            throw WebhookRejectedException.badRequest("invalid_header", "X-Shopify-Triggered-At " + e.getMessage());
        }
    }

    private static String decimal(JsonNode payload, String field) {
        JsonNode node = payload.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        String text = node.isNumber() ? node.decimalValue().toPlainString() : node.asText();
        if (!text.matches("-?\\d+(\\.\\d+)?")) {
            throw WebhookRejectedException.badRequest("invalid_payload", field + " is not a decimal amount");
        }
        return text;
    }

    private static void putBoolean(ObjectNode target, String field, JsonNode value) {
        if (value != null && value.isBoolean()) {
            target.put(field, value.booleanValue());
        } else {
            target.putNull(field);
        }
    }
}
