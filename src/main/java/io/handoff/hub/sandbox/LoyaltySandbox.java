package io.handoff.hub.sandbox;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

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
 */
public class LoyaltySandbox implements SandboxApi {

    static final String SCHEMA = "/vendor-contracts/loyalty/consent-event.request.schema.json";

    /** A member's last email consent event; {@code memberId} is made up from the email if the event had none. */
    record Member(String memberId, String email, boolean emailOptIn, String state, String reason, Instant updated) {
    }

    private final Map<String, Member> members = new ConcurrentHashMap<>();
    private final Set<String> seenKeys = ConcurrentHashMap.newKeySet();

    @Override
    public Answer handle(Request request) {
        if (request.header("X-Api-Key") == null || request.header("X-Api-Key").isBlank()) {
            return error(401, "missing or wrong API key");
        }
        if ("GET".equals(request.method()) && "/api/v1/members".equals(request.path())) {
            return members(request.query());
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
            }
        }
        return Answer.json(202, Json.MAPPER.createObjectNode().put("status", "accepted"));
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
    }

    @Override
    public void subscribe(String email, Instant at) {
        String key = key(email);
        members.put(key, new Member(key.equals(email) ? memberId(email) : key, email, true, "subscribed", null, at));
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
        return state;
    }
}
