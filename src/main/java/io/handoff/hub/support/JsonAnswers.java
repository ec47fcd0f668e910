package io.handoff.hub.support;

import java.io.IOException;
import java.io.UncheckedIOException;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Writes an HTTP answer on a platform-http exchange: status, JSON body, and no other header. */
public final class JsonAnswers {

    private JsonAnswers() {
    }

    public static void answer(Exchange exchange, int status, JsonNode body) {
        answer(exchange, status, body, null);
    }

    /** As {@link #answer(Exchange, int, JsonNode)}, with a {@code Retry-After} header in seconds (null for none). */
    public static void answer(Exchange exchange, int status, JsonNode body, String retryAfter) {
        Message message = exchange.getMessage();
        // Inbound request headers would otherwise be echoed back as response headers.
        message.removeHeaders("*");
        if (retryAfter != null) {
            message.setHeader("Retry-After", retryAfter);
        }
        message.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        message.setHeader(Exchange.CONTENT_TYPE, "application/json");
        try {
            message.setBody(Json.MAPPER.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static ObjectNode error(String code, String message) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.putObject("error").put("code", code).put("message", message);
        return body;
    }
}
