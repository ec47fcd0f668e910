package io.handoff.hub.sandbox;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.ContractSchemas;
import io.handoff.hub.support.Json;

/**
 * Simulated HubSpot Communication Preferences v4: {@code POST /communication-preferences/v4/statuses/batch/write}
 * and {@code .../batch/read?channel=EMAIL}, and the CRM contacts search ({@code POST /crm/v3/objects/contacts/search},
 * filters on {@code hs_object_id} or {@code email}, results in id order, {@code after} an offset into them). Needs a
 * bearer token; the write body is validated against the published request schema (EMAIL only, integer
 * subscriptionId, the statusState enum); an input naming a subscription type the portal does not have is listed
 * under {@code errors}, as HubSpot does. The sandbox portal has one subscription type, {@value #SUBSCRIPTION_ID}
 * (Marketing Information); a contact gets the next numeric id when the sandbox first hears of its email.
 */
public class HubSpotSandbox implements SandboxApi {

    public static final long SUBSCRIPTION_ID = 1001;
    static final String SCHEMA = "/vendor-contracts/hubspot/communication-preferences-v4.operations.json";
    static final String REQUEST = "/operations/POST ~1communication-preferences~1v4~1statuses~1batch~1write"
            + "/requestBody/content/application~1json/schema";

    private static final Set<String> PATHS = Set.of("/communication-preferences/v4/statuses/batch/write",
            "/communication-preferences/v4/statuses/batch/read", "/crm/v3/objects/contacts/search");
    /** The contacts search's largest {@code limit}. */
    static final int MAX_LIMIT = 200;

    /** A contact and its status for subscription {@value #SUBSCRIPTION_ID}, set at {@code updated}. */
    record Contact(long id, String email, String status, String source, String reason, Instant created,
            Instant updated) {
    }

    private final Map<String, Contact> contacts = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    @Override
    public Answer handle(Request request) {
        String auth = request.header("Authorization");
        if (auth == null || !auth.startsWith("Bearer ") || auth.length() <= 7) {
            return error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.");
        }
        if (!"POST".equals(request.method()) || !PATHS.contains(request.path())) {
            return error(404, "OBJECT_NOT_FOUND", "resource not found");
        }
        JsonNode body = request.json();
        if (body == null) {
            return error(400, "VALIDATION_ERROR", "Invalid input JSON: the body is not JSON");
        }
        return switch (request.path()) {
            case "/communication-preferences/v4/statuses/batch/write" -> write(body);
            case "/communication-preferences/v4/statuses/batch/read" -> read(request.query().get("channel"), body);
            case "/crm/v3/objects/contacts/search" -> search(body);
            default -> error(404, "OBJECT_NOT_FOUND", "resource not found");
        };
    }

    private Answer write(JsonNode body) {
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
            Contact old = contacts.get(email);
            boolean unchanged = old != null && input.path("statusState").asText().equals(old.status());
            put(email, input.path("statusState").asText(), "API", null, Instant.now());
            ObjectNode result = results.addObject();
            result.put("subscriberIdString", email).put("subscriptionId", SUBSCRIPTION_ID).put("channel", "EMAIL")
                    .put("status", input.path("statusState").asText()).put("source", "API")
                    .put("timestamp", Instant.now().toString()).put("subscriptionName", "Marketing Information")
                    .put("setStatusSuccessReason", unchanged ? "NO_STATUS_CHANGE" : "REQUESTED_CHANGE_OCCURRED");
        }
        answer.put("status", "COMPLETE").put("startedAt", started).put("completedAt", Instant.now().toString());
        if (!errors.isEmpty()) {
            answer.put("numErrors", errors.size());
            answer.set("errors", errors);
        }
        return Answer.json(200, answer);
    }

    private Answer read(String channel, JsonNode body) {
        if (channel == null || channel.isBlank()) {
            return error(400, "VALIDATION_ERROR", "Required query parameter channel is missing");
        }
        if (!"EMAIL".equals(channel)) {
            return error(400, "VALIDATION_ERROR", "Unknown channel " + channel + " (expected EMAIL)");
        }
        if (!body.path("inputs").isArray()) {
            return error(400, "VALIDATION_ERROR", "Invalid input JSON: inputs is required");
        }
        String started = Instant.now().toString();
        ObjectNode answer = Json.MAPPER.createObjectNode().put("status", "COMPLETE");
        ArrayNode results = answer.putArray("results");
        for (JsonNode input : body.path("inputs")) {
            String email = input.asText();
            ObjectNode result = results.addObject().put("subscriberIdString", email);
            ArrayNode statuses = result.putArray("statuses");
            Contact c = contacts.get(email.strip().toLowerCase());
            if (c != null) {
                statuses.addObject().put("subscriberIdString", email).put("channel", "EMAIL")
                        .put("subscriptionId", SUBSCRIPTION_ID).put("subscriptionName", "Marketing Information")
                        .put("status", c.status()).put("source", c.source()).put("timestamp", c.updated().toString());
            }
        }
        answer.put("startedAt", started).put("completedAt", Instant.now().toString());
        return Answer.json(200, answer);
    }

    private Answer search(JsonNode body) {
        for (String field : List.of("after", "filterGroups", "limit", "properties", "sorts")) {
            if (body.path(field).isMissingNode() || body.path(field).isNull()) {
                return error(400, "VALIDATION_ERROR", "Invalid input JSON: " + field + " is required");
            }
        }
        int limit = body.path("limit").isIntegralNumber() ? body.path("limit").asInt() : -1;
        if (limit < 1 || limit > MAX_LIMIT) {
            return error(400, "VALIDATION_ERROR", "limit must be an integer from 1 to " + MAX_LIMIT);
        }
        int after;
        try {
            after = Integer.parseInt(body.path("after").asText().strip());
        } catch (NumberFormatException e) {
            after = -1;
        }
        if (after < 0) {
            return error(400, "VALIDATION_ERROR", "after must be a non-negative integer");
        }
        // Filter groups are ORed, the filters of a group ANDed; no groups: every contact.
        List<List<Predicate<Contact>>> groups = new ArrayList<>();
        for (JsonNode group : body.path("filterGroups")) {
            List<Predicate<Contact>> filters = new ArrayList<>();
            for (JsonNode f : group.path("filters")) {
                Predicate<Contact> filter = filter(f);
                if (filter == null) {
                    return error(400, "VALIDATION_ERROR", "The sandbox searches hs_object_id (EQ, GT, GTE, LT, LTE)"
                            + " and email (EQ) only, not " + f);
                }
                filters.add(filter);
            }
            groups.add(filters);
        }
        List<Contact> found = contacts.values().stream()
                .filter(c -> groups.isEmpty() || groups.stream().anyMatch(g -> g.stream().allMatch(f -> f.test(c))))
                .sorted(Comparator.comparingLong(Contact::id)).toList();
        int end = (int) Math.min((long) after + limit, found.size());
        ObjectNode answer = Json.MAPPER.createObjectNode().put("total", found.size());
        ArrayNode results = answer.putArray("results");
        for (Contact c : found.subList(Math.min(after, end), end)) {
            ObjectNode result = results.addObject().put("id", Long.toString(c.id()));
            result.putObject("properties").put("email", c.email()).put("hs_object_id", Long.toString(c.id()));
            result.put("createdAt", c.created().toString()).put("updatedAt", c.updated().toString())
                    .put("archived", false);
        }
        if (end < found.size()) {
            answer.putObject("paging").putObject("next").put("after", Integer.toString(end))
                    .put("link", "?after=" + end);
        }
        return Answer.json(200, answer);
    }

    /** A search filter as a test on a contact, or null if the sandbox does not know it. */
    private static Predicate<Contact> filter(JsonNode f) {
        String property = f.path("propertyName").asText();
        String value = f.path("value").asText();
        if ("email".equals(property) && "EQ".equals(f.path("operator").asText())) {
            return c -> c.email().equalsIgnoreCase(value.strip());
        }
        long parsed;
        try {
            parsed = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            return null;
        }
        long v = parsed;
        LongPredicate test = switch (f.path("operator").asText()) {
            case "EQ" -> id -> id == v;
            case "GT" -> id -> id > v;
            case "GTE" -> id -> id >= v;
            case "LT" -> id -> id < v;
            case "LTE" -> id -> id <= v;
            default -> null;
        };
        return "hs_object_id".equals(property) && test != null ? c -> test.test(c.id()) : null;
    }

    /** Sets a contact's status, giving a new email the next id; its time changes only when the status does. */
    private void put(String email, String status, String source, String reason, Instant at) {
        contacts.compute(email, (k, old) -> old == null
                ? new Contact(ids.incrementAndGet(), k, status, source, reason, at, at)
                : old.status().equals(status) ? old
                : new Contact(old.id(), k, status, source, reason, old.created(), at));
    }

    @Override
    public void suppress(String email, String reason, Instant at) {
        put(email, "UNSUBSCRIBED", "SANDBOX", reason, at);
    }

    @Override
    public void subscribe(String email, Instant at) {
        put(email, "SUBSCRIBED", "SANDBOX", null, at);
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
        ObjectNode all = state.putObject("contacts");
        contacts.forEach((email, c) -> {
            out.put(email, c.status());
            all.putObject(email).put("id", c.id()).put("source", c.source()).put("reason", c.reason())
                    .put("updated", c.updated().toString());
        });
        return state;
    }
}
