package io.handoff.hub.sandbox;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.ContractSchemas;
import io.handoff.hub.support.Json;

/**
 * Simulated HubSpot Communication Preferences v4: {@code POST /communication-preferences/v4/statuses/batch/write}.
 * Needs a bearer token; the body is validated against the published request schema (EMAIL only, integer
 * subscriptionId, the statusState enum); an input naming a subscription type the portal does not have is listed
 * under {@code errors}, as HubSpot does. The sandbox portal has one subscription type, {@value #SUBSCRIPTION_ID}
 * (Marketing Information).
 */
public class HubSpotSandbox implements SandboxApi {

    public static final long SUBSCRIPTION_ID = 1001;
    static final String SCHEMA = "/vendor-contracts/hubspot/communication-preferences-v4.operations.json";
    static final String REQUEST = "/operations/POST ~1communication-preferences~1v4~1statuses~1batch~1write"
            + "/requestBody/content/application~1json/schema";

    private final Map<String, String> statuses = new ConcurrentHashMap<>();

    @Override
    public Answer handle(Request request) {
        String auth = request.header("Authorization");
        if (auth == null || !auth.startsWith("Bearer ") || auth.length() <= 7) {
            return error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.");
        }
        if (!"POST".equals(request.method()) || !"/communication-preferences/v4/statuses/batch/write".equals(request.path())) {
            return error(404, "OBJECT_NOT_FOUND", "resource not found");
        }
        JsonNode body = request.json();
        if (body == null) {
            return error(400, "VALIDATION_ERROR", "Invalid input JSON: the body is not JSON");
        }
        List<String> violations = ContractSchemas.violations(SCHEMA, REQUEST, body);
        if (!violations.isEmpty()) {
            return error(400, "VALIDATION_ERROR", "Invalid input JSON: " + String.join("; ", violations));
        }
        String started = Instant.now().toString();
        ObjectNode answer = Json.MAPPER.createObjectNode();
        ArrayNode results = answer.putArray("results");
        ArrayNode errors = Json.MAPPER.createArrayNode();
        for (JsonNode input : body.path("inputs")) {
            String email = input.path("subscriberIdString").asText().toLowerCase();
            if (input.path("subscriptionId").asLong() != SUBSCRIPTION_ID) {
                ObjectNode error = errors.addObject();
                error.put("status", "error").put("category", "OBJECT_NOT_FOUND")
                        .put("message", "Subscription " + input.path("subscriptionId").asLong() + " does not exist");
                error.putObject("context").putArray("subscriberIdString").add(email);
                error.putArray("errors");
                error.putObject("links");
                continue;
            }
            String old = statuses.put(email, input.path("statusState").asText());
            ObjectNode result = results.addObject();
            result.put("subscriberIdString", email).put("subscriptionId", SUBSCRIPTION_ID).put("channel", "EMAIL")
                    .put("status", input.path("statusState").asText()).put("source", "API")
                    .put("timestamp", Instant.now().toString()).put("subscriptionName", "Marketing Information")
                    .put("setStatusSuccessReason", input.path("statusState").asText().equals(old) ? "NO_STATUS_CHANGE"
                            : "REQUESTED_CHANGE_OCCURRED");
        }
        answer.put("status", "COMPLETE").put("startedAt", started).put("completedAt", Instant.now().toString());
        if (!errors.isEmpty()) {
            answer.put("numErrors", errors.size());
            answer.set("errors", errors);
        }
        return Answer.json(200, answer);
    }

    static Answer error(int status, String category, String message) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("status", "error").put("message", message).put("category", category)
                .put("correlationId", java.util.UUID.randomUUID().toString());
        return Answer.json(status, body);
    }

    @Override
    public ObjectNode state() {
        ObjectNode state = Json.MAPPER.createObjectNode();
        ObjectNode out = state.putObject("subscriptions").putObject(Long.toString(SUBSCRIPTION_ID));
        statuses.forEach(out::put);
        return state;
    }
}
