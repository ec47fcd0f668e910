package io.handoff.hub.propagation.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.propagation.AddressPayload;
import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;
import io.handoff.hub.support.Json;

/** Address deliveries through each adapter: the request each CRM or downstream API takes, and how answers read. */
class AddressAdaptersTest {

    static final ObjectNode ADDRESS = Json.MAPPER.createObjectNode().put("line1", "500 Howard St").put("line2", "Ste 400")
            .put("city", "San Francisco").put("region", "California").put("regionCode", "CA")
            .put("postalCode", "94105-3011").put("country", "United States").put("countryCode", "US");

    static Delivery delivery(String system, String target, String systemId) {
        return new Delivery(7, "address:h:shipping:1", system, Delivery.KIND_ADDRESS, "h", "address", "shipping",
                null, null, "erin@example.com", systemId, "checkout", Instant.parse("2026-11-23T10:15:00Z"),
                Instant.now(), 0, new AddressPayload("shipping", target, ADDRESS, "abc").toJson());
    }

    static JsonNode body(FakeVendor vendor, int call) throws Exception {
        return Json.MAPPER.readTree(vendor.calls.get(call).bodyText());
    }

    static Set<String> names(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void salesforceWritesTheContactsAddressFieldsUnderThePrefixOrTheirCodes() throws Exception {
        SalesforceAdapter names = new SalesforceAdapter(FakeVendor.config("salesforce",
                Map.of("hub.systems.salesforce.access-token", "tok")), (h, s, id) -> { });
        FakeVendor vendor = new FakeVendor(r -> FakeVendor.status(204, ""));
        Outcome outcome = names.deliverAddresses(List.of(delivery("salesforce", "Other", "003A")), vendor).get(0);
        assertEquals(Outcome.Kind.DELIVERED, outcome.kind());
        assertEquals("PATCH", vendor.calls.get(0).method());
        assertTrue(vendor.calls.get(0).url().endsWith("/services/data/v64.0/sobjects/Contact/003A"));
        JsonNode body = body(vendor, 0);
        assertEquals(Set.of("OtherStreet", "OtherCity", "OtherState", "OtherPostalCode", "OtherCountry"), names(body));
        assertEquals("500 Howard St\nSte 400", body.path("OtherStreet").asText());
        assertEquals("California", body.path("OtherState").asText());

        SalesforceAdapter codes = new SalesforceAdapter(FakeVendor.config("salesforce", Map.of(
                "hub.systems.salesforce.access-token", "tok", "hub.systems.salesforce.address-codes", "true")),
                (h, s, id) -> { });
        FakeVendor picklists = new FakeVendor(r -> FakeVendor.status(204, ""));
        codes.deliverAddresses(List.of(delivery("salesforce", "Mailing", "003A")), picklists);
        JsonNode coded = body(picklists, 0);
        assertEquals("CA", coded.path("MailingStateCode").asText());
        assertEquals("US", coded.path("MailingCountryCode").asText());
        assertTrue(coded.path("MailingState").isMissingNode());
    }

    @Test
    void salesforceRefusalsFailAndOutagesRetry() {
        SalesforceAdapter adapter = new SalesforceAdapter(FakeVendor.config("salesforce",
                Map.of("hub.systems.salesforce.access-token", "tok")), (h, s, id) -> { });
        FakeVendor refusing = new FakeVendor(r -> FakeVendor.status(400,
                "[{\"message\":\"No such column 'OtherStreet'\",\"errorCode\":\"INVALID_FIELD\"}]"));
        assertEquals(Outcome.Kind.FAILED, adapter.deliverAddresses(List.of(delivery("salesforce", "Other", "003A")),
                refusing).get(0).kind());
        FakeVendor down = new FakeVendor(r -> FakeVendor.status(503, ""));
        assertEquals(Outcome.Kind.RETRY, adapter.deliverAddresses(List.of(delivery("salesforce", "Mailing", "003A")),
                down).get(0).kind());
        FakeVendor unused = new FakeVendor(r -> FakeVendor.status(204, ""));
        assertEquals(Outcome.Kind.SKIPPED, adapter.deliverAddresses(List.of(delivery("salesforce", null, "003A")),
                unused).get(0).kind(), "no prefix: nothing to write");
        assertEquals(0, unused.calls.size());
    }

    @Test
    void hubspotPatchesTheContactByIdOrEmailAndSkipsAnUnknownContact() throws Exception {
        HubSpotAdapter adapter = new HubSpotAdapter(FakeVendor.config("hubspot",
                Map.of("hub.systems.hubspot.access-token", "pat")));
        FakeVendor vendor = new FakeVendor(r -> FakeVendor.status(200, "{\"id\":\"51\",\"properties\":{}}"));
        assertEquals(Outcome.Kind.DELIVERED, adapter.deliverAddresses(List.of(delivery("hubspot", "standard", null)),
                vendor).get(0).kind());
        assertTrue(vendor.calls.get(0).url().endsWith("/crm/v3/objects/contacts/erin%40example.com?idProperty=email"),
                vendor.calls.get(0).url());
        JsonNode properties = body(vendor, 0).path("properties");
        assertEquals(Set.of("address", "city", "state", "zip", "country"), names(properties));
        assertEquals("CA", properties.path("state").asText());
        assertEquals("US", properties.path("country").asText());
        adapter.deliverAddresses(List.of(delivery("hubspot", "standard", "51")), vendor);
        assertTrue(vendor.calls.get(1).url().endsWith("/crm/v3/objects/contacts/51"), vendor.calls.get(1).url());

        FakeVendor missing = new FakeVendor(r -> FakeVendor.status(404, "{\"category\":\"OBJECT_NOT_FOUND\"}"));
        Outcome skipped = adapter.deliverAddresses(List.of(delivery("hubspot", "standard", "99")), missing).get(0);
        assertEquals(Outcome.Kind.SKIPPED, skipped.kind());
        assertTrue(skipped.detail().startsWith("not-in-system"));
    }

    @Test
    void klaviyoUpdatesTheProfilesLocationByEmail() throws Exception {
        KlaviyoAdapter adapter = new KlaviyoAdapter(FakeVendor.config("klaviyo",
                Map.of("hub.systems.klaviyo.api-key", "pk")));
        FakeVendor vendor = new FakeVendor(r -> FakeVendor.status(201, "{\"data\":{\"type\":\"profile\",\"id\":\"01\"}}"));
        assertEquals(Outcome.Kind.DELIVERED, adapter.deliverAddresses(List.of(delivery("klaviyo", "shipping", null)),
                vendor).get(0).kind());
        assertTrue(vendor.calls.get(0).url().endsWith("/api/profile-import"));
        JsonNode data = body(vendor, 0).path("data");
        assertEquals("profile", data.path("type").asText());
        assertEquals("erin@example.com", data.at("/attributes/email").asText());
        assertEquals(Set.of("address1", "address2", "city", "region", "zip", "country"),
                names(data.at("/attributes/location")));
    }

    @Test
    void aSystemWithoutAddressSupportSkipsThem() {
        ShopifyAdapter shopify = new ShopifyAdapter(FakeVendor.config("shopify",
                Map.of("hub.systems.shopify.access-token", "shpat")), (h, s, id) -> { });
        FakeVendor vendor = new FakeVendor(r -> FakeVendor.status(200, "{}"));
        Outcome outcome = shopify.deliverAddresses(List.of(delivery("shopify", "shipping", "1")), vendor).get(0);
        assertEquals(Outcome.Kind.SKIPPED, outcome.kind());
        assertEquals(0, vendor.calls.size());
    }
}
