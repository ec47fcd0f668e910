package io.handoff.hub.propagation.adapters;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

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
        Set<String> confirmed = new HashSet<>();
        result.path("results").forEach(r -> confirmed.add(r.path("subscriberIdString").asText().toLowerCase(Locale.ROOT)));
        StringBuilder errors = new StringBuilder();
        result.path("errors").forEach(e -> errors.append(e.path("message").asText()).append("; "));
        for (Delivery d : sendable) {
            if (confirmed.contains(d.email().toLowerCase(Locale.ROOT))) {
                outcomes.add(Outcome.delivered(d, request, answer));
            } else {
                outcomes.add(Outcome.failed(d, request, answer, "HubSpot did not confirm this input: "
                        + (errors.isEmpty() ? "no result for it" : errors.toString())));
            }
        }
        return outcomes;
    }
}
