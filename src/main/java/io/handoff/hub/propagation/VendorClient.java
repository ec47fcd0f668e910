package io.handoff.hub.propagation;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.apache.camel.http.common.HttpMethods;

/**
 * A lane's way out to its vendor, through Camel's {@code http} component: each call first takes a slot of the lane's
 * {@link RateLimiter}, then goes out with the lane's timeouts; whatever happens comes back as a {@link VendorAnswer}
 * (an I/O error or timeout is an answer with status 0, never an exception).
 */
public class VendorClient {

    private final ProducerTemplate template;
    private final String httpEndpoint;
    private final RateLimiter limiter;
    private volatile java.util.function.BooleanSupplier mayCall = () -> true;

    /**
     * @param httpEndpoint the lane's {@code http:} endpoint (timeouts, no exception on 4xx/5xx); each call sets its URL
     *        in {@code CamelHttpUri}
     */
    public VendorClient(ProducerTemplate template, String httpEndpoint, RateLimiter limiter) {
        this.template = template;
        this.httpEndpoint = httpEndpoint;
        this.limiter = limiter;
    }

    /**
     * While a lane sends a batch, calls go out only while the batch's claim is still held: a lane that lost its claim
     * (another replica took the deliveries over) must not send an older state after the newer one.
     */
    void guard(java.util.function.BooleanSupplier mayCall) {
        this.mayCall = mayCall;
    }

    /** How long until the lane's quota allows its next call (zero: now). */
    public java.time.Duration nextSlot() {
        return limiter.nextSlot(System.nanoTime());
    }

    public VendorAnswer call(VendorRequest request) {
        return send(httpEndpoint, exchange -> {
            Message message = exchange.getMessage();
            message.setHeader(Exchange.HTTP_URI, request.url());
            // As the enum the http component reads: a String would be converted on every call, by a type-converter
            // lookup the profiler found costly.
            message.setHeader(Exchange.HTTP_METHOD, HttpMethods.valueOf(request.method()));
            request.headers().forEach(message::setHeader);
            message.setBody(request.body());
        });
    }

    /**
     * Sends an exchange prepared by {@code prepare} to a route (the {@code rest-subscriber} template's
     * {@code direct:subscriber-<system>}) and reads the HTTP answer it ends with.
     */
    public VendorAnswer send(String endpointUri, Consumer<Exchange> prepare) {
        return send(endpointUri, prepare, done -> {
        });
    }

    /** As {@link #send(String, Consumer)}; {@code inspect} sees the exchange the route ended with. */
    public VendorAnswer send(String endpointUri, Consumer<Exchange> prepare, Consumer<Exchange> inspect) {
        try {
            limiter.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return VendorAnswer.failure("interrupted before the call", 0);
        }
        if (!mayCall.getAsBoolean()) {
            return VendorAnswer.failure("not sent: the lane's claim on this delivery ran out", 0);
        }
        long started = System.nanoTime();
        Exchange result = template.send(endpointUri, prepare::accept);
        long millis = (System.nanoTime() - started) / 1_000_000;
        inspect.accept(result);
        Exception error = result.getException();
        if (error instanceof HttpOperationFailedException refused) {
            // A route whose http endpoint throws on codes outside its success range: still the vendor's answer.
            Map<String, String> headers = new LinkedHashMap<>();
            if (refused.getResponseHeaders() != null) {
                headers.putAll(refused.getResponseHeaders());
            }
            return new VendorAnswer(refused.getStatusCode(), headers, refused.getResponseBody(), null, millis);
        }
        if (error != null) {
            Throwable root = error;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return VendorAnswer.failure(root.getClass().getSimpleName() + ": " + root.getMessage(), millis);
        }
        Message message = result.getMessage();
        Integer status = message.getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        Map<String, String> headers = new LinkedHashMap<>();
        message.getHeaders().forEach((name, value) -> {
            if (value instanceof String text && !name.startsWith("Camel")) {
                headers.put(name, text);
            }
        });
        return new VendorAnswer(status == null ? 0 : status, headers, message.getBody(String.class),
                status == null ? "no HTTP status in the answer" : null, millis);
    }
}
