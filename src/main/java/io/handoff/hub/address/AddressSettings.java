package io.handoff.hub.address;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.handoff.hub.address.AddressVerdicts.Level;
import io.handoff.hub.support.SettingsFiles;

/**
 * The address write-back rules integration teams edit: {@code routes/address-writeback-settings.yaml} (in
 * {@code hub.routes-dir}; the {@code -settings.yaml} ending keeps Camel from loading it as routes). Read once at start;
 * an unknown key, an unknown level or a field without owners stops the start with the file's name and the problem.
 * See docs/address-writeback.md for every key.
 */
@ApplicationScoped
public class AddressSettings {

    public static final String FILE = "address-writeback-settings.yaml";

    /** A verification an address needs: its level at least {@code level} and its score at least {@code score}. */
    public record Threshold(@JsonProperty(value = "level", required = true) String level,
            @JsonProperty(value = "score", required = true) int score) {

        public Level minimumLevel() {
            return Level.of(level);
        }

        public String describe() {
            return level + " and score " + score;
        }
    }

    /** A field: who owns it, and the threshold if it differs from the default. */
    public record Field(@JsonProperty(value = "owners", required = true) List<String> owners, Threshold threshold) {
    }

    /** A CRM holding the master profile, and where each hub field goes in it (Salesforce: a Contact address prefix). */
    public record Crm(@JsonProperty(value = "system", required = true) String system,
            @JsonProperty(value = "fields", required = true) Map<String, String> fields) {
    }

    /** A system that draws addresses from the CRM master, and the fields it gets. */
    public record Downstream(@JsonProperty(value = "system", required = true) String system,
            @JsonProperty(value = "fields", required = true) List<String> fields) {
    }

    record File(@JsonProperty(value = "crm", required = true) List<Crm> crm,
            @JsonProperty(value = "threshold", required = true) Threshold threshold,
            @JsonProperty("echoWindow") Duration echoWindow,
            @JsonProperty(value = "fields", required = true) Map<String, Field> fields,
            @JsonProperty("downstream") List<Downstream> downstream) {
    }

    private final Path path;
    private final File file;

    public AddressSettings(@ConfigProperty(name = "hub.routes-dir") String routesDir) {
        this.path = Path.of(routesDir).resolve(FILE);
        this.file = read(path);
    }

    static File read(Path path) {
        if (!Files.isRegularFile(path)) {
            // No file: no write-back (nothing is written to any CRM), said once at start.
            return new File(List.of(), new Threshold("verified", 90), null, Map.of(), List.of());
        }
        File file;
        try {
            file = SettingsFiles.read(path, File.class);
        } catch (IOException e) {
            throw new IllegalStateException(path + ": " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        check(path, file);
        return file;
    }

    private static void check(Path path, File file) {
        try {
            file.threshold().minimumLevel();
            file.fields().forEach((name, field) -> {
                if (field.owners().isEmpty()) {
                    throw new IllegalArgumentException("field " + name + " has no owners");
                }
                if (field.threshold() != null) {
                    field.threshold().minimumLevel();
                }
            });
            for (Crm crm : file.crm()) {
                for (String field : crm.fields().keySet()) {
                    if (!file.fields().containsKey(field)) {
                        throw new IllegalArgumentException("crm " + crm.system() + " maps field " + field
                                + ", which is not under fields");
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(path + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    /** The CRMs holding the master profile, in the file's order. */
    public List<Crm> crms() {
        return file.crm();
    }

    public Optional<Crm> crm(String system) {
        return file.crm().stream().filter(c -> c.system().equals(system)).findFirst();
    }

    public boolean isCrm(String system) {
        return crm(system).isPresent();
    }

    /** The fields by name, in the file's order. */
    public Map<String, Field> fields() {
        return new LinkedHashMap<>(file.fields());
    }

    public Optional<Field> field(String name) {
        return Optional.ofNullable(file.fields().get(name));
    }

    public Threshold threshold(String field) {
        return field(field).map(Field::threshold).orElse(file.threshold());
    }

    /**
     * True if events of {@code system} may change {@code field} in the master. The CRMs holding the master are owners
     * of every field they map: an edit made there (a support agent on the phone) is the master changing.
     */
    public boolean owns(String system, String field) {
        return field(field).map(f -> f.owners().contains(system)).orElse(false)
                || crm(system).map(c -> c.fields().containsKey(field)).orElse(false);
    }

    public Set<String> owners(String field) {
        return field(field).map(f -> Set.copyOf(f.owners())).orElse(Set.of());
    }

    /** How long after a write a CRM notification carrying the written value counts as the hub's echo. */
    public Duration echoWindow() {
        return file.echoWindow() == null ? Duration.ofHours(24) : file.echoWindow();
    }

    public List<Downstream> downstream() {
        return file.downstream() == null ? List.of() : file.downstream();
    }
}
