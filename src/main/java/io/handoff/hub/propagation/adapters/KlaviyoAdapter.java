package io.handoff.hub.propagation.adapters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.consent.ConsentState;
import io.handoff.hub.propagation.AddressPayload;
import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorAnswer;
import io.handoff.hub.propagation.VendorClient;
import io.handoff.hub.propagation.VendorRequest;
import io.handoff.hub.support.Json;

/**
 * Klaviyo, API revision {@value #REVISION} (pinned): email consent through the bulk jobs, up to 100 profiles a call.
 * <ul>
 * <li>unsubscribed: {@code POST /api/profile-subscription-bulk-delete-jobs} with
 * {@code subscriptions.email.marketing.consent = UNSUBSCRIBED};</li>
 * <li>subscribed: {@code POST /api/profile-subscription-bulk-create-jobs} ({@code historical_import} with the
 * customer's own consent time, so Klaviyo sends no second opt-in for consent collected elsewhere);</li>
 * <li>suppressed (hard bounce, spam complaint): {@code POST /api/profile-suppression-bulk-create-jobs}.</li>
 * </ul>
 * No unintended global unsubscribe: Klaviyo unsubscribes a profile that is not on the given list from everything. So the
 * account-wide purpose ({@code hub.systems.klaviyo.account-wide-purpose}, default {@code marketing}) unsubscribes
 * account-wide, which is what the ledger means by it; a purpose mapped to a list
 * ({@code hub.systems.klaviyo.lists.<purpose>=<list id>}) first checks each profile's membership and unsubscribes
 * only members from that list; any other purpose is not sent. SMS consent is not sent: Klaviyo keys SMS by phone
 * number, which the ledger does not hold. Addresses from the CRM master update the profile's location
 * ({@link #deliverAddresses}).
 */
public class KlaviyoAdapter extends VendorAdapter {

    public static final String REVISION = "2026-07-15";
    static final String MEDIA_TYPE = "application/vnd.api+json";
    static final int MAX_PROFILES = 100;

    private final Map<String, String> headers;
    private final String accountWidePurpose;
    private final boolean historicalImport;

    public KlaviyoAdapter(SystemConfig config) {
        super(config);
        this.headers = Map.of("Authorization", "Klaviyo-API-Key " + config.required("api-key"), "revision",
                config.value("revision", REVISION));
        this.accountWidePurpose = config.value("account-wide-purpose", "marketing");
        this.historicalImport = Boolean.parseBoolean(config.value("historical-import", "true"));
    }

    @Override
    public boolean keyedByEmail() {
        return true;
    }

    @Override
    public boolean batchesCalls() {
        return true;
    }

    @Override
    public List<Outcome> deliver(List<Delivery> batch, VendorClient client) {
        List<Outcome> outcomes = new ArrayList<>();
        Map<Job, List<Delivery>> jobs = new LinkedHashMap<>();
        for (Delivery d : batch) {
            if (!"email".equals(d.channel())) {
                outcomes.add(Outcome.skipped(d, "not-applicable: Klaviyo keys SMS consent by phone number"));
            } else if (d.email() == null) {
                outcomes.add(Outcome.skipped(d, "not-in-system: no email known for this customer"));
            } else {
                Optional<String> list = config.optional("lists." + d.purpose());
                if (list.isEmpty() && !accountWidePurpose.equals(d.purpose()) && d.state() != ConsentState.SUPPRESSED) {
                    outcomes.add(Outcome.skipped(d, "purpose-not-mapped: no Klaviyo list for purpose " + d.purpose()));
                } else {
                    jobs.computeIfAbsent(new Job(d.state(), d.state() == ConsentState.SUPPRESSED ? null : list.orElse(null)),
                            j -> new ArrayList<>()).add(d);
                }
            }
        }
        for (Map.Entry<Job, List<Delivery>> job : jobs.entrySet()) {
            List<Delivery> members = job.getValue();
            if (job.getKey().state() == ConsentState.UNSUBSCRIBED && job.getKey().listId() != null) {
                members = onList(job.getKey().listId(), members, client, outcomes);
            }
            for (int from = 0; from < members.size(); from += MAX_PROFILES) {
                List<Delivery> chunk = members.subList(from, Math.min(members.size(), from + MAX_PROFILES));
                VendorAnswer answer = client.call(request(job.getKey(), chunk));
                if (answer.status() == 400 && chunk.size() > 1) {
                    // Klaviyo refuses a whole job for one bad profile: send each alone so only that one fails.
                    for (Delivery d : chunk) {
                        VendorRequest alone = request(job.getKey(), List.of(d));
                        outcomes.add(Outcome.of(d, alone, client.call(alone)));
                    }
                    continue;
                }
                for (Delivery d : chunk) {
                    // The receipt keeps this customer's part of the job, not the other customers' emails.
                    outcomes.add(Outcome.of(d, request(job.getKey(), List.of(d)), answer));
                }
            }
        }
        return outcomes;
    }

    /** The members of the list among the deliveries; the others are skipped, never unsubscribed globally. */
    private List<Delivery> onList(String listId, List<Delivery> deliveries, VendorClient client, List<Outcome> outcomes) {
        List<Delivery> members = new ArrayList<>();
        for (Delivery d : deliveries) {
            String filter = "equals(email,\"" + d.email().replace("\\", "\\\\").replace("\"", "\\\"") + "\")";
            VendorRequest lookup = Requests.json("GET", config.url("/api/lists/" + listId + "/profiles?filter="
                    + java.net.URLEncoder.encode(filter, java.nio.charset.StandardCharsets.UTF_8)
                    + "&fields%5Bprofile%5D=email"), headers, MEDIA_TYPE, null);
            VendorAnswer answer = client.call(lookup);
            if (!answer.success()) {
                outcomes.add(Outcome.of(d, lookup, answer));
            } else if (Requests.body(answer).path("data").isEmpty()) {
                outcomes.add(Outcome.skipped(d, "not-on-list: not a member of Klaviyo list " + listId
                        + " (unsubscribing would unsubscribe globally)"));
            } else {
                members.add(d);
            }
        }
        return members;
    }

    private record Job(ConsentState state, String listId) {
    }

    VendorRequest request(Job job, List<Delivery> chunk) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ObjectNode data = body.putObject("data");
        String path;
        switch (job.state()) {
            case SUBSCRIBED -> {
                path = "/api/profile-subscription-bulk-create-jobs";
                data.put("type", "profile-subscription-bulk-create-job");
            }
            case UNSUBSCRIBED -> {
                path = "/api/profile-subscription-bulk-delete-jobs";
                data.put("type", "profile-subscription-bulk-delete-job");
            }
            default -> {
                path = "/api/profile-suppression-bulk-create-jobs";
                data.put("type", "profile-suppression-bulk-create-job");
            }
        }
        ObjectNode attributes = data.putObject("attributes");
        if (job.state() == ConsentState.SUBSCRIBED) {
            attributes.put("custom_source", "Handoff");
            attributes.put("historical_import", historicalImport);
        }
        ArrayNode profiles = attributes.putObject("profiles").putArray("data");
        for (Delivery d : chunk) {
            ObjectNode profile = profiles.addObject().put("type", "profile").putObject("attributes");
            profile.put("email", d.email());
            if (job.state() == ConsentState.SUBSCRIBED) {
                ObjectNode marketing = profile.putObject("subscriptions").putObject("email").putObject("marketing");
                marketing.put("consent", "SUBSCRIBED");
                if (historicalImport) {
                    marketing.put("consented_at", d.eventTime().toString());
                }
            } else if (job.state() == ConsentState.UNSUBSCRIBED) {
                profile.putObject("subscriptions").putObject("email").putObject("marketing").put("consent",
                        "UNSUBSCRIBED");
            }
        }
        if (job.listId() != null) {
            data.putObject("relationships").putObject("list").putObject("data").put("type", "list").put("id",
                    job.listId());
        }
        return Requests.json("POST", config.url(path), headers, MEDIA_TYPE, body);
    }

    /**
     * Addresses from the CRM master (Klaviyo as a downstream system): {@code POST /api/profile-import}, Klaviyo's
     * create-or-update by email, with the profile's {@code location} ({@code address1, address2, city, region, zip,
     * country}); 200 (updated) or 201 (created) confirms it.
     */
    @Override
    public List<Outcome> deliverAddresses(List<Delivery> batch, VendorClient client) {
        List<Outcome> outcomes = new ArrayList<>();
        for (Delivery d : batch) {
            if (d.email() == null) {
                outcomes.add(Outcome.skipped(d, "not-in-system: no email known for this customer"));
                continue;
            }
            AddressPayload address = AddressPayload.of(d);
            ObjectNode location = Json.MAPPER.createObjectNode();
            location.put("address1", address.text("line1"));
            location.put("address2", address.text("line2"));
            location.put("city", address.text("city"));
            location.put("region", address.text("region").isEmpty() ? address.text("regionCode")
                    : address.text("region"));
            location.put("zip", address.text("postalCode"));
            location.put("country", address.text("country").isEmpty() ? address.text("countryCode")
                    : address.text("country"));
            ObjectNode body = Json.MAPPER.createObjectNode();
            ObjectNode data = body.putObject("data");
            data.put("type", "profile");
            ObjectNode attributes = data.putObject("attributes");
            attributes.put("email", d.email());
            attributes.set("location", location);
            VendorRequest request = Requests.json("POST", config.url(PROFILE_IMPORT), headers, MEDIA_TYPE, body);
            outcomes.add(Outcome.of(d, request, client.call(request)));
        }
        return outcomes;
    }

    static final String PROFILE_IMPORT = "/api/profile-import";
}
