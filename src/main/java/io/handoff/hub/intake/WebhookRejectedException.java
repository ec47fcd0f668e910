package io.handoff.hub.intake;

/**
 * A webhook delivery the hub refuses with a 4xx answer. Thrown by the intake beans, turned into a JSON error
 * body by the {@code webhook-errors} route configuration. Nothing has been written when it is thrown.
 */
public class WebhookRejectedException extends RuntimeException {

    private final int status;
    private final String code;

    public WebhookRejectedException(int status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    public static WebhookRejectedException badRequest(String code, String message) {
        return new WebhookRejectedException(400, code, message);
    }

    public static WebhookRejectedException unauthorized(String message) {
        return new WebhookRejectedException(401, "invalid_signature", message);
    }

    /** The HTTP status to answer with. */
    public int status() {
        return status;
    }

    /** A stable, machine-readable error code for the JSON body (e.g. {@code invalid_signature}). */
    public String code() {
        return code;
    }
}
