package io.handoff.hub.event;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.Json;

/**
 * Writes and reads canonical events in the CloudEvents 1.0 JSON format (structured content mode on Kafka:
 * the record value is the whole event, the {@code content-type} header is {@value #CONTENT_TYPE}).
 */
@ApplicationScoped
@Named("canonicalEventCodec")
public class CanonicalEventCodec {

    public static final String CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8";
    public static final String SPEC_VERSION = "1.0";

    /** Extension attribute: the hub's receive time (RFC 3339). */
    public static final String EXT_RECEIVED_AT = "hubreceivedat";
    /** Extension attribute: where {@code time} was taken from: payload, delivery or received. */
    public static final String EXT_TIME_SOURCE = "hubtimesource";

    public byte[] write(CanonicalEvent event) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        node.put("specversion", SPEC_VERSION);
        node.put("id", event.id());
        node.put("source", event.source());
        node.put("type", event.type().wireName());
        if (event.subject() != null) {
            node.put("subject", event.subject());
        }
        node.put("time", event.time().toString());
        node.put("datacontenttype", "application/json");
        node.put(EXT_RECEIVED_AT, event.receivedAt().toString());
        node.put(EXT_TIME_SOURCE, event.timeSource().wireName());
        event.extensions().entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(e -> node.put(e.getKey(), e.getValue()));
        node.set("data", event.data());
        try {
            return Json.MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads the structured-mode event of a Kafka record a route consumed (value in the body, key in {@code kafka.KEY}).
     *
     * @throws IllegalArgumentException if the record is empty or not a canonical CloudEvent
     */
    public CanonicalEvent read(Exchange exchange) {
        byte[] value = exchange.getMessage().getBody(byte[].class);
        if (value == null) {
            throw new IllegalArgumentException("empty Kafka record");
        }
        return read(value, exchange.getMessage().getHeader(KafkaConstants.KEY, String.class));
    }

    /**
     * Reads a structured-mode event. The Kafka key is not part of the event and must be passed in.
     *
     * @throws IllegalArgumentException if the bytes are not a canonical CloudEvent
     */
    public CanonicalEvent read(byte[] value, String key) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(value);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
        if (!(node instanceof ObjectNode object) || !SPEC_VERSION.equals(object.path("specversion").asText())) {
            throw new IllegalArgumentException("not a CloudEvents 1.0 JSON event");
        }
        EventType type = EventType.fromWireName(object.path("type").asText())
                .orElseThrow(() -> new IllegalArgumentException("unknown type " + object.path("type").asText()));
        Map<String, String> extensions = new LinkedHashMap<>();
        object.fields().forEachRemaining(e -> {
            if (!CORE_ATTRIBUTES.contains(e.getKey())) {
                extensions.put(e.getKey(), e.getValue().asText());
            }
        });
        JsonNode data = object.get("data");
        return new CanonicalEvent(
                object.path("id").asText(),
                object.path("source").asText(),
                type,
                object.hasNonNull("subject") ? object.get("subject").asText() : null,
                Instant.parse(object.path("time").asText()),
                Instant.parse(object.path(EXT_RECEIVED_AT).asText()),
                CanonicalEvent.TimeSource.valueOf(object.path(EXT_TIME_SOURCE).asText().toUpperCase()),
                extensions,
                data instanceof ObjectNode d ? d : Json.MAPPER.createObjectNode(),
                key);
    }

    private static final java.util.Set<String> CORE_ATTRIBUTES = java.util.Set.of("specversion", "id", "source", "type",
            "subject", "time", "datacontenttype", "dataschema", "data", EXT_RECEIVED_AT, EXT_TIME_SOURCE);
}
