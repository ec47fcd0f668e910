package io.handoff.hub.address;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.handoff.hub.address.AddressSettings.Downstream;
import io.handoff.hub.address.AddressSettings.Threshold;
import io.handoff.hub.address.AddressVerdicts.Level;

class AddressSettingsTest {

    /** The repo's file; the working directory is the project root under Maven. */
    static final String ROUTES = "routes";

    /** A complete file (every optional key set), so each bad variant below fails for its own reason only. */
    static final String VALID = """
            crm:
              - system: salesforce
                fields:
                  shipping: Mailing
            threshold:
              level: verified
              score: 90
            echoWindow: PT2H
            fields:
              shipping:
                owners: [shopify]
                threshold:
                  level: partial
                  score: 70
            downstream:
              - system: klaviyo
                fields: [shipping]
            """;

    @TempDir
    Path dir;

    Path write(String yaml) throws IOException {
        Path file = dir.resolve(AddressSettings.FILE);
        Files.writeString(file, yaml);
        return file;
    }

    /** Reads a bad file, expecting the start to stop with the file's name in the message. */
    String rejected(String yaml) throws IOException {
        Path file = write(yaml);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> AddressSettings.read(file), yaml);
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        assertThrows(IllegalStateException.class, () -> new AddressSettings(dir.toString()), "through the bean too");
        return e.getMessage();
    }

    @Test
    void theRepoFileReads() {
        AddressSettings.File file = AddressSettings.read(Path.of(ROUTES, AddressSettings.FILE));
        assertEquals(List.of("salesforce", "hubspot"), file.crm().stream().map(AddressSettings.Crm::system).toList());
        assertEquals(new Threshold("verified", 90), file.threshold());
        assertEquals(Set.of("shipping", "billing"), file.fields().keySet());
    }

    @Test
    void salesforceAndHubspotAreTheCrms() {
        AddressSettings settings = new AddressSettings(ROUTES);
        assertEquals(Path.of(ROUTES, AddressSettings.FILE), settings.path());
        assertEquals(List.of("salesforce", "hubspot"), settings.crms().stream().map(AddressSettings.Crm::system)
                .toList(), "in the file's order");
        assertTrue(settings.isCrm("salesforce"));
        assertTrue(settings.isCrm("hubspot"));
        assertFalse(settings.isCrm("shopify"));
        assertFalse(settings.isCrm("klaviyo"));
        assertEquals(Map.of("shipping", "Mailing", "billing", "Other"), settings.crm("salesforce").orElseThrow()
                .fields());
        assertEquals(Map.of("shipping", "standard"), settings.crm("hubspot").orElseThrow().fields());
    }

    @Test
    void fieldOwners() {
        AddressSettings settings = new AddressSettings(ROUTES);
        assertEquals(List.of("shipping", "billing"), List.copyOf(settings.fields().keySet()), "in the file's order");
        assertEquals(Set.of("shopify", "checkout"), settings.owners("shipping"));
        assertEquals(Set.of("salesforce", "hubspot"), settings.owners("billing"));
        assertEquals(Set.of(), settings.owners("gift"));
        assertTrue(settings.owns("shopify", "shipping"));
        assertTrue(settings.owns("checkout", "shipping"));
        assertFalse(settings.owns("shopify", "billing"), "shopify does not own billing");
        assertFalse(settings.owns("klaviyo", "shipping"), "a downstream system owns nothing");
        assertFalse(settings.owns("shopify", "gift"), "an unknown field");
    }

    @Test
    void theCrmsOwnTheFieldsTheyMap() {
        AddressSettings settings = new AddressSettings(ROUTES);
        assertTrue(settings.owns("salesforce", "shipping"), "salesforce maps shipping (Mailing)");
        assertTrue(settings.owns("salesforce", "billing"));
        assertTrue(settings.owns("hubspot", "shipping"), "hubspot maps shipping (standard)");
        assertTrue(settings.owns("hubspot", "billing"), "hubspot is listed among billing's owners");
        assertFalse(settings.owns("salesforce", "gift"));
    }

    @Test
    void thresholds() {
        AddressSettings settings = new AddressSettings(ROUTES);
        Threshold billing = settings.threshold("billing");
        assertEquals(new Threshold("verified", 95), billing, "billing sets its own");
        assertEquals(Level.VERIFIED, billing.minimumLevel());
        assertEquals(new Threshold("verified", 90), settings.threshold("shipping"), "the default");
        assertEquals(new Threshold("verified", 90), settings.threshold("gift"), "an unknown field: the default");
        assertEquals(Level.VERIFIED, settings.threshold("shipping").minimumLevel());
    }

    @Test
    void echoWindowAndDownstream() {
        AddressSettings settings = new AddressSettings(ROUTES);
        assertEquals(Duration.ofHours(24), settings.echoWindow());
        assertEquals(List.of(new Downstream("klaviyo", List.of("shipping")), new Downstream("loyalty",
                List.of("shipping"))), settings.downstream());
    }

    @Test
    void aCompleteFileReads() throws IOException {
        write(VALID);
        AddressSettings settings = new AddressSettings(dir.toString());
        assertEquals(Duration.ofHours(2), settings.echoWindow());
        assertEquals(new Threshold("partial", 70), settings.threshold("shipping"));
        assertEquals(Level.PARTIAL, settings.threshold("shipping").minimumLevel());
        assertTrue(settings.isCrm("salesforce"));
        assertFalse(settings.owns("salesforce", "billing"), "salesforce does not map billing here");
        assertEquals(List.of(new Downstream("klaviyo", List.of("shipping"))), settings.downstream());
    }

    @Test
    void optionalKeysMayBeLeftOut() throws IOException {
        write("""
                crm:
                  - system: salesforce
                    fields:
                      shipping: Mailing
                threshold:
                  level: verified
                  score: 85
                fields:
                  shipping:
                    owners: [shopify]
                """);
        AddressSettings settings = new AddressSettings(dir.toString());
        assertEquals(new Threshold("verified", 85), settings.threshold("shipping"), "no field threshold: the default");
        assertEquals(Duration.ofHours(24), settings.echoWindow(), "no echoWindow: 24 hours");
        assertEquals(List.of(), settings.downstream(), "no downstream");
    }

    @Test
    void anUnknownKeyStopsTheStart() throws IOException {
        String message = rejected(VALID + "colour: blue\n");
        assertTrue(message.contains("colour"), message);
        rejected(VALID.replace("    owners: [shopify]", "    owners: [shopify]\n    owner: [checkout]"));
        rejected(VALID.replace("  score: 90", "  score: 90\n  scores: 95"));
    }

    @Test
    void aFieldWithoutOwnersStopsTheStart() throws IOException {
        String message = rejected(VALID.replace("owners: [shopify]", "owners: []"));
        assertTrue(message.contains("shipping"), "names the field: " + message);
        rejected(VALID.replace("    owners: [shopify]\n", ""));
    }

    @Test
    void anUnknownThresholdLevelStopsTheStart() throws IOException {
        String message = rejected(VALID.replace("level: verified", "level: excellent"));
        assertTrue(message.toLowerCase(Locale.ROOT).contains("excellent"), message);
        rejected(VALID.replace("level: partial", "level: mostly"));
    }

    @Test
    void aCrmMappingAFieldNotUnderFieldsStopsTheStart() throws IOException {
        String message = rejected(VALID.replace("      shipping: Mailing", "      shipping: Mailing\n      billing: Other"));
        assertTrue(message.contains("billing"), "names the field: " + message);
        assertTrue(message.contains("salesforce"), "names the crm: " + message);
    }

    @Test
    void withoutTheFileNothingIsWrittenAnywhere() {
        AddressSettings settings = new AddressSettings(dir.toString());
        assertEquals(List.of(), settings.crms());
        assertFalse(settings.isCrm("salesforce"));
        assertFalse(settings.owns("shopify", "shipping"));
        assertEquals(Map.of(), settings.fields());
        assertEquals(new Threshold("verified", 90), settings.threshold("shipping"));
        assertEquals(Duration.ofHours(24), settings.echoWindow());
        assertEquals(List.of(), settings.downstream());
    }
}
