package io.handoff.hub.feeds;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.handoff.hub.event.EventType;
import io.handoff.hub.support.SettingsFiles;

/**
 * The feed registry integration teams edit: {@code routes/feeds-settings.yaml} (in {@code hub.routes-dir}; the
 * {@code -settings.yaml} ending keeps Camel from loading it as routes). Per feed: its system, mode (event, batch,
 * poll), the canonical events that belong to it, expected cadence, staleness tolerance, customer-facing impact,
 * whether its consumers are time-sensitive, whether a run is expected to bring records, and the segments depending on
 * it. {@code hub.feeds.<id>.cadence} / {@code .tolerance} (ISO-8601, env {@code HUB_FEEDS_<ID>_TOLERANCE}) override
 * the file per deployment. Read once at start; a bad file stops the start naming the file and the problem.
 */
@ApplicationScoped
public class FeedSettings {

    public static final String FILE = "feeds-settings.yaml";

    public enum Mode {
        EVENT, BATCH, POLL;

        public String wireName() {
            return name().toLowerCase();
        }
    }

    /** One feed, with the overrides of the configuration applied. */
    public record Feed(String id, String system, Mode mode, Set<EventType> events, Duration cadence,
            Duration tolerance, String impact, boolean timeSensitive, boolean expectRecords, List<String> segments) {

        /** True if an event of this type from this system belongs to the feed. */
        public boolean takes(String fromSystem, EventType type) {
            return system.equals(fromSystem) && events.contains(type);
        }
    }

    record FeedEntry(@JsonProperty(value = "id", required = true) String id,
            @JsonProperty(value = "system", required = true) String system,
            @JsonProperty(value = "mode", required = true) String mode,
            @JsonProperty("events") List<String> events,
            @JsonProperty("cadence") Duration cadence,
            @JsonProperty(value = "tolerance", required = true) Duration tolerance,
            @JsonProperty("impact") String impact,
            @JsonProperty("timeSensitive") Boolean timeSensitive,
            @JsonProperty("expectRecords") Boolean expectRecords,
            @JsonProperty("segments") List<String> segments) {
    }

    record File(@JsonProperty(value = "feeds", required = true) List<FeedEntry> feeds) {
    }

    private final List<Feed> feeds;

    public FeedSettings(@ConfigProperty(name = "hub.routes-dir") String routesDir, Config config) {
        this.feeds = read(Path.of(routesDir).resolve(FILE), config);
    }

    static List<Feed> read(Path path, Config config) {
        if (!Files.isRegularFile(path)) {
            return List.of();
        }
        try {
            File file = SettingsFiles.read(path, File.class);
            List<Feed> feeds = new ArrayList<>();
            Set<String> ids = new HashSet<>();
            for (FeedEntry e : file.feeds()) {
                if (!e.id().matches("[a-z0-9][a-z0-9.-]{0,126}")) {
                    throw new IllegalArgumentException("feed id " + e.id() + " must be lower-case letters, digits, . and -");
                }
                if (!ids.add(e.id())) {
                    throw new IllegalArgumentException("feed " + e.id() + " is declared twice");
                }
                Mode mode = Mode.valueOf(e.mode().toUpperCase());
                Set<EventType> events = new HashSet<>();
                for (String name : e.events() == null ? List.<String>of() : e.events()) {
                    events.add(EventType.fromWireName(name).orElseThrow(() -> new IllegalArgumentException("feed "
                            + e.id() + ": no event type " + name)));
                }
                if (mode == Mode.EVENT && events.isEmpty()) {
                    throw new IllegalArgumentException("feed " + e.id() + " is an event feed without events");
                }
                Duration cadence = override(config, e.id(), "cadence").orElse(e.cadence());
                Duration tolerance = override(config, e.id(), "tolerance").orElse(e.tolerance());
                if (tolerance.isNegative() || tolerance.isZero()) {
                    throw new IllegalArgumentException("feed " + e.id() + ": tolerance must be positive");
                }
                feeds.add(new Feed(e.id(), e.system(), mode, Set.copyOf(events), cadence, tolerance,
                        e.impact() == null ? "" : e.impact(), Boolean.TRUE.equals(e.timeSensitive()),
                        Boolean.TRUE.equals(e.expectRecords()), e.segments() == null ? List.of() : e.segments()));
            }
            return List.copyOf(feeds);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException(path + ": " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    private static Optional<Duration> override(Config config, String id, String key) {
        return config == null ? Optional.empty()
                : config.getOptionalValue("hub.feeds." + id + "." + key, String.class).map(Duration::parse);
    }

    public List<Feed> feeds() {
        return feeds;
    }

    public Optional<Feed> feed(String id) {
        return feeds.stream().filter(f -> f.id().equals(id)).findFirst();
    }

    /** The feed an event from {@code system} of {@code type} belongs to, if any. */
    public Optional<Feed> feedOf(String system, EventType type) {
        return feeds.stream().filter(f -> f.takes(system, type)).findFirst();
    }
}
