package io.handoff.hub.sandbox;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.URLDecoder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * <p>
 * {@code PATCH /crm/v3/objects/contacts/{contactId}}, or {@code /{email}?idProperty=email} (the segment
 * percent-encoded), with {@code {"properties": {...}}} updates the contact's address properties ({@code address},
 * {@code city}, {@code state}, {@code zip}, {@code country}: the only contact properties the sandbox portal takes,
 * each a string; one not sent is kept) and answers 200 with the contact as a SimplePublicObject
 * ({@code id}, {@code properties} with every address property held plus {@code email}, {@code hs_object_id},
 * {@code createdate}, {@code lastmodifieddate}; {@code createdAt}, {@code updatedAt}, {@code archived}). A
 * property the portal does not have ({@code PROPERTY_DOESNT_EXIST}) or a value that is not a string is refused
 * with 400 {@code VALIDATION_ERROR} and nothing changes; an id the sandbox has not given is 404
 * {@code OBJECT_NOT_FOUND}. By email, the sandbox first hears of the email if it had not (the contact gets the next
 * id, with no subscription status), the way a CRM that is the master of customer records holds every customer.
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
    private static final Pattern CONTACT = Pattern.compile("/crm/v3/objects/contacts/([^/]+)");
    /** The contact properties a PATCH may set: HubSpot's standard address properties. */
    static final Set<String> ADDRESS_PROPERTIES = Set.of("address", "city", "state", "zip", "country");

    /**
     * A contact and its status for subscription {@value #SUBSCRIPTION_ID} (null if it never had one), set at
     * {@code updated}.
     */
    record Contact(long id, String email, String status, String source, String reason, Instant created,
            Instant updated) {
    }

    /** The address properties a contact holds (name to value, in name order), last set at {@code updated}. */
    record AddressProperties(SortedMap<String, String> values, Instant updated) {
    }

    private final Map<String, Contact> contacts = new ConcurrentHashMap<>();
    private final ConsentTransitions transitions = new ConsentTransitions();
    /** Per email: the contact's address properties. */
    private final Map<String, AddressProperties> properties = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    @Override
    public Answer handle(Request request) {
        String auth = request.header("Authorization");
        if (auth == null || !auth.startsWith("Bearer ") || auth.length() <= 7) {
            return error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.");
        }
        Matcher contact = CONTACT.matcher(request.path());
        if ("PATCH".equals(request.method()) && contact.matches()) {
            return update(contact.group(1), request);
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
            if (c != null && c.status() != null) {
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

    /** {@code PATCH /crm/v3/objects/contacts/{contactId or email}}: sets the contact's address properties. */
    private Answer update(String segment, Request request) {
        String key;
        try {
            key = decode(segment).strip();
        } catch (IllegalArgumentException e) {
            return error(400, "VALIDATION_ERROR", "Invalid contact id: " + segment);
        }
        String idProperty = request.query().get("idProperty");
        if (idProperty != null && !idProperty.equals("email") && !idProperty.equals("hs_object_id")) {
            return error(400, "VALIDATION_ERROR", "Property " + idProperty + " is not a unique identifier property");
        }
        JsonNode body = request.json();
        if (body == null) {
            return error(400, "VALIDATION_ERROR", "Invalid input JSON: the body is not JSON");
        }
        if (!(body.get("properties") instanceof ObjectNode given)) {
            return error(400, "VALIDATION_ERROR", "Invalid input JSON: properties is required and must be an object");
        }
        ArrayNode invalid = Json.MAPPER.createArrayNode();
        given.fields().forEachRemaining(p -> {
            if (!ADDRESS_PROPERTIES.contains(p.getKey())) {
                invalid.addObject().put("isValid", false).put("message", "Property \"" + p.getKey()
                        + "\" does not exist").put("error", "PROPERTY_DOESNT_EXIST").put("name", p.getKey());
            } else if (!p.getValue().isTextual()) {
                invalid.addObject().put("isValid", false).put("message", p.getValue() + " is not a valid string"
                        + " for property " + p.getKey()).put("error", "INVALID_STRING").put("name", p.getKey());
            }
        });
        if (!invalid.isEmpty()) {
            return error(400, "VALIDATION_ERROR", "Property values were not valid: " + invalid);
        }
        Instant now = Instant.now();
        Contact c = null;
        if ("email".equals(idProperty)) {
            if (!key.contains("@")) {
                return error(404, "OBJECT_NOT_FOUND", "resource not found");
            }
            c = contacts.computeIfAbsent(key.toLowerCase(),
                    email -> new Contact(ids.incrementAndGet(), email, null, null, null, now, now));
        } else {
            for (Contact known : contacts.values()) {
                if (Long.toString(known.id()).equals(key)) {
                    c = known;
                }
            }
            if (c == null) {
                return error(404, "OBJECT_NOT_FOUND", "resource not found");
            }
        }
        AddressProperties held = properties.compute(c.email(), (email, old) -> {
            SortedMap<String, String> values = new TreeMap<>();
            if (old != null) {
                values.putAll(old.values());
            }
            given.fields().forEachRemaining(p -> values.put(p.getKey(), p.getValue().asText()));
            return new AddressProperties(Collections.unmodifiableSortedMap(values), now);
        });
        SortedMap<String, String> all = new TreeMap<>(held.values());
        all.put("createdate", c.created().toString());
        all.put("email", c.email());
        all.put("hs_object_id", Long.toString(c.id()));
        all.put("lastmodifieddate", held.updated().toString());
        ObjectNode answer = Json.MAPPER.createObjectNode().put("id", Long.toString(c.id()));
        ObjectNode out = answer.putObject("properties");
        all.forEach(out::put);
        answer.put("createdAt", c.created().toString()).put("updatedAt", held.updated().toString())
                .put("archived", false);
        return Answer.json(200, answer);
    }

    /** A percent-encoded path segment, decoded ({@code +} stays {@code +}, as in a path). */
    static String decode(String segment) {
        return URLDecoder.decode(segment.replace("+", "%2B"), UTF_8);
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
                : status.equals(old.status()) ? old
                : new Contact(old.id(), k, status, source, reason, old.created(), at));
        transitions.note(email, "SUBSCRIBED".equals(status));
    }

    @Override
    public ConsentTransitions transitions() {
        return transitions;
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
            if (c.status() != null) {
                out.put(email, c.status());
            }
            ObjectNode contact = all.putObject(email).put("id", c.id()).put("source", c.source())
                    .put("reason", c.reason()).put("updated", c.updated().toString());
            AddressProperties held = properties.get(email);
            if (held != null) {
                ObjectNode props = contact.putObject("properties");
                held.values().forEach(props::put);
                contact.put("propertiesUpdated", held.updated().toString());
            }
        });
        return state;
    }
}
