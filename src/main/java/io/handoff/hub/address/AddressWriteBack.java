package io.handoff.hub.address;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;
import org.springframework.dao.ConcurrencyFailureException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.address.AddressRules.Candidate;
import io.handoff.hub.address.AddressRules.Held;
import io.handoff.hub.address.AddressRules.Verdict;
import io.handoff.hub.address.AddressSettings.Crm;
import io.handoff.hub.address.AddressStore.Decision;
import io.handoff.hub.address.AddressStore.Seen;
import io.handoff.hub.address.AddressVerdicts.Verification;
import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.identity.IdentityResolver.CustomerRef;
import io.handoff.hub.propagation.AddressPayload;
import io.handoff.hub.propagation.Deliveries;
import io.handoff.hub.propagation.Deliveries.AddressConfirmed;
import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.PropagationLanes;

/**
 * Address write-back: validated checkout addresses flow back to the CRM master profile, under the field ownership and
 * confidence rules of {@code routes/address-writeback-settings.yaml}, without loops.
 * <ul>
 * <li>Every address an event carries is kept in the customer's history: {@code address.validated} (its validator's
 * verdict read by {@link AddressVerdicts}), Shopify {@code order.placed} shipping and billing addresses and
 * {@code customer.created/updated} default addresses (unverified candidates).</li>
 * <li>Each one is decided per CRM by {@link AddressRules} (owner, threshold, newer, different) and the write's
 * idempotency key (customer + field + normalised value + the master version it replaces). A write is an address
 * delivery in the CRM's propagation lane (retries, receipts, dead letters); every decision, written or skipped with
 * its reason, is in the write-back log.</li>
 * <li>A CRM's own change notification ({@code customer.created/updated} from a system under {@code crm}, its
 * {@code addresses} per field or its default address) carrying the value the hub wrote is the hub's echo: logged and
 * dropped. Any other value, newer than the master's, is a genuine edit there: it becomes the master.</li>
 * <li>Each change of the master (a write the CRM confirmed, a genuine edit in it) goes to the systems that draw
 * addresses from it ({@code downstream}) through their lanes.</li>
 * </ul>
 * Each event and field is decided in one transaction that locks the master row; redelivered events decide nothing
 * twice. Logs name the customer by hub id, never the address.
 */
@ApplicationScoped
@Named("addressWriteBack")
public class AddressWriteBack {

    private static final Logger LOG = Logger.getLogger(AddressWriteBack.class);
    private static final int MAX_ATTEMPTS = 5;
    static final String CHANNEL = "address";
    /** Longer addresses (as stored JSON) are refused: no CRM field takes them, and the columns hold 4,000. */
    static final int MAX_ADDRESS_CHARS = 2000;

    private final CanonicalEventCodec codec;
    private final IdentityResolver identity;
    private final AddressVerdicts verdicts;
    private final AddressNormaliser normaliser;
    private final AddressRules rules;
    private final AddressSettings settings;
    private final AddressStore store;
    private final Deliveries deliveries;
    private final PropagationLanes lanes;
    private final Clock clock = Clock.systemUTC();

    public AddressWriteBack(CanonicalEventCodec codec, IdentityResolver identity, AddressVerdicts verdicts,
            AddressNormaliser normaliser, AddressRules rules, AddressSettings settings, AddressStore store,
            Deliveries deliveries, PropagationLanes lanes) {
        this.codec = codec;
        this.identity = identity;
        this.verdicts = verdicts;
        this.normaliser = normaliser;
        this.rules = rules;
        this.settings = settings;
        this.store = store;
        this.deliveries = deliveries;
        this.lanes = lanes;
    }

    /** An address an event carries for one field of a customer. */
    record Found(String field, JsonNode address, Verification verification) {
    }

    /** Camel entry point: the Kafka record's value is a structured CloudEvent. */
    public void applyRecord(Exchange exchange) {
        apply(codec.read(exchange));
    }

    /** Decides every address the event carries; returns the decisions made (none for a redelivery). */
    public List<Decision> apply(CanonicalEvent event) {
        String system = event.source().startsWith("/systems/") ? event.source().substring("/systems/".length())
                : event.source();
        JsonNode ref = event.data().path("customer");
        List<Found> found = found(system, event);
        if (found.isEmpty()) {
            return List.of();
        }
        CustomerRef customer = ref.isObject() ? CustomerRef.of(ref) : null;
        if (customer == null || !customer.identifiesSomeone()) {
            LOG.infof("address event %s from %s names no customer: kept nowhere", event.id(), system);
            return List.of();
        }
        String hubId = identity.resolve(customer).hubId();
        List<Decision> decisions = new ArrayList<>();
        Set<String> wake = new LinkedHashSet<>();
        for (Found f : found) {
            decisions.addAll(withRetries(() -> decide(event, system, hubId, f, wake)));
        }
        wake.forEach(lanes::wake);
        for (Decision d : decisions) {
            LOG.infof("address %s from %s for %s %s%s: %s (%s)%s", event.id(), system, hubId, d.field(),
                    d.targetSystem() == null ? "" : " -> " + d.targetSystem(), d.outcome(), d.rule(),
                    d.deliveryId() == null ? "" : ", delivery " + d.deliveryId());
        }
        return decisions;
    }

    /** The addresses in an event, per field. */
    List<Found> found(String system, CanonicalEvent event) {
        ObjectNode data = event.data();
        List<Found> found = new ArrayList<>();
        switch (event.type()) {
            case ADDRESS_VALIDATED -> {
                JsonNode validator = data.path("validator");
                found.add(new Found(data.path("use").asText(), data.path("address"),
                        verdicts.read(validator.path("name").asText(), validator.path("verdict"))));
            }
            case ORDER_PLACED -> {
                add(found, "shipping", data.get("shippingAddress"), AddressVerdicts.candidate(system));
                add(found, "billing", data.get("billingAddress"), AddressVerdicts.candidate(system));
            }
            case CUSTOMER_CREATED, CUSTOMER_UPDATED -> {
                Map<String, JsonNode> byField = new LinkedHashMap<>();
                data.path("addresses").fields().forEachRemaining(e -> byField.put(e.getKey(), e.getValue()));
                // A default address is the CRM's first mapped field there, the shipping address elsewhere.
                String defaultField = settings.crm(system).flatMap(c -> c.fields().keySet().stream().findFirst())
                        .orElse("shipping");
                byField.putIfAbsent(defaultField, data.get("defaultAddress"));
                byField.forEach((field, address) -> add(found, field, address, AddressVerdicts.candidate(system)));
            }
            default -> {
                // Other events carry no customer address.
            }
        }
        return found;
    }

    private static void add(List<Found> found, String field, JsonNode address, Verification verification) {
        if (address != null && address.isObject() && (hasText(address, "line1") || hasText(address, "postalCode"))) {
            found.add(new Found(field, address, verification));
        }
    }

    private static boolean hasText(JsonNode node, String field) {
        return node.hasNonNull(field) && !node.get(field).asText().isBlank();
    }

    private List<Decision> decide(CanonicalEvent event, String system, String hubId, Found f, Set<String> wake) {
        if (store.decided(event.id(), system, f.field())) {
            return List.of();
        }
        AddressNormaliser.Normalised normalised = normaliser.normalise(f.address());
        ObjectNode stored = normaliser.stored(f.address());
        if (stored.toString().length() > MAX_ADDRESS_CHARS) {
            Decision tooLong = new Decision(hubId, f.field(), event.id(), system, null, event.time(),
                    normalised.hash(), "skipped", "too-long", "the address is longer than " + MAX_ADDRESS_CHARS
                            + " characters as JSON: not kept and not written", null);
            store.decision(tooLong);
            return List.of(tooLong);
        }
        Seen seen = new Seen(hubId, f.field(), system, event.id(), event.type().wireName(), event.time(),
                event.receivedAt(), stored.toString(), normalised.hash(), f.verification());
        store.history(seen);
        Held held = store.held(hubId, f.field()).orElse(null);
        Optional<Crm> crm = settings.crm(system).filter(c -> c.fields().containsKey(f.field()));
        List<Decision> decisions = crm.isPresent() ? crmReport(seen, stored, held, wake)
                : writeBack(seen, stored, held, wake);
        decisions.forEach(store::decision);
        return decisions;
    }

    private List<Decision> writeBack(Seen seen, ObjectNode stored, Held held, Set<String> wake) {
        if (settings.field(seen.field()).isEmpty()) {
            return List.of(decision(seen, null, "skipped", "unknown-field", "no field " + seen.field() + " in "
                    + AddressSettings.FILE, null));
        }
        if (settings.crms().isEmpty()) {
            return List.of(decision(seen, null, "skipped", "no-crm", "no crm in " + AddressSettings.FILE, null));
        }
        Verdict verdict = rules.decide(new Candidate(seen.system(), seen.field(), seen.hash(), seen.verification(),
                seen.eventTime()), held);
        List<Decision> decisions = new ArrayList<>();
        long base = held == null ? 0 : held.version();
        String changeId = "address:" + seen.hubId() + ":" + seen.field() + ":" + (base + 1);
        for (Crm crm : settings.crms()) {
            String target = crm.fields().get(seen.field());
            if (!verdict.write()) {
                decisions.add(decision(seen, crm.system(), "skipped", verdict.rule(), verdict.reason(), null));
            } else if (target == null) {
                decisions.add(decision(seen, crm.system(), "skipped", "not-mapped", crm.system() + " has no place for "
                        + seen.field() + " in " + AddressSettings.FILE, null));
            } else if (lanes.systemConfig(crm.system()).isEmpty()) {
                decisions.add(decision(seen, crm.system(), "skipped", "crm-off", "hub.systems." + crm.system()
                        + ".base-url is not set", null));
            } else if (!store.claimWrite(seen.hubId(), seen.field(), seen.hash(), crm.system(), base, seen.eventId())) {
                decisions.add(decision(seen, crm.system(), "skipped", "duplicate", "this value was already written to "
                        + crm.system() + " on top of master version " + base, null));
            } else {
                long id = plan(changeId, crm.system(), seen, stored, target);
                store.writeDelivery(seen.hubId(), seen.field(), seen.hash(), crm.system(), base, id);
                decisions.add(decision(seen, crm.system(), "written", "written", verdict.reason(), id));
                wake.add(crm.system());
            }
        }
        if (decisions.stream().anyMatch(d -> "written".equals(d.outcome()))) {
            store.master(seen, AddressStore.ORIGIN_HUB, held);
        }
        return decisions;
    }

    /**
     * A change notification from a CRM holding the master: the hub's echo, a repeat, a report of the value a write on
     * its way is replacing, or a genuine edit there.
     */
    private List<Decision> crmReport(Seen seen, ObjectNode stored, Held held, Set<String> wake) {
        String crm = seen.system();
        Instant now = clock.instant();
        Optional<AddressStore.LastWrite> last = store.lastWrite(seen.hubId(), seen.field(), crm);
        if (last.isPresent() && last.get().hash().equals(seen.hash())
                && last.get().awaitsEcho(now.minus(settings.echoWindow()))) {
            store.echoed(seen.hubId(), seen.field(), crm, last.get().baseVersion(), now);
            return List.of(decision(seen, crm, "echo", "echo", crm + " reports the value the hub wrote (delivery "
                    + last.get().deliveryId() + "): not propagated", last.get().deliveryId()));
        }
        if (held != null && held.hash().equals(seen.hash())) {
            return List.of(decision(seen, crm, "skipped", "unchanged", crm + " reports what the master already holds",
                    null));
        }
        if (held != null && last.isPresent() && last.get().open()
                && seen.hash().equals(store.previousHash(seen.hubId(), seen.field()))) {
            return List.of(decision(seen, crm, "skipped", "write-pending", crm + " reports the value the hub's write"
                    + " (delivery " + last.get().deliveryId() + ") is replacing; that write is still on its way",
                    null));
        }
        if (held != null && !seen.eventTime().isAfter(held.eventTime())) {
            return List.of(decision(seen, crm, "skipped", "not-newer", "event time " + seen.eventTime()
                    + " is not newer than the master's " + held.eventTime() + " (from " + held.system() + ")", null));
        }
        long base = held == null ? 0 : held.version();
        long version = store.master(seen, AddressStore.ORIGIN_CRM, held);
        // The hub's own writes to this CRM still waiting (or parked) would overwrite the edit: they are superseded.
        deliveries.supersedeOlder(Delivery.KIND_ADDRESS, "crm-edit:" + seen.eventId(), seen.hubId(), CHANNEL,
                seen.field(), List.of(crm));
        List<Decision> decisions = new ArrayList<>();
        Set<String> crms = new LinkedHashSet<>();
        String changeId = "address:" + seen.hubId() + ":" + seen.field() + ":" + version;
        for (Crm other : settings.crms()) {
            String target = other.fields().get(seen.field());
            if (target == null) {
                continue;
            }
            crms.add(other.system());
            if (other.system().equals(crm) || lanes.systemConfig(other.system()).isEmpty()
                    || !store.claimWrite(seen.hubId(), seen.field(), seen.hash(), other.system(), base, seen.eventId())) {
                continue;
            }
            // The other CRMs hold the master too: they are written, so their echo is recognised as well.
            long id = plan(changeId, other.system(), seen, stored, target);
            store.writeDelivery(seen.hubId(), seen.field(), seen.hash(), other.system(), base, id);
            decisions.add(decision(seen, other.system(), "written", "crm-edit", "an edit in " + crm
                    + " is the master now", id));
            wake.add(other.system());
        }
        List<String> sent = downstream(seen.hubId(), seen.field(), version, stored, seen.hash(), crm, seen.eventId(),
                seen.eventTime(), seen.receivedAt(), crms);
        wake.addAll(sent);
        decisions.add(0, decision(seen, crm, "learned", "crm-edit", "an edit in " + crm + " is now the master's "
                + seen.field() + "; sent on to " + (sent.isEmpty() ? "no other system" : sent), null));
        return decisions;
    }

    /**
     * A CRM confirmed a write: the write and (if it still holds the value) the master are confirmed, and the master's
     * new value goes downstream. Runs inside the lane's transaction that records the receipt.
     */
    void confirmed(@Observes AddressConfirmed confirmed) {
        Delivery d = confirmed.delivery();
        if (!settings.isCrm(d.system())) {
            return;
        }
        AddressPayload p = AddressPayload.of(d);
        store.confirmed(d.id(), d.hubId(), p.field(), p.hash(), confirmed.at());
        Optional<Long> version = store.masterVersionHolding(d.hubId(), p.field(), p.hash());
        if (version.isEmpty()) {
            // The master moved on before this write was confirmed: the newer value goes downstream in its turn.
            return;
        }
        Set<String> written = new LinkedHashSet<>();
        settings.crms().stream().filter(c -> c.fields().containsKey(p.field())).forEach(c -> written.add(c.system()));
        List<String> sent = downstream(d.hubId(), p.field(), version.get(), p.address(), p.hash(), d.originSystem(),
                d.changeId(), d.eventTime(), d.receivedAt(), written);
        // The lanes can see the new rows once the receipt's transaction commits.
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    sent.forEach(lanes::wake);
                }
            });
        } else {
            sent.forEach(lanes::wake);
        }
    }

    /** Plans the master's value of a field for the downstream systems (but {@code except}); returns them. */
    private List<String> downstream(String hubId, String field, long version, ObjectNode address, String hash,
            String origin, String originEvent, Instant eventTime, Instant receivedAt,
            Set<String> except) {
        List<String> systems = new ArrayList<>();
        String changeId = "address-master:" + hubId + ":" + field + ":" + version;
        for (AddressSettings.Downstream ds : settings.downstream()) {
            if (!ds.fields().contains(field) || except.contains(ds.system())
                    || lanes.systemConfig(ds.system()).isEmpty()) {
                continue;
            }
            String target = settings.crm(ds.system()).map(c -> c.fields().get(field)).orElse(field);
            Seen seen = new Seen(hubId, field, origin, originEvent, "address.master", eventTime, receivedAt,
                    address.toString(), hash, null);
            plan(changeId, ds.system(), seen, address, target);
            systems.add(ds.system());
        }
        return systems;
    }

    /** Inserts the address delivery of a change to a system (once) and supersedes its older waiting ones. */
    private long plan(String changeId, String system, Seen seen, ObjectNode address, String target) {
        String systemId = Optional.ofNullable(identity.systemIds(seen.hubId()).get(system))
                .flatMap(ids -> ids.stream().findFirst()).orElse(null);
        deliveries.insert(new Deliveries.Planned(changeId, system, Delivery.KIND_ADDRESS, seen.hubId(), CHANNEL,
                seen.field(), null, null, identity.emailOf(seen.hubId()).orElse(null), systemId, seen.system(),
                seen.eventId(), seen.eventTime(), seen.receivedAt(), Deliveries.PENDING, null,
                new AddressPayload(seen.field(), target, address, seen.hash()).toJson()));
        deliveries.supersedeOlder(Delivery.KIND_ADDRESS, changeId, seen.hubId(), CHANNEL, seen.field(),
                List.of(system));
        return deliveries.idOf(changeId, system).orElseThrow();
    }

    private static Decision decision(Seen seen, String target, String outcome, String rule, String reason,
            Long deliveryId) {
        return new Decision(seen.hubId(), seen.field(), seen.eventId(), seen.system(), target, seen.eventTime(),
                seen.hash(), outcome, rule, reason, deliveryId);
    }

    private List<Decision> withRetries(java.util.function.Supplier<List<Decision>> work) {
        for (int attempt = 1;; attempt++) {
            try {
                return store.transactions().execute(tx -> work.get());
            } catch (DataIntegrityViolationException | ConcurrencyFailureException raced) {
                // Another replica decided the same customer's field at the same moment: decide again on its result.
                if (attempt >= MAX_ATTEMPTS) {
                    throw raced;
                }
            }
        }
    }
}
