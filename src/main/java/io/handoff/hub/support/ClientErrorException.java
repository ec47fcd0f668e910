package io.handoff.hub.support;

/**
 * A request the hub refuses with a 4xx answer and a JSON error body {@code {"error": {"code", "message"}}}.
 * Thrown before anything is written.
 */
public class ClientErrorException extends RuntimeException {

    private final int status;
    private final String code;

    public ClientErrorException(int status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    /** The HTTP status to answer with. */
    public int status() {
        return status;
    }

    /** A stable, machine-readable error code (e.g. {@code invalid_signature}). */
    public String code() {
        return code;
    }
}
