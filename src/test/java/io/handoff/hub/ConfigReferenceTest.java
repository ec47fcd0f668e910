package io.handoff.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.handoff.hub.support.ConfigReference;

/**
 * docs/configuration.md is what {@link ConfigReference} generates from application.properties and the
 * {@code @ConfigMapping} interfaces, and every key code reads with {@code @ConfigProperty} is declared there. Runs
 * from the repository root, without Quarkus.
 */
class ConfigReferenceTest {

    @Test
    void docsConfigurationIsUpToDate() throws IOException {
        String generated = ConfigReference.render(Path.of("."));
        assertEquals(generated, Files.readString(ConfigReference.DOC),
                ConfigReference.DOC + " is out of date; regenerate it with: " + ConfigReference.COMMAND);
    }

    @Test
    void keysHoldTheDeclarationsTheCommentedOutOnesAndTheMappings() {
        assertTrue(ConfigReference.keys(Path.of(".")).containsAll(List.of("hub.db.kind", "hub.admin.token",
                "hub.kafka.topics.consent", "hub.propagation.claim-ttl-ms", "quarkus.management.port")));
    }

    @Test
    void anUndeclaredConfigPropertyKeyFailsTheReference(@TempDir Path project) throws IOException {
        Path properties = project.resolve("src/main/resources/application.properties");
        Files.createDirectories(properties.getParent());
        Files.writeString(properties, "# Hub ---------\n\n# Declared.\nhub.declared=1\n");
        Path source = project.resolve("src/main/java/x/Settings.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, """
                package x;

                class Settings {
                    Settings(@ConfigProperty(name = "hub.declared") int declared,
                            @ConfigProperty(name = "hub.undeclared", defaultValue = "2") int undeclared) {
                    }
                }
                """);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ConfigReference.render(project));
        assertTrue(e.getMessage().contains("hub.undeclared"), e.getMessage());
        assertFalse(e.getMessage().contains("hub.declared"), e.getMessage());
    }

    @Test
    void environmentVariableNames() {
        assertEquals("HUB_DB_KIND", ConfigReference.envName("hub.db.kind"));
        assertEquals("HUB_SYSTEMS_ACME_POINTS_BASE_URL", ConfigReference.envName("hub.systems.acme-points.base-url"));
        assertEquals("QUARKUS_LOG_CATEGORY__ORG_APACHE_KAFKA__LEVEL",
                ConfigReference.envName("quarkus.log.category.\"org.apache.kafka\".level"));
    }
}
