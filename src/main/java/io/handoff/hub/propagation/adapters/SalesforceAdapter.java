package io.handoff.hub.propagation.adapters;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.VendorRequest;
import io.handoff.hub.support.Json;

/**
 * Salesforce: the Contact's {@code HasOptedOutOfEmail} through {@code PATCH /services/data/<version>/sobjects/Contact/<id>}
 * (204 No Content on success), bearer token from {@code hub.systems.salesforce.access-token}. The Contact id comes
 * from the identity cross-reference; when the hub does not know it yet, a SOQL query by email finds the contacts
 * (every one of them is updated, and the ids are linked for next time); none found means the CRM does not hold
 * this customer, and the delivery is skipped. Email opt-out has no SMS or per-purpose counterpart on Contact: SMS
 * changes are not sent.
 */
public class SalesforceAdapter extends OneByOneAdapter {

    static final String MEDIA_TYPE = "application/json";

    private final Map<String, String> headers;
    private final String version;
    private final SystemIdLinks links;

    public SalesforceAdapter(SystemConfig config, SystemIdLinks links) {
        super(config);
        this.headers = Map.of("Authorization", "Bearer " + config.required("access-token"));
        this.version = config.value("api-version", "v64.0");
        this.links = links;
    }

    @Override
    protected Outcome deliverOne(Delivery d, VendorClient client) {
        if (!"email".equals(d.channel())) {
            return Outcome.skipped(d, "not-applicable: Contact.HasOptedOutOfEmail covers email only");
        }
        Outcome unmapped = purposeNotMapped(d, "HasOptedOutOfEmail");
        if (unmapped != null) {
            return unmapped;
        }
        List<String> ids = new ArrayList<>();
        if (d.systemId() != null) {
            ids.add(d.systemId());
        } else if (d.email() == null) {
            return Outcome.skipped(d, "not-in-system: neither a Contact id nor an email is known");
        } else {
            VendorRequest query = query(d.email());
            VendorAnswer answer = client.call(query);
            if (!answer.success()) {
                return Outcome.of(d, query, answer);
            }
            Requests.body(answer).path("records").forEach(r -> ids.add(r.path("Id").asText()));
            if (ids.isEmpty()) {
                return Outcome.skipped(d, "not-in-system: no Contact with this email");
            }
            ids.forEach(id -> links.link(d.hubId(), system(), id));
        }
        Outcome last = null;
        for (String id : ids) {
            VendorRequest patch = patch(id, d.state() != io.handoff.hub.consent.ConsentState.SUBSCRIBED);
            last = Outcome.of(d, patch, client.call(patch));
            if (last.kind() != Outcome.Kind.DELIVERED) {
                return last;
            }
        }
        return last;
    }

    VendorRequest query(String email) {
        String soql = "SELECT Id FROM Contact WHERE Email = '" + email.replace("\\", "\\\\").replace("'", "\\'")
                + "' LIMIT 20";
        return Requests.json("GET", config.url("/services/data/" + version + "/query?q="
                + URLEncoder.encode(soql, StandardCharsets.UTF_8)), headers, MEDIA_TYPE, null);
    }

    VendorRequest patch(String contactId, boolean optedOut) {
        JsonNode body = Json.MAPPER.createObjectNode().put("HasOptedOutOfEmail", optedOut);
        return Requests.json("PATCH", config.url("/services/data/" + version + "/sobjects/Contact/"
                + URLEncoder.encode(contactId, StandardCharsets.UTF_8)), headers, MEDIA_TYPE, body);
    }
}
