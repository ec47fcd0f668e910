package io.handoff.hub.address;

import java.time.Instant;

import jakarta.enterprise.context.ApplicationScoped;

import io.handoff.hub.address.AddressSettings.Threshold;
import io.handoff.hub.address.AddressVerdicts.Verification;

/**
 * The write-back rules, in the order they are checked; the first that fails names the decision's reason:
 * <ol>
 * <li><b>not-owner</b>: the event's system is not a source of truth for the field (address-writeback-settings.yaml);</li>
 * <li><b>below-threshold</b>: the verification is below the field's threshold (level and score);</li>
 * <li><b>not-newer</b>: the event is not newer than what the master holds for the field (older data never overwrites
 * newer; the same time does not either);</li>
 * <li><b>unchanged</b>: the address equals the master's after normalisation.</li>
 * </ol>
 * Otherwise the address is written. Whether the same write happened before (the idempotency key) is the store's to
 * say, since only the database can answer that for two replicas at once.
 */
@ApplicationScoped
public class AddressRules {

    private final AddressSettings settings;

    public AddressRules(AddressSettings settings) {
        this.settings = settings;
    }

    /** An address seen for a customer's field. */
    public record Candidate(String system, String field, String hash, Verification verification, Instant eventTime) {
    }

    /** What the master holds for the field (null if nothing yet). */
    public record Held(String hash, Instant eventTime, String system, String origin, long version) {
    }

    /** The verdict: written, or skipped with the rule and the reason in words. */
    public record Verdict(boolean write, String rule, String reason) {

        static Verdict skip(String rule, String reason) {
            return new Verdict(false, rule, reason);
        }
    }

    public Verdict decide(Candidate c, Held held) {
        if (!settings.owns(c.system(), c.field())) {
            return Verdict.skip("not-owner", c.system() + " does not own " + c.field() + " (owners: "
                    + String.join(", ", settings.owners(c.field()).stream().sorted().toList()) + ")");
        }
        Threshold threshold = settings.threshold(c.field());
        if (!c.verification().meets(threshold.minimumLevel(), threshold.score())) {
            return Verdict.skip("below-threshold", "verification " + c.verification().describe()
                    + " is below the threshold " + threshold.describe());
        }
        if (held != null && !c.eventTime().isAfter(held.eventTime())) {
            return Verdict.skip("not-newer", "event time " + c.eventTime() + " is not newer than the master's "
                    + held.eventTime() + " (from " + held.system() + ")");
        }
        if (held != null && held.hash().equals(c.hash())) {
            return Verdict.skip("unchanged", "equal to the master's " + c.field() + " after normalisation");
        }
        return new Verdict(true, "written", "passes ownership, verification " + c.verification().describe()
                + ", newer than the master" + (held == null ? " (none held)" : " (" + held.eventTime() + ")")
                + " and differs from it");
    }
}
