package io.handoff.hub.address;

import java.text.Normalizer;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

/**
 * Decides whether two addresses are the same: both are brought to one comparable form (upper case, accents and
 * punctuation dropped, whitespace collapsed, the two street lines read as one, USPS street suffixes and unit
 * designators abbreviated, a US ZIP+4 cut to its five digits, US state and country names turned into codes) and
 * hashed (SHA-256). "123 Main Street, Apt. 4B,
 * San Francisco, California 94105-1234, United States" and "123 MAIN ST APT 4B, san francisco, CA 94105, US" have
 * the same hash. Names, company and phone are not part of it: they are not the address.
 */
@ApplicationScoped
public class AddressNormaliser {

    /** The comparable form of an address and its hash; {@code street} is line1 and line2 as one. */
    public record Normalised(String street, String city, String region, String postalCode, String country,
            String hash) {

        public String canonical() {
            return String.join("|", street, city, region, postalCode, country);
        }
    }

    static final Map<String, String> WORDS = words(
            // USPS Publication 28, street suffixes (C1) and secondary unit designators (C2), the common ones.
            "STREET ST", "AVENUE AVE", "AV AVE", "ROAD RD", "BOULEVARD BLVD", "DRIVE DR", "LANE LN", "COURT CT",
            "PLACE PL", "TERRACE TER", "PARKWAY PKWY", "HIGHWAY HWY", "CIRCLE CIR", "SQUARE SQ", "TRAIL TRL",
            "EXPRESSWAY EXPY", "FREEWAY FWY", "ALLEY ALY", "CRESCENT CRES", "POINT PT", "HEIGHTS HTS",
            "APARTMENT APT", "SUITE STE", "BUILDING BLDG", "FLOOR FL", "UNIT UNIT", "ROOM RM", "DEPARTMENT DEPT",
            "NUMBER #", "NO #", "NORTH N", "SOUTH S", "EAST E", "WEST W", "NORTHEAST NE", "NORTHWEST NW",
            "SOUTHEAST SE", "SOUTHWEST SW", "MOUNT MT", "FORT FT", "SAINT ST");

    static final Map<String, String> US_STATES = words(
            "ALABAMA AL", "ALASKA AK", "ARIZONA AZ", "ARKANSAS AR", "CALIFORNIA CA", "COLORADO CO", "CONNECTICUT CT",
            "DELAWARE DE", "DISTRICT_OF_COLUMBIA DC", "FLORIDA FL", "GEORGIA GA", "HAWAII HI", "IDAHO ID",
            "ILLINOIS IL", "INDIANA IN", "IOWA IA", "KANSAS KS", "KENTUCKY KY", "LOUISIANA LA", "MAINE ME",
            "MARYLAND MD", "MASSACHUSETTS MA", "MICHIGAN MI", "MINNESOTA MN", "MISSISSIPPI MS", "MISSOURI MO",
            "MONTANA MT", "NEBRASKA NE", "NEVADA NV", "NEW_HAMPSHIRE NH", "NEW_JERSEY NJ", "NEW_MEXICO NM",
            "NEW_YORK NY", "NORTH_CAROLINA NC", "NORTH_DAKOTA ND", "OHIO OH", "OKLAHOMA OK", "OREGON OR",
            "PENNSYLVANIA PA", "RHODE_ISLAND RI", "SOUTH_CAROLINA SC", "SOUTH_DAKOTA SD", "TENNESSEE TN", "TEXAS TX",
            "UTAH UT", "VERMONT VT", "VIRGINIA VA", "WASHINGTON WA", "WEST_VIRGINIA WV", "WISCONSIN WI",
            "WYOMING WY", "PUERTO_RICO PR", "GUAM GU");

    static final Map<String, String> COUNTRIES = words(
            "UNITED_STATES US", "UNITED_STATES_OF_AMERICA US", "USA US", "U_S_A US", "U_S US", "CANADA CA",
            "UNITED_KINGDOM GB", "UK GB", "GREAT_BRITAIN GB", "GERMANY DE", "DEUTSCHLAND DE", "FRANCE FR",
            "AUSTRALIA AU", "IRELAND IE", "NETHERLANDS NL", "SPAIN ES", "ITALY IT", "MEXICO MX");

    private static Map<String, String> words(String... pairs) {
        Map<String, String> map = new HashMap<>();
        for (String pair : pairs) {
            String[] p = pair.split(" ");
            map.put(p[0].replace('_', ' '), p[1]);
        }
        return Map.copyOf(map);
    }

    /** The comparable form of a canonical address object ({@code line1, line2, city, region|regionCode, ...}). */
    public Normalised normalise(JsonNode address) {
        String country = country(text(address, "countryCode"), text(address, "country"));
        // One street text: "123 Main St" + "Apt 4B" is the same address as "123 Main St Apt 4B".
        String street = street((text(address, "line1") + " " + text(address, "line2")).strip());
        String city = plain(text(address, "city"));
        String region = region(text(address, "regionCode"), text(address, "region"), country);
        String postal = postal(text(address, "postalCode"), country);
        Normalised n = new Normalised(street, city, region, postal, country, null);
        return new Normalised(street, city, region, postal, country, Pii.sha256Hex(n.canonical()));
    }

    /** The address as sent, reduced to the fields the hub writes (null values dropped), for storing and sending. */
    public ObjectNode stored(JsonNode address) {
        ObjectNode out = Json.MAPPER.createObjectNode();
        for (String field : new String[] { "line1", "line2", "city", "region", "regionCode", "postalCode", "country",
                "countryCode" }) {
            String value = text(address, field);
            if (!value.isEmpty()) {
                out.put(field, address.get(field).asText().strip());
            }
        }
        return out;
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node == null ? null : node.get(field);
        return value == null || value.isNull() ? "" : value.asText().strip();
    }

    /** Upper case, accents removed, punctuation to spaces (but # kept), whitespace collapsed. */
    static String plain(String value) {
        String folded = Normalizer.normalize(value, Normalizer.Form.NFD).replaceAll("\\p{M}", "");
        return folded.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9# ]", " ").replaceAll("\\s+", " ").strip();
    }

    static String street(String value) {
        String plain = plain(value);
        if (plain.isEmpty()) {
            return plain;
        }
        StringBuilder out = new StringBuilder();
        for (String word : plain.split(" ")) {
            if (out.length() > 0) {
                out.append(' ');
            }
            out.append(WORDS.getOrDefault(word, word));
        }
        // "# 4B" and "#4B" are one unit; "APT #4B" is "APT 4B".
        return out.toString().replace("# ", "#").replaceAll("\\b(APT|STE|UNIT|RM|FL|BLDG) #", "$1 ");
    }

    static String country(String code, String name) {
        if (code.length() == 2) {
            return code.toUpperCase(Locale.ROOT);
        }
        String plain = plain(name);
        return COUNTRIES.getOrDefault(plain, plain);
    }

    static String region(String code, String name, String country) {
        String plain = plain(code.isEmpty() ? name : code);
        if ("US".equals(country)) {
            return US_STATES.getOrDefault(plain, plain);
        }
        return plain;
    }

    static String postal(String value, String country) {
        String plain = plain(value).replace(" ", "");
        // A US ZIP+4 (94105-1234) is compared by its five-digit ZIP.
        if ("US".equals(country) && plain.length() > 5 && plain.substring(0, 5).matches("\\d{5}")) {
            return plain.substring(0, 5);
        }
        return plain;
    }
}
