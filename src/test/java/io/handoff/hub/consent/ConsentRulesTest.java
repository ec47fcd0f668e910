package io.handoff.hub.consent;

import static io.handoff.hub.consent.ConsentState.SUBSCRIBED;
import static io.handoff.hub.consent.ConsentState.SUPPRESSED;
import static io.handoff.hub.consent.ConsentState.UNSUBSCRIBED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import io.handoff.hub.consent.ConsentRules.Decision;
import io.handoff.hub.consent.ConsentRules.Held;
import io.handoff.hub.consent.ConsentRules.Incoming;

class ConsentRulesTest {

    static final Duration SKEW = Duration.ofSeconds(5);
    static final Instant T = Instant.parse("2026-11-20T10:00:00Z");

    static Held held(ConsentState state, Instant time) {
        return new Held(state, state == SUPPRESSED ? "hard_bounce" : null, "/systems/shopify", "held-1", time);
    }

    static Incoming in(ConsentState state, Instant time) {
        return new Incoming(state, state == SUPPRESSED ? "spam_complaint" : null, "/systems/klaviyo", "in-1", time);
    }

    static Decision decide(Held held, Incoming in) {
        return ConsentRules.decide(held, in, SKEW);
    }

    @Test
    void firstEventIsApplied() {
        Decision d = decide(null, in(SUBSCRIBED, T));
        assertTrue(d.applied());
        assertTrue(d.changed());
        assertEquals("first-event", d.rule());
    }

    @Test
    void olderEventChangesNothingEvenAnOptIn() {
        Decision d = decide(held(UNSUBSCRIBED, T), in(SUBSCRIBED, T.minusSeconds(3600)));
        assertFalse(d.applied());
        assertEquals("older-than-current", d.rule());
        assertFalse(decide(held(SUBSCRIBED, T), in(UNSUBSCRIBED, T.minus(SKEW).minusMillis(1))).applied(),
                "older by just over the window: ignored whatever it says");
    }

    @Test
    void newerEventIsAppliedEitherWay() {
        Decision optIn = decide(held(UNSUBSCRIBED, T), in(SUBSCRIBED, T.plusSeconds(60)));
        assertTrue(optIn.applied());
        assertTrue(optIn.changed());
        assertEquals("newer-event", optIn.rule());
        Decision optOut = decide(held(SUBSCRIBED, T), in(UNSUBSCRIBED, T.plus(SKEW).plusMillis(1)));
        assertTrue(optOut.applied());
        assertEquals("newer-event", optOut.rule());
    }

    @Test
    void newerEventWithTheSameStateIsAppliedButIsNoChange() {
        Decision d = decide(held(UNSUBSCRIBED, T), in(UNSUBSCRIBED, T.plusSeconds(60)));
        assertTrue(d.applied(), "the newer evidence becomes the reference time");
        assertFalse(d.changed(), "nothing to propagate");
    }

    @Test
    void withinTheSkewWindowTheMostRestrictiveWins() {
        Decision stricter = decide(held(SUBSCRIBED, T), in(UNSUBSCRIBED, T.minusSeconds(4)));
        assertTrue(stricter.applied(), "slightly older but more restrictive: applied");
        assertEquals("skew-more-restrictive", stricter.rule());
        Decision laxer = decide(held(UNSUBSCRIBED, T), in(SUBSCRIBED, T.plusSeconds(4)));
        assertFalse(laxer.applied(), "slightly newer but less restrictive: ignored");
        assertEquals("skew-not-more-restrictive", laxer.rule());
        assertTrue(decide(held(UNSUBSCRIBED, T), in(SUPPRESSED, T.plusSeconds(2))).applied(),
                "suppressed is stricter than unsubscribed");
    }

    @Test
    void onAnExactTieTheMostRestrictiveWins() {
        assertTrue(decide(held(SUBSCRIBED, T), in(UNSUBSCRIBED, T)).applied());
        assertFalse(decide(held(UNSUBSCRIBED, T), in(SUBSCRIBED, T)).applied());
        assertFalse(decide(held(SUPPRESSED, T), in(UNSUBSCRIBED, T)).applied());
    }

    @Test
    void theSameEventTwiceChangesNothing() {
        Held held = new Held(UNSUBSCRIBED, null, "/systems/klaviyo", "in-1", T);
        Decision d = decide(held, in(UNSUBSCRIBED, T));
        assertFalse(d.applied());
        assertEquals("duplicate", d.rule());
    }

    @Test
    void sourceStatusesThatAreNoDecisionAreNotApplied() {
        Decision d = ConsentRules.decide(held(SUBSCRIBED, T),
                new Incoming(null, null, "/systems/shopify", "x", T.plusSeconds(3600)), SKEW);
        assertFalse(d.applied());
        assertEquals("not-a-consent-decision", d.rule());
    }

    @Test
    void mostRestrictiveOrder() {
        assertEquals(SUPPRESSED, ConsentState.mostRestrictive(SUBSCRIBED, SUPPRESSED));
        assertEquals(UNSUBSCRIBED, ConsentState.mostRestrictive(UNSUBSCRIBED, SUBSCRIBED));
        assertEquals(SUPPRESSED, ConsentState.mostRestrictive(SUPPRESSED, UNSUBSCRIBED));
    }
}
