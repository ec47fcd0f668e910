package io.handoff.hub.sandbox;

import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.Json;

/**
 * One simulated vendor API: answers requests with the real API's shapes and status codes, rejecting what the real
 * API rejects, and keeps its own consent state (shown by {@link #state()}).
 */
public interface SandboxApi {

    /** A request as the sandbox sees it; {@code path} is what follows {@code /sandbox/<system>}. */
    record Request(String method, String path, Map<String, String> query, Map<String, String> headers, byte[] body) {
        public Request {
            TreeMap<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            if (headers != null) {
                h.putAll(headers);
            }
            headers = h;
            query = query == null ? Map.of() : Map.copyOf(query);
            body = body == null ? new byte[0] : body;
        }

        public String header(String name) {
            return headers.get(name);
        }

        /** The body as JSON, or null if it is not JSON. */
        public JsonNode json() {
            if (body.length == 0) {
                return null;
            }
            try {
                return Json.MAPPER.readTree(body);
            } catch (IOException e) {
                return null;
            }
        }
    }

    record Answer(int status, String contentType, String body) {
        public static Answer json(int status, JsonNode body) {
            return new Answer(status, "application/json", body == null ? "" : body.toString());
        }

        public static Answer empty(int status) {
            return new Answer(status, null, "");
        }
    }

    Answer handle(Request request);

    /**
     * Marks a contact opted out or suppressed as if the system did it itself (a bounce, an unsubscribe link), creating
     * it if unknown ({@code POST /sandbox/<system>/_suppress}).
     *
     * @param email the address, lower-cased
     * @param reason the system's reason, or null for its default
     * @param at when it happened
     * @throws IllegalArgumentException if the system has no such reason
     */
    void suppress(String email, String reason, Instant at);

    /** Marks a contact subscribed and mailable, as if the system missed an opt-out ({@code _subscribe}). */
    void subscribe(String email, Instant at);

    /** The simulated system's consent state, for {@code GET /sandbox/<system>/_state}. */
    ObjectNode state();

    /** Every change of an email's mailability this system went through (empty for a system without consent). */
    default ConsentTransitions transitions() {
        return new ConsentTransitions();
    }
}
