package io.handoff.hub.propagation.adapters;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.VendorRequest;
import io.handoff.hub.support.Json;

/**
 * Shopify Admin GraphQL ({@code POST /admin/api/<version>/graphql.json}, {@code X-Shopify-Access-Token}) for changes
 * that came from elsewhere: {@code customerEmailMarketingConsentUpdate} and {@code customerSmsMarketingConsentUpdate}
 * with SUBSCRIBED or UNSUBSCRIBED (suppressed is UNSUBSCRIBED: Shopify has no suppression state) and the customer's
 * own consent time. The customer's GID comes from the identity cross-reference, else from a {@code customers} search
 * by email (linked for next time); no such customer means the shop does not hold them, and the delivery is skipped.
 * Shopify throttles GraphQL by query cost and reports it as a {@code THROTTLED} error (on a 200 or a 429); the lane
 * then waits for the cost to be restored. {@code userErrors} are refusals and fail the delivery.
 */
public class ShopifyAdapter extends OneByOneAdapter {

    static final String MEDIA_TYPE = "application/json";
    static final String EMAIL_MUTATION = "mutation customerEmailMarketingConsentUpdate("
            + "$input: CustomerEmailMarketingConsentUpdateInput!) { customerEmailMarketingConsentUpdate(input: $input) {"
            + " customer { id emailMarketingConsent { marketingState consentUpdatedAt } } userErrors { field message } } }";
    static final String SMS_MUTATION = "mutation customerSmsMarketingConsentUpdate("
            + "$input: CustomerSmsMarketingConsentUpdateInput!) { customerSmsMarketingConsentUpdate(input: $input) {"
            + " customer { id smsMarketingConsent { marketingState consentUpdatedAt } } userErrors { field message } } }";
    static final String FIND_BY_EMAIL = "query customerByEmail($query: String!) {"
            + " customers(first: 5, query: $query) { edges { node { id } } } }";
    static final String GID_PREFIX = "gid://shopify/Customer/";

    private final Map<String, String> headers;
    private final String endpoint;
    private final SystemIdLinks links;

    public ShopifyAdapter(SystemConfig config, SystemIdLinks links) {
        super(config);
        this.headers = Map.of("X-Shopify-Access-Token", config.required("access-token"));
        this.endpoint = config.url("/admin/api/" + config.value("api-version", "2026-07") + "/graphql.json");
        this.links = links;
    }

    @Override
    protected Outcome deliverOne(Delivery d, VendorClient client) {
        Outcome unmapped = purposeNotMapped(d, "Shopify's marketing consent");
        if (unmapped != null) {
            return unmapped;
        }
        String customerId = d.systemId();
        if (customerId == null) {
            if (d.email() == null) {
                return Outcome.skipped(d, "not-in-system: neither a Shopify customer id nor an email is known");
            }
            VendorRequest search = graphql(FIND_BY_EMAIL, Json.MAPPER.createObjectNode().put("query",
                    "email:\"" + d.email().replace("\\", "\\\\").replace("\"", "\\\"") + "\""));
            VendorAnswer answer = client.call(search);
            Outcome failed = problem(d, search, answer);
            if (failed != null) {
                return failed;
            }
            JsonNode edges = Requests.body(answer).path("data").path("customers").path("edges");
            if (edges.isEmpty()) {
                return Outcome.skipped(d, "not-in-system: no Shopify customer with this email");
            }
            String gid = edges.get(0).path("node").path("id").asText();
            customerId = gid.startsWith(GID_PREFIX) ? gid.substring(GID_PREFIX.length()) : gid;
            links.link(d.hubId(), system(), customerId);
        }
        boolean sms = "sms".equals(d.channel());
        ObjectNode input = Json.MAPPER.createObjectNode();
        input.put("customerId", GID_PREFIX + customerId);
        ObjectNode consent = input.putObject(sms ? "smsMarketingConsent" : "emailMarketingConsent");
        consent.put("marketingState", d.optedIn() ? "SUBSCRIBED" : "UNSUBSCRIBED");
        if (d.optedIn()) {
            consent.put("marketingOptInLevel", "SINGLE_OPT_IN");
        }
        consent.put("consentUpdatedAt", d.eventTime().toString());
        ObjectNode variables = Json.MAPPER.createObjectNode();
        variables.set("input", input);
        VendorRequest mutation = graphql(sms ? SMS_MUTATION : EMAIL_MUTATION, variables);
        VendorAnswer answer = client.call(mutation);
        Outcome failed = problem(d, mutation, answer);
        if (failed != null) {
            return failed;
        }
        JsonNode payload = Requests.body(answer).path("data")
                .path(sms ? "customerSmsMarketingConsentUpdate" : "customerEmailMarketingConsentUpdate");
        JsonNode userErrors = payload.path("userErrors");
        if (userErrors.size() > 0) {
            StringBuilder why = new StringBuilder("Shopify refused: ");
            userErrors.forEach(e -> why.append(e.path("field")).append(' ').append(e.path("message").asText())
                    .append("; "));
            return Outcome.failed(d, mutation, answer, why.toString());
        }
        if (payload.path("customer").isMissingNode() || payload.path("customer").isNull()) {
            return Outcome.failed(d, mutation, answer, "Shopify answered without the customer");
        }
        return Outcome.delivered(d, mutation, answer);
    }

    /** Null when the GraphQL call succeeded; else the outcome (throttled: retry after the cost is restored). */
    static Outcome problem(Delivery d, VendorRequest request, VendorAnswer answer) {
        JsonNode body = Requests.body(answer);
        boolean throttled = false;
        for (JsonNode error : body.path("errors")) {
            throttled |= "THROTTLED".equals(error.path("extensions").path("code").asText());
        }
        if (throttled || answer.status() == 429) {
            return Outcome.retry(d, request, answer, "throttled by Shopify", restoreWait(body, answer));
        }
        if (!answer.success()) {
            return Outcome.of(d, request, answer);
        }
        if (body.path("errors").size() > 0) {
            return Outcome.failed(d, request, answer, "GraphQL errors: " + body.path("errors"));
        }
        return null;
    }

    /** Shopify's own Retry-After, else the time the leaky bucket needs to restore the requested cost. */
    public static Duration restoreWait(JsonNode body, VendorAnswer answer) {
        return answer.retryAfter(java.time.Instant.now()).orElseGet(() -> {
            JsonNode cost = body.path("extensions").path("cost");
            JsonNode status = cost.path("throttleStatus");
            double rate = status.path("restoreRate").asDouble(0);
            if (rate <= 0) {
                return null;
            }
            double missing = cost.path("requestedQueryCost").asDouble(rate) - status.path("currentlyAvailable").asDouble(0);
            return Duration.ofMillis(Math.max(0, (long) Math.ceil(missing / rate * 1000)));
        });
    }

    VendorRequest graphql(String query, ObjectNode variables) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("query", query);
        body.set("variables", variables);
        return Requests.json("POST", endpoint, headers, MEDIA_TYPE, body);
    }
}
