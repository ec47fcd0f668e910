package io.handoff.hub.reconciliation.pullers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.adapters.Requests;
import io.handoff.hub.reconciliation.SuppressionPuller;
import io.handoff.hub.sandbox.HubSpotSandbox;
import io.handoff.hub.support.Json;

/**
 * HubSpot keeps no list of opted-out contacts, so each page is two calls: the next 200 contacts by id
 * ({@code POST /crm/v3/objects/contacts/search} filtered on {@code hs_object_id GT <last id>}, sorted by it, which
 * also gets past the search API's 10,000-result paging cap), then their email subscription statuses
 * ({@code POST /communication-preferences/v4/statuses/batch/read?channel=EMAIL}). A contact is opted out when its
 * status for the purpose's subscription ({@code hub.systems.hubspot.subscriptions.<purpose>}) is
 * {@code UNSUBSCRIBED}. The cursor is the last contact id of the page.
 */
public class HubSpotPuller implements SuppressionPuller {

    static final int PAGE_SIZE = 200;

    private final SystemConfig config;
    private final Map<String, String> headers;
    private final long subscriptionId;

    public HubSpotPuller(SystemConfig config, String purpose) {
        this.config = config;
        this.headers = Map.of("Authorization", "Bearer " + config.required("access-token"));
        this.subscriptionId = Long.parseLong(config.optional("subscriptions." + purpose)
                .or(() -> config.sandbox() ? Optional.of(Long.toString(HubSpotSandbox.SUBSCRIPTION_ID))
                        : Optional.empty())
                .orElseThrow(
                () -> new IllegalStateException("reconciling hubspot needs " + config.key("subscriptions." + purpose)
                        + ": the subscription type that stands for purpose " + purpose)));
    }

    @Override
    public String system() {
        return config.name();
    }

    @Override
    public Page page(String cursor, VendorClient client) throws PageFailed {
        String after = cursor == null ? "0" : cursor;
        int size = config.intValue("reconcile.page-size", PAGE_SIZE);
        ObjectNode search = Json.MAPPER.createObjectNode();
        search.putArray("filterGroups").addObject().putArray("filters").addObject()
                .put("propertyName", "hs_object_id").put("operator", "GT").put("value", after);
        search.putArray("sorts").add("hs_object_id");
        search.putArray("properties").add("email").add("hs_object_id");
        search.put("limit", size);
        search.put("after", "0");
        VendorAnswer found = client.call(Requests.json("POST", config.url("/crm/v3/objects/contacts/search"), headers,
                "application/json", search));
        PageFailed.unlessSuccess(found, "contacts search");
        JsonNode results = Requests.body(found).path("results");
        if (!results.isArray()) {
            throw new PageFailed(found, "contacts search answered without results");
        }
        Map<String, String> idByEmail = new LinkedHashMap<>();
        String last = after;
        for (JsonNode contact : results) {
            last = contact.path("id").asText(last);
            String email = Json.text(contact.path("properties"), "email");
            if (email != null) {
                idByEmail.put(email.strip().toLowerCase(java.util.Locale.ROOT), contact.path("id").asText());
            }
        }
        List<Suppressed> contacts = idByEmail.isEmpty() ? List.of() : optedOut(idByEmail, client);
        boolean more = results.size() >= size && Requests.body(found).path("paging").path("next").isObject();
        return new Page(contacts, more ? last : null, results.size());
    }

    private List<Suppressed> optedOut(Map<String, String> idByEmail, VendorClient client) throws PageFailed {
        ObjectNode read = Json.MAPPER.createObjectNode();
        ArrayNode inputs = read.putArray("inputs");
        idByEmail.keySet().forEach(inputs::add);
        VendorAnswer answer = client.call(Requests.json("POST",
                config.url("/communication-preferences/v4/statuses/batch/read?channel=EMAIL"), headers,
                "application/json", read));
        if (answer.status() != 207) {
            PageFailed.unlessSuccess(answer, "statuses batch read");
        }
        JsonNode errors = Requests.body(answer).path("errors");
        if (errors.size() > 0) {
            // A 207: some inputs were not read. They cannot be told apart from mailable contacts, so the page is
            // asked again rather than compared with holes.
            throw new PageFailed(new VendorAnswer(503, answer.headers(), null, "partial batch read", answer.millis()),
                    "statuses batch read answered " + answer.status() + " with " + errors.size() + " error(s)");
        }
        List<Suppressed> contacts = new ArrayList<>();
        for (JsonNode result : Requests.body(answer).path("results")) {
            for (JsonNode status : result.path("statuses")) {
                if (status.path("subscriptionId").asLong() == subscriptionId
                        && "UNSUBSCRIBED".equals(status.path("status").asText())) {
                    String email = result.path("subscriberIdString").asText();
                    contacts.add(new Suppressed(email, idByEmail.get(email.strip().toLowerCase(java.util.Locale.ROOT)),
                            ConsentState.UNSUBSCRIBED, null, SuppressionPuller.time(Json.text(status, "timestamp"))));
                }
            }
        }
        return contacts;
    }
}
