package io.handoff.hub.propagation.adapters;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.eclipse.microprofile.config.Config;

import io.handoff.hub.propagation.RateLimiter;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.VendorRequest;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

/** A vendor client that records the adapter's calls and answers them from a function, without HTTP. */
class FakeVendor extends VendorClient {

    final List<VendorRequest> calls = new ArrayList<>();
    private final Function<VendorRequest, VendorAnswer> answers;

    FakeVendor(Function<VendorRequest, VendorAnswer> answers) {
        super(null, null, new RateLimiter(0, 0));
        this.answers = answers;
    }

    @Override
    public VendorAnswer call(VendorRequest request) {
        calls.add(request);
        return answers.apply(request);
    }

    static VendorAnswer status(int status, String body) {
        return new VendorAnswer(status, Map.of(), body, null, 1);
    }

    static SystemConfig config(String system, Map<String, String> properties) {
        Config config = new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(properties, "test", 100)).build();
        return new SystemConfig(system, "https://vendor.example", config, false);
    }
}
