package io.handoff.hub.propagation.adapters;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.propagation.AddressPayload;
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
 * changes are not sent. Address write-backs go to the Contact's address fields ({@link #deliverAddresses}).
 */
public class SalesforceAdapter extends OneByOneAdapter {

    static final String MEDIA_TYPE = "application/json";

    private final Map<String, String> headers;
    private final String version;
    private final SystemIdLinks links;
    private final boolean addressCodes;

    public SalesforceAdapter(SystemConfig config, SystemIdLinks links) {
        super(config);
        this.headers = Map.of("Authorization", "Bearer " + config.required("access-token"));
        this.version = config.value("api-version", "v64.0");
        this.links = links;
        this.addressCodes = Boolean.parseBoolean(config.value("address-codes", "false"));
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
        return patchEach(d, client, id -> patch(id, d.state() != io.handoff.hub.consent.ConsentState.SUBSCRIBED));
    }

    /** Finds the customer's Contacts and PATCHes each one; the first failure ends it. */
    private Outcome patchEach(Delivery d, VendorClient client, java.util.function.Function<String, VendorRequest> patch) {
        Contacts contacts = contacts(d, client);
        if (contacts.outcome() != null) {
            return contacts.outcome();
        }
        Outcome last = null;
        for (String id : contacts.ids()) {
            VendorRequest request = patch.apply(id);
            last = Outcome.of(d, request, client.call(request));
            if (last.kind() != Outcome.Kind.DELIVERED) {
                return last;
            }
        }
        return last;
    }

    /**
     * Address write-back: the Contact's address fields under the payload's prefix ({@code Mailing} ->
     * {@code MailingStreet, MailingCity, MailingState, MailingPostalCode, MailingCountry}; with
     * {@code hub.systems.salesforce.address-codes=true}, for orgs with State and Country picklists,
     * {@code MailingStateCode} and {@code MailingCountryCode} instead of the names), one PATCH per Contact of the
     * customer; 204 confirms it.
     */
    @Override
    public List<Outcome> deliverAddresses(List<Delivery> batch, VendorClient client) {
        List<Outcome> outcomes = new ArrayList<>();
        for (Delivery d : batch) {
            outcomes.add(deliverAddress(d, client));
        }
        return outcomes;
    }

    private Outcome deliverAddress(Delivery d, VendorClient client) {
        AddressPayload address = AddressPayload.of(d);
        if (address.target() == null || !address.target().matches("[A-Za-z]{1,40}")) {
            return Outcome.skipped(d, "field-not-mapped: no Contact address prefix for " + address.field());
        }
        return patchEach(d, client, id -> Requests.json("PATCH", contactUrl(id), headers, MEDIA_TYPE,
                addressBody(address)));
    }

    ObjectNode addressBody(AddressPayload address) {
        String prefix = address.target();
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put(prefix + "Street", address.street());
        body.put(prefix + "City", address.text("city"));
        if (addressCodes) {
            // Picklist orgs take codes; a name alone goes to the name field, which Salesforce matches to its code.
            codeOrName(body, prefix + "State", address.text("regionCode"), address.text("region"));
            codeOrName(body, prefix + "Country", address.text("countryCode"), address.text("country"));
        } else {
            body.put(prefix + "State", address.text("region").isEmpty() ? address.text("regionCode")
                    : address.text("region"));
            body.put(prefix + "Country", address.text("country").isEmpty() ? address.text("countryCode")
                    : address.text("country"));
        }
        body.put(prefix + "PostalCode", address.text("postalCode"));
        return body;
    }

    private static void codeOrName(ObjectNode body, String field, String code, String name) {
        if (!code.isEmpty()) {
            body.put(field + "Code", code);
        } else if (!name.isEmpty()) {
            body.put(field, name);
        }
    }

    /** The customer's Contact ids, or the outcome that ends the delivery when they cannot be had. */
    private record Contacts(List<String> ids, Outcome outcome) {
    }

    private Contacts contacts(Delivery d, VendorClient client) {
        List<String> ids = new ArrayList<>();
        if (d.systemId() != null) {
            ids.add(d.systemId());
            return new Contacts(ids, null);
        }
        if (d.email() == null) {
            return new Contacts(ids, Outcome.skipped(d, "not-in-system: neither a Contact id nor an email is known"));
        }
        VendorRequest query = query(d.email());
        VendorAnswer answer = client.call(query);
        if (!answer.success()) {
            return new Contacts(ids, Outcome.of(d, query, answer));
        }
        Requests.body(answer).path("records").forEach(r -> ids.add(r.path("Id").asText()));
        if (ids.isEmpty()) {
            return new Contacts(ids, Outcome.skipped(d, "not-in-system: no Contact with this email"));
        }
        ids.forEach(id -> links.link(d.hubId(), system(), id));
        return new Contacts(ids, null);
    }

    VendorRequest query(String email) {
        String soql = "SELECT Id FROM Contact WHERE Email = '" + email.replace("\\", "\\\\").replace("'", "\\'")
                + "' LIMIT 20";
        return Requests.json("GET", config.url("/services/data/" + version + "/query?q="
                + URLEncoder.encode(soql, StandardCharsets.UTF_8)), headers, MEDIA_TYPE, null);
    }

    VendorRequest patch(String contactId, boolean optedOut) {
        JsonNode body = Json.MAPPER.createObjectNode().put("HasOptedOutOfEmail", optedOut);
        return Requests.json("PATCH", contactUrl(contactId), headers, MEDIA_TYPE, body);
    }

    private String contactUrl(String contactId) {
        return config.url("/services/data/" + version + "/sobjects/Contact/"
                + URLEncoder.encode(contactId, StandardCharsets.UTF_8));
    }
}
