package io.handoff.hub.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.NonValidationKeyword;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

/**
 * The vendor request schemas under {@code vendor-contracts/} on the classpath (copies of ../shared/vendor-contracts):
 * the sandbox rejects what they reject, and the contract tests validate every outbound body against them. Klaviyo's
 * and HubSpot's are OpenAPI 3.0 schema objects; their OpenAPI-only keywords ({@code nullable}, {@code example}) carry
 * no constraint the hub relies on and are ignored.
 */
public final class ContractSchemas {

    private static final Map<String, JsonSchema> CACHE = new ConcurrentHashMap<>();

    private ContractSchemas() {
    }

    /** Violations of the schema at {@code resource} (a JSON file), or of the JSON pointer inside it; empty if valid. */
    public static List<String> violations(String resource, String pointer, JsonNode instance) {
        JsonSchema schema = CACHE.computeIfAbsent(resource + "#" + pointer, k -> load(resource, pointer));
        return schema.validate(instance).stream().map(ValidationMessage::getMessage).sorted().toList();
    }

    public static List<String> violations(String resource, JsonNode instance) {
        return violations(resource, "", instance);
    }

    private static JsonSchema load(String resource, String pointer) {
        try (InputStream in = ContractSchemas.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no schema " + resource);
            }
            JsonNode node = Json.MAPPER.readTree(in);
            if (!pointer.isEmpty()) {
                node = node.at(pointer);
                if (node.isMissingNode()) {
                    throw new IllegalArgumentException("no " + pointer + " in " + resource);
                }
            }
            SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
            if (node.has("$schema")) {
                return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(node, config);
            }
            // An OpenAPI 3.0 schema object: JSON Schema draft 4 plus annotations that constrain nothing here.
            JsonMetaSchema openApi = JsonMetaSchema.builder(JsonMetaSchema.getV4().getIri(), JsonMetaSchema.getV4())
                    .keywords(List.of(new NonValidationKeyword("nullable"), new NonValidationKeyword("example"),
                            new NonValidationKeyword("$comment")))
                    .build();
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4, b -> b.metaSchema(openApi))
                    .getSchema(node, config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
