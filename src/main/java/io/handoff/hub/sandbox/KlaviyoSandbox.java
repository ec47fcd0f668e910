package io.handoff.hub.sandbox;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.ContractSchemas;
import io.handoff.hub.support.Json;

/**
 * Simulated Klaviyo (revision 2026-07-15): the profile subscription and suppression bulk jobs and list membership.
 * Requires {@code Authorization: Klaviyo-API-Key}, a {@code revision} header and {@code application/vnd.api+json};
 * bodies are validated against the published request schemas (a 2026-07-15 unsubscribe without
 * {@code subscriptions} is refused, as Klaviyo does). Like Klaviyo, an unsubscribe naming a list unsubscribes a
 * profile that is not on the list from everything, and a subscribe lifts UNSUBSCRIBE and USER_SUPPRESSED
 * suppressions but not a hard bounce.
 */
public class KlaviyoSandbox implements SandboxApi {

    static final String SCHEMAS = "/vendor-contracts/klaviyo/";
    private static final Pattern REVISION = Pattern.compile("\\d{4}-\\d{2}-\\d{2}(\\.[a-z0-9]+)?");
    private static final Pattern LIST_PROFILES = Pattern.compile("/api/lists/([^/]+)/profiles");
    private static final Pattern EQUALS_EMAIL = Pattern.compile("equals\\(email,\"(.*)\"\\)");

    /** Per email: consent (SUBSCRIBED, UNSUBSCRIBED) and suppression reason. */
    record Profile(String consent, String suppression, Instant updated) {
    }

    private final Map<String, Profile> profiles = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> lists = new ConcurrentHashMap<>();

    @Override
    public Answer handle(Request request) {
        String auth = request.header("Authorization");
        if (auth == null || !auth.startsWith("Klaviyo-API-Key ") || auth.length() <= 16) {
            return error(401, "not_authenticated", "Authentication credentials were not provided.");
        }
        String revision = request.header("revision");
        if (revision == null || !REVISION.matcher(revision).matches()) {
            return error(400, "invalid", "The revision header is required (YYYY-MM-DD).");
        }
        Matcher list = LIST_PROFILES.matcher(request.path());
        if ("GET".equals(request.method()) && list.matches()) {
            return listProfiles(list.group(1), request.query().get("filter"));
        }
        if (!"POST".equals(request.method())) {
            return error(405, "method_not_allowed", "Method not allowed.");
        }
        String type = request.header("Content-Type");
        if (type == null || !type.startsWith("application/vnd.api+json")) {
            return error(415, "unsupported_media_type", "Content-Type must be application/vnd.api+json.");
        }
        JsonNode body = request.json();
        if (body == null) {
            return error(400, "invalid", "Request body is not valid JSON.");
        }
        return switch (request.path()) {
            case "/api/profile-subscription-bulk-delete-jobs" -> job(body, "bulk_unsubscribe_profiles", this::unsubscribe);
            case "/api/profile-subscription-bulk-create-jobs" -> job(body, "bulk_subscribe_profiles", this::subscribe);
            case "/api/profile-suppression-bulk-create-jobs" -> job(body, "bulk_suppress_profiles", this::suppress);
            default -> error(404, "not_found", "Not found.");
        };
    }

    private Answer job(JsonNode body, String schema, java.util.function.Function<JsonNode, Answer> apply) {
        List<String> violations = ContractSchemas.violations(SCHEMAS + schema + ".request.schema.json", body);
        if (!violations.isEmpty()) {
            return error(400, "invalid", String.join("; ", violations));
        }
        return apply.apply(body);
    }

    private Answer unsubscribe(JsonNode body) {
        JsonNode data = body.path("data");
        String listId = data.path("relationships").path("list").path("data").path("id").asText(null);
        JsonNode people = data.path("attributes").path("profiles").path("data");
        if (people.size() > 100) {
            return error(400, "invalid", "At most 100 profiles per unsubscribe job.");
        }
        for (JsonNode p : people) {
            String email = email(p);
            Set<String> members = listId == null ? null : lists.get(listId);
            if (members != null && members.remove(email)) {
                continue; // taken off that list only
            }
            // Not on the given list (or no list): Klaviyo unsubscribes the profile globally.
            Profile old = profiles.get(email);
            profiles.put(email, new Profile("UNSUBSCRIBED", old == null ? null : old.suppression(), Instant.now()));
        }
        return Answer.empty(202);
    }

    private Answer subscribe(JsonNode body) {
        JsonNode attributes = body.path("data").path("attributes");
        boolean historical = attributes.path("historical_import").asBoolean(false);
        for (JsonNode p : attributes.path("profiles").path("data")) {
            JsonNode consentedAt = p.path("attributes").path("subscriptions").path("email").path("marketing")
                    .path("consented_at");
            if (historical && (consentedAt.isMissingNode() || consentedAt.isNull()
                    || Instant.parse(consentedAt.asText()).isAfter(Instant.now()))) {
                return error(400, "invalid", "historical_import requires consented_at in the past.");
            }
        }
        for (JsonNode p : attributes.path("profiles").path("data")) {
            String email = email(p);
            Profile old = profiles.get(email);
            String suppression = old == null ? null : old.suppression();
            if (suppression != null && Set.of("UNSUBSCRIBE", "USER_SUPPRESSED", "SPAM_COMPLAINT").contains(suppression)) {
                suppression = null;
            }
            profiles.put(email, new Profile("SUBSCRIBED", suppression, Instant.now()));
        }
        return Answer.empty(202);
    }

    private Answer suppress(JsonNode body) {
        JsonNode people = body.path("data").path("attributes").path("profiles").path("data");
        if (people.size() > 100) {
            return error(400, "invalid", "At most 100 profiles per suppression job.");
        }
        for (JsonNode p : people) {
            String email = email(p);
            Profile old = profiles.get(email);
            profiles.put(email, new Profile(old == null ? "NEVER_SUBSCRIBED" : old.consent(), "USER_SUPPRESSED",
                    Instant.now()));
        }
        ObjectNode job = Json.MAPPER.createObjectNode();
        ObjectNode data = job.putObject("data");
        data.put("type", "profile-suppression-bulk-create-job").put("id", UUID.randomUUID().toString());
        data.putObject("attributes").put("status", "queued").put("created_at", Instant.now().toString())
                .put("total_count", people.size()).put("completed_count", 0);
        return new Answer(202, "application/vnd.api+json", job.toString());
    }

    private Answer listProfiles(String listId, String filter) {
        ObjectNode page = Json.MAPPER.createObjectNode();
        ArrayNode data = page.putArray("data");
        Matcher email = EQUALS_EMAIL.matcher(filter == null ? "" : filter);
        for (String member : lists.getOrDefault(listId, Set.of())) {
            if (!email.matches() || email.group(1).equalsIgnoreCase(member)) {
                data.addObject().put("type", "profile").put("id", "01SANDBOX" + Integer.toHexString(member.hashCode()))
                        .putObject("attributes").put("email", member);
            }
        }
        return new Answer(200, "application/vnd.api+json", page.toString());
    }

    /** Puts an email on a list (sandbox set-up, {@code PUT /sandbox/klaviyo/_lists/<id>}). */
    public void addToList(String listId, String email) {
        lists.computeIfAbsent(listId, k -> ConcurrentHashMap.newKeySet()).add(email.toLowerCase());
    }

    private static String email(JsonNode profile) {
        return profile.path("attributes").path("email").asText().toLowerCase();
    }

    static Answer error(int status, String code, String detail) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ObjectNode error = body.putArray("errors").addObject();
        error.put("id", UUID.randomUUID().toString()).put("status", status).put("code", code)
                .put("title", code.replace('_', ' ')).put("detail", detail);
        error.putObject("source").put("pointer", "/data");
        return new Answer(status, "application/vnd.api+json", body.toString());
    }

    @Override
    public ObjectNode state() {
        ObjectNode state = Json.MAPPER.createObjectNode();
        ObjectNode out = state.putObject("profiles");
        profiles.forEach((email, p) -> out.putObject(email).put("consent", p.consent())
                .put("suppression", p.suppression()).put("updated", p.updated().toString()));
        ObjectNode l = state.putObject("lists");
        lists.forEach((id, members) -> members.forEach(l.withArray(id)::add));
        return state;
    }
}
