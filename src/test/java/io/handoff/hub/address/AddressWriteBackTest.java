package io.handoff.hub.address;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.patchRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static io.handoff.hub.support.HubTestResource.CHECKOUT_SECRET;
import static io.handoff.hub.support.HubTestResource.LOYALTY_SECRET;
import static io.handoff.hub.support.HubTestResource.SALESFORCE_SECRET;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEvent.TimeSource;
import io.handoff.hub.event.CustomerRefs;
import io.handoff.hub.event.EventType;
import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.identity.IdentityResolver.CustomerRef;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.VendorStubs;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

/**
 * Address write-back end to end: signed webhooks in, decisions by the rules of routes/address-writeback-settings.yaml
 * (shipping owned by shopify and checkout, threshold verified/90; CRMs salesforce (Mailing) and hubspot; downstream
 * klaviyo and loyalty), writes through the lanes to the WireMock CRMs, the CRM's echo and a genuine CRM edit.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
@QuarkusTestResource(value = VendorStubs.class, restrictToAnnotatedClass = true)
class AddressWriteBackTest {

    static final Duration DECIDED = Duration.ofSeconds(20);
    static final String SF_CONTACT = "/services/data/v64.0/sobjects/Contact/";

    @Inject
    IdentityResolver identity;

    @Inject
    AddressWriteBack writeBack;

    String email;
    String contact;

    @BeforeEach
    void customer() {
        VendorStubs.defaults();
        email = "addr-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
        contact = "003" + UUID.randomUUID().toString().replace("-", "").substring(0, 15).toUpperCase();
        identity.resolve(new CustomerRef(email, Map.of("salesforce", contact)));
    }

    @Test
    void aVerifiedCheckoutAddressIsWrittenToBothCrmsAndThenGoesDownstream() {
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-20T10:00:00Z", address("123 Main Street",
                "Apt. 4B", "San Francisco", "CA", "94105-1234"), "smarty", smarty("Y", "AABB"));

        LoggedRequest sf = await().atMost(DECIDED).until(() -> patches(), l -> l.size() == 1).get(0);
        assertEquals("Bearer " + VendorStubs.SALESFORCE_TOKEN, sf.getHeader("Authorization"));
        JsonNode body = json(sf);
        // Only the Contact's address fields, all strings (the contract: unknown fields fail the request).
        assertEquals(Set.of("MailingStreet", "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry"),
                names(body));
        assertEquals("123 Main Street\nApt. 4B", body.path("MailingStreet").asText());
        assertEquals("San Francisco", body.path("MailingCity").asText());
        assertEquals("CA", body.path("MailingState").asText());
        assertEquals("94105-1234", body.path("MailingPostalCode").asText());
        assertEquals("US", body.path("MailingCountry").asText());
        body.forEach(v -> assertTrue(v.isTextual()));

        // HubSpot: the contact's standard address properties, by email (the hub knows no HubSpot id), strings only.
        LoggedRequest hs = await().atMost(DECIDED).until(() -> requests(VendorStubs.hubspot, patchRequestedFor(
                urlPathMatching("/crm/v3/objects/contacts/.+"))), l -> l.size() == 1).get(0);
        assertTrue(hs.getUrl().startsWith("/crm/v3/objects/contacts/" + email.replace("@", "%40")), hs.getUrl());
        assertEquals("email", hs.queryParameter("idProperty").firstValue());
        JsonNode properties = json(hs).path("properties");
        assertEquals(Set.of("address", "city", "state", "zip", "country"), names(properties));
        assertEquals("123 Main Street\nApt. 4B", properties.path("address").asText());
        assertEquals("94105-1234", properties.path("zip").asText());
        properties.forEach(v -> assertTrue(v.isTextual(), "HubSpot property values are strings"));

        // Confirmed by Salesforce: the master changed, so Klaviyo (profile location) and loyalty get it.
        LoggedRequest klaviyo = await().atMost(DECIDED).until(() -> VendorStubs.klaviyo.findAll(postRequestedFor(
                urlPathEqualTo("/api/profile-import"))).stream().filter(r -> r.getBodyAsString().contains(email))
                .toList(), l -> l.size() == 1).get(0);
        JsonNode profile = json(klaviyo).path("data");
        assertEquals("profile", profile.path("type").asText());
        assertEquals(email, profile.at("/attributes/email").asText());
        assertEquals("123 Main Street", profile.at("/attributes/location/address1").asText());
        assertEquals("Apt. 4B", profile.at("/attributes/location/address2").asText());
        assertEquals("94105-1234", profile.at("/attributes/location/zip").asText());
        assertEquals("2026-07-15", klaviyo.getHeader("revision"));
        LoggedRequest loyalty = await().atMost(DECIDED).until(this::loyaltyPuts, l -> l.size() == 1).get(0);
        assertEquals(VendorStubs.LOYALTY_KEY, loyalty.getHeader("X-Api-Key"));
        assertEquals("shipping", json(loyalty).path("type").asText());
        assertEquals("CA", json(loyalty).path("region").asText());

        JsonNode view = await().atMost(DECIDED).until(this::addresses,
                v -> !v.at("/master/shipping/confirmedAt").isNull() && !v.at("/master/shipping").isMissingNode());
        assertEquals("checkout", view.at("/master/shipping/sourceSystem").asText());
        assertEquals("hub", view.at("/master/shipping/origin").asText());
        assertEquals("2026-11-20T10:00:00Z", view.at("/master/shipping/eventTime").asText());
        JsonNode history = view.path("history").get(0);
        assertEquals("verified", history.at("/verification/level").asText());
        assertEquals(100, history.at("/verification/score").asInt());
        assertEquals("smarty", history.at("/verification/validator").asText());
        List<JsonNode> written = decisions(view, "written");
        assertEquals(Set.of("salesforce", "hubspot"), Set.of(written.get(0).path("targetSystem").asText(),
                written.get(1).path("targetSystem").asText()));
    }

    @Test
    void aSystemThatDoesNotOwnTheFieldNeverOverwritesIt() {
        // loyalty is not an owner of shipping; checkout is not an owner of billing (the CRM is).
        validated("loyalty", LOYALTY_SECRET, "shipping", "2026-11-20T10:00:00Z", address("1 Loyal Way", null,
                "Austin", "TX", "73301"), "smarty", smarty("Y", "AABB"));
        validated("checkout", CHECKOUT_SECRET, "billing", "2026-11-20T10:00:00Z", address("2 Bill Road", null,
                "Austin", "TX", "73301"), "smarty", smarty("Y", "AABB"));

        JsonNode view = awaitDecisions(4);
        for (JsonNode d : view.path("decisions")) {
            assertEquals("skipped", d.path("outcome").asText());
            assertEquals("not-owner", d.path("rule").asText());
        }
        assertTrue(decisions(view, "skipped").get(0).path("reason").asText().contains("owners:"));
        assertTrue(view.path("master").isEmpty(), "nothing reached the master");
        assertEquals(0, patches().size());
    }

    @Test
    void smartyVerdictsBelowTheThresholdAreSkippedAndAboveItAreWritten() {
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-20T10:00:00Z", address("10 Partial St", "Apt 9",
                "Denver", "CO", "80202"), "smarty", smarty("S", "AACC"));
        JsonNode view = awaitDecisions(2);
        assertEquals("below-threshold", view.at("/decisions/0/rule").asText());
        assertTrue(view.at("/decisions/0/reason").asText().contains("partial 70"), view.toString());
        assertEquals(0, patches().size());

        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-20T11:00:00Z", address("10 Partial St", null,
                "Denver", "CO", "80202"), "smarty", smarty("Y", "AABB"));
        await().atMost(DECIDED).until(() -> patches().size() == 1);
        assertEquals("10 Partial St", json(patches().get(0)).path("MailingStreet").asText());
    }

    @Test
    void loqateVerdictsBelowTheThresholdAreSkippedAndAboveItAreWritten() {
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-20T10:00:00Z", address("5 Fuzzy Lane", null,
                "Boston", "MA", "02108"), "loqate", Json.MAPPER.createObjectNode().put("avc", "P22-I22-P3-064"));
        JsonNode view = awaitDecisions(2);
        assertEquals("below-threshold", view.at("/decisions/0/rule").asText());
        assertTrue(view.at("/decisions/0/reason").asText().contains("avc=P22-I22-P3-064"));
        assertEquals(0, patches().size());

        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-20T11:00:00Z", address("5 Fuzzy Lane", null,
                "Boston", "MA", "02108"), "loqate", Json.MAPPER.createObjectNode().put("avc", "V44-I44-P6-100"));
        await().atMost(DECIDED).until(() -> patches().size() == 1);
        assertEquals("Boston", json(patches().get(0)).path("MailingCity").asText());
    }

    @Test
    void anEqualAddressAfterNormalisationIsNotWrittenAgainButADifferentOneIs() {
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-20T10:00:00Z", address("742 Evergreen Terrace",
                null, "Springfield", "OR", "97477"), "smarty", smarty("Y", "AABB"));
        await().atMost(DECIDED).until(() -> patches().size() == 1);
        // Same address: case, abbreviation and ZIP+4 differ only.
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-21T10:00:00Z", address("742 EVERGREEN TER",
                null, "springfield", "Oregon", "97477-0001"), "smarty", smarty("Y", "AABB"));
        JsonNode view = awaitDecisions(4);
        assertEquals("unchanged", view.at("/decisions/0/rule").asText());
        // A different house number is a different address.
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-22T10:00:00Z", address("744 Evergreen Terrace",
                null, "Springfield", "OR", "97477"), "smarty", smarty("Y", "AABB"));
        await().atMost(DECIDED).until(() -> patches().size() == 2);
        assertEquals(2, patches().size(), "the equal address was not written");
        assertEquals("744 Evergreen Terrace", json(patches().get(1)).path("MailingStreet").asText());
    }

    @Test
    void eventsOutOfOrderLeaveTheNewerAddressInTheCrm() {
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-21T10:00:00Z", address("2 Newer Street", null,
                "Portland", "OR", "97201"), "smarty", smarty("Y", "AABB"));
        await().atMost(DECIDED).until(() -> patches().size() == 1);
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-20T10:00:00Z", address("1 Older Street", null,
                "Portland", "OR", "97201"), "smarty", smarty("Y", "AABB"));
        JsonNode view = awaitDecisions(4);
        assertEquals("not-newer", view.at("/decisions/0/rule").asText());
        assertEquals(1, patches().size());
        assertEquals("2 Newer Street", json(patches().get(0)).path("MailingStreet").asText());
        assertEquals("2 Newer Street", view.at("/master/shipping/address/line1").asText());
    }

    @Test
    void theSameEventTwiceIsOneWrite() {
        ObjectNode payload = payload("shipping", "2026-11-20T10:00:00Z", address("9 Twice Road", null, "Reno", "NV",
                "89501"), "smarty", smarty("Y", "AABB"));
        String webhookId = Webhooks.newId();
        byte[] body = payload.toString().getBytes(UTF_8);
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, webhookId, body).then().statusCode(200)
                .body("status", equalTo("accepted"));
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, webhookId, body).then().statusCode(200)
                .body("status", equalTo("duplicate"));
        await().atMost(DECIDED).until(() -> patches().size() == 1);
        // The same canonical event reaching the write-back again (a Kafka redelivery) decides nothing.
        CanonicalEvent event = new CanonicalEvent(webhookId, "/systems/checkout", EventType.ADDRESS_VALIDATED, "k",
                Instant.parse("2026-11-20T10:00:00Z"), Instant.now(), TimeSource.PAYLOAD, Map.of(),
                (ObjectNode) payload.get("data"), "k");
        assertEquals(List.of(), writeBack.apply(event));
        JsonNode view = addresses();
        assertEquals(2, view.path("decisions").size(), "one decision per CRM: " + view.path("decisions"));
        assertEquals(1, patches().size());
    }

    @Test
    void theCrmsEchoOfTheHubsWriteIsNotPropagatedButAGenuineEditThereIs() {
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-20T10:00:00Z", address("77 Echo Street", null,
                "Seattle", "WA", "98101"), "smarty", smarty("Y", "AABB"));
        await().atMost(DECIDED).until(() -> klaviyoImports().size() == 1 && loyaltyPuts().size() == 1);

        // Salesforce reports the value the hub wrote, in its own spelling, a moment later.
        crmUpdate("2026-11-23T09:00:00Z", address("77 ECHO ST", null, "SEATTLE", "Washington", "98101-0001"));
        JsonNode view = await().atMost(DECIDED).until(this::addresses, v -> !decisions(v, "echo").isEmpty());
        JsonNode echo = decisions(view, "echo").get(0);
        assertEquals("salesforce", echo.path("sourceSystem").asText());
        assertTrue(echo.path("reason").asText().contains("not propagated"));
        assertNotNull(echo.path("delivery").path("id"));
        assertEquals(1, patches().size(), "no second write");
        assertEquals(1, klaviyoImports().size(), "no outbound event for the echo");
        assertEquals(1, loyaltyPuts().size(), "no outbound event for the echo");

        // A support agent corrects the address in Salesforce afterwards: that is the master now, sent downstream.
        crmUpdate("2026-11-23T12:00:00Z", address("80 Corrected Avenue", "Suite 5", "Seattle", "WA", "98104"));
        view = await().atMost(DECIDED).until(this::addresses, v -> !decisions(v, "learned").isEmpty());
        assertEquals("crm", view.at("/master/shipping/origin").asText());
        assertEquals("80 Corrected Avenue", view.at("/master/shipping/address/line1").asText());
        await().atMost(DECIDED).until(() -> klaviyoImports().size() == 2 && loyaltyPuts().size() == 2);
        assertEquals("80 Corrected Avenue", json(klaviyoImports().get(1)).at("/data/attributes/location/address1")
                .asText());
        assertEquals(1, patches().size(), "the CRM's own edit is not written back to it");
    }

    @Test
    void aCrmEditWhileTheHubsWriteWaitsWinsAndReachesTheOtherCrm() {
        salesforceAnswers(503);
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-20T10:00:00Z", address("1 Checkout Road", null,
                "Tulsa", "OK", "74103"), "smarty", smarty("Y", "AABB"));
        await().atMost(DECIDED).until(() -> patches().size() >= 1);
        // The agent's edit in Salesforce is newer than the checkout: it is the master, the waiting write is dropped.
        crmUpdate("2026-11-21T09:00:00Z", address("2 Agent Street", null, "Tulsa", "OK", "74104"));
        JsonNode view = await().atMost(DECIDED).until(this::addresses, v -> !decisions(v, "learned").isEmpty()
                && "superseded".equals(salesforceDecision(v).at("/delivery/status").asText()));
        assertEquals("2 Agent Street", view.at("/master/shipping/address/line1").asText());
        // HubSpot holds the master too: it gets the agent's value.
        await().atMost(DECIDED).until(() -> requests(VendorStubs.hubspot, patchRequestedFor(urlPathMatching(
                "/crm/v3/objects/contacts/.+"))).stream().anyMatch(r -> r.getBodyAsString().contains("2 Agent Street")));
        salesforceAnswers(204);
        int calls = patches().size();
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> patches().size() == calls);
        patches().forEach(p -> assertEquals("1 Checkout Road", json(p).path("MailingStreet").asText(),
                "the checkout value was only tried while Salesforce was down, never sent over the agent's edit"));
    }

    @Test
    void theCrmReportingTheOldValueWhileTheHubsWriteIsOnItsWayIsNotAnEdit() {
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-20T10:00:00Z", address("10 First Street", null,
                "Omaha", "NE", "68102"), "smarty", smarty("Y", "AABB"));
        await().atMost(DECIDED).until(this::addresses, v -> !v.at("/master/shipping/confirmedAt").isNull()
                && v.at("/master/shipping").isObject());
        salesforceAnswers(503);
        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-21T10:00:00Z", address("20 Second Street", null,
                "Omaha", "NE", "68102"), "smarty", smarty("Y", "AABB"));
        await().atMost(DECIDED).until(() -> patches().size() >= 2);
        // Salesforce notifies an unrelated change of the Contact, still carrying the old address.
        crmUpdate("2026-11-22T09:00:00Z", address("10 First Street", null, "Omaha", "NE", "68102"));
        JsonNode view = await().atMost(DECIDED).until(this::addresses,
                v -> v.path("decisions").toString().contains("write-pending"));
        assertEquals("20 Second Street", view.at("/master/shipping/address/line1").asText());
        salesforceAnswers(204);
        await().atMost(DECIDED).until(() -> patches().stream().anyMatch(p -> json(p).path("MailingStreet").asText()
                .equals("20 Second Street")) && "delivered".equals(latestSalesforceStatus()));
    }

    @Test
    void aCrmThatIsDownIsRetriedUntilTheWriteIsDelivered() {
        VendorStubs.salesforce.stubFor(patch(urlPathEqualTo(SF_CONTACT + contact)).inScenario("down")
                .whenScenarioStateIs(Scenario.STARTED).willReturn(aResponse().withStatus(503))
                .willSetStateTo("still down"));
        VendorStubs.salesforce.stubFor(patch(urlPathEqualTo(SF_CONTACT + contact)).inScenario("down")
                .whenScenarioStateIs("still down").willReturn(aResponse().withStatus(503).withHeader("Retry-After", "0"))
                .willSetStateTo("up"));
        VendorStubs.salesforce.stubFor(patch(urlPathEqualTo(SF_CONTACT + contact)).inScenario("down")
                .whenScenarioStateIs("up").willReturn(aResponse().withStatus(204)));

        validated("checkout", CHECKOUT_SECRET, "shipping", "2026-11-20T10:00:00Z", address("3 Retry Road", null,
                "Miami", "FL", "33101"), "smarty", smarty("Y", "AABB"));

        JsonNode view = await().atMost(DECIDED).until(this::addresses,
                v -> "delivered".equals(salesforceDecision(v).at("/delivery/status").asText()));
        assertEquals(3, patches().size(), "two 503s, then the write went through");
        patches().forEach(p -> assertEquals("3 Retry Road", json(p).path("MailingStreet").asText()));
        assertNotNull(view.at("/master/shipping/confirmedAt").textValue());
        List<Map<String, Object>> receipts = RestAssured.given().auth().oauth2(ADMIN_TOKEN)
                .get("/api/customers/" + email + "/consent").jsonPath().getList("receipts");
        Map<String, Object> receipt = receipts.stream().filter(r -> "salesforce".equals(r.get("system")))
                .findFirst().orElseThrow();
        assertEquals("delivered", receipt.get("status"));
        assertEquals(3, receipt.get("attempts"));
    }

    @Test
    void theAddressApiNeedsTheTokenAndAnswersUnknownCustomersAndBadLimits() {
        RestAssured.given().get("/api/customers/" + email + "/addresses").then().statusCode(401);
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/customers/nobody-" + UUID.randomUUID()
                + "@example.com/addresses").then().statusCode(404).body("error.code", equalTo("unknown_customer"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).queryParam("limit", "0").get("/api/customers/" + email
                + "/addresses").then().statusCode(400).body("error.code", equalTo("invalid_limit"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/customers/" + email + "/addresses").then()
                .statusCode(200).body("email", equalTo(email));
    }

    // --- helpers ---------------------------------------------------------------------------------------------------

    void validated(String system, String secret, String use, String time, ObjectNode address, String validator,
            ObjectNode verdict) {
        byte[] body = payload(use, time, address, validator, verdict).toString().getBytes(UTF_8);
        Webhooks.postSigned(system, secret, Webhooks.newId(), body).then().statusCode(200)
                .body("status", equalTo("accepted"));
    }

    ObjectNode payload(String use, String time, ObjectNode address, String validator, ObjectNode verdict) {
        ObjectNode payload = Json.MAPPER.createObjectNode().put("type", "address.validated").put("timestamp", time);
        ObjectNode data = payload.putObject("data");
        data.set("customer", CustomerRefs.of(email, null, null, null));
        data.put("use", use);
        data.set("address", address);
        data.putObject("validator").put("name", validator).set("verdict", verdict);
        return payload;
    }

    /** Salesforce's change notification of the Contact: customer.updated with its Mailing address as shipping. */
    void crmUpdate(String time, ObjectNode address) {
        ObjectNode payload = Json.MAPPER.createObjectNode().put("type", "customer.updated").put("timestamp", time);
        ObjectNode data = payload.putObject("data");
        data.set("customer", CustomerRefs.of(email, null, "salesforce", contact));
        data.putObject("addresses").set("shipping", address);
        Webhooks.postSigned("salesforce", SALESFORCE_SECRET, Webhooks.newId(), payload.toString().getBytes(UTF_8))
                .then().statusCode(200).body("status", equalTo("accepted"));
    }

    static ObjectNode address(String line1, String line2, String city, String region, String zip) {
        ObjectNode a = Json.MAPPER.createObjectNode().put("line1", line1);
        if (line2 != null) {
            a.put("line2", line2);
        }
        a.put("city", city);
        if (region.length() == 2) {
            a.put("regionCode", region);
        } else {
            a.put("region", region);
        }
        return a.put("postalCode", zip).put("countryCode", "US");
    }

    static ObjectNode smarty(String code, String footnotes) {
        return Json.MAPPER.createObjectNode().put("dpv_match_code", code).put("dpv_footnotes", footnotes)
                .put("dpv_vacant", "N").put("active", "Y");
    }

    JsonNode addresses() {
        var response = RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/customers/" + email + "/addresses");
        try {
            return response.statusCode() == 200 ? Json.MAPPER.readTree(response.asString())
                    : Json.MAPPER.createObjectNode();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    JsonNode awaitDecisions(int count) {
        return await().atMost(DECIDED).until(this::addresses, v -> v.path("decisions").size() >= count);
    }

    static List<JsonNode> decisions(JsonNode view, String outcome) {
        List<JsonNode> found = new ArrayList<>();
        view.path("decisions").forEach(d -> {
            if (outcome.equals(d.path("outcome").asText())) {
                found.add(d);
            }
        });
        return found;
    }

    static JsonNode salesforceDecision(JsonNode view) {
        for (JsonNode d : view.path("decisions")) {
            if ("salesforce".equals(d.path("targetSystem").asText()) && "written".equals(d.path("outcome").asText())) {
                return d;
            }
        }
        return Json.MAPPER.createObjectNode();
    }

    /** Salesforce answers every PATCH of this customer's Contact with {@code status} from now on. */
    void salesforceAnswers(int status) {
        VendorStubs.salesforce.stubFor(patch(urlPathEqualTo(SF_CONTACT + contact)).atPriority(1)
                .willReturn(aResponse().withStatus(status)));
    }

    String latestSalesforceStatus() {
        for (JsonNode d : addresses().path("decisions")) {
            if ("salesforce".equals(d.path("targetSystem").asText()) && "written".equals(d.path("outcome").asText())) {
                return d.at("/delivery/status").asText();
            }
        }
        return "";
    }

    List<LoggedRequest> patches() {
        return VendorStubs.salesforce.findAll(patchRequestedFor(urlPathEqualTo(SF_CONTACT + contact)));
    }

    List<LoggedRequest> klaviyoImports() {
        return requests(VendorStubs.klaviyo, postRequestedFor(urlPathEqualTo("/api/profile-import")));
    }

    List<LoggedRequest> loyaltyPuts() {
        return requests(VendorStubs.loyalty, putRequestedFor(urlPathMatching("/api/v1/members/[^/]+/address")));
    }

    List<LoggedRequest> requests(WireMockServer server,
            com.github.tomakehurst.wiremock.matching.RequestPatternBuilder pattern) {
        return server.findAll(pattern).stream().filter(r -> r.getBodyAsString().contains(email)
                || r.getUrl().contains(email) || r.getUrl().contains(email.replace("@", "%40"))).toList();
    }

    static JsonNode json(LoggedRequest request) {
        try {
            return Json.MAPPER.readTree(request.getBody());
        } catch (java.io.IOException e) {
            throw new AssertionError("not JSON: " + request.getBodyAsString(), e);
        }
    }

    static Set<String> names(JsonNode object) {
        Set<String> names = new java.util.TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
