package io.handoff.hub.propagation;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Map;

import javax.sql.DataSource;

import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.junit.jupiter.api.Test;

import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.VendorStubs;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * A lane renews the claim of the batch it is sending, so a claim period shorter than a slow vendor's answer does not
 * hand the delivery to another lane mid-call; only a replica that died lets its claims run out (the SIGKILL fault
 * run measures how soon its deliveries then go out again).
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
@QuarkusTestResource(value = VendorStubs.class, restrictToAnnotatedClass = true)
@TestProfile(ClaimRenewalTest.ShortClaims.class)
class ClaimRenewalTest {

    public static class ShortClaims implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("hub.propagation.claim-ttl-ms", "1500");
        }
    }

    static final String CONSENT_EVENTS = "/api/v1/consent-events";

    @Inject
    @Named("hubDataSource")
    DataSource dataSource;

    @Test
    void aBatchSentLongerThanTheClaimPeriodKeepsItsClaimAndIsSentOnce() throws Exception {
        VendorStubs.defaults();
        String email = PropagationContractTest.unique("slow-loyalty");
        // The loyalty platform takes 4 s to answer this customer (its response timeout is 15 s): more than two claim
        // periods of 1.5 s.
        VendorStubs.loyalty.stubFor(post(urlPathEqualTo(CONSENT_EVENTS)).atPriority(1).withRequestBody(containing(email))
                .willReturn(aResponse().withStatus(202).withHeader("Content-Type", "application/json")
                        .withBody("{\"status\":\"accepted\"}").withFixedDelay(4_000)));
        PropagationContractTest.checkoutConsent(email, "unsubscribed", "2026-11-24T03:00:00Z");
        await().atMost(Duration.ofSeconds(20)).until(() -> !VendorStubs.loyalty.findAll(
                postRequestedFor(urlPathEqualTo(CONSENT_EVENTS)).withRequestBody(containing(email))).isEmpty());

        // While the call hangs, the delivery stays claimed: its claim keeps moving ahead of the clock.
        await().during(Duration.ofMillis(2_500)).atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(100))
                .until(() -> claimedAhead(email));

        await().atMost(Duration.ofSeconds(10)).until(() -> "delivered".equals(status(email)));
        assertEquals(1, VendorStubs.loyalty.findAll(postRequestedFor(urlPathEqualTo(CONSENT_EVENTS))
                .withRequestBody(containing(email))).size(), "the loyalty platform was called once");
    }

    /** Whether the customer's loyalty delivery is being sent under a claim that runs out in the future. */
    private boolean claimedAhead(String email) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT status, claim_until FROM delivery WHERE system = 'loyalty' AND email = ?")) {
            s.setString(1, email);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && "sending".equals(rs.getString(1))
                        && rs.getObject(2, OffsetDateTime.class).isAfter(OffsetDateTime.now());
            }
        }
    }

    private String status(String email) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT status, attempts FROM delivery WHERE system = 'loyalty' AND email = ?")) {
            s.setString(1, email);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
