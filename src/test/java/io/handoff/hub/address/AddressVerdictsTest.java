package io.handoff.hub.address;

import static io.handoff.hub.address.AddressVerdicts.Level.AMBIGUOUS;
import static io.handoff.hub.address.AddressVerdicts.Level.INVALID;
import static io.handoff.hub.address.AddressVerdicts.Level.PARTIAL;
import static io.handoff.hub.address.AddressVerdicts.Level.UNVERIFIED;
import static io.handoff.hub.address.AddressVerdicts.Level.VERIFIED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.address.AddressVerdicts.Level;
import io.handoff.hub.address.AddressVerdicts.Verification;
import io.handoff.hub.support.Json;

class AddressVerdictsTest {

    /** The default threshold of routes/address-writeback-settings.yaml. */
    static final Level LEVEL = VERIFIED;
    static final int SCORE = 90;

    final AddressVerdicts verdicts = new AddressVerdicts();

    /** A JSON object of string fields: obj("a", "1", "b", "2"). */
    static ObjectNode obj(String... pairs) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        for (int i = 0; i < pairs.length; i += 2) {
            node.put(pairs[i], pairs[i + 1]);
        }
        return node;
    }

    Verification smarty(String... analysis) {
        return verdicts.read("smarty", obj(analysis));
    }

    Verification loqate(String avc) {
        return verdicts.read("loqate", obj("avc", avc));
    }

    static void assertVerdict(Level level, int score, Verification v) {
        assertEquals(level, v.level(), v.describe());
        assertEquals(score, v.score(), v.describe());
    }

    static void assertVerdict(Level level, int score, Verification v, String message) {
        assertEquals(level, v.level(), message + ": " + v.describe());
        assertEquals(score, v.score(), message + ": " + v.describe());
    }

    @Test
    void levelsAreOrderedWeakestFirst() {
        assertTrue(INVALID.ordinal() < UNVERIFIED.ordinal());
        assertTrue(UNVERIFIED.ordinal() < AMBIGUOUS.ordinal());
        assertTrue(AMBIGUOUS.ordinal() < PARTIAL.ordinal());
        assertTrue(PARTIAL.ordinal() < VERIFIED.ordinal());
        assertEquals(VERIFIED, Level.of(" Verified "));
        assertEquals("partial", PARTIAL.wireName());
    }

    @Test
    void smartyConfirmedDeliverableIsVerified() {
        Verification v = smarty("dpv_match_code", "Y");
        assertVerdict(VERIFIED, 100, v);
        assertEquals("smarty", v.validator());
        assertVerdict(VERIFIED, 100, verdicts.read("Smarty", obj("dpv_match_code", "y")));
    }

    @Test
    void smartyMissingPrivateMailboxNumberScores95() {
        assertVerdict(VERIFIED, 95, smarty("dpv_match_code", "Y", "dpv_footnotes", "AABBR1"));
        assertVerdict(VERIFIED, 100, smarty("dpv_match_code", "Y", "dpv_footnotes", "AABB"),
                "no R1: the full score");
    }

    @Test
    void smartyVacantScores90() {
        assertVerdict(VERIFIED, 90, smarty("dpv_match_code", "Y", "dpv_vacant", "Y"));
        assertVerdict(VERIFIED, 100, smarty("dpv_match_code", "Y", "dpv_vacant", "N"), "not vacant");
    }

    @Test
    void smartySecondaryIgnoredOrMissingIsPartial() {
        assertVerdict(PARTIAL, 70, smarty("dpv_match_code", "S"));
        assertVerdict(PARTIAL, 60, smarty("dpv_match_code", "D"));
    }

    @Test
    void smartyNotConfirmedIsInvalid() {
        assertVerdict(INVALID, 10, smarty("dpv_match_code", "N"));
    }

    @Test
    void smartyWithoutAMatchCode() {
        assertVerdict(INVALID, 0, smarty("dpv_footnotes", "A1"), "not matched to a ZIP+4");
        assertVerdict(UNVERIFIED, 0, smarty(), "nothing at all");
        assertVerdict(UNVERIFIED, 0, smarty("dpv_match_code", ""), "an empty code");
    }

    @Test
    void loqateVerifiedAtPremiseOrDeliveryPoint() {
        Verification premise = loqate("V44-I44-P6-100");
        assertVerdict(VERIFIED, 100, premise);
        assertEquals("loqate", premise.validator());
        assertEquals(VERIFIED, loqate("V55-I55-P7-100").level(), "delivery point");
        assertVerdict(VERIFIED, 85, loqate("V44-I44-P6-85"), "the score is the AVC's last part");
    }

    @Test
    void loqateVerifiedBelowPremiseIsPartial() {
        assertVerdict(PARTIAL, 96, loqate("V33-I33-P6-96"), "post-processed match level 3 < 4");
    }

    @Test
    void loqatePartialAmbiguousAndUnverified() {
        assertVerdict(PARTIAL, 64, loqate("P22-I22-P3-64"));
        assertVerdict(AMBIGUOUS, 90, loqate("A44-I44-P6-90"));
        assertEquals(AMBIGUOUS, loqate("C44-I44-P6-80").level(), "conflict");
        assertVerdict(UNVERIFIED, 0, loqate("U00-I00-P0-0"));
        assertEquals(UNVERIFIED, loqate("R44-I44-P6-100").level(), "reverted");
    }

    @Test
    void loqateMalformedAvcIsUnverified() {
        assertVerdict(UNVERIFIED, 0, loqate("not an avc"));
        assertVerdict(UNVERIFIED, 0, loqate("V44-I44-100"), "no postcode status");
        assertVerdict(UNVERIFIED, 0, loqate("X44-I44-P6-100"), "no such verification status");
        assertVerdict(UNVERIFIED, 0, loqate(""));
        assertVerdict(UNVERIFIED, 0, verdicts.read("loqate", obj()), "no avc at all");
    }

    @Test
    void loqateLowerCaseAvcIsAccepted() {
        assertVerdict(VERIFIED, 100, loqate("v44-i44-p6-100"));
        assertVerdict(PARTIAL, 64, loqate("p22-i22-p3-64"));
    }

    @Test
    void genericValidatorSendsLevelAndScore() {
        ObjectNode verdict = Json.MAPPER.createObjectNode().put("level", "verified").put("score", 95);
        Verification v = verdicts.read("acme", verdict);
        assertVerdict(VERIFIED, 95, v);
        assertEquals("acme", v.validator());
        assertVerdict(PARTIAL, 80,
                verdicts.read("acme", Json.MAPPER.createObjectNode().put("level", "Partial").put("score", 80)));
    }

    @Test
    void genericValidatorWithoutALevelIsUnverified() {
        assertVerdict(UNVERIFIED, 0, verdicts.read("acme", Json.MAPPER.createObjectNode().put("score", 95)));
        assertVerdict(UNVERIFIED, 0, verdicts.read("acme", Json.MAPPER.createObjectNode().put("level", "verified")),
                "no score");
        assertVerdict(UNVERIFIED, 0,
                verdicts.read("acme", Json.MAPPER.createObjectNode().put("level", "splendid").put("score", 99)),
                "a level this hub does not know");
        assertVerdict(UNVERIFIED, 0, verdicts.read("acme", Json.MAPPER.createObjectNode()));
    }

    @Test
    void anAddressWithoutAValidatorIsAnUnverifiedCandidate() {
        Verification v = AddressVerdicts.candidate("shopify");
        assertVerdict(UNVERIFIED, 0, v);
        assertNull(v.validator());
        assertTrue(v.summary().contains("shopify"), v.summary());
        assertFalse(v.meets(LEVEL, SCORE));
    }

    @Test
    void meetsNeedsBothTheLevelAndTheScore() {
        assertTrue(new Verification("x", VERIFIED, 90, null).meets(VERIFIED, 90), "exactly the threshold");
        assertFalse(new Verification("x", VERIFIED, 89, null).meets(VERIFIED, 90), "score one short");
        assertFalse(new Verification("x", PARTIAL, 100, null).meets(VERIFIED, 90), "level one short");
        assertTrue(new Verification("x", VERIFIED, 70, null).meets(PARTIAL, 60), "a stronger level is admitted");
        assertFalse(new Verification("x", AMBIGUOUS, 70, null).meets(PARTIAL, 60), "a weaker level is not");
    }

    @Test
    void verdictsAgainstTheDefaultThreshold() {
        assertTrue(smarty("dpv_match_code", "Y").meets(LEVEL, SCORE), "smarty Y");
        assertTrue(smarty("dpv_match_code", "Y", "dpv_vacant", "Y").meets(LEVEL, SCORE), "smarty Y vacant, 90");
        assertTrue(smarty("dpv_match_code", "Y", "dpv_footnotes", "AABBR1").meets(LEVEL, SCORE), "smarty Y R1, 95");
        assertFalse(smarty("dpv_match_code", "S").meets(LEVEL, SCORE), "smarty S");
        assertFalse(smarty("dpv_match_code", "D").meets(LEVEL, SCORE), "smarty D");
        assertFalse(smarty("dpv_match_code", "N").meets(LEVEL, SCORE), "smarty N");
        assertTrue(loqate("V44-I44-P6-100").meets(LEVEL, SCORE), "loqate V44 100");
        assertTrue(loqate("V44-I44-P6-90").meets(LEVEL, SCORE), "loqate V44 90");
        assertFalse(loqate("V44-I44-P6-85").meets(LEVEL, SCORE), "loqate V44 85: the score");
        assertFalse(loqate("P22-I22-P3-100").meets(LEVEL, SCORE), "loqate P22 100: the level");
        assertFalse(loqate("V33-I33-P6-100").meets(LEVEL, SCORE), "loqate V33 100: below premise");
        assertTrue(verdicts.read("acme", Json.MAPPER.createObjectNode().put("level", "verified").put("score", 95))
                .meets(LEVEL, SCORE), "generic verified 95");
    }

    @Test
    void describeNamesTheLevelScoreAndSource() {
        String described = loqate("V44-I44-P6-100").describe();
        assertTrue(described.startsWith("verified 100"), described);
        assertTrue(described.contains("loqate"), described);
    }
}
