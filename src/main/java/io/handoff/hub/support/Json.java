package io.handoff.hub.support;

import java.math.BigInteger;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The hub's JSON settings for untrusted payloads: decimals stay exact ({@code BigDecimal}), integers are never read
 * as doubles (Shopify's 64-bit ids), duplicate keys and trailing garbage are errors.
 */
public final class Json {

    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    static {
        MAPPER.getFactory().disable(JsonParser.Feature.AUTO_CLOSE_SOURCE);
    }

    private Json() {
    }

    /**
     * An identifier as text: integral JSON numbers are rendered exactly (never through a double), strings as they are.
     *
     * @return the id, or null if the node is missing or null
     * @throws IllegalArgumentException if the node is a fractional number, a boolean, an object or an array
     */
    public static String idText(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (node.isIntegralNumber()) {
            BigInteger value = node.bigIntegerValue();
            return value.toString();
        }
        if (node.isTextual() && !node.asText().isBlank()) {
            return node.asText();
        }
        throw new IllegalArgumentException("is not an integer or string id");
    }

    /** A string field, or null if missing, null or not textual. */
    public static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() || !value.isValueNode() ? null : value.asText();
    }

    /**
     * An RFC 3339 / ISO-8601 timestamp with offset (e.g. {@code 2021-12-31T19:00:00-05:00} or
     * {@code 2025-07-10T16:15:47.000000Z}).
     *
     * @return the instant, or null if the text is null or blank
     * @throws IllegalArgumentException if the text is not such a timestamp
     */
    public static Instant instant(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return OffsetDateTime.parse(text.strip()).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("is not an ISO-8601 timestamp with offset");
        }
    }
}
