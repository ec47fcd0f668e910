package io.handoff.hub.reconciliation.pullers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.adapters.Requests;
import io.handoff.hub.propagation.adapters.ShopifyAdapter;
import io.handoff.hub.reconciliation.SuppressionPuller;
import io.handoff.hub.support.Json;

/**
 * Shopify's customers who will not get email marketing: the Admin GraphQL {@code customers} query (250 a page,
 * cursor paging on {@code pageInfo.endCursor}) searching {@value #SEARCH}, reading each customer's
 * {@code defaultEmailAddress} (marketing state and its update time). {@code UNSUBSCRIBED} is an opt-out;
 * {@code INVALID} (set by Shopify, e.g. after bounces) a suppression. A {@code THROTTLED} answer (query cost) is
 * retried after the bucket's restore time.
 */
public class ShopifyPuller implements SuppressionPuller {

    static final String SEARCH = "email_marketing_state:unsubscribed OR email_marketing_state:invalid";
    static final String QUERY = "query suppressedCustomers($cursor: String, $query: String!) {"
            + " customers(first: 250, after: $cursor, query: $query) { edges { node { id"
            + " defaultEmailAddress { emailAddress marketingState marketingUpdatedAt } } }"
            + " pageInfo { hasNextPage endCursor } } }";

    private final SystemConfig config;
    private final Map<String, String> headers;
    private final String endpoint;

    public ShopifyPuller(SystemConfig config) {
        this.config = config;
        this.headers = Map.of("X-Shopify-Access-Token", config.required("access-token"));
        this.endpoint = config.url("/admin/api/" + config.value("api-version", "2026-07") + "/graphql.json");
    }

    @Override
    public String system() {
        return config.name();
    }

    @Override
    public Page page(String cursor, VendorClient client) throws PageFailed {
        ObjectNode request = Json.MAPPER.createObjectNode().put("query", QUERY);
        request.putObject("variables").put("cursor", cursor).put("query", SEARCH);
        VendorAnswer answer = client.call(Requests.json("POST", endpoint, headers, "application/json", request));
        JsonNode body = Requests.body(answer);
        for (JsonNode error : body.path("errors")) {
            if ("THROTTLED".equals(error.path("extensions").path("code").asText())) {
                throw new PageFailed(answer, "throttled by Shopify", true, ShopifyAdapter.restoreWait(body, answer));
            }
        }
        PageFailed.unlessSuccess(answer, "customers query");
        JsonNode customers = body.path("data").path("customers");
        if (body.path("errors").size() > 0 || !customers.path("edges").isArray()) {
            throw new PageFailed(answer, "customers query answered errors: " + body.path("errors"));
        }
        List<Suppressed> contacts = new ArrayList<>();
        for (JsonNode edge : customers.path("edges")) {
            JsonNode address = edge.path("node").path("defaultEmailAddress");
            String email = Json.text(address, "emailAddress");
            String state = address.path("marketingState").asText();
            if (email != null && ("UNSUBSCRIBED".equals(state) || "INVALID".equals(state))) {
                contacts.add(new Suppressed(email, Json.text(edge.path("node"), "id"),
                        "INVALID".equals(state) ? ConsentState.SUPPRESSED : ConsentState.UNSUBSCRIBED,
                        "INVALID".equals(state) ? "invalid" : null,
                        SuppressionPuller.time(Json.text(address, "marketingUpdatedAt"))));
            }
        }
        JsonNode info = customers.path("pageInfo");
        String next = info.path("hasNextPage").asBoolean(false) ? Json.text(info, "endCursor") : null;
        return new Page(contacts, next, customers.path("edges").size());
    }
}
