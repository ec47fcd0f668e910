package io.handoff.hub.reconciliation;

import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.sql.DataSource;

import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.identity.IdentityResolver.CustomerRef;
import io.handoff.hub.intake.signed.StandardWebhookVerifier;
import io.handoff.hub.persistence.Sql;
import io.handoff.hub.support.ContractSchemas;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Management;
import io.handoff.hub.support.Receipts;
import io.handoff.hub.support.SuppressionLists;
import io.handoff.hub.support.SuppressionLists.Listed;
import io.handoff.hub.support.VendorStubs;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.response.Response;

/**
 * Suppression reconciliation against WireMock stubs of every vendor's list API (several pages each, one failing page
 * each): the report counts each category right, a dry run changes nothing, applying repairs through the lanes and the
 * ledger, and the next run finds no drift. The class has an application of its own (its profile), whose ledger each
 * test starts empty, so totals are exact.
 */
@QuarkusTest
@TestProfile(ReconciliationTest.Profile.class)
@QuarkusTestResource(HubTestResource.class)
@QuarkusTestResource(value = VendorStubs.class, restrictToAnnotatedClass = true)
class ReconciliationTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>();
            config.put("hub.reconciliation.page-initial-backoff-ms", "50");
            config.put("hub.reconciliation.page-max-backoff-ms", "200");
            config.put("hub.systems.hubspot.reconcile.page-size", "2");
            return config;
        }
    }

    static final List<String> SYSTEMS = List.of("hubspot", "klaviyo", "loyalty", "salesforce", "shopify");
    static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
    static final Duration DAY = Duration.ofDays(1);

    @Inject
    IdentityResolver identity;

    @Inject
    @Named("hubDataSource")
    DataSource dataSource;

    JdbcTemplate jdbc;

    /** The seeded mix: one contact per case (see {@link #seed()}). */
    String agreed;
    String wouldMail;
    String bounced;
    String resubscribed;
    String undecided;
    String unknown;

    @BeforeEach
    void emptyLedgerAndFreshStubs() {
        jdbc = new JdbcTemplate(dataSource);
        await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.queryForObject(
                "SELECT COUNT(*) FROM delivery WHERE status IN ('pending', 'sending')", Integer.class) == 0);
        for (String table : List.of("reconciliation_drift", "reconciliation_lock", "reconciliation_system",
                "reconciliation_run", "delivery_attempt", "delivery", "system_consent", "consent_history",
                "consent_state", "customer_merge", "customer_system_id", "customer")) {
            jdbc.update("DELETE FROM " + table);
        }
        VendorStubs.defaults();
        String run = UUID.randomUUID().toString().substring(0, 8);
        agreed = "agreed-" + run + "@example.com";
        wouldMail = "would-mail-" + run + "@example.com";
        bounced = "bounced-" + run + "@example.com";
        resubscribed = "resubscribed-" + run + "@example.com";
        undecided = "undecided-" + run + "@example.com";
        unknown = "unknown-" + run + "@example.com";
    }

    /**
     * The ledger: {@code agreed} and {@code wouldMail} opted out long ago; {@code bounced} subscribed at T0;
     * {@code resubscribed} subscribed at T0 + 2 days; {@code undecided} known without a decision; {@code unknown} not
     * known at all.
     */
    void seed() {
        ledger(agreed, "unsubscribed", T0.minus(DAY.multipliedBy(10)));
        ledger(wouldMail, "unsubscribed", T0.minus(DAY.multipliedBy(10)));
        ledger(bounced, "subscribed", T0);
        ledger(resubscribed, "subscribed", T0.plus(DAY.multipliedBy(2)));
        identity.resolve(new CustomerRef(undecided, Map.of()));
    }

    void ledger(String email, String state, Instant at) {
        String hubId = identity.resolve(new CustomerRef(email, Map.of("salesforce", "003" + id(email), "loyalty",
                "M-" + id(email), "shopify", "gid://shopify/Customer/" + Math.abs(email.hashCode())))).hubId();
        jdbc.update("INSERT INTO consent_state (hub_id, channel, purpose, state, reason, source_system, event_source,"
                + " event_id, event_time, updated_at, version) VALUES (?, 'email', 'marketing', ?, NULL, 'checkout',"
                + " '/systems/checkout', ?, ?, ?, 1)", hubId, state, UUID.randomUUID().toString(),
                Sql.timestamp(at), Sql.timestamp(Instant.now()));
    }

    static String id(String email) {
        return Integer.toHexString(email.hashCode()).toUpperCase();
    }

    /** What every vendor lists: all but {@code wouldMail}; {@code bounced} bounced after the ledger's opt-in. */
    void stubLists() {
        Instant old = T0.minus(DAY.multipliedBy(10));
        SuppressionLists.klaviyo(VendorStubs.klaviyo, List.of(listed(agreed, "UNSUBSCRIBE", old),
                listed(resubscribed, "UNSUBSCRIBE", T0), listed(undecided, "UNSUBSCRIBE", T0),
                listed(unknown, "UNSUBSCRIBE", T0), listed(bounced, "HARD_BOUNCE", T0.plus(DAY))));
        SuppressionLists.salesforce(VendorStubs.salesforce, List.of(listed(agreed, "", old),
                listed(bounced, "", T0.plus(DAY)), listed(resubscribed, "", T0), listed(undecided, "", T0),
                listed(unknown, "", T0)));
        SuppressionLists.hubspot(VendorStubs.hubspot, List.of(listed(agreed, "UNSUBSCRIBED", old),
                listed(wouldMail, "SUBSCRIBED", old), listed(bounced, "UNSUBSCRIBED", T0.plus(DAY)),
                listed(resubscribed, "UNSUBSCRIBED", T0), listed(undecided, "UNSUBSCRIBED", T0),
                listed(unknown, "UNSUBSCRIBED", T0)));
        SuppressionLists.shopify(VendorStubs.shopify, List.of(listed(agreed, "UNSUBSCRIBED", old),
                listed(bounced, "INVALID", T0.plus(DAY)), listed(resubscribed, "UNSUBSCRIBED", T0),
                listed(undecided, "UNSUBSCRIBED", T0), listed(unknown, "UNSUBSCRIBED", T0)));
        SuppressionLists.loyalty(VendorStubs.loyalty, List.of(listed(agreed, "unsubscribed", old),
                listed(bounced, "hard_bounce", T0.plus(DAY)), listed(resubscribed, "unsubscribed", T0),
                listed(undecided, "unsubscribed", T0), listed(unknown, "unsubscribed", T0)));
    }

    static Listed listed(String email, String reason, Instant at) {
        return new Listed(email, "003" + id(email), reason, at);
    }

    static Response start(String body) {
        return RestAssured.given().auth().oauth2(ADMIN_TOKEN).contentType("application/json").body(body)
                .post("/api/reconciliations");
    }

    static JsonNode finished(String runId) {
        return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> report(runId,
                ""), r -> !"running".equals(r.path("status").asText()));
    }

    static JsonNode report(String runId, String query) throws Exception {
        String body = RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/reconciliations/" + runId + query)
                .then().statusCode(200).extract().asString();
        return Json.MAPPER.readTree(body);
    }

    static JsonNode system(JsonNode report, String system) {
        for (JsonNode s : report.path("systems")) {
            if (system.equals(s.path("system").asText())) {
                return s;
            }
        }
        throw new AssertionError("no " + system + " in " + report);
    }

    static JsonNode contact(JsonNode report, String system, String email) {
        for (JsonNode c : report.path("contacts")) {
            if (system.equals(c.path("system").asText()) && email.equals(c.path("email").asText())) {
                return c;
            }
        }
        return null;
    }

    @Test
    void aDryRunPagesThroughEveryVendorRetryingTheFailedPageCountsEachCategoryAndChangesNothing() throws Exception {
        seed();
        stubLists();
        String runId = start("{}").then().statusCode(202).body("dryRun", equalTo(true)).extract().path("id");
        JsonNode report = finished(runId);
        assertEquals("completed", report.path("status").asText(), report.toString());

        for (String system : SYSTEMS) {
            JsonNode s = system(report, system);
            assertEquals("completed", s.path("status").asText(), s.toString());
            JsonNode totals = s.path("totals");
            assertEquals(2, totals.path("ledgerSuppressed").asLong(), system);
            assertEquals(5, totals.path("systemSuppressed").asLong(), system);
            assertEquals(1, totals.path("inAgreement").asLong(), system);
            assertEquals(1, totals.path("wouldMail").asLong(), system);
            assertEquals(2, totals.path("ledgerSubscribed").asLong(), system);
            assertEquals(1, totals.path("ledgerUndecided").asLong(), system);
            assertEquals(1, totals.path("unknownToHub").asLong(), system);
            assertEquals("ledger 2 suppressed; " + system + " 5; 1 would be mailed", s.path("summary").asText());
            assertEquals(1, s.path("pageRetries").asInt(), system + ": the failing page was asked again");
            assertEquals("klaviyo".equals(system) ? 6 : 3, s.path("pages").asInt(), system);
            assertEquals(2, s.path("plan").path("send-ledger-state").path("planned").asInt(), system);
            assertEquals(2, s.path("plan").path("learn").path("planned").asInt(), system);
        }
        // The failing page was fetched twice, the pages before it once: the hub resumed, it did not start over.
        VendorStubs.salesforce.verify(1, getRequestedFor(urlPathEqualTo("/services/data/v64.0/query")));
        VendorStubs.salesforce.verify(2, getRequestedFor(urlPathEqualTo("/services/data/v64.0/query/01gTEST-1")));
        VendorStubs.salesforce.verify(1, getRequestedFor(urlPathEqualTo("/services/data/v64.0/query/01gTEST-2")));
        VendorStubs.loyalty.verify(2, getRequestedFor(urlPathEqualTo("/api/v1/members"))
                .withQueryParam("cursor", com.github.tomakehurst.wiremock.client.WireMock.equalTo("c1")));

        // Emails are masked unless revealed; each contact carries its category and planned repair.
        JsonNode masked = report(runId, "?system=klaviyo&limit=1000");
        assertEquals(5, masked.path("contactsTotal").asInt(), "klaviyo: 5 contacts in drift");
        masked.path("contacts").forEach(c -> assertTrue(c.path("email").asText().contains("***"), c.toString()));
        JsonNode full = report(runId, "?reveal=true&limit=1000");
        expect(full, wouldMail, ReconciliationStore.WOULD_MAIL, ReconciliationStore.SEND_LEDGER_STATE);
        expect(full, bounced, ReconciliationStore.LEDGER_SUBSCRIBED, ReconciliationStore.LEARN);
        expect(full, resubscribed, ReconciliationStore.LEDGER_SUBSCRIBED, ReconciliationStore.SEND_LEDGER_STATE);
        expect(full, undecided, ReconciliationStore.LEDGER_UNDECIDED, ReconciliationStore.LEARN);
        expect(full, unknown, ReconciliationStore.UNKNOWN, ReconciliationStore.NONE);
        assertNull(contact(full, "klaviyo", agreed), "in agreement: no drift");
        assertEquals("unsubscribed through the klaviyo propagation lane: POST /api/profile-subscription-bulk-delete-jobs",
                contact(full, "klaviyo", wouldMail).path("call").asText());
        assertEquals("hard_bounce", contact(full, "klaviyo", bounced).path("systemReason").asText());
        assertEquals("suppressed", contact(full, "shopify", bounced).path("systemState").asText());

        // A dry run writes nothing anywhere: no delivery, no ledger change, no vendor write.
        assertEquals(0, jdbc.queryForObject("SELECT COUNT(*) FROM delivery", Integer.class));
        assertEquals(0, jdbc.queryForObject("SELECT COUNT(*) FROM consent_history", Integer.class));
        VendorStubs.klaviyo.verify(0, postRequestedFor(urlPathMatching("/api/profile-.*")));
        VendorStubs.salesforce.verify(0, com.github.tomakehurst.wiremock.client.WireMock.patchRequestedFor(
                urlPathMatching(".*")));
        assertNull(report.path("appliedAt").textValue());

        // Dangerous drift over the threshold (0): one signed alert per system, and the gauges.
        List<LoggedRequest> alerts = VendorStubs.loyalty.findAll(postRequestedFor(urlPathEqualTo(
                VendorStubs.ALERTS_PATH)));
        assertEquals(5, alerts.size(), "the alerts are sent before the run reads completed");
        StandardWebhookVerifier verifier = new StandardWebhookVerifier(List.of(VendorStubs.ALERTS_SECRET),
                StandardWebhookVerifier.DEFAULT_TOLERANCE);
        for (LoggedRequest alert : alerts) {
            assertTrue(verifier.verify(alert.getHeader("webhook-id"), alert.getHeader("webhook-timestamp"),
                    alert.getHeader("webhook-signature"), alert.getBody(), Instant.now()).valid());
            JsonNode body = Json.MAPPER.readTree(alert.getBodyAsString());
            assertEquals("reconciliation.drift", body.path("type").asText());
            assertEquals(1, body.path("data").path("wouldMail").asInt());
            assertTrue(!body.toString().contains("@example.com"), "no email in an alert");
        }
        String metrics = RestAssured.given().port(Management.port()).get("/q/metrics").asString();
        assertTrue(metrics.contains("handoff_reconciliation_drift{category=\"would-mail\",system=\"klaviyo\"} 1.0"),
                metrics.lines().filter(l -> l.startsWith("handoff_reconciliation")).toList().toString());
        assertTrue(metrics.contains("handoff_reconciliation_suppressed{side=\"ledger\",system=\"salesforce\"} 2.0"));
        assertTrue(metrics.contains("handoff_reconciliation_alert{system=\"hubspot\"} 1.0"));
    }

    static void expect(JsonNode report, String email, String category, String action) {
        for (String system : SYSTEMS) {
            JsonNode c = contact(report, system, email);
            assertEquals(category, c == null ? null : c.path("category").asText(), system + " " + email);
            assertEquals(action, c.path("action").asText(), system + " " + email);
            assertEquals("planned", c.path("actionStatus").asText(), system + " " + email);
        }
    }

    @Test
    void applyingRepairsThroughTheLanesLearnsTheBounceEverywhereAndTheNextRunFindsNoDrift() throws Exception {
        seed();
        stubLists();
        String runId = start("{\"systems\": [\"klaviyo\"], \"dryRun\": false}").then().statusCode(202)
                .body("dryRun", equalTo(false)).extract().path("id");
        JsonNode report = finished(runId);
        assertEquals("completed", report.path("status").asText(), report.toString());

        // The dangerous drift: Klaviyo gets the ledger's opt-out, in an unsubscribe job valid for its contract; the
        // missed opt-in goes out as a subscribe job.
        LoggedRequest unsubscribe = await().atMost(Duration.ofSeconds(20)).until(() -> VendorStubs.klaviyo.findAll(
                postRequestedFor(urlPathEqualTo("/api/profile-subscription-bulk-delete-jobs"))).stream()
                .filter(r -> r.getBodyAsString().contains(wouldMail)).findFirst().orElse(null), r -> r != null);
        assertEquals(List.of(), ContractSchemas.violations(
                "/vendor-contracts/klaviyo/bulk_unsubscribe_profiles.request.schema.json",
                Json.MAPPER.readTree(unsubscribe.getBodyAsString())));
        await().atMost(Duration.ofSeconds(20)).until(() -> VendorStubs.klaviyo.findAll(postRequestedFor(
                urlPathEqualTo("/api/profile-subscription-bulk-create-jobs"))).stream()
                .anyMatch(r -> r.getBodyAsString().contains(resubscribed)));
        Map<String, Object> repairReceipt = Receipts.latest(Receipts.awaitUntil(wouldMail, Duration.ofSeconds(20),
                Receipts.status("delivered", "klaviyo")), "klaviyo");
        assertEquals("reconciliation", repairReceipt.get("originSystem"));

        // The hard bounce Klaviyo knew: the ledger learns it (suppressed, Klaviyo's reason and time) and propagation
        // takes it to every other system; Klaviyo, its origin, is not called for it.
        List<Map<String, Object>> receipts = Receipts.awaitUntil(bounced, Duration.ofSeconds(30),
                Receipts.status("delivered", "salesforce", "hubspot", "shopify", "loyalty"));
        for (String system : List.of("salesforce", "hubspot", "shopify", "loyalty")) {
            assertEquals("suppressed", Receipts.latest(receipts, system).get("state"), system);
        }
        assertEquals("skipped", Receipts.latest(receipts, "klaviyo").get("status"));
        JsonNode consent = Json.MAPPER.readTree(RestAssured.given().auth().oauth2(ADMIN_TOKEN)
                .get("/api/customers/" + bounced + "/consent").asString());
        JsonNode email = consent.path("consent").get(0);
        assertEquals("suppressed", email.path("state").asText(), consent.toString());
        assertEquals("hard_bounce", email.path("reason").asText());
        assertEquals(T0.plus(DAY), Instant.parse(email.path("since").asText()), "Klaviyo's suppression time");
        assertEquals("klaviyo", email.path("sourceSystem").asText());
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/customers/" + undecided + "/consent").then()
                .statusCode(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.queryForObject("SELECT COUNT(*) FROM consent_state cs"
                + " JOIN customer c ON c.hub_id = cs.hub_id WHERE c.email = ? AND cs.state = 'unsubscribed'",
                Integer.class, undecided) == 1);
        JsonNode applied = report(runId, "");
        assertTrue(applied.path("appliedAt").isTextual());
        assertEquals(2, system(applied, "klaviyo").path("repair").path("deliveriesPlanned").asInt());
        assertEquals(2, system(applied, "klaviyo").path("repair").path("suppressionsLearned").asInt());

        // Applying again sends nothing twice, and the report still counts what the first apply sent.
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).post("/api/reconciliations/" + runId + "/apply").then()
                .statusCode(202).body("deliveriesPlanned", equalTo(0)).body("suppressionsLearned", equalTo(0));
        JsonNode reapplied = system(report(runId, ""), "klaviyo").path("repair");
        assertEquals(2, reapplied.path("deliveriesPlanned").asInt());
        assertEquals(2, reapplied.path("suppressionsLearned").asInt());
        assertEquals(1, jdbc.queryForObject("SELECT COUNT(*) FROM delivery WHERE origin_system = 'reconciliation'"
                + " AND email = ?", Integer.class, wouldMail));

        // Klaviyo now holds what the ledger holds: the next run finds no drift (the unknown contact stays reported).
        VendorStubs.defaults();
        Instant old = T0.minus(DAY.multipliedBy(10));
        SuppressionLists.klaviyo(VendorStubs.klaviyo, List.of(listed(agreed, "UNSUBSCRIBE", old),
                listed(wouldMail, "UNSUBSCRIBE", Instant.now()), listed(undecided, "UNSUBSCRIBE", T0),
                listed(unknown, "UNSUBSCRIBE", T0), listed(bounced, "HARD_BOUNCE", T0.plus(DAY))));
        JsonNode second = finished(start("{\"systems\": [\"klaviyo\"]}").then().statusCode(202).extract().path("id"));
        JsonNode totals = system(second, "klaviyo").path("totals");
        assertEquals(0, totals.path("wouldMail").asInt(), second.toString());
        assertEquals(0, totals.path("ledgerSubscribed").asInt());
        assertEquals(0, totals.path("ledgerUndecided").asInt());
        assertEquals(1, totals.path("unknownToHub").asInt());
        assertEquals(4, totals.path("ledgerSuppressed").asInt());
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/reconciliations/latest").then().statusCode(200)
                .body("id", equalTo(second.path("id").asText()));
    }

    @Test
    void aPageTheVendorRefusesFailsThatSystemOnlyAndKeepsWhereItStopped() throws Exception {
        seed();
        stubLists();
        VendorStubs.salesforce.stubFor(com.github.tomakehurst.wiremock.client.WireMock.get(
                urlPathEqualTo("/services/data/v64.0/query/01gTEST-2")).atPriority(0).willReturn(
                        com.github.tomakehurst.wiremock.client.WireMock.aResponse().withStatus(400)
                                .withBody("[{\"message\":\"invalid query locator\",\"errorCode\":"
                                        + "\"INVALID_QUERY_LOCATOR\"}]")));
        JsonNode report = finished(start("{\"systems\": [\"salesforce\", \"loyalty\"]}").then().statusCode(202)
                .extract().path("id"));
        assertEquals("failed", report.path("status").asText());
        JsonNode salesforce = system(report, "salesforce");
        assertEquals("failed", salesforce.path("status").asText());
        assertTrue(salesforce.path("error").asText().contains("400"), salesforce.toString());
        assertEquals("/services/data/v64.0/query/01gTEST-2", salesforce.path("nextCursor").asText());
        assertTrue(salesforce.path("totals").isMissingNode(), "no comparison from half a list");
        assertEquals("completed", system(report, "loyalty").path("status").asText());
        assertEquals(0, jdbc.queryForObject("SELECT COUNT(*) FROM information_schema.tables"
                + " WHERE LOWER(table_name) LIKE 'reconciliation_stage_%'", Integer.class), "staging tables dropped");
        assertEquals(0, jdbc.queryForObject("SELECT COUNT(*) FROM reconciliation_lock", Integer.class),
                "both systems unlocked");
    }

    @Test
    void theApiRefusesBadRequestsWithClearErrors() {
        RestAssured.given().contentType("application/json").body("{}").post("/api/reconciliations").then()
                .statusCode(401);
        start("{\"systems\": [\"mailchimp\"]}").then().statusCode(400).body("error.code", equalTo("unknown_system"));
        start("{\"systems\": \"klaviyo\"}").then().statusCode(400).body("error.code", equalTo("invalid_systems"));
        start("{\"dryRun\": \"no\"}").then().statusCode(400).body("error.code", equalTo("invalid_dry_run"));
        start("{not json").then().statusCode(400).body("error.code", equalTo("invalid_json"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/reconciliations/latest").then().statusCode(404)
                .body("error.code", equalTo("no_reconciliation"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/reconciliations/" + UUID.randomUUID()).then()
                .statusCode(404).body("error.code", equalTo("unknown_reconciliation"));
        RestAssured.given().auth().oauth2(ADMIN_TOKEN).get("/api/reconciliations/x'%20OR%201=1").then()
                .statusCode(400).body("error.code", equalTo("invalid_id"));
        assertEquals(0, jdbc.queryForObject("SELECT COUNT(*) FROM reconciliation_run", Integer.class),
                "nothing written for a refused request");
    }
}
