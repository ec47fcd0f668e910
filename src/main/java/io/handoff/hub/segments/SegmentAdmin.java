package io.handoff.hub.segments;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.feeds.FeedStatus;
import io.handoff.hub.segments.SegmentEvaluator.Member;
import io.handoff.hub.segments.SegmentEvaluator.Result;
import io.handoff.hub.support.ClientErrorException;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.JsonAnswers;

/**
 * {@code POST /api/segments/{id}/evaluate} (admin token; optional JSON body {@code {"parameters": {"sku": "..."}}}):
 * {@code 200 {"status": "READY", "asOf", "members": [...], "feeds": [...]}}, or {@code 409 {"status": "HELD",
 * "staleFeeds": [{"feed", "status", "lag", "tolerance", "reasons"}]}} while a feed it depends on is not fresh. 404 for
 * an unknown segment. {@code GET /api/segments} lists the definitions.
 */
@ApplicationScoped
@Named("segmentAdmin")
public class SegmentAdmin {

    private static final Logger LOG = Logger.getLogger(SegmentAdmin.class);
    /** The parameters the rules read (SegmentEvaluator). */
    static final java.util.Set<String> KNOWN_PARAMETERS = java.util.Set.of("sku", "tier", "program", "promotion");

    private final SegmentSettings settings;
    private final SegmentEvaluator evaluator;

    public SegmentAdmin(SegmentSettings settings, SegmentEvaluator evaluator) {
        this.settings = settings;
        this.evaluator = evaluator;
    }

    public void evaluate(Exchange exchange) {
        String id = exchange.getMessage().getHeader("id", String.class);
        SegmentSettings.Segment segment = settings.segment(id).orElseThrow(() -> new ClientErrorException(404,
                "unknown_segment", "no segment " + id + " in " + SegmentSettings.FILE));
        Result result = evaluator.evaluate(segment, parameters(exchange.getMessage().getBody(byte[].class)));
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("status", result.held() ? "HELD" : "READY");
        body.put("segment", segment.id());
        body.put("asOf", result.asOf().toString());
        if (result.held()) {
            ArrayNode stale = body.putArray("staleFeeds");
            result.staleFeeds().forEach(f -> stale.add(feed(f)));
            body.put("why", "evaluated at send time; held, not fired, while a feed it depends on is not fresh");
        } else {
            body.put("count", result.members().size());
            ArrayNode members = body.putArray("members");
            for (Member m : result.members()) {
                ObjectNode member = members.addObject().put("hubId", m.hubId()).put("email", m.email());
                if (m.sku() != null) {
                    member.put("sku", m.sku());
                }
            }
        }
        ArrayNode feeds = body.putArray("feeds");
        result.feeds().forEach(f -> feeds.add(feed(f)));
        body.put("evaluationMs", result.evaluationMs());
        LOG.infof("segment %s evaluated: %s%s in %d ms", segment.id(), result.held() ? "HELD by " : "READY, ",
                result.held() ? result.staleFeeds().stream().map(f -> f.feed().id()).toList().toString()
                        : result.members().size() + " members", result.evaluationMs());
        JsonAnswers.answer(exchange, result.held() ? 409 : 200, body);
    }

    public void list(Exchange exchange) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode segments = body.putArray("segments");
        settings.segments().forEach(s -> segments.add(Json.MAPPER.valueToTree(s)));
        JsonAnswers.answer(exchange, 200, body);
    }

    static ObjectNode feed(FeedStatus f) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        node.put("feed", f.feed().id());
        node.put("status", f.status());
        node.put("lag", f.lag() == null ? null : f.lag().toString());
        node.put("lagSeconds", f.lag() == null ? null : f.lag().toSeconds());
        node.put("tolerance", f.feed().tolerance().toString());
        node.set("reasons", Json.MAPPER.valueToTree(f.reasons()));
        return node;
    }

    static Map<String, String> parameters(byte[] body) {
        Map<String, String> parameters = new HashMap<>();
        if (body == null || body.length == 0) {
            return parameters;
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new ClientErrorException(400, "malformed_json", "body is not valid JSON");
        }
        if (node == null || node.isMissingNode() || node.isNull()) {
            return parameters;
        }
        JsonNode given = node.path("parameters");
        if (!node.isObject() || (!given.isMissingNode() && !given.isObject())) {
            throw new ClientErrorException(400, "invalid_parameters", "body must be {\"parameters\": {name: value}}");
        }
        given.fields().forEachRemaining(e -> {
            if (!KNOWN_PARAMETERS.contains(e.getKey())) {
                throw new ClientErrorException(400, "invalid_parameters", "unknown parameter " + e.getKey()
                        + " (known: " + KNOWN_PARAMETERS + ")");
            }
            if (!e.getValue().isTextual() || e.getValue().asText().isBlank()) {
                throw new ClientErrorException(400, "invalid_parameters", "parameter " + e.getKey()
                        + " must be a non-empty string");
            }
            parameters.put(e.getKey(), e.getValue().asText());
        });
        return parameters;
    }
}
