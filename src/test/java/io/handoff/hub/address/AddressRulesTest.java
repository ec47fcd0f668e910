package io.handoff.hub.address;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;

import org.junit.jupiter.api.Test;

import io.handoff.hub.address.AddressRules.Candidate;
import io.handoff.hub.address.AddressRules.Held;
import io.handoff.hub.address.AddressRules.Verdict;
import io.handoff.hub.address.AddressVerdicts.Level;
import io.handoff.hub.address.AddressVerdicts.Verification;

/** The write-back rules in their order, each both ways, against the shipped routes/address-writeback-settings.yaml. */
class AddressRulesTest {

    static final Instant T1 = Instant.parse("2026-11-20T10:00:00Z");
    static final Instant T2 = Instant.parse("2026-11-21T10:00:00Z");
    static final Verification SMARTY_Y = new Verification("smarty", Level.VERIFIED, 100, "dpv_match_code=Y");
    static final Verification SMARTY_S = new Verification("smarty", Level.PARTIAL, 70, "dpv_match_code=S");

    final AddressRules rules = new AddressRules(new AddressSettings("routes"));

    Verdict decide(String system, String field, Verification v, Instant at, String hash, Held held) {
        return rules.decide(new Candidate(system, field, hash, v, at), held);
    }

    @Test
    void anOwnerWritesAndANonOwnerNever() {
        assertTrue(decide("checkout", "shipping", SMARTY_Y, T1, "a", null).write());
        assertTrue(decide("shopify", "shipping", SMARTY_Y, T1, "a", null).write());
        Verdict loyalty = decide("loyalty", "shipping", SMARTY_Y, T1, "a", null);
        assertEquals("not-owner", loyalty.rule());
        assertTrue(loyalty.reason().contains("owners: checkout, shopify"), loyalty.reason());
        assertEquals("not-owner", decide("checkout", "billing", SMARTY_Y, T1, "a", null).rule(),
                "billing belongs to the CRMs");
        assertEquals("not-owner", decide("checkout", "gift-wrap", SMARTY_Y, T1, "a", null).rule(), "unknown field");
    }

    @Test
    void theFieldsThresholdNeedsBothLevelAndScore() {
        assertEquals("below-threshold", decide("checkout", "shipping", SMARTY_S, T1, "a", null).rule());
        Verification loqateLowScore = new Verification("loqate", Level.VERIFIED, 85, "avc=V44-I44-P6-085");
        Verdict low = decide("checkout", "shipping", loqateLowScore, T1, "a", null);
        assertEquals("below-threshold", low.rule());
        assertTrue(low.reason().contains("verified and score 90"), low.reason());
        assertTrue(decide("checkout", "shipping", new Verification("loqate", Level.VERIFIED, 90, "avc"), T1, "a",
                null).write(), "exactly at the threshold");
        // billing has its own threshold (verified/95): a score of 90 is not enough there.
        Verdict billing = decide("salesforce", "billing", new Verification("x", Level.VERIFIED, 90, null), T1, "a",
                null);
        assertEquals("below-threshold", billing.rule());
        assertTrue(decide("salesforce", "billing", SMARTY_Y, T1, "a", null).write());
    }

    @Test
    void olderOrSimultaneousDataNeverOverwritesNewer() {
        Held held = new Held("old", T2, "checkout", AddressStore.ORIGIN_HUB, 3);
        assertEquals("not-newer", decide("checkout", "shipping", SMARTY_Y, T1, "new", held).rule());
        assertEquals("not-newer", decide("checkout", "shipping", SMARTY_Y, T2, "new", held).rule());
        assertTrue(decide("checkout", "shipping", SMARTY_Y, T2.plusSeconds(1), "new", held).write());
    }

    @Test
    void anEqualValueAfterNormalisationIsNotWritten() {
        Held held = new Held("same", T1, "checkout", AddressStore.ORIGIN_HUB, 1);
        Verdict same = decide("checkout", "shipping", SMARTY_Y, T2, "same", held);
        assertFalse(same.write());
        assertEquals("unchanged", same.rule());
        assertTrue(decide("checkout", "shipping", SMARTY_Y, T2, "other", held).write());
    }

    @Test
    void theFirstFailingRuleIsTheReason() {
        // Not an owner, below the threshold and older: ownership is checked first.
        Held held = new Held("a", T2, "checkout", AddressStore.ORIGIN_HUB, 1);
        assertEquals("not-owner", decide("loyalty", "shipping", SMARTY_S, T1, "a", held).rule());
        assertEquals("below-threshold", decide("checkout", "shipping", SMARTY_S, T1, "a", held).rule());
    }
}
