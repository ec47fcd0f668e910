package io.handoff.hub.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.handoff.hub.support.ClientErrorException;
import io.handoff.hub.support.JsonAnswers;

/**
 * Guards and answers the admin API ({@code /api/*}): a bearer token from {@code hub.admin.token}
 * (env {@code HUB_ADMIN_TOKEN}), compared in constant time. Without a configured token the admin API refuses every
 * request, so a deployment that forgot the Secret is closed, not open.
 */
@ApplicationScoped
@Named("adminApi")
public class AdminApi {

    private static final Logger LOG = Logger.getLogger(AdminApi.class);

    private final Optional<byte[]> token;

    public AdminApi(
            // Bearer token of the admin API; unset disables it.
            @ConfigProperty(name = "hub.admin.token") Optional<String> token) {
        this.token = token.map(String::strip).filter(t -> !t.isEmpty()).map(t -> t.getBytes(StandardCharsets.UTF_8));
    }

    /** 401 unless the request carries {@code Authorization: Bearer <hub.admin.token>}. */
    public void authorize(Exchange exchange) {
        if (token.isEmpty()) {
            throw new ClientErrorException(401, "admin_api_disabled",
                    "the admin API is disabled: set hub.admin.token (HUB_ADMIN_TOKEN)");
        }
        String header = exchange.getMessage().getHeader("Authorization", String.class);
        byte[] presented = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).strip().getBytes(StandardCharsets.UTF_8)
                : new byte[0];
        if (!MessageDigest.isEqual(token.get(), presented)) {
            throw new ClientErrorException(401, "unauthorized", "missing or wrong bearer token");
        }
    }

    /** The JSON answer of a {@link ClientErrorException}. */
    public void clientError(Exchange exchange) {
        ClientErrorException error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, ClientErrorException.class);
        JsonAnswers.answer(exchange, error.status(), JsonAnswers.error(error.code(), error.getMessage()));
    }

    /** 503 when Kafka or the database does not answer. */
    public void unavailable(Exchange exchange) {
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        LOG.warnf("admin request failed: %s", cause == null ? "unknown" : cause.getClass().getSimpleName());
        JsonAnswers.answer(exchange, 503, JsonAnswers.error("unavailable", "a backing service did not answer"), "5");
    }

    /** 500 for anything unexpected. */
    public void failed(Exchange exchange) {
        LOG.error("admin request failed", exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class));
        JsonAnswers.answer(exchange, 500, JsonAnswers.error("internal_error", "the request could not be processed"));
    }
}
