package io.handoff.hub.sandbox;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.ContractSchemas;
import io.handoff.hub.support.Json;

/**
 * Simulated loyalty platform, to the contract in {@code vendor-contracts/loyalty/consent-event.request.schema.json}
 * (ours: the project's stand-in loyalty platform): {@code POST /api/v1/consent-events} with {@code X-Api-Key};
 * 202 accepted, 400 with the violations, 401 without a key. A repeated {@code Idempotency-Key} is accepted without
 * applying the event again.
 */
public class LoyaltySandbox implements SandboxApi {

    static final String SCHEMA = "/vendor-contracts/loyalty/consent-event.request.schema.json";

    record Member(boolean emailOptIn, String state, Instant updated) {
    }

    private final Map<String, Member> members = new ConcurrentHashMap<>();
    private final Set<String> seenKeys = ConcurrentHashMap.newKeySet();

    @Override
    public Answer handle(Request request) {
        if (request.header("X-Api-Key") == null || request.header("X-Api-Key").isBlank()) {
            return error(401, "missing or wrong API key");
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
            String member = body.path("memberId").asText().isEmpty() ? body.path("email").asText().toLowerCase()
                    : body.path("memberId").asText();
            if ("email".equals(body.path("channel").asText())) {
                members.put(member, new Member(body.path("optIn").asBoolean(), body.path("state").asText(null),
                        Instant.now()));
            }
        }
        return Answer.json(202, Json.MAPPER.createObjectNode().put("status", "accepted"));
    }

    static Answer error(int status, String message) {
        return Answer.json(status, Json.MAPPER.createObjectNode().put("error", message));
    }

    @Override
    public ObjectNode state() {
        ObjectNode state = Json.MAPPER.createObjectNode();
        ObjectNode out = state.putObject("members");
        members.forEach((id, m) -> out.putObject(id).put("emailOptIn", m.emailOptIn()).put("state", m.state())
                .put("updated", m.updated().toString()));
        return state;
    }
}
