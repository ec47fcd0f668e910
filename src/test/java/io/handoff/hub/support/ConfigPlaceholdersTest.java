package io.handoff.hub.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.inject.Inject;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The routes' placeholders are answered by {@link ConfigPlaceholders}, key by key, with the configuration's values;
 * Camel's {@code {{key:default}}} still falls back when a key is not configured.
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
class ConfigPlaceholdersTest {

    @Inject
    CamelContext context;

    @ConfigProperty(name = "hub.consumers.redelivery-delay-ms")
    String redeliveryDelay;

    @Test
    void placeholdersResolveFromTheConfigurationThroughTheHubsSourceFirst() {
        PropertiesComponent properties = context.getPropertiesComponent();
        assertInstanceOf(ConfigPlaceholders.class, properties.getPropertiesSources().get(0),
                "the hub's source is asked first: " + properties.getPropertiesSources());

        List<String> answeredBy = new CopyOnWriteArrayList<>();
        properties.addPropertiesLookupListener((name, value, defaultValue, source) -> {
            if (name.equals("hub.consumers.redelivery-delay-ms")) {
                answeredBy.add(source);
            }
        });
        assertEquals(redeliveryDelay, context.resolvePropertyPlaceholders("{{hub.consumers.redelivery-delay-ms}}"));
        assertEquals(List.of("hub-config"), answeredBy);
    }

    @Test
    void aKeyNotConfiguredFallsBackToThePlaceholdersDefault() {
        assertNull(new ConfigPlaceholders().getProperty("hub.no-such-key"));
        assertEquals("fallback", context.resolvePropertyPlaceholders("{{hub.no-such-key:fallback}}"));
    }
}
