package io.handoff.hub.address;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.address.AddressNormaliser.Normalised;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Pii;

class AddressNormaliserTest {

    final AddressNormaliser normaliser = new AddressNormaliser();

    /** A US address; each test changes what it compares. */
    static final ObjectNode BASE = address("line1", "123 Main Street", "line2", "Apt 4B", "city", "San Francisco",
            "regionCode", "CA", "postalCode", "94105", "countryCode", "US");

    /** A canonical address object of string fields (a null value is a JSON null). */
    static ObjectNode address(String... pairs) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        for (int i = 0; i < pairs.length; i += 2) {
            node.put(pairs[i], pairs[i + 1]);
        }
        return node;
    }

    /** BASE with some fields replaced (a null value removes the field). */
    static ObjectNode base(String... pairs) {
        ObjectNode node = BASE.deepCopy();
        for (int i = 0; i < pairs.length; i += 2) {
            if (pairs[i + 1] == null) {
                node.remove(pairs[i]);
            } else {
                node.put(pairs[i], pairs[i + 1]);
            }
        }
        return node;
    }

    Normalised n(ObjectNode address) {
        return normaliser.normalise(address);
    }

    void assertOneAddress(ObjectNode a, ObjectNode b) {
        Normalised na = n(a);
        Normalised nb = n(b);
        assertEquals(na.canonical(), nb.canonical(), a + " vs " + b);
        assertEquals(na.hash(), nb.hash(), a + " vs " + b);
    }

    void assertDifferent(ObjectNode a, ObjectNode b) {
        assertNotEquals(n(a).hash(), n(b).hash(), a + " vs " + b + " (both " + n(a).canonical() + ")");
    }

    @Test
    void hashIsTheSha256OfTheCanonicalForm() {
        Normalised n = n(BASE);
        assertEquals(64, n.hash().length());
        assertEquals(Pii.sha256Hex(n.canonical()), n.hash());
        assertEquals("123 MAIN ST APT 4B|SAN FRANCISCO|CA|94105|US", n.canonical());
    }

    @Test
    void theJavadocExampleIsOneAddress() {
        assertOneAddress(address("line1", "123 Main Street", "line2", "Apt. 4B", "city", "San Francisco", "region",
                "California", "postalCode", "94105-1234", "country", "United States"),
                address("line1", "123 MAIN ST", "line2", "APT 4B", "city", "san francisco", "regionCode", "CA",
                        "postalCode", "94105", "countryCode", "US"));
    }

    @Test
    void caseAndWhitespaceDoNotMatter() {
        assertOneAddress(base("line1", "123  main street"), base("line1", "123 MAIN ST"));
        assertOneAddress(base("line1", "  123\tMain   Street "), base("line1", "123 main st"));
        assertOneAddress(base("city", " san  francisco "), base("city", "SAN FRANCISCO"));
        assertOneAddress(base("countryCode", "us"), base("countryCode", "US"));
        assertOneAddress(base("regionCode", "ca"), base("regionCode", "CA"));
    }

    @Test
    void streetSuffixesAndUnitDesignatorsAreAbbreviated() {
        assertOneAddress(base("line1", "123 Main Street"), base("line1", "123 Main St"));
        assertOneAddress(base("line1", "500 Park Avenue"), base("line1", "500 Park Ave"));
        assertOneAddress(base("line1", "500 Park Av"), base("line1", "500 Park Ave"));
        assertOneAddress(base("line1", "100 North Main Street"), base("line1", "100 N Main St"));
        assertOneAddress(base("line1", "9 Ocean Boulevard"), base("line1", "9 Ocean Blvd"));
        assertOneAddress(base("line2", "Apartment 4B"), base("line2", "Apt 4B"));
        assertOneAddress(base("line2", "Suite 200"), base("line2", "Ste 200"));
        assertEquals("100 N MAIN ST APT 4B", n(base("line1", "100 North Main Street")).street());
        assertEquals("123 MAIN ST STE 200", n(base("line2", "Suite 200")).street());
    }

    @Test
    void punctuationDoesNotMatter() {
        assertOneAddress(base("line2", "Apt. 4B"), base("line2", "APT 4B"));
        assertOneAddress(base("line2", "#4B"), base("line2", "# 4B"));
        assertOneAddress(base("line2", "Apt #4B"), base("line2", "Apt 4B"));
        assertOneAddress(base("line1", "123 Main St."), base("line1", "123 Main St"));
        assertOneAddress(base("line1", "123 Main Street,"), base("line1", "123 Main St"));
        assertEquals("123 MAIN ST #4B", n(base("line2", "# 4B")).street());
        // The unit on line 1 or on a line of its own is one address.
        assertOneAddress(base("line1", "123 Main Street Apt 4B", "line2", null), base());
    }

    @Test
    void aUsZipPlus4IsComparedByItsZip() {
        assertOneAddress(base("postalCode", "94105-1234"), base("postalCode", "94105"));
        assertOneAddress(base("postalCode", "94105 1234"), base("postalCode", "94105"));
        assertOneAddress(base("postalCode", "94105-1234", "countryCode", null, "country", "United States"),
                base("postalCode", "94105"));
        assertEquals("94105", n(base("postalCode", "94105-1234")).postalCode());
    }

    @Test
    void aPostcodeOutsideTheUsIsKeptWhole() {
        ObjectNode london = address("line1", "10 Downing Street", "city", "London", "postalCode", "SW1A 2AA",
                "countryCode", "GB");
        assertEquals("SW1A2AA", n(london).postalCode());
        assertOneAddress(london, address("line1", "10 Downing St", "city", "london", "postalCode", "sw1a 2aa",
                "countryCode", "GB"));
        assertDifferent(base("countryCode", "DE", "postalCode", "94105-1234"),
                base("countryCode", "DE", "postalCode", "94105"));
        assertDifferent(base("countryCode", "IN", "postalCode", "110001"),
                base("countryCode", "IN", "postalCode", "110002"));
        assertEquals("110001", n(base("countryCode", "IN", "postalCode", "110001")).postalCode());
    }

    @Test
    void usStateNamesAreCodes() {
        assertOneAddress(base("regionCode", null, "region", "California"), base("regionCode", "CA"));
        assertOneAddress(base("regionCode", null, "region", "california"), base("regionCode", "CA"));
        assertOneAddress(base("regionCode", null, "region", "New York"), base("regionCode", "NY"));
        assertOneAddress(base("regionCode", null, "region", "District of Columbia"), base("regionCode", "DC"));
        assertOneAddress(base("regionCode", null, "region", "California", "countryCode", null, "country", "United States"),
                base("regionCode", "CA"));
        assertEquals("CA", n(base("regionCode", null, "region", "California")).region());
    }

    @Test
    void countryNamesAreCodes() {
        for (String name : new String[] { "United States", "united states", "United States of America", "USA",
                "U.S.A.", "U.S." }) {
            assertOneAddress(base("countryCode", null, "country", name), base("countryCode", "US"));
            assertEquals("US", n(base("countryCode", null, "country", name)).country(), name);
        }
        ObjectNode gb = address("line1", "10 Downing Street", "city", "London", "postalCode", "SW1A 2AA");
        assertOneAddress(gb.deepCopy().put("country", "United Kingdom"), gb.deepCopy().put("countryCode", "GB"));
        assertOneAddress(gb.deepCopy().put("country", "UK"), gb.deepCopy().put("countryCode", "GB"));
        ObjectNode berlin = address("line1", "Unter den Linden 1", "city", "Berlin", "postalCode", "10117");
        assertOneAddress(berlin.deepCopy().put("country", "Deutschland"), berlin.deepCopy().put("countryCode", "DE"));
    }

    @Test
    void accentsDoNotMatter() {
        ObjectNode zurich = address("line1", "Bahnhofstrasse 1", "city", "Zürich", "postalCode", "8001",
                "countryCode", "CH");
        assertOneAddress(zurich, zurich.deepCopy().put("city", "Zurich"));
        assertEquals("ZURICH", n(zurich).city());
        ObjectNode paris = address("line1", "5 Rue de l'Église", "city", "Paris", "postalCode", "75001",
                "countryCode", "FR");
        assertOneAddress(paris, paris.deepCopy().put("line1", "5 rue de l Eglise"));
        assertOneAddress(paris, paris.deepCopy().put("city", "París"));
    }

    @Test
    void namesCompanyAndPhoneAreNotTheAddress() {
        assertOneAddress(base("firstName", "Ada", "company", "Acme", "phone", "+14155550100"), BASE);
    }

    @Test
    void anAbsentNullOrEmptyLine2IsTheSame() {
        assertOneAddress(base("line2", null), base("line2", ""));
        assertOneAddress(base("line2", null), address("line1", "123 Main Street", "line2", null, "city", "San Francisco",
                "regionCode", "CA", "postalCode", "94105", "countryCode", "US"));
    }

    @Test
    void aDifferentAddressHasADifferentHash() {
        assertDifferent(base("line1", "123 Main Street"), base("line1", "125 Main Street"));
        assertDifferent(base("line2", "Apt 4B"), base("line2", "Apt 4C"));
        assertDifferent(base("line2", "#4B"), base("line2", "#4C"));
        assertDifferent(base("line2", "Apt 4B"), base("line2", null));
        assertDifferent(base("city", "San Francisco"), base("city", "Oakland"));
        assertDifferent(base("postalCode", "94105"), base("postalCode", "94107"));
        assertDifferent(base("postalCode", "94105-1234"), base("postalCode", "94107-1234"));
        assertDifferent(base("regionCode", "CA"), base("regionCode", "NV"));
        assertDifferent(base("countryCode", "US"), base("countryCode", "CA"));
        assertDifferent(base("line1", "123 Main Street"), base("line1", "123 Main Avenue"));
    }

    @Test
    void storedKeepsTheGivenValuesAndDropsNullAndEmptyFields() {
        ObjectNode in = address("line1", "123 Main Street", "line2", null, "city", "", "region", "California",
                "regionCode", "   ", "postalCode", "94105-1234", "country", "United States", "firstName", "Ada",
                "phone", "+14155550100");
        ObjectNode expected = address("line1", "123 Main Street", "region", "California", "postalCode", "94105-1234",
                "country", "United States");
        assertEquals(expected, normaliser.stored(in));
    }

    @Test
    void storedKeepsEveryAddressField() {
        ObjectNode in = address("line1", "123 Main Street", "line2", "Apt. 4B", "city", "San Francisco", "region",
                "California", "regionCode", "CA", "postalCode", "94105-1234", "country", "United States",
                "countryCode", "US");
        assertEquals(in, normaliser.stored(in));
        assertEquals(Json.MAPPER.createObjectNode(), normaliser.stored(Json.MAPPER.createObjectNode()));
    }
}
