package io.handoff.hub.sandbox;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a simulated system answers to "may this email be mailed", per email, and how often that answer changed after
 * it was first set: the evidence a fault run compares with the ledger (a retried or replayed call that flips a
 * contact back and forth shows up as changes the ledger never made).
 */
public final class ConsentTransitions {

    /** The latest answer and the number of changes since the first one. */
    public record Seen(boolean mailable, int changes) {
    }

    private final Map<String, Seen> seen = new ConcurrentHashMap<>();

    /** The system now holds this answer for the email (lower-cased); a different answer than before is a change. */
    void note(String email, boolean mailable) {
        seen.compute(email, (k, old) -> old == null ? new Seen(mailable, 0)
                : old.mailable() == mailable ? old : new Seen(mailable, old.changes() + 1));
    }

    /** Everything seen so far, by email (a copy). */
    public Map<String, Seen> snapshot() {
        return Map.copyOf(seen);
    }
}
