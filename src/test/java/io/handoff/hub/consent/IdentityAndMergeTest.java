package io.handoff.hub.consent;

import static io.handoff.hub.consent.ConsentLedgerTest.awaitDecision;
import static io.handoff.hub.consent.ConsentLedgerTest.consent;
import static io.handoff.hub.support.HubTestResource.ADMIN_TOKEN;
import static io.handoff.hub.support.HubTestResource.CHECKOUT_SECRET;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.identity.IdentityResolver.CustomerRef;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.KafkaMarkedTest;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;

@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class IdentityAndMergeTest extends KafkaMarkedTest {

    @Override
    protected List<String> probedTopics() {
        return List.copyOf(topics.all());
    }

    @Inject
    IdentityResolver identity;

    private Set<String> race(int threads, Callable<String> resolve) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> results = new java.util.ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    return resolve.call();
                }));
            }
            go.countDown();
            Set<String> hubIds = new HashSet<>();
            for (Future<String> result : results) {
                hubIds.add(result.get());
            }
            return hubIds;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void firstEventsForOneNewCustomerRacingMakeOneHubId() throws Exception {
        for (int round = 0; round < 10; round++) {
            String email = "race-" + UUID.randomUUID() + "@example.com";
            String shopifyId = Long.toString(900000000000000000L + round);
            Set<String> byEmail = race(6, () -> identity.resolve(
                    new CustomerRef(email, Map.of("shopify", shopifyId + "-" + UUID.randomUUID()))).hubId());
            assertEquals(1, byEmail.size(), "one hub id for one email: " + byEmail);

            String loyaltyId = "M-" + UUID.randomUUID();
            Set<String> bySystemId = race(6,
                    () -> identity.resolve(new CustomerRef(null, Map.of("loyalty", loyaltyId))).hubId());
            assertEquals(1, bySystemId.size(), "one hub id for one system id without email: " + bySystemId);
        }
    }

    @Test
    void systemIdWinsOverEmailAndBothAreLinked() {
        String email = "link-" + UUID.randomUUID() + "@example.com";
        String hubId = identity.resolve(new CustomerRef(email, Map.of())).hubId();
        String sameByLaterId = identity.resolve(new CustomerRef(email, Map.of("hubspot", "HS-" + hubId))).hubId();
        assertEquals(hubId, sameByLaterId);
        assertEquals(hubId, identity.resolve(new CustomerRef(null, Map.of("hubspot", "HS-" + hubId))).hubId(),
                "found by the system id alone now");
        assertEquals(List.of("HS-" + hubId), identity.systemIds(hubId).get("hubspot"));
    }

    @Test
    void mergeRepointsIdsCombinesConsentAndIsPublishedForTheMergedSystems() {
        String survivorEmail = "survivor-" + UUID.randomUUID() + "@example.com";
        String mergedEmail = "merged-" + UUID.randomUUID() + "@example.com";
        String survivorErp = "C-" + UUID.randomUUID();
        String mergedErp = "C-" + UUID.randomUUID();
        identity.resolve(new CustomerRef(survivorEmail, Map.of("erp", survivorErp)));
        identity.resolve(new CustomerRef(mergedEmail, Map.of("erp", mergedErp, "klaviyo", "K-" + mergedErp)));
        awaitDecision(survivorEmail, consent(survivorEmail, "subscribed", "2026-11-21T10:00:00Z"));
        awaitDecision(mergedEmail, consent(mergedEmail, "unsubscribed", "2026-11-20T10:00:00Z"));

        String mergeId = Webhooks.newId();
        String body = "{\"type\": \"customer.merged\", \"timestamp\": \"2026-11-22T08:00:00Z\", \"data\": {"
                + "\"survivor\": {\"ids\": {\"erp\": \"" + survivorErp + "\"}},"
                + "\"merged\": [{\"ids\": {\"erp\": \"" + mergedErp + "\"}}]}}";
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, mergeId, body.getBytes(UTF_8)).then().statusCode(200);

        JsonPath view = awaitDecision(survivorEmail, mergeId);
        assertEquals("unsubscribed", view.getString("consent[0].state"), "the most restrictive state wins");
        assertEquals("2026-11-21T10:00:00Z", view.getString("consent[0].since"),
                "dated at the later of the two, so neither side's older events can undo it");
        assertEquals(List.of(mergedErp, survivorErp).stream().sorted().toList(),
                view.getList("systemIds.erp", String.class).stream().sorted().toList());
        assertEquals(List.of("K-" + mergedErp), view.getList("systemIds.klaviyo"));
        assertEquals(List.of(mergedErp), view.getList("merges[0].mergedSystemIds.erp"));

        // The merged customer's email now leads to the survivor.
        String survivorHubId = view.getString("hubId");
        JsonPath viaMergedEmail = RestAssured.given().auth().oauth2(ADMIN_TOKEN)
                .get("/api/customers/" + mergedEmail + "/consent").then().statusCode(200).extract().jsonPath();
        assertEquals(survivorHubId, viaMergedEmail.getString("hubId"));

        await().atMost(Duration.ofSeconds(10)).until(() -> written().stream().anyMatch(r -> r.topic()
                .equals("handoff.ledger") && new String(r.value(), UTF_8).contains("customer.merge.applied")));
        CanonicalEvent merge = written().stream()
                .filter(r -> r.topic().equals("handoff.ledger") && new String(r.value(), UTF_8).contains("customer.merge.applied"))
                .map(r -> codec.read(r.value(), r.key())).filter(e -> e.data().get("survivorHubId").asText().equals(survivorHubId))
                .findFirst().orElseThrow();
        assertEquals(List.of("K-" + mergedErp), List.of(merge.data().at("/mergedSystemIds/klaviyo/0").asText()));
        assertNotEquals(survivorHubId, merge.data().get("mergedHubId").asText());

        // A redelivered merge changes nothing.
        Webhooks.postSigned("checkout", CHECKOUT_SECRET, Webhooks.newId(), body.getBytes(UTF_8)).then().statusCode(200);
    }
}
