package io.handoff.hub.intake;

import io.handoff.hub.support.ClientErrorException;

/**
 * A webhook delivery the hub refuses with a 4xx answer. Thrown by the intake beans, turned into a JSON error
 * body by the {@code webhook-errors} route configuration. Nothing has been written when it is thrown.
 */
public class WebhookRejectedException extends ClientErrorException {

    public WebhookRejectedException(int status, String code, String message) {
        super(status, code, message);
    }

    public static WebhookRejectedException badRequest(String code, String message) {
        return new WebhookRejectedException(400, code, message);
    }

    public static WebhookRejectedException unauthorized(String message) {
        return new WebhookRejectedException(401, "invalid_signature", message);
    }
}
