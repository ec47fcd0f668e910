package io.handoff.hub.event;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A canonical hub event: a CloudEvents 1.0 event plus the Kafka key it is published under.
 *
 * @param id unique per {@code source}; the platform's delivery id, so a redelivery carries the same id
 * @param source the system it came from, {@code /systems/<name>}
 * @param type one of {@link EventType}
 * @param subject what the event is about (the customer, an inventory item), never a raw email
 * @param time the event time at the source
 * @param receivedAt when the hub received the delivery (extension {@code hubreceivedat})
 * @param timeSource where {@code time} was taken from (extension {@code hubtimesource})
 * @param extensions further CloudEvents extension attributes (lowercase alphanumeric names)
 * @param data the canonical payload for {@code type}
 * @param key the Kafka record key that keeps one customer's (or item's) events in order
 */
public record CanonicalEvent(
        String id,
        String source,
        EventType type,
        String subject,
        Instant time,
        Instant receivedAt,
        TimeSource timeSource,
        Map<String, String> extensions,
        ObjectNode data,
        String key) {

    public CanonicalEvent {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(receivedAt, "receivedAt");
        Objects.requireNonNull(timeSource, "timeSource");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(key, "key");
        extensions = extensions == null ? Map.of() : Map.copyOf(extensions);
    }

    /** Where an event's {@code time} came from, most trustworthy first. */
    public enum TimeSource {
        /** A timestamp inside the payload (e.g. Shopify's {@code consent_updated_at}). */
        PAYLOAD,
        /** The platform's delivery header (e.g. {@code X-Shopify-Triggered-At}, {@code webhook-timestamp}). */
        DELIVERY,
        /** Nothing better was sent: the hub's receive time. */
        RECEIVED;

        public String wireName() {
            return name().toLowerCase();
        }
    }
}
