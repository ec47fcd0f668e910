package io.handoff.hub.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Generates the configuration reference, docs/configuration.md, from src/main/resources/application.properties (its
 * sections, declarations, commented-out declarations and the comments above them) and the {@code @ConfigMapping}
 * interfaces under src/main/java (keys, {@code @WithDefault} values and Javadoc), by reading their text. It refuses a
 * key that code reads with {@code @ConfigProperty} but that neither declares, and a key declared twice in
 * application.properties. ConfigReferenceTest checks the file is up to date. It uses the JDK only, so it runs as a
 * single-file program from the repository root:
 * {@code java src/test/java/io/handoff/hub/support/ConfigReference.java .}
 */
public final class ConfigReference {

    /** Regenerates the reference, run from the repository root. */
    public static final String COMMAND = "java src/test/java/io/handoff/hub/support/ConfigReference.java .";
    /** The reference, relative to the repository root. */
    public static final Path DOC = Path.of("docs", "configuration.md");

    private static final Path PROPERTIES = Path.of("src", "main", "resources", "application.properties");
    private static final Path SOURCES = Path.of("src", "main", "java");
    private static final String TEST_PROFILE = "%test.";

    private static final Pattern BANNER = Pattern.compile("#{3,}\\s*");
    private static final Pattern HEADER = Pattern.compile("#\\s*(\\S.*?)\\s+-{4,}\\s*");
    private static final Pattern DECLARATION = Pattern.compile("([^#!=\\s][^=\\s]*)\\s*=\\s*(.*)");
    private static final Pattern COMMENTED = Pattern.compile(
            "#\\s?((?:hub|quarkus|camel|kafka)\\.[a-z0-9.\\-\"]*)=(.*)");
    private static final Pattern CONFIG_MAPPING = Pattern.compile(
            "@ConfigMapping\\s*\\(\\s*prefix\\s*=\\s*\"([^\"]+)\"");
    private static final Pattern CONFIG_PROPERTY = Pattern.compile(
            "@ConfigProperty\\s*\\(((?:[^()\"]|\"(?:[^\"\\\\]|\\\\.)*\")*)\\)");
    private static final Pattern NAME_ATTRIBUTE = Pattern.compile("\\bname\\s*=\\s*\"([^\"]+)\"");
    private static final Pattern INTERFACE = Pattern.compile("\\binterface\\s+(\\w+)[^{;]*\\{");
    private static final Pattern METHOD = Pattern.compile(
            "((?:@\\w+(?:\\s*\\([^)]*\\))?\\s+)*)((?:default|static)\\s+)?"
            + "([\\w.]+(?:\\s*<[^;{}()]*>)?(?:\\[\\])?)\\s+(\\w+)\\s*\\(\\s*\\)\\s*[;{]");
    private static final Pattern OPTIONAL = Pattern.compile("Optional\\s*<\\s*([\\w.]+)\\s*>");
    private static final Pattern WITH_DEFAULT = Pattern.compile(
            "@WithDefault\\s*\\(\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*\\)");
    private static final Pattern WITH_NAME = Pattern.compile("@WithName\\s*\\(\\s*\"([^\"]*)\"\\s*\\)");
    private static final Pattern CODE_TAG = Pattern.compile("\\{@code\\s+([^}]*)}");

    private ConfigReference() {
    }

    /** Writes docs/configuration.md under the repository root given as the first argument (default: .). */
    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : ".");
        Path doc = root.resolve(DOC);
        Files.writeString(doc, render(root));
        System.out.println("wrote " + doc);
    }

    /**
     * The Markdown text of docs/configuration.md.
     *
     * @throws IllegalStateException if a {@code @ConfigProperty} key is declared neither in application.properties
     *         nor in a {@code @ConfigMapping} interface, or application.properties declares a key twice
     */
    public static String render(Path projectRoot) {
        Reference reference = load(projectRoot);
        List<String> problems = new ArrayList<>();
        reference.duplicates.forEach(key -> problems.add(key + " is declared more than once in " + PROPERTIES));
        Set<String> declared = keys(reference);
        configPropertyUses(projectRoot).forEach((key, files) -> {
            if (!declared.contains(key)) {
                problems.add(key + " (@ConfigProperty in " + String.join(", ", files) + ") is declared neither in "
                        + PROPERTIES + " nor in a @ConfigMapping interface");
            }
        });
        if (!problems.isEmpty()) {
            throw new IllegalStateException("a key used in code must be documented where declared:\n  "
                    + String.join("\n  ", problems));
        }
        return markdown(reference);
    }

    /**
     * Every key declared in application.properties (commented-out declarations too, %test. settings not) and in the
     * {@code @ConfigMapping} interfaces, sorted.
     */
    public static Set<String> keys(Path projectRoot) {
        return keys(load(projectRoot));
    }

    /**
     * The environment variable that sets {@code key}: upper-case, every character that is not a letter or digit
     * becomes {@code _} (hub.db.kind: HUB_DB_KIND).
     */
    public static String envName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    private static SortedSet<String> keys(Reference reference) {
        return Collections.unmodifiableSortedSet(reference.sections.stream().flatMap(s -> s.rows.stream())
                .map(row -> row.key).collect(Collectors.toCollection(TreeSet::new)));
    }

    // application.properties and the mappings, merged ------------------------------------------------------------

    /** A section of application.properties: notes (comment blocks about keys with a variable part) and keys. */
    private static final class Section {
        final String title;
        final List<List<String>> notes = new ArrayList<>();
        final List<Row> rows = new ArrayList<>();

        Section(String title) {
            this.title = title;
        }
    }

    /** One key: its default as Markdown and its description, one paragraph per source. */
    private static final class Row {
        final String key;
        final String defaultValue;
        final List<String> description = new ArrayList<>();

        Row(String key, String defaultValue, String description) {
            this.key = key;
            this.defaultValue = defaultValue;
            if (!description.isEmpty()) {
                this.description.add(description);
            }
        }
    }

    private record MappingKey(String key, String defaultValue, String description) {
    }

    private record Mapping(String prefix, String type, List<MappingKey> keys) {
    }

    private record Reference(List<Section> sections, Section testProfile, List<Mapping> mappings,
            List<String> duplicates) {
    }

    private static Reference load(Path root) {
        Section testProfile = new Section("Test profile");
        List<String> duplicates = new ArrayList<>();
        List<Section> sections = parseProperties(read(root.resolve(PROPERTIES)).lines().toList(), testProfile,
                duplicates);
        List<Mapping> mappings = mappings(root);
        for (Mapping mapping : mappings) {
            for (MappingKey key : mapping.keys) {
                merge(sections, mapping, key);
            }
        }
        sections.removeIf(s -> s.rows.isEmpty() && s.notes.isEmpty());
        return new Reference(sections, testProfile, mappings, duplicates);
    }

    /**
     * Adds a mapping's key to the row application.properties declares for it or, when it declares none, after the row
     * sharing most leading segments with it (at least the prefix); lacking one, in a section of the mapping's own.
     */
    private static void merge(List<Section> sections, Mapping mapping, MappingKey key) {
        int prefixSegments = mapping.prefix.split("\\.").length;
        Section best = null;
        int bestIndex = -1;
        int bestShared = prefixSegments;
        for (Section section : sections) {
            for (int i = 0; i < section.rows.size(); i++) {
                Row row = section.rows.get(i);
                if (row.key.equals(key.key)) {
                    if (!key.description.isEmpty()) {
                        row.description.add(key.description);
                    }
                    return;
                }
                int shared = sharedSegments(row.key, key.key);
                if (shared >= bestShared) {
                    best = section;
                    bestIndex = i;
                    bestShared = shared;
                }
            }
        }
        Row row = new Row(key.key, key.defaultValue, key.description);
        if (best == null) {
            String title = mapping.prefix + " (" + mapping.type + ")";
            best = sections.stream().filter(s -> s.title.equals(title)).findFirst().orElseGet(() -> {
                Section own = new Section(title);
                sections.add(own);
                return own;
            });
            bestIndex = best.rows.size() - 1;
        }
        best.rows.add(bestIndex + 1, row);
    }

    private static int sharedSegments(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        int n = 0;
        while (n < x.length && n < y.length && x[n].equals(y[n])) {
            n++;
        }
        return n;
    }

    // application.properties -------------------------------------------------------------------------------------

    /**
     * Sections in file order. A declaration's description is the comment block right above it; a declaration right
     * below another one without a comment of its own shares its description. %test. settings go to testProfile.
     */
    private static List<Section> parseProperties(List<String> lines, Section testProfile, List<String> duplicates) {
        List<Section> sections = new ArrayList<>();
        Section section = new Section("General");
        sections.add(section);
        List<String> block = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        boolean banner = false;
        boolean afterHeader = false;
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            Matcher header = HEADER.matcher(line);
            Matcher declaration = line.startsWith("#") ? COMMENTED.matcher(line) : DECLARATION.matcher(line);
            boolean isHeader = false;
            if (line.isEmpty()) {
                endBlock(section, block);
                banner = false;
            } else if (BANNER.matcher(line).matches()) {
                // A banner line opens a banner block or closes it (or closes the header it underlines).
                endBlock(section, block);
                banner = !banner && !afterHeader;
            } else if (header.matches()) {
                endBlock(section, block);
                section = new Section(header.group(1));
                sections.add(section);
                banner = false;
                isHeader = true;
            } else if (declaration.matches() && !(banner && line.startsWith("#"))) {
                String key = declaration.group(1);
                if (!seen.add(key)) {
                    duplicates.add(key);
                }
                Row row = new Row(key, propertiesDefault(declaration.group(2), line.startsWith("#")),
                        describe(section, block));
                (key.startsWith(TEST_PROFILE) ? testProfile : section).rows.add(row);
            } else if (line.startsWith("#")) {
                if (!banner) {
                    block.add(commentText(lines.get(n)));
                }
            } else {
                throw new IllegalStateException(PROPERTIES + ":" + (n + 1) + ": not a key=value line: " + line);
            }
            afterHeader = isHeader;
        }
        endBlock(section, block);
        return sections;
    }

    /** A comment block no declaration follows is a note of its section. */
    private static void endBlock(Section section, List<String> block) {
        if (!block.isEmpty()) {
            section.notes.add(List.copyOf(block));
            block.clear();
        }
    }

    /**
     * The description of the declaration below {@code block}, which it empties. A block that documents keys with a
     * variable part (indented lines) is a note of the section up to the last sentence that starts on a line of its
     * own after them; that sentence describes the declaration unless it ends with a colon (it introduces the keys).
     */
    private static String describe(Section section, List<String> block) {
        int lastIndented = -1;
        for (int i = 0; i < block.size(); i++) {
            if (block.get(i).startsWith("  ")) {
                lastIndented = i;
            }
        }
        int start = 0;
        if (lastIndented >= 0) {
            start = block.size();
            for (int i = block.size() - 1; i > lastIndented; i--) {
                if (i - 1 == lastIndented || block.get(i - 1).endsWith(".")) {
                    start = i;
                    break;
                }
            }
            if (block.get(block.size() - 1).endsWith(":")) {
                start = block.size();
            }
            section.notes.add(List.copyOf(block.subList(0, start)));
        }
        String description = block.subList(start, block.size()).stream().map(String::strip)
                .collect(Collectors.joining(" "));
        block.clear();
        return description;
    }

    /** A comment line without its # and the one space after it; further indentation is kept. */
    private static String commentText(String line) {
        String text = line.strip().substring(1);
        return text.startsWith(" ") ? text.substring(1) : text;
    }

    private static String propertiesDefault(String value, boolean commented) {
        if (commented) {
            return value.isEmpty() ? "unset" : "unset (e.g. " + code(value) + ")";
        }
        return value.isEmpty() ? "empty" : code(value);
    }

    // @ConfigMapping interfaces ----------------------------------------------------------------------------------

    private record Body(String name, int open, int close) {
    }

    private record Method(String annotations, boolean concrete, String type, String name, String javadoc) {
    }

    private static List<Mapping> mappings(Path root) {
        List<Mapping> mappings = new ArrayList<>();
        for (Map.Entry<String, String> file : javaSources(root).entrySet()) {
            String source = file.getValue();
            if (!source.contains("@ConfigMapping")) {
                continue;
            }
            String code = mask(source);
            Map<String, Body> bodies = interfaceBodies(code);
            Map<String, List<Method>> methods = methods(source, code, bodies);
            Matcher annotation = CONFIG_MAPPING.matcher(source);
            while (annotation.find()) {
                if (code.charAt(annotation.start()) != '@') {
                    continue; // in a comment
                }
                Matcher type = INTERFACE.matcher(code);
                if (!type.find(annotation.end())) {
                    throw new IllegalStateException(file.getKey() + ": no interface after @ConfigMapping");
                }
                List<MappingKey> keys = new ArrayList<>();
                collect(annotation.group(1), type.group(1), methods, keys);
                mappings.add(new Mapping(annotation.group(1), type.group(1), keys));
            }
        }
        return mappings;
    }

    /** The keys of interface {@code type} under {@code prefix}, recursing into the nested interfaces it returns. */
    private static void collect(String prefix, String type, Map<String, List<Method>> methods, List<MappingKey> keys) {
        for (Method method : methods.getOrDefault(type, List.of())) {
            if (method.concrete) {
                continue;
            }
            Matcher withName = WITH_NAME.matcher(method.annotations);
            String key = prefix + "." + (withName.find() ? withName.group(1) : kebab(method.name));
            Matcher optional = OPTIONAL.matcher(method.type);
            boolean isOptional = optional.matches();
            String valueType = isOptional ? optional.group(1) : method.type;
            String simpleType = valueType.substring(valueType.lastIndexOf('.') + 1);
            if (methods.containsKey(simpleType)) {
                collect(key, simpleType, methods, keys);
                continue;
            }
            Matcher withDefault = WITH_DEFAULT.matcher(method.annotations);
            String defaultValue;
            if (withDefault.find()) {
                String value = withDefault.group(1).replaceAll("\\\\(.)", "$1");
                defaultValue = value.isEmpty() ? "empty" : code(value);
            } else {
                defaultValue = isOptional ? "unset" : "—";
            }
            keys.add(new MappingKey(key, defaultValue, method.javadoc));
        }
    }

    /** Each interface's body by name, from the masked source. */
    private static Map<String, Body> interfaceBodies(String code) {
        Map<String, Body> bodies = new LinkedHashMap<>();
        Matcher type = INTERFACE.matcher(code);
        while (type.find()) {
            int open = type.end() - 1;
            int depth = 0;
            int close = open;
            do {
                char c = code.charAt(close++);
                depth += c == '{' ? 1 : c == '}' ? -1 : 0;
            } while (depth > 0);
            bodies.put(type.group(1), new Body(type.group(1), open, close - 1));
        }
        return bodies;
    }

    /** The methods declared directly in each interface body (not in a nested one, nor in a default method's body). */
    private static Map<String, List<Method>> methods(String source, String code, Map<String, Body> bodies) {
        int[] depth = new int[code.length() + 1];
        for (int i = 0; i < code.length(); i++) {
            char c = code.charAt(i);
            depth[i + 1] = depth[i] + (c == '{' ? 1 : c == '}' ? -1 : 0);
        }
        Map<String, List<Method>> methods = new LinkedHashMap<>();
        bodies.keySet().forEach(name -> methods.put(name, new ArrayList<>()));
        Matcher m = METHOD.matcher(code);
        while (m.find()) {
            int start = m.start();
            Body owner = bodies.values().stream().filter(b -> b.open < start && start < b.close)
                    .reduce((a, b) -> a.open > b.open ? a : b).orElse(null);
            if (owner == null || depth[start] != depth[owner.open] + 1) {
                continue;
            }
            methods.get(owner.name).add(new Method(source.substring(m.start(1), m.end(1)), m.group(2) != null,
                    m.group(3).replaceAll("\\s+", ""), m.group(4), javadoc(source, start)));
        }
        return methods;
    }

    /** The Javadoc right above {@code start}, whitespace collapsed and {@code {@code x}} as a code span. */
    private static String javadoc(String source, int start) {
        String before = source.substring(0, start).stripTrailing();
        int open = before.lastIndexOf("/*");
        if (!before.endsWith("*/") || !before.startsWith("/**", open)) {
            return "";
        }
        String text = before.substring(open + 3, before.length() - 2).lines()
                .map(line -> line.strip().replaceFirst("^\\*\\s?", "")).collect(Collectors.joining(" "));
        text = text.replaceAll("\\s+", " ").strip();
        return CODE_TAG.matcher(text).replaceAll(tag -> Matcher.quoteReplacement("`" + tag.group(1).strip() + "`"));
    }

    private static String kebab(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /** The source with comments and the contents of string and character literals blanked, offsets unchanged. */
    private static String mask(String source) {
        StringBuilder code = new StringBuilder(source);
        int n = source.length();
        int i = 0;
        while (i < n) {
            char c = source.charAt(i);
            if (source.startsWith("//", i)) {
                int end = indexOrEnd(source, "\n", i);
                blank(code, i, end);
                i = end;
            } else if (source.startsWith("/*", i)) {
                int end = Math.min(n, indexOrEnd(source, "*/", i + 2) + 2);
                blank(code, i, end);
                i = end;
            } else if (source.startsWith("\"\"\"", i)) {
                int end = indexOrEnd(source, "\"\"\"", i + 3);
                blank(code, i + 3, end);
                i = end + 3;
            } else if (c == '"' || c == '\'') {
                int end = i + 1;
                while (end < n && source.charAt(end) != c) {
                    end += source.charAt(end) == '\\' ? 2 : 1;
                }
                blank(code, i + 1, Math.min(end, n));
                i = end + 1;
            } else {
                i++;
            }
        }
        return code.toString();
    }

    private static int indexOrEnd(String text, String target, int from) {
        int index = text.indexOf(target, from);
        return index < 0 ? text.length() : index;
    }

    private static void blank(StringBuilder code, int from, int to) {
        for (int i = from; i < to; i++) {
            if (code.charAt(i) != '\n') {
                code.setCharAt(i, ' ');
            }
        }
    }

    // @ConfigProperty uses ---------------------------------------------------------------------------------------

    /** Each key read with {@code @ConfigProperty}, with the files reading it. */
    private static Map<String, List<String>> configPropertyUses(Path root) {
        Map<String, List<String>> uses = new TreeMap<>();
        javaSources(root).forEach((file, source) -> {
            Matcher annotation = CONFIG_PROPERTY.matcher(source);
            while (annotation.find()) {
                Matcher name = NAME_ATTRIBUTE.matcher(annotation.group(1));
                if (name.find()) {
                    List<String> files = uses.computeIfAbsent(name.group(1), k -> new ArrayList<>());
                    if (!files.contains(file)) {
                        files.add(file);
                    }
                }
            }
        });
        return uses;
    }

    /** The text of every .java file under src/main/java by its path from the root, in path order. */
    private static Map<String, String> javaSources(Path root) {
        Path sources = root.resolve(SOURCES);
        Map<String, String> files = new TreeMap<>();
        if (!Files.isDirectory(sources)) {
            return files;
        }
        try (Stream<Path> walk = Files.walk(sources)) {
            walk.filter(p -> p.toString().endsWith(".java")).forEach(p -> files.put(
                    root.relativize(p).toString().replace('\\', '/'), read(p)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // Markdown ---------------------------------------------------------------------------------------------------

    private static String markdown(Reference reference) {
        StringBuilder md = new StringBuilder();
        md.append("# Configuration reference\n\n");
        md.append("Generated by `ConfigReference` (src/test/java/io/handoff/hub/support/ConfigReference.java) from\n")
                .append("`src/main/resources/application.properties` and the `@ConfigMapping` interfaces\n")
                .append(reference.mappings.stream().map(m -> "`" + m.type + "` (`" + m.prefix + ".*`)")
                        .collect(Collectors.joining(", ")))
                .append("; do not edit it by hand.\n`ConfigReferenceTest` fails when it is out of date; ")
                .append("regenerate it from the repository root with:\n\n")
                .append("```\n").append(COMMAND).append("\n```\n\n");
        md.append("Every key can be set from the environment, but those whose description starts with \"Build time\" ")
                .append("take effect only when the\napplication is built. The variable's name: upper-case, every ")
                .append("character that is not a letter or ")
                .append("digit becomes `_`\n(`hub.db.kind` → `").append(envName("hub.db.kind")).append("`, ")
                .append("`quarkus.log.category.\"org.apache.kafka\".level` →\n`")
                .append(envName("quarkus.log.category.\"org.apache.kafka\".level")).append("`).\n\n");
        md.append("Sections follow application.properties; a key only an interface declares is listed next to\n")
                .append("its neighbours. Default: the value application.properties sets (`${...}` expressions as\n")
                .append("written), ")
                .append("else the interface's `@WithDefault`; *unset*: commented out or optional; *empty*: the\n")
                .append("empty string; —: none (required). A key with an empty description is covered by the comment\n")
                .append("of the ")
                .append("keys above it, if any. Comments about keys with a variable part (`<name>`) are quoted\n")
                .append("above the table. The test profile's `%test.` settings are listed in the last section,\n")
                .append("[Test profile](#test-profile).\n\n");
        md.append("Contents:\n\n");
        for (Section section : reference.sections) {
            md.append("- [").append(section.title).append("](#").append(anchor(section.title)).append(")\n");
        }
        md.append("- [Test profile](#test-profile)\n\n");
        for (Section section : reference.sections) {
            md.append("## ").append(section.title).append("\n\n");
            for (List<String> note : section.notes) {
                md.append("```text\n").append(String.join("\n", note)).append("\n```\n\n");
            }
            table(md, section.rows);
        }
        md.append("## Test profile\n\nSettings of the `test` profile (`%test.` prefix), used by the tests only.\n\n");
        table(md, reference.testProfile.rows);
        return md.toString().stripTrailing() + "\n";
    }

    private static void table(StringBuilder md, List<Row> rows) {
        if (rows.isEmpty()) {
            return;
        }
        md.append("| Key | Environment variable | Default | Description |\n|---|---|---|---|\n");
        for (Row row : rows) {
            md.append("| ").append(code(row.key)).append(" | ").append(code(envName(row.key))).append(" | ")
                    .append(row.defaultValue).append(" | ")
                    .append(row.description.stream().map(ConfigReference::text).collect(Collectors.joining("<br>")))
                    .append(" |\n");
        }
        md.append('\n');
    }

    /** GitHub's anchor of a heading: lower-case, punctuation dropped, spaces as hyphens. */
    private static String anchor(String title) {
        return title.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9 _-]", "").replace(' ', '-');
    }

    private static String code(String value) {
        return "`" + value.replace("|", "\\|") + "`";
    }

    /** Prose for a table cell: | escaped everywhere, markup characters outside code spans. */
    private static String text(String prose) {
        String[] parts = prose.split("`", -1);
        StringBuilder cell = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i].replace("|", "\\|");
            if (i % 2 == 0) {
                part = part.replace("*", "\\*").replace("<", "&lt;").replace(">", "&gt;");
            }
            cell.append(i > 0 ? "`" : "").append(part);
        }
        return cell.toString();
    }
}
