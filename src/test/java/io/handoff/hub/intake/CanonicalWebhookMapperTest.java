package io.handoff.hub.intake;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;

import org.junit.jupiter.api.Test;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.EventType;
import io.handoff.hub.intake.signed.CanonicalWebhookMapper;
import io.handoff.hub.intake.signed.CanonicalWebhookMapper.SchemaViolationException;

class CanonicalWebhookMapperTest {

    private final CanonicalWebhookMapper mapper = new CanonicalWebhookMapper();
    private final Instant received = Instant.parse("2026-11-22T12:00:00Z");

    private CanonicalEvent map(String json) {
        return mapper.map("klaviyo", "msg_1", json.getBytes(UTF_8), received);
    }

    @Test
    void spamComplaintSuppressionIsMapped() {
        CanonicalEvent event = map("""
                {"type": "consent.changed", "timestamp": "2026-11-21T23:59:59.123Z",
                 "data": {"customer": {"email": "X@Y.example"}, "channel": "email", "state": "suppressed",
                          "reason": "spam_complaint", "sourceState": "SPAM_COMPLAINT"}}""");
        assertEquals(EventType.CONSENT_CHANGED, event.type());
        assertEquals("/systems/klaviyo", event.source());
        assertEquals("msg_1", event.id());
        assertEquals(Instant.parse("2026-11-21T23:59:59.123Z"), event.time());
        assertEquals("x@y.example", event.data().at("/customer/email").asText());
    }

    @Test
    void suppressedWithoutReasonIsRejected() {
        var e = assertThrows(SchemaViolationException.class, () -> map("""
                {"type": "consent.changed", "timestamp": "2026-11-21T23:59:59Z",
                 "data": {"customer": {"email": "x@y.example"}, "channel": "email", "state": "suppressed"}}"""));
        assertEquals(400, e.status());
        assertTrue(e.violations().stream().anyMatch(v -> v.contains("reason")), e.violations().toString());
    }

    @Test
    void customerWithoutAnyIdentifierIsRejected() {
        var e = assertThrows(SchemaViolationException.class, () -> map("""
                {"type": "waitlist.joined", "timestamp": "2026-11-21T23:59:59Z",
                 "data": {"customer": {"ids": {}}, "sku": "SKU-1"}}"""));
        assertTrue(e.violations().stream().anyMatch(v -> v.contains("/data/customer")), e.violations().toString());
    }

    @Test
    void unknownFieldsAndTimestampsWithoutOffsetAreRejected() {
        var unknown = assertThrows(SchemaViolationException.class, () -> map("""
                {"type": "inventory.changed", "timestamp": "2026-11-21T23:59:59Z", "extra": 1,
                 "data": {"sku": "SKU-1", "available": 3, "warehouse": "x"}}"""));
        assertTrue(unknown.violations().stream().anyMatch(v -> v.contains("extra")), unknown.violations().toString());
        assertTrue(unknown.violations().stream().anyMatch(v -> v.contains("warehouse")), unknown.violations().toString());
        var localTime = assertThrows(SchemaViolationException.class, () -> map("""
                {"type": "inventory.changed", "timestamp": "2026-11-21 23:59:59",
                 "data": {"sku": "SKU-1", "available": 3}}"""));
        assertTrue(localTime.violations().stream().anyMatch(v -> v.contains("/timestamp")));
    }

    @Test
    void keysFollowTheSubjectOfEachType() {
        assertEquals("sku:SKU-1", map("""
                {"type": "inventory.changed", "timestamp": "2026-11-21T23:59:59Z",
                 "data": {"sku": "SKU-1", "available": 3}}""").key());
        assertEquals("feed:amazon-orders", map("""
                {"type": "feed.synced", "timestamp": "2026-11-21T23:59:59Z",
                 "data": {"feed": "amazon-orders", "records": 0}}""").key());
        assertEquals("erp:C-1", map("""
                {"type": "customer.merged", "timestamp": "2026-11-21T23:59:59Z",
                 "data": {"survivor": {"ids": {"erp": "C-1"}}, "merged": [{"ids": {"erp": "C-2"}}]}}""").key());
        assertEquals("klaviyo:order:A-1", map("""
                {"type": "order.placed", "timestamp": "2026-11-21T23:59:59Z",
                 "data": {"order": {"id": "A-1"}, "lines": []}}""").key());
    }
}
