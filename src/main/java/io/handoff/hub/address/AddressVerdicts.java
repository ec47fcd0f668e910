package io.handoff.hub.address;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reads a validator's raw verdict into one verification level and a score (0-100), the same scale for every
 * validator, so one threshold applies to all of them.
 * <ul>
 * <li><b>smarty</b> (US Street API; the verdict is the candidate's {@code analysis} object): {@code dpv_match_code}
 * Y (the whole address confirmed deliverable) is verified, 100 (95 when {@code dpv_footnotes} has R1, a private
 * mailbox number missing; 90 when {@code dpv_vacant} is Y); S (confirmed by ignoring the secondary number) is partial,
 * 70; D (primary number confirmed, secondary missing) is partial, 60; N (not confirmed) is invalid, 10; no code at all
 * is unverified, 0 (invalid when the footnotes have A1, not matched to a ZIP+4).</li>
 * <li><b>loqate</b> ({@code {"avc": "V44-I44-P6-100"}}): the Address Verification Code's verification status V
 * (verified) counts as verified when the post-processed match level is 4 (premise) or 5 (delivery point), else
 * partial; P partial; A (ambiguous) and C (conflict) ambiguous; U and R (reverted) unverified. The score is the
 * AVC's match score (its last part).</li>
 * <li>any other validator may send {@code {"level": "verified", "score": 95}}; without it the address is
 * unverified, 0.</li>
 * </ul>
 * Addresses seen without a validator (Shopify orders and customer records) are candidates: unverified, 0.
 */
@ApplicationScoped
public class AddressVerdicts {

    /** Verification levels, weakest first: a threshold level admits it and every stronger one. */
    public enum Level {
        INVALID, UNVERIFIED, AMBIGUOUS, PARTIAL, VERIFIED;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Level of(String name) {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        }
    }

    /** A validator's verdict, normalised: {@code summary} is the part of the raw verdict it was read from. */
    public record Verification(String validator, Level level, int score, String summary) {

        public boolean meets(Level minimumLevel, int minimumScore) {
            return level.ordinal() >= minimumLevel.ordinal() && score >= minimumScore;
        }

        public String describe() {
            return level.wireName() + " " + score + (summary == null ? "" : " (" + validator + " " + summary + ")");
        }
    }

    /** What an address seen without a validator counts as. */
    public static Verification candidate(String system) {
        return new Verification(null, Level.UNVERIFIED, 0, "no validator: an unverified candidate from " + system);
    }

    // V44-I44-P6-100: status, post- and pre-processed match levels, parsing status, lexicon and context levels,
    // postcode status, match score.
    private static final Pattern AVC = Pattern.compile(
            "([VPUARC])(\\d)(\\d)-([IUPM])(\\d)(\\d)-P(\\d)-(\\d{1,3})", Pattern.CASE_INSENSITIVE);

    public Verification read(String validator, JsonNode verdict) {
        String name = validator == null ? "" : validator.toLowerCase(Locale.ROOT);
        return switch (name) {
            case "smarty" -> smarty(verdict);
            case "loqate" -> loqate(verdict);
            default -> generic(name, verdict);
        };
    }

    Verification smarty(JsonNode analysis) {
        String code = analysis.path("dpv_match_code").asText("").trim().toUpperCase(Locale.ROOT);
        String footnotes = analysis.path("dpv_footnotes").asText("").toUpperCase(Locale.ROOT);
        boolean vacant = "Y".equalsIgnoreCase(analysis.path("dpv_vacant").asText(""));
        String summary = "dpv_match_code=" + (code.isEmpty() ? "none" : code)
                + (footnotes.isEmpty() ? "" : " dpv_footnotes=" + footnotes) + (vacant ? " dpv_vacant=Y" : "");
        return switch (code) {
            case "Y" -> new Verification("smarty", Level.VERIFIED, vacant ? 90 : footnotes(footnotes, "R1") ? 95 : 100,
                    summary);
            case "S" -> new Verification("smarty", Level.PARTIAL, 70, summary);
            case "D" -> new Verification("smarty", Level.PARTIAL, 60, summary);
            case "N" -> new Verification("smarty", Level.INVALID, 10, summary);
            default -> new Verification("smarty", footnotes(footnotes, "A1") ? Level.INVALID : Level.UNVERIFIED, 0,
                    summary);
        };
    }

    /** Smarty's footnotes are two-character codes run together (e.g. AABB). */
    private static boolean footnotes(String footnotes, String code) {
        for (int i = 0; i + 2 <= footnotes.length(); i += 2) {
            if (footnotes.startsWith(code, i)) {
                return true;
            }
        }
        return false;
    }

    Verification loqate(JsonNode verdict) {
        String avc = verdict.path("avc").asText(verdict.path("AVC").asText("")).trim();
        Matcher m = AVC.matcher(avc);
        if (!m.matches()) {
            return new Verification("loqate", Level.UNVERIFIED, 0, "avc=" + (avc.isEmpty() ? "none" : avc)
                    + " not an Address Verification Code");
        }
        int postLevel = Integer.parseInt(m.group(2));
        int score = Math.min(100, Integer.parseInt(m.group(8)));
        Level level = switch (Character.toUpperCase(m.group(1).charAt(0))) {
            case 'V' -> postLevel >= 4 ? Level.VERIFIED : Level.PARTIAL;
            case 'P' -> Level.PARTIAL;
            case 'A', 'C' -> Level.AMBIGUOUS;
            default -> Level.UNVERIFIED;
        };
        return new Verification("loqate", level, score, "avc=" + avc.toUpperCase(Locale.ROOT));
    }

    Verification generic(String validator, JsonNode verdict) {
        if (verdict.hasNonNull("level") && verdict.path("score").canConvertToInt()) {
            try {
                Level level = Level.of(verdict.get("level").asText());
                int score = Math.max(0, Math.min(100, verdict.get("score").asInt()));
                return new Verification(validator, level, score, "level=" + level.wireName() + " score=" + score);
            } catch (IllegalArgumentException e) {
                // An unknown level reads as unverified below.
            }
        }
        return new Verification(validator, Level.UNVERIFIED, 0, "no level and score this hub can read");
    }
}
