package io.handoff.hub.sandbox;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Simulated Shopify Admin GraphQL ({@code POST /admin/api/<version>/graphql.json}): the
 * {@code customerEmailMarketingConsentUpdate} and {@code customerSmsMarketingConsentUpdate} mutations and the
 * {@code customers} query, searching {@code email:...} or {@code email_marketing_state:<state> OR ...} (variable
 * {@code query}; {@code first} up to 250, cursor variable {@code cursor}, customers in id order). Needs
 * {@code X-Shopify-Access-Token}; refuses a marketing state the mutation does not accept (NOT_SUBSCRIBED, REDACTED,
 * INVALID) and malformed customer GIDs with GraphQL errors, as Shopify does. Every well-formed customer id exists in
 * the sandbox shop; a search by email finds a customer whose id is derived from the email, and the state search lists
 * only customers whose email the sandbox learnt that way (or from {@code _suppress}/{@code _subscribe}).
 */
public class ShopifySandbox implements SandboxApi {

    private static final Pattern ENDPOINT = Pattern.compile("/admin/api/\\d{4}-\\d{2}/graphql\\.json");
    private static final Pattern GID = Pattern.compile("gid://shopify/Customer/(\\d{1,20})");
    private static final Pattern EMAIL_QUERY = Pattern.compile("email:\"?([^\"]+)\"?");
    private static final Pattern STATE_QUERY = Pattern.compile("email_marketing_state:(\\w+)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern FIRST = Pattern.compile("customers\\(\\s*first:\\s*(\\d{1,6})");
    private static final Set<String> SETTABLE = Set.of("SUBSCRIBED", "UNSUBSCRIBED", "PENDING");
    static final String GID_PREFIX = "gid://shopify/Customer/";
    /** Customer ids (digits) in numeric order. */
    private static final Comparator<String> BY_NUMBER = Comparator.comparingInt(String::length)
            .thenComparing(Comparator.naturalOrder());

    /** A marketing state and when it was last set. */
    record Consent(String state, Instant at) {
    }

    /** Per customer id: email and SMS marketing consent, and the email address where the sandbox knows it. */
    private final Map<String, Consent> emailConsent = new ConcurrentHashMap<>();
    private final Map<String, Consent> smsConsent = new ConcurrentHashMap<>();
    private final Map<String, String> addresses = new ConcurrentHashMap<>();

    @Override
    public Answer handle(Request request) {
        if (request.header("X-Shopify-Access-Token") == null || request.header("X-Shopify-Access-Token").isBlank()) {
            return Answer.json(401, Json.MAPPER.createObjectNode().put("errors",
                    "[API] Invalid API key or access token (unrecognized login or wrong password)"));
        }
        if (!"POST".equals(request.method()) || !ENDPOINT.matcher(request.path()).matches()) {
            return Answer.json(404, Json.MAPPER.createObjectNode().put("errors", "Not Found"));
        }
        JsonNode body = request.json();
        if (body == null || !body.path("query").isTextual()) {
            return graphqlError("Parse error: the body must be a JSON object with a query");
        }
        String query = body.path("query").asText();
        JsonNode variables = body.path("variables");
        if (query.contains("customerEmailMarketingConsentUpdate(")) {
            return update(variables.path("input"), "emailMarketingConsent", "customerEmailMarketingConsentUpdate",
                    emailConsent);
        }
        if (query.contains("customerSmsMarketingConsentUpdate(")) {
            return update(variables.path("input"), "smsMarketingConsent", "customerSmsMarketingConsentUpdate", smsConsent);
        }
        if (query.contains("customers(")) {
            return search(query, variables);
        }
        return graphqlError("Field is not supported by the sandbox: " + (query.length() > 80 ? query.substring(0, 80) : query));
    }

    private Answer update(JsonNode input, String consentField, String mutation, Map<String, Consent> store) {
        Matcher gid = GID.matcher(input.path("customerId").asText(""));
        if (!gid.matches()) {
            return graphqlError("Variable $input of type " + Character.toUpperCase(mutation.charAt(0))
                    + mutation.substring(1) + "Input! was provided invalid value for customerId (Invalid global id)");
        }
        JsonNode consent = input.path(consentField);
        String state = consent.path("marketingState").asText("");
        if (!SETTABLE.contains(state)) {
            return graphqlError("Variable $input of type " + mutation + " was provided invalid value for "
                    + consentField + ".marketingState (Expected one of SUBSCRIBED, UNSUBSCRIBED, PENDING)");
        }
        String at = consent.path("consentUpdatedAt").asText(null);
        Instant when = Instant.now();
        if (at != null) {
            try {
                when = OffsetDateTime.parse(at).toInstant();
            } catch (DateTimeParseException e) {
                return graphqlError("Variable $input was provided invalid value for " + consentField
                        + ".consentUpdatedAt (invalid DateTime)");
            }
        }
        store.put(gid.group(1), new Consent(state, when));
        ObjectNode answer = Json.MAPPER.createObjectNode();
        ObjectNode payload = answer.putObject("data").putObject(mutation);
        ObjectNode customer = payload.putObject("customer");
        customer.put("id", gid.group(0));
        customer.putObject(consentField).put("marketingState", state).put("consentUpdatedAt",
                at == null ? Instant.now().toString() : at);
        payload.putArray("userErrors");
        cost(answer, 10, 10);
        return Answer.json(200, answer);
    }

    private Answer search(String text, JsonNode variables) {
        String query = variables.path("query").asText("").strip();
        Matcher m = EMAIL_QUERY.matcher(query);
        if (m.matches()) {
            ObjectNode answer = Json.MAPPER.createObjectNode();
            ArrayNode edges = answer.putObject("data").putObject("customers").putArray("edges");
            String id = id(m.group(1).toLowerCase());
            addresses.put(id, m.group(1).toLowerCase());
            edges.addObject().putObject("node").put("id", GID_PREFIX + id);
            cost(answer, 2, 2);
            return Answer.json(200, answer);
        }
        Set<String> states = new HashSet<>();
        for (String term : query.split("\\s+OR\\s+")) {
            Matcher state = STATE_QUERY.matcher(term);
            if (!state.matches()) {
                return graphqlError("The sandbox searches customers by email: or email_marketing_state: only, not: "
                        + query);
            }
            states.add(state.group(1).toUpperCase());
        }
        Matcher first = FIRST.matcher(text);
        int size = first.find() ? Integer.parseInt(first.group(1)) : variables.path("first").asInt(0);
        if (size < 1 || size > 250) {
            return graphqlError("The page size must be from 1 to 250 (first: " + size + ")");
        }
        String cursor = variables.path("cursor").isTextual() ? variables.path("cursor").asText() : null;
        String after = cursor == null ? null : Pages.key(cursor);
        if (cursor != null && after == null) {
            return graphqlError("Invalid cursor for current pagination sort.");
        }
        NavigableMap<String, Consent> sorted = new TreeMap<>(BY_NUMBER);
        emailConsent.forEach((id, c) -> {
            if (states.contains(c.state()) && addresses.containsKey(id)) {
                sorted.put(id, c);
            }
        });
        Pages.Slice<String, Consent> slice = Pages.after(sorted, after, size);
        ObjectNode answer = Json.MAPPER.createObjectNode();
        ObjectNode customers = answer.putObject("data").putObject("customers");
        ArrayNode edges = customers.putArray("edges");
        String end = null;
        for (Map.Entry<String, Consent> e : slice.entries()) {
            end = Pages.cursor(e.getKey());
            ObjectNode node = edges.addObject().put("cursor", end).putObject("node").put("id", GID_PREFIX + e.getKey());
            node.putObject("defaultEmailAddress").put("emailAddress", addresses.get(e.getKey()))
                    .put("marketingState", e.getValue().state())
                    .put("marketingUpdatedAt", e.getValue().at().toString());
        }
        customers.putObject("pageInfo").put("hasNextPage", slice.more()).put("endCursor", end);
        cost(answer, size + 2, slice.entries().size() + 2);
        return Answer.json(200, answer);
    }

    /**
     * What the storefront itself recorded (a verified Shopify consent webhook the hub received): the simulated shop
     * holds it too, as the real one would.
     */
    public void storefrontChange(String customerId, String email, String state, String reason, Instant at) {
        if (customerId == null || !customerId.matches("\\d{1,20}")) {
            return;
        }
        if (email != null) {
            addresses.put(customerId, email);
        }
        String marketing = switch (state) {
            case "subscribed" -> "SUBSCRIBED";
            case "unsubscribed" -> "UNSUBSCRIBED";
            case "pending" -> "PENDING";
            case "suppressed" -> "invalid".equals(reason) ? "INVALID" : "UNSUBSCRIBED";
            default -> "NOT_SUBSCRIBED";
        };
        emailConsent.put(customerId, new Consent(marketing, at));
    }

    @Override
    public void suppress(String email, String reason, Instant at) {
        addresses.put(id(email), email);
        emailConsent.put(id(email), new Consent("INVALID".equalsIgnoreCase(reason) ? "INVALID" : "UNSUBSCRIBED", at));
    }

    @Override
    public void subscribe(String email, Instant at) {
        addresses.put(id(email), email);
        emailConsent.put(id(email), new Consent("SUBSCRIBED", at));
    }

    /** The sandbox shop's customer id of an email. */
    static String id(String email) {
        return Long.toString(Long.parseLong(Pii.sha256Hex(email).substring(0, 13), 16));
    }

    private static void cost(ObjectNode answer, int requested, int actual) {
        ObjectNode c = answer.putObject("extensions").putObject("cost");
        c.put("requestedQueryCost", requested).put("actualQueryCost", actual);
        c.putObject("throttleStatus").put("maximumAvailable", 2000.0).put("currentlyAvailable", 2000 - actual)
                .put("restoreRate", 100.0);
    }

    static Answer graphqlError(String message) {
        ObjectNode answer = Json.MAPPER.createObjectNode();
        answer.putArray("errors").addObject().put("message", message).putObject("extensions").put("code",
                "argumentLiteralsIncompatible");
        return Answer.json(200, answer);
    }

    @Override
    public ObjectNode state() {
        ObjectNode state = Json.MAPPER.createObjectNode();
        ObjectNode out = state.putObject("customers");
        emailConsent.forEach((id, c) -> out.putObject(id).put("email", addresses.get(id))
                .put("emailMarketingState", c.state()).put("emailMarketingUpdatedAt", c.at().toString()));
        smsConsent.forEach((id, c) -> out.withObject("/" + id).put("smsMarketingState", c.state()));
        return state;
    }
}
