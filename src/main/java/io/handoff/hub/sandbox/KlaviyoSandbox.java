package io.handoff.hub.sandbox;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.URLEncoder;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.ContractSchemas;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Simulated Klaviyo (revision 2026-07-15): the profile subscription and suppression bulk jobs and list membership.
 * Requires {@code Authorization: Klaviyo-API-Key}, a {@code revision} header and {@code application/vnd.api+json};
 * bodies are validated against the published request schemas (a 2026-07-15 unsubscribe without
 * {@code subscriptions} is refused, as Klaviyo does). Like Klaviyo, an unsubscribe naming a list unsubscribes a
 * profile that is not on the list from everything, and a subscribe lifts UNSUBSCRIBE and USER_SUPPRESSED
 * suppressions but not a hard bounce. {@code GET /api/profiles} pages through the profiles in email order
 * ({@code page[size]} up to 100, {@code page[cursor]}, {@code links.next} an absolute URL), filtered by
 * {@code equals(subscriptions.email.marketing.suppression.reason,"<REASON>")} or {@code equals(email,"...")}; an
 * unsubscribed profile's suppression reason is UNSUBSCRIBE.
 * <p>
 * {@code POST /api/profile-import} (create or update a profile by email) with
 * {@code {"data": {"type": "profile", "attributes": {"email": "...", "location": {...}}}}}: the {@code location}
 * fields {@code address1, address2, city, region, zip, country} (strings; null clears one, one not sent is kept)
 * are kept on the profile, which is created (consent NEVER_SUBSCRIBED) if the sandbox does not know the email.
 * Answers 201 for a new profile, 200 for a known one, with the profile ({@code type}, {@code id},
 * {@code attributes.email}, {@code attributes.location}); 400 for another type, no email, or a location that is
 * not an object of strings. {@code GET /api/profiles} shows the location of a profile that has one.
 */
public class KlaviyoSandbox implements SandboxApi {

    static final String SCHEMAS = "/vendor-contracts/klaviyo/";
    private static final Pattern REVISION = Pattern.compile("\\d{4}-\\d{2}-\\d{2}(\\.[a-z0-9]+)?");
    private static final Pattern LIST_PROFILES = Pattern.compile("/api/lists/([^/]+)/profiles");
    private static final Pattern EQUALS_EMAIL = Pattern.compile("equals\\(email,\"(.*)\"\\)");
    private static final Pattern EQUALS_REASON = Pattern.compile(
            "equals\\(subscriptions\\.email\\.marketing\\.suppression\\.reason,\"([A-Z_]+)\"\\)");
    /** The {@code EmailMarketingSuppression} reasons. */
    static final List<String> REASONS = List.of("HARD_BOUNCE", "INVALID_EMAIL", "SPAM_COMPLAINT", "UNSUBSCRIBE",
            "USER_SUPPRESSED");
    /** Where {@link SandboxVendors} serves this API, for the absolute {@code links}. */
    static final String MOUNT = "/sandbox/klaviyo";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx")
            .withZone(ZoneOffset.UTC);

    /** Per email: consent (SUBSCRIBED, UNSUBSCRIBED, NEVER_SUBSCRIBED), suppression reason, when one last changed. */
    record Profile(String consent, String suppression, Instant updated) {
    }

    /** The profile {@code location} fields the sandbox keeps. */
    static final List<String> LOCATION_FIELDS = List.of("address1", "address2", "city", "region", "zip", "country");

    private final Map<String, Profile> profiles = new ConcurrentHashMap<>();
    private final ConsentTransitions transitions = new ConsentTransitions();
    /** Per email: the profile's location (only the fields it holds, none null). */
    private final Map<String, ObjectNode> locations = new ConcurrentHashMap<>();
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
        if ("GET".equals(request.method()) && "/api/profiles".equals(request.path())) {
            return profiles(request);
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
            case "/api/profile-import" -> profileImport(body);
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
            put(email, "UNSUBSCRIBED", old == null ? null : old.suppression(), Instant.now());
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
            JsonNode consentedAt = p.path("attributes").path("subscriptions").path("email").path("marketing")
                    .path("consented_at");
            put(email, "SUBSCRIBED", suppression, historical ? Instant.parse(consentedAt.asText()) : Instant.now());
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
            // A reason the profile already has (a bounce, a seeded reason) stays; a new suppression is USER_SUPPRESSED.
            put(email, old == null ? "NEVER_SUBSCRIBED" : old.consent(),
                    old == null || old.suppression() == null ? "USER_SUPPRESSED" : old.suppression(), Instant.now());
        }
        ObjectNode job = Json.MAPPER.createObjectNode();
        ObjectNode data = job.putObject("data");
        data.put("type", "profile-suppression-bulk-create-job").put("id", UUID.randomUUID().toString());
        data.putObject("attributes").put("status", "queued").put("created_at", Instant.now().toString())
                .put("total_count", people.size()).put("completed_count", 0);
        return new Answer(202, "application/vnd.api+json", job.toString());
    }

    /** {@code POST /api/profile-import}: creates or updates the profile of an email, keeping its location. */
    private Answer profileImport(JsonNode body) {
        JsonNode data = body.path("data");
        if (!data.isObject()) {
            return error(400, "invalid", "data is required.", "/data");
        }
        if (!"profile".equals(data.path("type").asText(null))) {
            return error(400, "invalid", "data.type must be 'profile'.", "/data/type");
        }
        JsonNode attributes = data.path("attributes");
        JsonNode emailNode = attributes.path("email");
        if (!emailNode.isTextual() || emailNode.asText().isBlank()) {
            return error(400, "invalid", "One of email, phone_number or external_id is required to identify the"
                    + " profile; the sandbox identifies profiles by email.", "/data/attributes/email");
        }
        String email = emailNode.asText().strip().toLowerCase();
        if (!email.matches("[^@\\s]+@[^@\\s]+")) {
            return error(400, "invalid", "Invalid email address: " + emailNode.asText(), "/data/attributes/email");
        }
        JsonNode location = attributes.path("location");
        if (!location.isMissingNode() && !location.isNull() && !location.isObject()) {
            return error(400, "invalid", "location must be an object.", "/data/attributes/location");
        }
        for (String field : LOCATION_FIELDS) {
            JsonNode value = location.path(field);
            if (!value.isMissingNode() && !value.isNull() && !value.isTextual()) {
                return error(400, "invalid", "location." + field + " must be a string.",
                        "/data/attributes/location/" + field);
            }
        }
        boolean created = profiles.putIfAbsent(email, new Profile("NEVER_SUBSCRIBED", null, Instant.now())) == null;
        ObjectNode held = locations.compute(email, (k, old) -> {
            ObjectNode next = old == null ? Json.MAPPER.createObjectNode() : old.deepCopy();
            for (String field : LOCATION_FIELDS) {
                JsonNode value = location.path(field);
                if (value.isTextual()) {
                    next.put(field, value.asText());
                } else if (value.isNull()) {
                    next.remove(field);
                }
            }
            return next;
        });
        ObjectNode answer = Json.MAPPER.createObjectNode();
        ObjectNode profile = answer.putObject("data").put("type", "profile").put("id", id(email));
        profile.putObject("attributes").put("email", email).set("location", held.deepCopy());
        return new Answer(created ? 201 : 200, "application/vnd.api+json", answer.toString());
    }

    private Answer listProfiles(String listId, String filter) {
        ObjectNode page = Json.MAPPER.createObjectNode();
        ArrayNode data = page.putArray("data");
        Matcher email = EQUALS_EMAIL.matcher(filter == null ? "" : filter);
        for (String member : lists.getOrDefault(listId, Set.of())) {
            if (!email.matches() || email.group(1).equalsIgnoreCase(member)) {
                data.addObject().put("type", "profile").put("id", id(member)).putObject("attributes")
                        .put("email", member);
            }
        }
        return new Answer(200, "application/vnd.api+json", page.toString());
    }

    private Answer profiles(Request request) {
        Map<String, String> query = request.query();
        int size = Pages.size(query.get("page[size]"), 20, 100);
        if (size < 0) {
            return error(400, "invalid", "page[size] must be an integer from 1 to 100.");
        }
        String cursor = query.get("page[cursor]");
        String after = cursor == null ? null : Pages.key(cursor);
        if (cursor != null && after == null) {
            return error(400, "invalid", "Invalid page[cursor].");
        }
        BiPredicate<String, Profile> filter = filter(query.get("filter"));
        if (filter == null) {
            return error(400, "invalid", "Invalid filter provided: " + query.get("filter"));
        }
        NavigableMap<String, Profile> sorted = new TreeMap<>();
        profiles.forEach((email, p) -> {
            if (filter.test(email, p)) {
                sorted.put(email, p);
            }
        });
        Pages.Slice<String, Profile> slice = Pages.after(sorted, after, size);
        boolean subscriptions = query.getOrDefault("additional-fields[profile]", "").contains("subscriptions");
        ObjectNode page = Json.MAPPER.createObjectNode();
        ArrayNode data = page.putArray("data");
        slice.entries().forEach(e -> {
            ObjectNode profile = profile(e.getKey(), e.getValue(), subscriptions);
            ObjectNode location = locations.get(e.getKey());
            if (location != null) {
                ((ObjectNode) profile.get("attributes")).set("location", location.deepCopy());
            }
            data.add(profile);
        });
        ObjectNode links = page.putObject("links").put("self", url(request, query));
        if (slice.more()) {
            Map<String, String> next = new TreeMap<>(query);
            next.put("page[cursor]", Pages.cursor(slice.entries().get(slice.entries().size() - 1).getKey()));
            links.put("next", url(request, next));
        } else {
            links.putNull("next");
        }
        links.putNull("prev");
        return new Answer(200, "application/vnd.api+json", page.toString());
    }

    /** The profiles a {@code filter} selects (null: all), or null for a filter the sandbox does not know. */
    private static BiPredicate<String, Profile> filter(String filter) {
        if (filter == null) {
            return (email, p) -> true;
        }
        Matcher m = EQUALS_REASON.matcher(filter.strip());
        if (m.matches() && REASONS.contains(m.group(1))) {
            String wanted = m.group(1);
            return (email, p) -> wanted.equals(reason(p));
        }
        m = EQUALS_EMAIL.matcher(filter.strip());
        if (m.matches()) {
            String wanted = m.group(1).toLowerCase();
            return (email, p) -> email.equals(wanted);
        }
        return null;
    }

    /** The profile's email-marketing suppression reason: its own, else UNSUBSCRIBE if unsubscribed, else null. */
    static String reason(Profile p) {
        return p.suppression() != null ? p.suppression() : "UNSUBSCRIBED".equals(p.consent()) ? "UNSUBSCRIBE" : null;
    }

    private static ObjectNode profile(String email, Profile p, boolean subscriptions) {
        ObjectNode profile = Json.MAPPER.createObjectNode().put("type", "profile").put("id", id(email));
        ObjectNode attributes = profile.putObject("attributes").put("email", email);
        if (subscriptions) {
            String reason = reason(p);
            ObjectNode marketing = attributes.putObject("subscriptions").putObject("email").putObject("marketing");
            marketing.put("can_receive_email_marketing", "SUBSCRIBED".equals(p.consent()) && reason == null)
                    .put("consent", p.consent());
            ArrayNode suppression = marketing.putArray("suppression");
            if (reason != null) {
                suppression.addObject().put("reason", reason).put("timestamp", TIME.format(p.updated()));
            }
            marketing.putArray("list_suppressions");
        }
        return profile;
    }

    /** This page's absolute URL with these query parameters (in name order), from the request's Host. */
    private static String url(Request request, Map<String, String> params) {
        StringJoiner query = new StringJoiner("&", "?", "").setEmptyValue("");
        new TreeMap<>(params).forEach((k, v) -> query.add(URLEncoder.encode(k, UTF_8) + "="
                + URLEncoder.encode(v, UTF_8)));
        return Objects.requireNonNullElse(request.header("X-Forwarded-Proto"), "http") + "://"
                + Objects.requireNonNullElse(request.header("Host"), "localhost") + MOUNT + request.path() + query;
    }

    /** Sets a profile's consent and suppression; its time changes only when one of them does. */
    private void put(String email, String consent, String suppression, Instant at) {
        profiles.compute(email, (k, old) -> old != null && old.consent().equals(consent)
                && Objects.equals(old.suppression(), suppression) ? old : new Profile(consent, suppression, at));
        transitions.note(email, "SUBSCRIBED".equals(consent) && suppression == null);
    }

    @Override
    public ConsentTransitions transitions() {
        return transitions;
    }

    @Override
    public void suppress(String email, String reason, Instant at) {
        String why = reason == null ? "UNSUBSCRIBE" : reason;
        if (!REASONS.contains(why)) {
            throw new IllegalArgumentException("reason must be one of " + REASONS);
        }
        Profile old = profiles.get(email);
        String consent = why.equals("UNSUBSCRIBE") ? "UNSUBSCRIBED" : old == null ? "NEVER_SUBSCRIBED" : old.consent();
        put(email, consent, why, at);
    }

    @Override
    public void subscribe(String email, Instant at) {
        put(email, "SUBSCRIBED", null, at);
    }

    /** The sandbox's profile id of an email (26 characters, like Klaviyo's). */
    static String id(String email) {
        return "01SBX" + Pii.sha256Hex(email).substring(0, 21).toUpperCase();
    }

    /** Puts an email on a list (sandbox set-up, {@code PUT /sandbox/klaviyo/_lists/<id>}). */
    public void addToList(String listId, String email) {
        lists.computeIfAbsent(listId, k -> ConcurrentHashMap.newKeySet()).add(email.toLowerCase());
    }

    private static String email(JsonNode profile) {
        return profile.path("attributes").path("email").asText().toLowerCase();
    }

    static Answer error(int status, String code, String detail) {
        return error(status, code, detail, "/data");
    }

    /** A JSON:API error whose {@code source.pointer} names the part of the body at fault. */
    static Answer error(int status, String code, String detail, String pointer) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ObjectNode error = body.putArray("errors").addObject();
        error.put("id", UUID.randomUUID().toString()).put("status", status).put("code", code)
                .put("title", code.replace('_', ' ')).put("detail", detail);
        error.putObject("source").put("pointer", pointer);
        return new Answer(status, "application/vnd.api+json", body.toString());
    }

    @Override
    public ObjectNode state() {
        ObjectNode state = Json.MAPPER.createObjectNode();
        ObjectNode out = state.putObject("profiles");
        profiles.forEach((email, p) -> {
            ObjectNode profile = out.putObject(email).put("consent", p.consent()).put("suppression", p.suppression())
                    .put("updated", p.updated().toString());
            ObjectNode location = locations.get(email);
            if (location != null) {
                profile.set("location", location.deepCopy());
            }
        });
        ObjectNode l = state.putObject("lists");
        lists.forEach((id, members) -> members.forEach(l.withArray(id)::add));
        return state;
    }
}
