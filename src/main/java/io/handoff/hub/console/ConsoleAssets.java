package io.handoff.hub.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import io.handoff.hub.support.JsonAnswers;

/**
 * The operator console's files (classpath {@code console/}), served by the {@code console} route at {@code /console/}.
 * They are served by a route rather than as Quarkus static resources, whose catch-all GET handler would turn every
 * "wrong method" answer of the webhook and admin routes (405) into a 404. Only the listed files exist; {@code /console}
 * redirects to {@code /console/}. The security headers come from {@code quarkus.http.filter.console.*}.
 */
@ApplicationScoped
@Named("consoleAssets")
public class ConsoleAssets {

    static final String PREFIX = "/console";
    private static final Map<String, String> TYPES = Map.of("index.html", "text/html; charset=UTF-8", "console.js",
            "text/javascript; charset=UTF-8", "console.css", "text/css; charset=UTF-8");

    private final Map<String, byte[]> files = new HashMap<>();

    public ConsoleAssets() {
        for (String name : TYPES.keySet()) {
            try (InputStream in = ConsoleAssets.class.getClassLoader().getResourceAsStream("console/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("console/" + name + " is missing from the classpath");
                }
                files.put(name, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Answers {@code GET /console/<file>}: the file, a redirect from {@code /console}, or a JSON 404. */
    public void serve(Exchange exchange) {
        String uri = exchange.getIn().getHeader(Exchange.HTTP_URI, PREFIX + "/", String.class);
        String path = uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri;
        Message answer = exchange.getMessage();
        if (path.equals(PREFIX)) {
            answer.removeHeaders("*");
            answer.setHeader(Exchange.HTTP_RESPONSE_CODE, 301);
            answer.setHeader("Location", PREFIX + "/");
            answer.setBody(new byte[0]);
            return;
        }
        String file = path.startsWith(PREFIX + "/") ? path.substring(PREFIX.length() + 1) : "";
        String name = file.isEmpty() ? "index.html" : file;
        byte[] content = files.get(name);
        if (content == null) {
            JsonAnswers.answer(exchange, 404, JsonAnswers.error("not_found", "no such console file"));
            return;
        }
        answer.removeHeaders("*");
        answer.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        answer.setHeader(Exchange.CONTENT_TYPE, TYPES.get(name));
        answer.setBody(content);
    }
}
