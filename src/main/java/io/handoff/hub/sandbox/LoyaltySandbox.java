package io.handoff.hub.sandbox;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.URLDecoder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.ContractSchemas;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Simulated loyalty platform, to the contract in {@code vendor-contracts/loyalty/consent-event.request.schema.json}
 * (ours: the project's stand-in loyalty platform): {@code POST /api/v1/consent-events} with {@code X-Api-Key};
 * 202 accepted, 400 with the violations, 401 without a key. A repeated {@code Idempotency-Key} is accepted without
 * applying the event again. {@code GET /api/v1/members?optedOut=true&limit=<1..1000, default 100>&cursor=<opaque>}
 * pages through the members (in member key order: member number, else email) whose last email consent event was an
 * opt-out, with the event's reason (default {@code unsubscribed}) and time ({@code occurredAt}).
 * <p>
 * {@code PUT /api/v1/members/{email, percent-encoded}/address} with {@code X-Api-Key} and {@code {"memberId",
 * "type", "line1", "line2", "city", "region", "postalCode", "country", "updatedAt", "source"}} sets the member's
 * address of that type ({@code shipping} or {@code billing}; one of each per member, the new one replacing the
 * old) and answers 200 with the stored address. {@code line1}, {@code city}, {@code postalCode} and
 * {@code country} are required non-empty strings; the others, if given, strings ({@code updatedAt} an ISO-8601
 * timestamp with offset, or empty for the time it is stored); else 400 with the violations and nothing stored. A
 * repeated {@code Idempotency-Key} answers 200 with the address its first request stored, without applying the
 * request again. The addresses are kept per member email (the path), per type.
 */
public class LoyaltySandbox implements SandboxApi {

    static final String SCHEMA = "/vendor-contracts/loyalty/consent-event.request.schema.json";

    /** A member's last email consent event; {@code memberId} is made up from the email if the event had none. */
    record Member(String memberId, String email, boolean emailOptIn, String state, String reason, Instant updated) {
    }

    private static final Pattern ADDRESS = Pattern.compile("/api/v1/members/([^/]+)/address");
    /** The address types a member has one of each. */
    static final Set<String> ADDRESS_TYPES = Set.of("shipping", "billing");
    private static final List<String> REQUIRED = List.of("line1", "city", "postalCode", "country");
    private static final List<String> OPTIONAL = List.of("memberId", "line2", "region", "updatedAt", "source");

    /** A member's address of one type, as last stored; {@code updatedAt} as the request gave it (else stored). */
    record Address(String memberId, String email, String type, String line1, String line2, String city,
            String region, String postalCode, String country, Instant updatedAt, String source, Instant stored) {
        ObjectNode json() {
            return Json.MAPPER.createObjectNode().put("memberId", memberId).put("email", email).put("type", type)
                    .put("line1", line1).put("line2", line2).put("city", city).put("region", region)
                    .put("postalCode", postalCode).put("country", country).put("updatedAt", updatedAt.toString())
                    .put("source", source);
        }
    }

    private final Map<String, Member> members = new ConcurrentHashMap<>();
    private final ConsentTransitions transitions = new ConsentTransitions();
    private final Set<String> seenKeys = ConcurrentHashMap.newKeySet();
    /** Per email, per type: the member's addresses. */
    private final Map<String, Map<String, Address>> addresses = new ConcurrentHashMap<>();
    /** Per {@code Idempotency-Key} of an address PUT: the address it stored. */
    private final Map<String, Address> addressKeys = new ConcurrentHashMap<>();

    @Override
    public Answer handle(Request request) {
        if (request.header("X-Api-Key") == null || request.header("X-Api-Key").isBlank()) {
            return error(401, "missing or wrong API key");
        }
        if ("GET".equals(request.method()) && "/api/v1/members".equals(request.path())) {
            return members(request.query());
        }
        Matcher address = ADDRESS.matcher(request.path());
        if ("PUT".equals(request.method()) && address.matches()) {
            return putAddress(address.group(1), request);
        }
        if (!"POST".equals(request.method()) || !"/api/v1/consent-events".equals(request.path())) {
            return error(404, "no such resource");
        }
        JsonNode body = request.json();
        if (body == null) {
            return error(400, "the body is not JSON");
        }
        List<String> violations = ContractSchemas.violations(SCHEMA, body);
        if (!violations.isEmpty()) {
            return error(400, String.join("; ", violations));
        }
        String key = request.header("Idempotency-Key");
        if (key == null || seenKeys.add(key)) {
            String email = body.path("email").asText().toLowerCase();
            String member = body.path("memberId").asText().isEmpty() ? email : body.path("memberId").asText();
            if ("email".equals(body.path("channel").asText())) {
                Instant at;
                try {
                    at = Json.instant(body.path("occurredAt").asText());
                } catch (IllegalArgumentException e) {
                    at = null;
                }
                String reason = body.path("reason").asText("");
                members.put(member, new Member(member.equals(email) ? memberId(email) : member, email,
                        body.path("optIn").asBoolean(), body.path("state").asText(null),
                        reason.isEmpty() ? null : reason, at == null ? Instant.now() : at));
                transitions.note(email, body.path("optIn").asBoolean());
            }
        }
        return Answer.json(202, Json.MAPPER.createObjectNode().put("status", "accepted"));
    }

    /** {@code PUT /api/v1/members/{email}/address}: stores the member's address of the body's type. */
    private Answer putAddress(String segment, Request request) {
        String email;
        try {
            email = URLDecoder.decode(segment.replace("+", "%2B"), UTF_8).strip().toLowerCase();
        } catch (IllegalArgumentException e) {
            return error(400, "the member's email in the path is not percent-encoded");
        }
        if (!email.contains("@")) {
            return error(400, "the path must name the member's email");
        }
        JsonNode body = request.json();
        if (body == null || !body.isObject()) {
            return error(400, "the body is not a JSON object");
        }
        List<String> violations = new ArrayList<>();
        String type = body.path("type").isTextual() ? body.path("type").asText() : null;
        if (type == null || !ADDRESS_TYPES.contains(type)) {
            violations.add("type must be shipping or billing");
        }
        for (String field : REQUIRED) {
            JsonNode value = body.path(field);
            if (!value.isTextual() || value.asText().isBlank()) {
                violations.add(field + " is required (a non-empty string)");
            }
        }
        for (String field : OPTIONAL) {
            JsonNode value = body.path(field);
            if (!value.isMissingNode() && !value.isNull() && !value.isTextual()) {
                violations.add(field + " must be a string");
            }
        }
        Instant updatedAt = null;
        try {
            updatedAt = Json.instant(Json.text(body, "updatedAt"));
        } catch (IllegalArgumentException e) {
            violations.add("updatedAt must be an ISO-8601 timestamp with offset");
        }
        if (!violations.isEmpty()) {
            return error(400, String.join("; ", violations));
        }
        String key = request.header("Idempotency-Key");
        Address first = key == null ? null : addressKeys.get(key);
        if (first != null) {
            return Answer.json(200, first.json()); // a repeat: the first answer again, nothing applied
        }
        Instant now = Instant.now();
        String memberId = text(body, "memberId");
        Address stored = new Address(memberId.isEmpty() ? memberId(email) : memberId, email, type,
                text(body, "line1"), text(body, "line2"), text(body, "city"), text(body, "region"),
                text(body, "postalCode"), text(body, "country"), updatedAt == null ? now : updatedAt,
                text(body, "source"), now);
        if (key != null && (first = addressKeys.putIfAbsent(key, stored)) != null) {
            return Answer.json(200, first.json()); // the same key at the same moment: applied once
        }
        addresses.computeIfAbsent(email, k -> new ConcurrentHashMap<>()).put(type, stored);
        return Answer.json(200, stored.json());
    }

    /** A string field of the body, stripped, or "" if it is not there. */
    private static String text(JsonNode body, String field) {
        String value = Json.text(body, field);
        return value == null ? "" : value.strip();
    }

    private Answer members(Map<String, String> query) {
        String optedOut = query.get("optedOut");
        if (optedOut != null && !optedOut.equals("true") && !optedOut.equals("false")) {
            return error(400, "optedOut must be true or false");
        }
        int limit = Pages.size(query.get("limit"), 100, 1000);
        if (limit < 0) {
            return error(400, "limit must be an integer from 1 to 1000");
        }
        String cursor = query.get("cursor");
        String after = cursor == null || cursor.isEmpty() ? null : Pages.key(cursor);
        if (after == null && cursor != null && !cursor.isEmpty()) {
            return error(400, "invalid cursor");
        }
        NavigableMap<String, Member> sorted = new TreeMap<>();
        members.forEach((key, m) -> {
            if (optedOut == null || m.emailOptIn() != Boolean.parseBoolean(optedOut)) {
                sorted.put(key, m);
            }
        });
        Pages.Slice<String, Member> slice = Pages.after(sorted, after, limit);
        ObjectNode page = Json.MAPPER.createObjectNode();
        var list = page.putArray("members");
        for (Map.Entry<String, Member> e : slice.entries()) {
            Member m = e.getValue();
            list.addObject().put("memberId", m.memberId()).put("email", m.email()).put("optIn", m.emailOptIn())
                    .put("reason", m.emailOptIn() ? null : m.reason() == null ? "unsubscribed" : m.reason())
                    .put("updatedAt", m.updated().toString());
        }
        page.put("nextCursor", slice.more() ? Pages.cursor(slice.entries().get(slice.entries().size() - 1).getKey())
                : null);
        return Answer.json(200, page);
    }

    @Override
    public void suppress(String email, String reason, Instant at) {
        String why = reason == null || reason.isBlank() ? "unsubscribed" : reason.toLowerCase();
        String key = key(email);
        members.put(key, new Member(key.equals(email) ? memberId(email) : key, email, false,
                why.equals("unsubscribed") ? "unsubscribed" : "suppressed", why, at));
        transitions.note(email, false);
    }

    @Override
    public void subscribe(String email, Instant at) {
        String key = key(email);
        members.put(key, new Member(key.equals(email) ? memberId(email) : key, email, true, "subscribed", null, at));
        transitions.note(email, true);
    }

    @Override
    public ConsentTransitions transitions() {
        return transitions;
    }

    /** The key of the member with this email: its member number if an event gave one, else the email. */
    private String key(String email) {
        return members.entrySet().stream().filter(e -> email.equals(e.getValue().email())).map(Map.Entry::getKey)
                .findFirst().orElse(email);
    }

    /** The member number the sandbox gives a member known by email only. */
    static String memberId(String email) {
        return "MSBX" + Pii.sha256Hex(email).substring(0, 10).toUpperCase();
    }

    static Answer error(int status, String message) {
        return Answer.json(status, Json.MAPPER.createObjectNode().put("error", message));
    }

    @Override
    public ObjectNode state() {
        ObjectNode state = Json.MAPPER.createObjectNode();
        ObjectNode out = state.putObject("members");
        members.forEach((id, m) -> out.putObject(id).put("memberId", m.memberId()).put("email", m.email())
                .put("emailOptIn", m.emailOptIn()).put("state", m.state()).put("reason", m.reason())
                .put("updated", m.updated().toString()));
        ObjectNode held = state.putObject("addresses");
        addresses.forEach((email, byType) -> {
            ObjectNode member = held.putObject(email);
            byType.forEach((type, a) -> member.set(type, a.json().put("stored", a.stored().toString())));
        });
        return state;
    }
}
