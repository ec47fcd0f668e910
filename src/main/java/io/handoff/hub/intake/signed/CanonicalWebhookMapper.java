package io.handoff.hub.intake.signed;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.CustomerRefs;
import io.handoff.hub.event.EventType;
import io.handoff.hub.intake.WebhookRejectedException;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Maps the hub's own canonical webhook payload ({@code {"type","timestamp","data"}}, schema
 * {@code schemas/canonical-webhook.schema.json}) from any Standard-Webhooks-signed system to a canonical event.
 * The payload is validated against the schema; every violation is reported in the 400 answer.
 */
@ApplicationScoped
public class CanonicalWebhookMapper {

    public static final String SCHEMA_RESOURCE = "/schemas/canonical-webhook.schema.json";

    /** The largest number of schema violations listed in one error answer. */
    private static final int MAX_REPORTED_VIOLATIONS = 20;

    private final JsonSchema schema = loadSchema();

    static JsonSchema loadSchema() {
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
        try (InputStream in = CanonicalWebhookMapper.class.getResourceAsStream(SCHEMA_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SCHEMA_RESOURCE + " not on the classpath");
            }
            return factory.getSchema(in, config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param system the sending system's configured name (becomes {@code source = /systems/<system>})
     * @param deliveryId the {@code webhook-id}, the same on every retry: becomes the CloudEvent id
     * @throws WebhookRejectedException (400) for malformed JSON or a payload that violates the schema
     */
    public CanonicalEvent map(String system, String deliveryId, byte[] body, Instant receivedAt) {
        JsonNode payload;
        try {
            payload = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw WebhookRejectedException.badRequest("malformed_json", "body is not valid JSON");
        }
        if (payload == null || payload.isMissingNode()) {
            throw WebhookRejectedException.badRequest("malformed_json", "body is empty");
        }
        if (payload.get("data") instanceof ObjectNode data) {
            // Validate the canonical form: " Jane@Example.COM " is the same customer as "jane@example.com".
            normaliseEmails(data);
        }
        List<String> violations = violations(payload);
        if (!violations.isEmpty()) {
            throw new SchemaViolationException(violations);
        }
        EventType type = EventType.fromWireName(payload.get("type").asText()).orElseThrow();
        Instant time;
        try {
            time = Json.instant(payload.get("timestamp").asText());
        } catch (IllegalArgumentException e) {
            throw WebhookRejectedException.badRequest("invalid_payload", "timestamp " + e.getMessage());
        }
        ObjectNode data = (ObjectNode) payload.get("data");
        String key = key(system, type, data);
        return new CanonicalEvent(deliveryId, "/systems/" + system, type, key, time, receivedAt, TimeSource.PAYLOAD,
                Map.of(), data, key);
    }

    /** The schema violations of a payload, as {@code <JSON pointer>: <message>}, sorted; empty if it is valid. */
    public List<String> violations(JsonNode payload) {
        Set<ValidationMessage> messages = schema.validate(payload);
        return messages.stream()
                .map(ValidationMessage::getMessage)
                .sorted(Comparator.naturalOrder())
                .distinct()
                .limit(MAX_REPORTED_VIOLATIONS)
                .toList();
    }

    private static void normaliseEmails(ObjectNode data) {
        for (String field : List.of("customer", "survivor")) {
            normaliseEmail(data.get(field));
        }
        JsonNode merged = data.get("merged");
        if (merged != null && merged.isArray()) {
            merged.forEach(CanonicalWebhookMapper::normaliseEmail);
        }
    }

    private static void normaliseEmail(JsonNode ref) {
        if (ref instanceof ObjectNode object && object.hasNonNull("email")) {
            object.put("email", Pii.normaliseEmail(object.get("email").asText()));
        }
    }

    static String key(String system, EventType type, ObjectNode data) {
        return switch (type) {
            case CUSTOMER_MERGED -> CustomerRefs.key((ObjectNode) data.get("survivor"));
            case ORDER_PLACED -> data.get("customer") instanceof ObjectNode customer
                    ? CustomerRefs.key(customer)
                    : system + ":order:" + data.path("order").path("id").asText();
            case INVENTORY_CHANGED -> data.hasNonNull("sku")
                    ? "sku:" + data.get("sku").asText()
                    : system + ":inventory-item:" + data.get("inventoryItemId").asText();
            case FEED_SYNCED -> "feed:" + data.get("feed").asText();
            default -> CustomerRefs.key((ObjectNode) data.get("customer"));
        };
    }

    /** A 400 that lists the schema violations. */
    public static class SchemaViolationException extends WebhookRejectedException {
        private final List<String> violations;

        public SchemaViolationException(List<String> violations) {
            super(400, "invalid_payload", "payload does not match the canonical webhook schema");
            this.violations = List.copyOf(violations);
        }

        public List<String> violations() {
            return violations;
        }
    }
}
