package io.handoff.hub.segments;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.handoff.hub.feeds.FeedSettings;
import io.handoff.hub.support.SettingsFiles;

/**
 * Segment definitions integration teams edit: {@code routes/segments-settings.yaml}. Per segment: the rule it is
 * evaluated by ({@link SegmentEvaluator#RULES}), the rule's parameters, the feeds it depends on (it is held while any
 * of them is not fresh), and the consent channel and purpose its members must be marketable for (default email /
 * marketing). Read once at start; an unknown rule or feed stops the start naming the file.
 */
@ApplicationScoped
public class SegmentSettings {

    public static final String FILE = "segments-settings.yaml";

    public record Segment(@JsonProperty(value = "id", required = true) String id,
            @JsonProperty(value = "rule", required = true) String rule,
            @JsonProperty("description") String description,
            @JsonProperty(value = "feeds", required = true) List<String> feeds,
            @JsonProperty("parameters") Map<String, String> parameters,
            @JsonProperty("channel") String channel,
            @JsonProperty("purpose") String purpose) {

        public Segment {
            parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
            channel = channel == null ? "email" : channel;
            purpose = purpose == null ? "marketing" : purpose;
            description = description == null ? "" : description;
        }
    }

    record File(@JsonProperty(value = "segments", required = true) List<Segment> segments) {
    }

    private final List<Segment> segments;

    public SegmentSettings(@ConfigProperty(name = "hub.routes-dir") String routesDir, FeedSettings feeds) {
        this.segments = read(Path.of(routesDir).resolve(FILE), feeds);
    }

    static List<Segment> read(Path path, FeedSettings feeds) {
        if (!Files.isRegularFile(path)) {
            return List.of();
        }
        try {
            List<Segment> segments = SettingsFiles.read(path, File.class).segments();
            Set<String> ids = new HashSet<>();
            for (Segment s : segments) {
                if (!ids.add(s.id())) {
                    throw new IllegalArgumentException("segment " + s.id() + " is declared twice");
                }
                if (!SegmentEvaluator.RULES.contains(s.rule())) {
                    throw new IllegalArgumentException("segment " + s.id() + ": no rule " + s.rule() + " (rules: "
                            + SegmentEvaluator.RULES + ")");
                }
                for (String feed : s.feeds()) {
                    if (feeds.feed(feed).isEmpty()) {
                        throw new IllegalArgumentException("segment " + s.id() + " depends on feed " + feed
                                + ", which is not in " + FeedSettings.FILE);
                    }
                }
                if (!"email".equals(s.channel()) && !"sms".equals(s.channel())) {
                    throw new IllegalArgumentException("segment " + s.id() + ": channel must be email or sms");
                }
            }
            return List.copyOf(segments);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException(path + ": " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    public List<Segment> segments() {
        return segments;
    }

    public Optional<Segment> segment(String id) {
        return segments.stream().filter(s -> s.id().equals(id)).findFirst();
    }
}
