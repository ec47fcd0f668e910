package io.handoff.hub.propagation.adapters;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.propagation.AddressPayload;
import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.VendorRequest;
import io.handoff.hub.sandbox.HubSpotSandbox;
import io.handoff.hub.support.Json;

/**
 * HubSpot Communication Preferences v4: one {@code POST /communication-preferences/v4/statuses/batch/write} per batch,
 * {@code statusState} SUBSCRIBED or UNSUBSCRIBED (HubSpot has no suppression here: suppressed is UNSUBSCRIBED) on the
 * subscription type of the purpose ({@code hub.systems.hubspot.subscriptions.<purpose>=<subscription id>}, an integer
 * in v4). A subscribe carries the legal basis ({@code hub.systems.hubspot.legal-basis}, default
 * {@code CONSENT_WITH_NOTICE}) and where the consent came from. Each input is confirmed by its entry in
 * {@code results}; an input HubSpot lists under {@code errors} fails with HubSpot's message. The v4 API takes EMAIL only.
 * Address write-backs update the contact's address properties ({@link #deliverAddresses}).
 */
public class HubSpotAdapter extends VendorAdapter {

    static final String MEDIA_TYPE = "application/json";
    static final String BATCH_WRITE = "/communication-preferences/v4/statuses/batch/write";

    private final Map<String, String> headers;
    private final String legalBasis;

    public HubSpotAdapter(SystemConfig config) {
        super(config);
        this.headers = Map.of("Authorization", "Bearer " + config.required("access-token"));
        this.legalBasis = config.value("legal-basis", "CONSENT_WITH_NOTICE");
    }

    @Override
    public boolean keyedByEmail() {
        return true;
    }

    @Override
    public boolean batchesCalls() {
        return true;
    }

    /** An input and its result match on the email, the subscription type and the state. */
    private static String key(String email, long subscriptionId, String state) {
        return email.toLowerCase(Locale.ROOT) + "|" + subscriptionId + "|" + state;
    }

    @Override
    public List<Outcome> deliver(List<Delivery> batch, VendorClient client) {
        List<Outcome> outcomes = new ArrayList<>();
        List<Delivery> sendable = new ArrayList<>();
        ArrayNode inputs = Json.MAPPER.createArrayNode();
        for (Delivery d : batch) {
            Optional<String> subscription = config.optional("subscriptions." + d.purpose())
                    .or(() -> config.sandbox() ? Optional.of(Long.toString(HubSpotSandbox.SUBSCRIPTION_ID))
                            : Optional.empty());
            if (!"email".equals(d.channel())) {
                outcomes.add(Outcome.skipped(d, "not-applicable: HubSpot v4 statuses take the EMAIL channel only"));
            } else if (d.email() == null) {
                outcomes.add(Outcome.skipped(d, "not-in-system: no email known for this customer"));
            } else if (subscription.isEmpty()) {
                outcomes.add(Outcome.skipped(d, "purpose-not-mapped: set " + config.key("subscriptions." + d.purpose())));
            } else {
                sendable.add(d);
                ObjectNode input = inputs.addObject();
                input.put("subscriberIdString", d.email());
                input.put("channel", "EMAIL");
                input.put("statusState", d.optedIn() ? "SUBSCRIBED" : "UNSUBSCRIBED");
                input.put("subscriptionId", Long.parseLong(subscription.get()));
                if (d.optedIn()) {
                    input.put("legalBasis", legalBasis);
                    input.put("legalBasisExplanation", "Consent given in " + d.originSystem() + " at "
                            + d.eventTime() + ", relayed by Handoff");
                }
            }
        }
        if (sendable.isEmpty()) {
            return outcomes;
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.set("inputs", inputs);
        VendorRequest request = Requests.json("POST", config.url(BATCH_WRITE), headers, MEDIA_TYPE, body);
        VendorAnswer answer = client.call(request);
        if (!answer.success()) {
            sendable.forEach(d -> outcomes.add(Outcome.of(d, request, answer)));
            return outcomes;
        }
        JsonNode result = Requests.body(answer);
        Map<String, JsonNode> confirmed = new HashMap<>();
        result.path("results").forEach(r -> confirmed.put(key(r.path("subscriberIdString").asText(),
                r.path("subscriptionId").asLong(), r.path("status").asText()), r));
        Map<String, String> errors = new HashMap<>();
        result.path("errors").forEach(e -> e.path("context").path("subscriberIdString")
                .forEach(id -> errors.merge(id.asText().toLowerCase(Locale.ROOT), e.path("message").asText(),
                        (a, b) -> a + "; " + b)));
        for (int i = 0; i < sendable.size(); i++) {
            Delivery d = sendable.get(i);
            JsonNode input = inputs.get(i);
            // The receipt keeps this customer's input and result, not the other customers' emails.
            ObjectNode own = Json.MAPPER.createObjectNode();
            own.putArray("inputs").add(input);
            VendorRequest mine = Requests.json("POST", request.url(), headers, MEDIA_TYPE, own);
            JsonNode match = confirmed.get(key(input.path("subscriberIdString").asText(),
                    input.path("subscriptionId").asLong(), input.path("statusState").asText()));
            if (match != null) {
                outcomes.add(Outcome.delivered(d, mine, new VendorAnswer(answer.status(), answer.headers(),
                        match.toString(), null, answer.millis())));
            } else {
                String why = errors.getOrDefault(d.email().toLowerCase(Locale.ROOT), "no result for this input");
                outcomes.add(Outcome.failed(d, mine, new VendorAnswer(answer.status(), answer.headers(), why, null,
                        answer.millis()), "HubSpot did not confirm this input: " + why));
            }
        }
        return outcomes;
    }

    /**
     * Address write-back: {@code PATCH /crm/v3/objects/contacts/<id>} (or {@code /<email>?idProperty=email} while the
     * hub does not know the contact id) with the contact's standard address properties {@code address, city, state,
     * zip, country} (all strings); 200 confirms it, 404 means HubSpot holds no such contact (skipped). Only the target
     * {@code standard} is written: HubSpot contacts have one address.
     */
    @Override
    public List<Outcome> deliverAddresses(List<Delivery> batch, VendorClient client) {
        List<Outcome> outcomes = new ArrayList<>();
        for (Delivery d : batch) {
            AddressPayload address = AddressPayload.of(d);
            if (!"standard".equals(address.target())) {
                outcomes.add(Outcome.skipped(d, "field-not-mapped: HubSpot contacts have one address (target standard)"));
                continue;
            }
            String url;
            if (d.systemId() != null) {
                url = config.url(CONTACTS + "/" + RouteSubscriberAdapter.pathSegment(d.systemId()));
            } else if (d.email() != null) {
                url = config.url(CONTACTS + "/" + RouteSubscriberAdapter.pathSegment(d.email()) + "?idProperty=email");
            } else {
                outcomes.add(Outcome.skipped(d, "not-in-system: neither a contact id nor an email is known"));
                continue;
            }
            ObjectNode properties = Json.MAPPER.createObjectNode();
            properties.put("address", address.street());
            properties.put("city", address.text("city"));
            properties.put("state", address.regionCode());
            properties.put("zip", address.text("postalCode"));
            properties.put("country", address.countryCode());
            ObjectNode body = Json.MAPPER.createObjectNode();
            body.set("properties", properties);
            VendorRequest request = Requests.json("PATCH", url, headers, MEDIA_TYPE, body);
            VendorAnswer answer = client.call(request);
            outcomes.add(answer.status() == 404
                    ? Outcome.skipped(d, "not-in-system: HubSpot holds no such contact")
                    : Outcome.of(d, request, answer));
        }
        return outcomes;
    }

    static final String CONTACTS = "/crm/v3/objects/contacts";
}
