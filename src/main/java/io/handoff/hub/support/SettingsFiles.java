package io.handoff.hub.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * Reads the settings files integration teams edit next to the routes ({@code routes/*-settings.yaml}): strictly (an
 * unknown key is an error, not ignored), with java.time types (ISO-8601 durations).
 */
public final class SettingsFiles {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).findAndRegisterModules();

    private SettingsFiles() {
    }

    public static <T> T read(Path path, Class<T> type) throws IOException {
        return YAML.readValue(Files.readAllBytes(path), type);
    }
}
