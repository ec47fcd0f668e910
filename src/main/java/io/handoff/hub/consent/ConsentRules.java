package io.handoff.hub.consent;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The ledger's rules, as one pure function: given what the ledger holds and an incoming consent event, apply it or
 * ignore it, and name the rule that decided.
 * <ol>
 * <li>{@code not-a-consent-decision}: the source reported not_subscribed, pending or unknown: recorded, not applied.</li>
 * <li>{@code first-event}: nothing is held yet: applied.</li>
 * <li>{@code duplicate}: the same event (source + id) was decided before: nothing changes.</li>
 * <li>{@code older-than-current}: the event is older than the held state by more than the clock-skew window:
 * ignored, so a redelivered old opt-in can never re-subscribe anyone.</li>
 * <li>{@code newer-event}: newer by more than the window: applied ({@code changed} only if state or reason differ).</li>
 * <li>Within the window (a tie included) the most restrictive state wins: {@code skew-more-restrictive} applies,
 * {@code skew-not-more-restrictive} ignores.</li>
 * </ol>
 */
public final class ConsentRules {

    private ConsentRules() {
    }

    /** What the ledger holds for one customer, channel and purpose. */
    public record Held(ConsentState state, String reason, String eventSource, String eventId, Instant eventTime) {
    }

    /** An incoming consent event for one customer, channel and purpose; {@code state} empty for non-decisions. */
    public record Incoming(ConsentState state, String reason, String eventSource, String eventId, Instant eventTime) {
    }

    /**
     * @param applied the ledger takes the event as its current state
     * @param changed the state or reason differs from what was held (a change to propagate)
     * @param rule the rule that decided
     */
    public record Decision(boolean applied, boolean changed, String rule) {
        static Decision applied(String rule, boolean changed) {
            return new Decision(true, changed, rule);
        }

        static Decision ignored(String rule) {
            return new Decision(false, false, rule);
        }
    }

    public static Decision decide(Held held, Incoming in, Duration skew) {
        if (in.state() == null) {
            return Decision.ignored("not-a-consent-decision");
        }
        if (held == null) {
            return Decision.applied("first-event", true);
        }
        if (held.eventSource().equals(in.eventSource()) && held.eventId().equals(in.eventId())) {
            return Decision.ignored("duplicate");
        }
        boolean differs = held.state() != in.state() || !Objects.equals(held.reason(), in.reason());
        if (in.eventTime().isBefore(held.eventTime().minus(skew))) {
            return Decision.ignored("older-than-current");
        }
        if (in.eventTime().isAfter(held.eventTime().plus(skew))) {
            return Decision.applied("newer-event", differs);
        }
        if (in.state().restrictiveness() > held.state().restrictiveness()) {
            return Decision.applied("skew-more-restrictive", true);
        }
        return Decision.ignored("skew-not-more-restrictive");
    }
}
