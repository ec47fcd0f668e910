package io.handoff.hub.sandbox;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Simulated Shopify Admin GraphQL ({@code POST /admin/api/<version>/graphql.json}): the
 * {@code customerEmailMarketingConsentUpdate} and {@code customerSmsMarketingConsentUpdate} mutations and a
 * {@code customers(query: "email:...")} search. Needs {@code X-Shopify-Access-Token}; refuses a marketing state the
 * mutation does not accept (NOT_SUBSCRIBED, REDACTED, INVALID) and malformed customer GIDs with GraphQL errors, as
 * Shopify does. Every well-formed customer id exists in the sandbox shop; a search by email finds a customer whose id
 * is derived from the email.
 */
public class ShopifySandbox implements SandboxApi {

    private static final Pattern ENDPOINT = Pattern.compile("/admin/api/\\d{4}-\\d{2}/graphql\\.json");
    private static final Pattern GID = Pattern.compile("gid://shopify/Customer/(\\d{1,20})");
    private static final Pattern EMAIL_QUERY = Pattern.compile("email:\"?([^\"]+)\"?");
    private static final Set<String> SETTABLE = Set.of("SUBSCRIBED", "UNSUBSCRIBED", "PENDING");

    private final Map<String, String> email = new ConcurrentHashMap<>();
    private final Map<String, String> sms = new ConcurrentHashMap<>();

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
            return update(variables.path("input"), "emailMarketingConsent", "customerEmailMarketingConsentUpdate", email);
        }
        if (query.contains("customerSmsMarketingConsentUpdate(")) {
            return update(variables.path("input"), "smsMarketingConsent", "customerSmsMarketingConsentUpdate", sms);
        }
        if (query.contains("customers(")) {
            return search(variables.path("query").asText(""));
        }
        return graphqlError("Field is not supported by the sandbox: " + (query.length() > 80 ? query.substring(0, 80) : query));
    }

    private Answer update(JsonNode input, String consentField, String mutation, Map<String, String> store) {
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
        if (at != null) {
            try {
                OffsetDateTime.parse(at);
            } catch (DateTimeParseException e) {
                return graphqlError("Variable $input was provided invalid value for " + consentField
                        + ".consentUpdatedAt (invalid DateTime)");
            }
        }
        store.put(gid.group(1), state);
        ObjectNode answer = Json.MAPPER.createObjectNode();
        ObjectNode payload = answer.putObject("data").putObject(mutation);
        ObjectNode customer = payload.putObject("customer");
        customer.put("id", gid.group(0));
        customer.putObject(consentField).put("marketingState", state).put("consentUpdatedAt",
                at == null ? Instant.now().toString() : at);
        payload.putArray("userErrors");
        cost(answer, 10);
        return Answer.json(200, answer);
    }

    private Answer search(String query) {
        ObjectNode answer = Json.MAPPER.createObjectNode();
        var edges = answer.putObject("data").putObject("customers").putArray("edges");
        Matcher m = EMAIL_QUERY.matcher(query.strip());
        if (m.matches()) {
            long id = Long.parseLong(Pii.sha256Hex(m.group(1).toLowerCase()).substring(0, 13), 16);
            edges.addObject().putObject("node").put("id", "gid://shopify/Customer/" + id);
        }
        cost(answer, 2);
        return Answer.json(200, answer);
    }

    private static void cost(ObjectNode answer, int cost) {
        ObjectNode c = answer.putObject("extensions").putObject("cost");
        c.put("requestedQueryCost", cost).put("actualQueryCost", cost);
        c.putObject("throttleStatus").put("maximumAvailable", 2000.0).put("currentlyAvailable", 2000 - cost)
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
        email.forEach((id, s) -> out.putObject(id).put("emailMarketingState", s));
        sms.forEach((id, s) -> out.withObject("/" + id).put("smsMarketingState", s));
        return state;
    }
}
