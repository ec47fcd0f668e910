package io.handoff.hub.propagation.adapters;


import org.apache.camel.Exchange;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

import io.handoff.hub.propagation.AddressPayload;
import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.VendorRequest;

/**
 * A system connected in YAML only: each delivery goes to {@code direct:subscriber-<system>}, a route made from the
 * {@code rest-subscriber} template (routes/rest-subscriber.yaml), which maps it to the system's request and calls it.
 * The delivery travels as exchange properties the template's expressions use; text values are escaped for use
 * inside a JSON string ({@code "${exchangeProperty.hubEmail}"}):
 * <ul>
 * <li>{@code hubBaseUrl}: {@code hub.systems.<system>.base-url} (or the sandbox's); {@code hubCredential}:
 * {@code hub.systems.<system>.api-key} (empty if none is set)</li>
 * <li>{@code hubEmail}, {@code hubSystemId} (the customer's id in that system, empty if unknown), {@code hubHubId};
 * for use in a URL path, {@code hubEmailPath} and {@code hubSystemIdPath} (percent-encoded)</li>
 * <li>{@code hubChannel} (email, sms), {@code hubPurpose}, {@code hubState} (subscribed, unsubscribed, suppressed),
 * {@code hubOptedIn} (true only for subscribed), {@code hubReason} (e.g. hard_bounce; empty if none)</li>
 * <li>{@code hubEventTime} (when the customer chose, RFC 3339), {@code hubOrigin} (the system it came from),
 * {@code hubChangeId} (stable per change: an idempotency key for the receiving system), {@code hubKind}
 * (consent, or merge when it is the survivor's consent for a record a merged customer held)</li>
 * </ul>
 * The route's {@code http} endpoint throws for answers outside the template's {@code successCodes}; the lane reads
 * the status either way, retries 408/425/429/5xx and no answer, and fails other codes.
 */
public class RouteSubscriberAdapter extends OneByOneAdapter {

    public static final String ENDPOINT_PREFIX = "direct:subscriber-";
    /** Where address deliveries go: a second route from the template, {@code flow: address-subscriber}. */
    public static final String ADDRESS_ENDPOINT_PREFIX = "direct:address-subscriber-";

    private final String endpoint;
    private final String addressEndpoint;
    private final String credential;

    /** @param addressRoute true if a {@code direct:address-subscriber-<system>} route exists */
    public RouteSubscriberAdapter(SystemConfig config, boolean addressRoute) {
        super(config);
        this.endpoint = ENDPOINT_PREFIX + config.name();
        this.addressEndpoint = addressRoute ? ADDRESS_ENDPOINT_PREFIX + config.name() : null;
        // hub.systems.<name>.api-key; a system without one is called without the auth header.
        this.credential = config.optional("api-key").orElse(config.sandbox() ? "sandbox" : "");
    }

    @Override
    protected Outcome deliverOne(Delivery d, VendorClient client) {
        VendorRequest[] sent = new VendorRequest[1];
        VendorAnswer answer = client.send(endpoint, exchange -> prepare(exchange, d), done -> sent[0] = sent(done));
        return Outcome.of(d, sent[0], answer);
    }

    /**
     * Address deliveries go to {@code direct:address-subscriber-<system>} (routes/loyalty-address-subscriber.yaml is
     * the worked example) with the address in further properties: {@code hubField} (shipping, billing),
     * {@code hubAddressLine1}, {@code hubAddressLine2}, {@code hubAddressCity}, {@code hubAddressRegion},
     * {@code hubAddressRegionCode}, {@code hubAddressPostalCode}, {@code hubAddressCountry},
     * {@code hubAddressCountryCode} (JSON-escaped, empty if unknown). Without such a route they are skipped.
     */
    @Override
    public java.util.List<Outcome> deliverAddresses(java.util.List<Delivery> batch, VendorClient client) {
        java.util.List<Outcome> outcomes = new java.util.ArrayList<>();
        for (Delivery d : batch) {
            if (addressEndpoint == null) {
                outcomes.add(Outcome.skipped(d, "not-applicable: no " + ADDRESS_ENDPOINT_PREFIX + system()
                        + " route takes addresses"));
                continue;
            }
            if (d.email() == null && d.systemId() == null) {
                outcomes.add(Outcome.skipped(d, "not-in-system: neither an email nor an id is known"));
                continue;
            }
            AddressPayload address = AddressPayload.of(d);
            VendorRequest[] sent = new VendorRequest[1];
            VendorAnswer answer = client.send(addressEndpoint, exchange -> {
                prepare(exchange, d);
                exchange.setProperty("hubField", escape(address.field()));
                for (String field : new String[] { "line1", "line2", "city", "region", "regionCode", "postalCode",
                        "country", "countryCode" }) {
                    exchange.setProperty("hubAddress" + Character.toUpperCase(field.charAt(0)) + field.substring(1),
                            escape(address.text(field)));
                }
            }, done -> sent[0] = sent(done));
            outcomes.add(Outcome.of(d, sent[0], answer));
        }
        return outcomes;
    }

    void prepare(Exchange exchange, Delivery d) {
        exchange.setProperty("hubBaseUrl", config.url(""));
        exchange.setProperty("hubEmail", escape(d.email()));
        exchange.setProperty("hubSystemId", escape(d.systemId()));
        // For URL paths: percent-encoded, so an id cannot add query options to the endpoint.
        exchange.setProperty("hubSystemIdPath", pathSegment(d.systemId()));
        exchange.setProperty("hubEmailPath", pathSegment(d.email()));
        exchange.setProperty("hubHubId", escape(d.hubId()));
        exchange.setProperty("hubChannel", escape(d.channel()));
        exchange.setProperty("hubPurpose", escape(d.purpose()));
        exchange.setProperty("hubState", d.state() == null ? "" : d.state().wireName());
        exchange.setProperty("hubOptedIn", Boolean.toString(d.optedIn()));
        exchange.setProperty("hubReason", escape(d.reason()));
        exchange.setProperty("hubEventTime", d.eventTime().toString());
        exchange.setProperty("hubOrigin", escape(d.originSystem()));
        exchange.setProperty("hubChangeId", escape(d.changeId()));
        exchange.setProperty("hubKind", d.kind());
        exchange.setProperty("hubCredential", credential);
    }

    /** The request the route made, from the properties the template records ({@code hubRequest*}). */
    VendorRequest sent(Exchange done) {
        String body = done.getProperty("hubRequestBody", String.class);
        return new VendorRequest(done.getProperty("hubRequestMethod", "POST", String.class),
                done.getProperty("hubRequestUrl", endpoint, String.class), null,
                body == null ? null : body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static String pathSegment(String value) {
        return value == null ? "" : java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8)
                .replace("+", "%20");
    }

    static String escape(String value) {
        return value == null ? "" : new String(JsonStringEncoder.getInstance().quoteAsString(value));
    }
}
