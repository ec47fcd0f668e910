package io.handoff.hub.identity;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.jboss.logging.Logger;
import org.springframework.dao.ConcurrencyFailureException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.JdbcTemplate;

import com.fasterxml.jackson.databind.JsonNode;

import io.handoff.hub.persistence.Sql;
import io.handoff.hub.support.Pii;

/**
 * Resolves the customer an event is about to the hub id: by a system id first (the most specific), then by the
 * normalised email; an unknown customer is created. Every statement that could race with another replica is an
 * {@code INSERT ... ON CONFLICT DO NOTHING} followed by a read of whoever won, so two first events for one new
 * customer on two replicas end with one hub id. Ids and the email the event carries are linked to the customer as a
 * side effect; an id already linked to another customer stays where it is (logged, never stolen).
 */
@ApplicationScoped
@Named("identityResolver")
public class IdentityResolver {

    private static final Logger LOG = Logger.getLogger(IdentityResolver.class);
    /** Merges may chain (A into B, B into C); more hops than this means a cycle, which merge() never creates. */
    private static final int MAX_MERGE_HOPS = 16;

    private final JdbcTemplate jdbc;
    /** H2 reads a keyed IN list by the index only when it is written as row values ({@link Sql#keyedInChunks}). */
    private final java.util.function.BooleanSupplier h2;
    private final Clock clock = Clock.systemUTC();

    public IdentityResolver(@Named("hubDataSource") DataSource dataSource) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.h2 = Sql.isH2(jdbc);
    }

    /** A customer as events describe it: a normalised email and/or ids per system. */
    public record CustomerRef(String email, Map<String, String> ids) {
        public CustomerRef {
            email = Pii.normaliseEmail(email);
            ids = ids == null ? Map.of() : Map.copyOf(ids);
        }

        /** Reads a canonical {@code customerRef} object ({@code {"email", "phone", "ids": {...}}}). */
        public static CustomerRef of(JsonNode ref) {
            Map<String, String> ids = new LinkedHashMap<>();
            ref.path("ids").fields().forEachRemaining(e -> ids.put(e.getKey(), e.getValue().asText()));
            return new CustomerRef(ref.hasNonNull("email") ? ref.get("email").asText() : null, ids);
        }

        public boolean identifiesSomeone() {
            return email != null || !ids.isEmpty();
        }
    }

    /** The hub id of a customer and whether this call created it. */
    public record Resolved(String hubId, boolean created) {
    }

    public Resolved resolve(CustomerRef ref) {
        if (!ref.identifiesSomeone()) {
            throw new IllegalArgumentException("the customer reference carries neither an email nor a system id");
        }
        String hubId = null;
        for (var id : ref.ids().entrySet()) {
            hubId = ownerOf(id.getKey(), id.getValue()).orElse(null);
            if (hubId != null) {
                break;
            }
        }
        if (hubId == null && ref.email() != null) {
            hubId = byEmail(ref.email()).orElse(null);
        }
        boolean created = false;
        if (hubId == null) {
            String candidate = UUID.randomUUID().toString();
            hubId = create(candidate, ref);
            created = hubId.equals(candidate);
        }
        hubId = survivorOf(hubId);
        link(hubId, ref);
        return new Resolved(hubId, created);
    }

    /** A resolved customer as one event saw it: the hub id, the email and the first id per system at that point. */
    public record Snapshot(String hubId, String email, Map<String, String> ids) {
    }

    /**
     * Resolves a batch of customer references in order, as {@link #resolve} would one after the other, with a few
     * set-based queries instead of a dozen statements per reference: the ids, emails and customers the batch names
     * are read up front, each reference is resolved in memory against them (and against what the references before it
     * created or linked), and the new customers, links and emails are written with JDBC batches. Must run inside the
     * caller's transaction. A customer or id that another replica wrote at the same moment fails the batch with a
     * {@link ConcurrencyFailureException}, for the caller to resolve it again.
     */
    public List<Snapshot> resolveAll(List<CustomerRef> refs) {
        return new BatchResolution(refs).run();
    }

    private record SystemId(String system, String id) {
    }

    /** What resolveAll knows of one customer: its email, its survivor, and every id linked to it. */
    private static final class Known {
        String email;
        String mergedInto;
        final Map<String, java.util.TreeSet<String>> ids = new java.util.TreeMap<>();

        Map<String, String> firstIds() {
            Map<String, String> first = new LinkedHashMap<>();
            ids.forEach((system, values) -> first.put(system, values.first()));
            return first;
        }
    }

    private final class BatchResolution {
        private final List<CustomerRef> refs;
        private final Map<String, String> emailOwner = new java.util.HashMap<>();
        private final Map<SystemId, String> idOwner = new java.util.HashMap<>();
        private final Map<String, Known> customers = new java.util.HashMap<>();
        private final List<Object[]> newCustomers = new ArrayList<>();
        private final List<SystemId> newLinks = new ArrayList<>();
        private final Map<SystemId, String> newLinkOwners = new LinkedHashMap<>();
        private final List<Object[]> newEmails = new ArrayList<>();
        private final java.time.Instant now = clock.instant();

        BatchResolution(List<CustomerRef> refs) {
            this.refs = refs;
        }

        List<Snapshot> run() {
            load();
            List<Snapshot> out = new ArrayList<>(refs.size());
            for (CustomerRef ref : refs) {
                String hubId = resolveOne(ref);
                Known known = customers.get(hubId);
                out.add(new Snapshot(hubId, known.email, known.firstIds()));
            }
            write();
            return out;
        }

        private void load() {
            java.util.Set<String> emails = new java.util.LinkedHashSet<>();
            java.util.Set<SystemId> wanted = new java.util.LinkedHashSet<>();
            for (CustomerRef ref : refs) {
                if (ref.email() != null) {
                    emails.add(ref.email());
                }
                ref.ids().forEach((system, id) -> wanted.add(new SystemId(system, id)));
            }
            java.util.Set<String> hubIds = new java.util.LinkedHashSet<>();
            Sql.inChunks(null, List.copyOf(emails), (marks, args) -> jdbc.query("SELECT hub_id, email FROM customer"
                    + " WHERE email IN (" + marks + ")", rs -> {
                        emailOwner.put(rs.getString(2), rs.getString(1));
                        hubIds.add(rs.getString(1));
                    }, args));
            owners(wanted).forEach((id, owner) -> {
                idOwner.put(id, owner);
                hubIds.add(owner);
            });
            // The customers named, and the survivors they were merged into (merges may chain).
            List<String> toLoad = List.copyOf(hubIds);
            for (int hop = 0; !toLoad.isEmpty(); hop++) {
                if (hop > MAX_MERGE_HOPS) {
                    throw new IllegalStateException("merge chain longer than " + MAX_MERGE_HOPS);
                }
                java.util.Set<String> next = new java.util.LinkedHashSet<>();
                Sql.inChunks(null, toLoad, (marks, args) -> jdbc.query("SELECT hub_id, email, merged_into FROM customer"
                        + " WHERE hub_id IN (" + marks + ")", rs -> {
                            Known known = new Known();
                            known.email = rs.getString(2);
                            known.mergedInto = rs.getString(3);
                            customers.put(rs.getString(1), known);
                            if (known.mergedInto != null) {
                                next.add(known.mergedInto);
                            }
                        }, args));
                next.removeAll(customers.keySet());
                toLoad = List.copyOf(next);
            }
            Sql.inChunks(null, List.copyOf(customers.keySet()), (marks, args) -> jdbc.query("SELECT system,"
                    + " system_id, hub_id FROM customer_system_id WHERE hub_id IN (" + marks + ")", rs -> {
                        customers.get(rs.getString(3)).ids.computeIfAbsent(rs.getString(1),
                                k -> new java.util.TreeSet<>()).add(rs.getString(2));
                    }, args));
        }

        /** {@link #resolve}, against what is known in memory. */
        private String resolveOne(CustomerRef ref) {
            if (!ref.identifiesSomeone()) {
                throw new IllegalArgumentException("the customer reference carries neither an email nor a system id");
            }
            String hubId = null;
            for (var id : ref.ids().entrySet()) {
                hubId = idOwner.get(new SystemId(id.getKey(), id.getValue()));
                if (hubId != null) {
                    break;
                }
            }
            if (hubId == null && ref.email() != null && emailOwner.containsKey(ref.email())) {
                hubId = survivor(emailOwner.get(ref.email()));
            }
            if (hubId == null) {
                hubId = UUID.randomUUID().toString();
                Known created = new Known();
                created.email = ref.email();
                customers.put(hubId, created);
                newCustomers.add(new Object[] { hubId, ref.email(), Sql.timestamp(now) });
                if (ref.email() != null) {
                    emailOwner.put(ref.email(), hubId);
                } else {
                    var first = ref.ids().entrySet().iterator().next();
                    claim(new SystemId(first.getKey(), first.getValue()), hubId);
                }
            }
            hubId = survivor(hubId);
            for (var id : ref.ids().entrySet()) {
                SystemId systemId = new SystemId(id.getKey(), id.getValue());
                if (!idOwner.containsKey(systemId)) {
                    claim(systemId, hubId);
                }
                String owner = idOwner.get(systemId);
                if (!survivor(owner).equals(hubId)) {
                    LOG.warnf("%s id %s belongs to customer %s, not %s: left as it is", id.getKey(), id.getValue(),
                            owner, hubId);
                }
            }
            Known known = customers.get(hubId);
            if (ref.email() != null && known.email == null && !emailOwner.containsKey(ref.email())) {
                known.email = ref.email();
                emailOwner.put(ref.email(), hubId);
                newEmails.add(new Object[] { ref.email(), hubId, ref.email() });
            }
            return hubId;
        }

        private void claim(SystemId id, String hubId) {
            idOwner.put(id, hubId);
            newLinks.add(id);
            newLinkOwners.put(id, hubId);
            customers.get(hubId).ids.computeIfAbsent(id.system(), k -> new java.util.TreeSet<>()).add(id.id());
        }

        /** The owners of system ids, by the primary key (system, system_id): one query per system and chunk. */
        private Map<SystemId, String> owners(java.util.Collection<SystemId> ids) {
            Map<String, List<String>> bySystem = new LinkedHashMap<>();
            ids.forEach(id -> bySystem.computeIfAbsent(id.system(), k -> new ArrayList<>()).add(id.id()));
            Map<SystemId, String> owners = new java.util.HashMap<>();
            bySystem.forEach((system, values) -> Sql.keyedInChunks(h2.getAsBoolean(), "system", "system_id", system,
                    values, (condition, args) -> jdbc.query("SELECT system, system_id, hub_id FROM customer_system_id"
                            + " WHERE " + condition, rs -> {
                                owners.put(new SystemId(rs.getString(1), rs.getString(2)), rs.getString(3));
                            }, args)));
            return owners;
        }

        private String survivor(String hubId) {
            String current = hubId;
            for (int hop = 0; hop < MAX_MERGE_HOPS; hop++) {
                Known known = customers.get(current);
                if (known == null || known.mergedInto == null) {
                    return current;
                }
                current = known.mergedInto;
            }
            throw new IllegalStateException("merge chain of " + hubId + " is longer than " + MAX_MERGE_HOPS);
        }

        /** Writes the new customers, links and emails, and fails if another replica took one of them meanwhile. */
        private void write() {
            if (!newCustomers.isEmpty()) {
                jdbc.batchUpdate("INSERT INTO customer (hub_id, email, created_at) VALUES (?, ?, ?)"
                        + " ON CONFLICT DO NOTHING", newCustomers);
                List<String> created = newCustomers.stream().map(row -> (String) row[0]).toList();
                java.util.Set<String> stored = new java.util.HashSet<>();
                Sql.inChunks(null, created, (marks, args) -> jdbc.query("SELECT hub_id FROM customer WHERE hub_id IN ("
                        + marks + ")", rs -> {
                            stored.add(rs.getString(1));
                        }, args));
                if (stored.size() != created.size()) {
                    throw new ConcurrencyFailureException("a customer of this batch was created by a concurrent event");
                }
            }
            if (!newLinks.isEmpty()) {
                jdbc.batchUpdate("INSERT INTO customer_system_id (system, system_id, hub_id, linked_at)"
                        + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", newLinks.stream().map(id -> new Object[] {
                            id.system(), id.id(), newLinkOwners.get(id), Sql.timestamp(now) }).toList());
                Map<SystemId, String> owners = owners(newLinks);
                for (SystemId id : newLinks) {
                    if (!newLinkOwners.get(id).equals(owners.get(id))) {
                        throw new ConcurrencyFailureException(
                                "a system id of this batch was linked by a concurrent event");
                    }
                }
            }
            if (!newEmails.isEmpty()) {
                jdbc.batchUpdate("UPDATE customer SET email = ? WHERE hub_id = ? AND email IS NULL"
                        + " AND NOT EXISTS (SELECT 1 FROM customer other WHERE other.email = ?)", newEmails);
            }
        }
    }

    /** Creates a customer, or returns the one a concurrent event created for the same email or first system id. */
    private String create(String candidate, CustomerRef ref) {
        if (ref.email() != null) {
            jdbc.update("INSERT INTO customer (hub_id, email, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    candidate, ref.email(), Sql.timestamp(clock.instant()));
            return winner(() -> byEmail(ref.email()));
        }
        jdbc.update("INSERT INTO customer (hub_id, email, created_at) VALUES (?, NULL, ?)", candidate,
                Sql.timestamp(clock.instant()));
        var first = ref.ids().entrySet().iterator().next();
        claim(first.getKey(), first.getValue(), candidate);
        String owner = winner(() -> ownerOf(first.getKey(), first.getValue()));
        if (!owner.equals(candidate)) {
            // Another event created this customer first: drop our empty row.
            jdbc.update("DELETE FROM customer WHERE hub_id = ?", candidate);
        }
        return owner;
    }

    /**
     * The row that won a create race. On PostgreSQL the losing insert waits for the winner's commit, so the row is
     * there; on H2 the losing insert does nothing at once, and the winner's transaction may not have committed yet.
     * So look again for up to a second; after that the caller's retry (a race is a ConcurrencyFailureException, which
     * the ledger and identity routes decide again) takes over.
     */
    private static String winner(Supplier<Optional<String>> lookup) {
        for (int attempt = 0; attempt < 100; attempt++) {
            Optional<String> found = lookup.get();
            if (found.isPresent()) {
                return found.get();
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        throw new ConcurrencyFailureException(
                "the customer created by a concurrent event was not committed within a second");
    }

    private void link(String hubId, CustomerRef ref) {
        for (var id : ref.ids().entrySet()) {
            claim(id.getKey(), id.getValue(), hubId);
            String owner = ownerOf(id.getKey(), id.getValue()).orElseThrow();
            if (!survivorOf(owner).equals(hubId)) {
                LOG.warnf("%s id %s belongs to customer %s, not %s: left as it is", id.getKey(), id.getValue(),
                        owner, hubId);
            }
        }
        if (ref.email() != null) {
            try {
                jdbc.update("UPDATE customer SET email = ? WHERE hub_id = ? AND email IS NULL"
                        + " AND NOT EXISTS (SELECT 1 FROM customer other WHERE other.email = ?)",
                        ref.email(), hubId, ref.email());
            } catch (DataIntegrityViolationException raced) {
                // Another customer took this email at the same instant: the email stays with them.
            }
        }
    }

    /**
     * Links an id a system knows this customer by (found by a propagation lane's lookup), unless that id already
     * belongs to someone: an id is never stolen.
     */
    public void link(String hubId, String system, String systemId) {
        claim(system, systemId, hubId);
    }

    private void claim(String system, String systemId, String hubId) {
        jdbc.update("INSERT INTO customer_system_id (system, system_id, hub_id, linked_at) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT DO NOTHING", system, systemId, hubId, Sql.timestamp(clock.instant()));
    }

    Optional<String> ownerOf(String system, String systemId) {
        return jdbc.query("SELECT hub_id FROM customer_system_id WHERE system = ? AND system_id = ?",
                (rs, i) -> rs.getString(1), system, systemId).stream().findFirst();
    }

    /** The hub id of the customer with this normalised email, following merges. */
    public Optional<String> byEmail(String normalisedEmail) {
        return jdbc.query("SELECT hub_id FROM customer WHERE email = ?", (rs, i) -> rs.getString(1), normalisedEmail)
                .stream().findFirst().map(this::survivorOf);
    }

    /** Follows merged_into to the customer that lives on. */
    public String survivorOf(String hubId) {
        String current = hubId;
        for (int hop = 0; hop < MAX_MERGE_HOPS; hop++) {
            List<String> next = jdbc.query("SELECT merged_into FROM customer WHERE hub_id = ?",
                    (rs, i) -> rs.getString(1), current);
            if (next.isEmpty() || next.get(0) == null) {
                return current;
            }
            current = next.get(0);
        }
        throw new IllegalStateException("merge chain of " + hubId + " is longer than " + MAX_MERGE_HOPS);
    }

    /** The ids each system knows this customer by, as {@code system -> [ids]}. */
    public Map<String, List<String>> systemIds(String hubId) {
        Map<String, List<String>> ids = new LinkedHashMap<>();
        jdbc.query("SELECT system, system_id FROM customer_system_id WHERE hub_id = ? ORDER BY system, system_id",
                rs -> {
                    ids.computeIfAbsent(rs.getString(1), s -> new ArrayList<>()).add(rs.getString(2));
                }, hubId);
        return ids;
    }

    /** The normalised email of a customer, if the hub knows one. */
    public Optional<String> emailOf(String hubId) {
        return jdbc.query("SELECT email FROM customer WHERE hub_id = ?", (rs, i) -> rs.getString(1), hubId).stream()
                .filter(e -> e != null).findFirst();
    }

    /**
     * Re-points every id of {@code merged} to {@code survivor} and marks {@code merged} as merged into it.
     *
     * @return the system ids the merged customer held before (for telling those systems)
     */
    public Map<String, List<String>> repoint(String merged, String survivor) {
        Map<String, List<String>> held = systemIds(merged);
        jdbc.update("UPDATE customer_system_id SET hub_id = ? WHERE hub_id = ?", survivor, merged);
        jdbc.update("UPDATE customer SET merged_into = ? WHERE hub_id = ?", survivor, merged);
        // The feeds' data follows the customer: orders, waitlists (the earlier sign-up of a SKU stays), tiers and
        // eligibility (the survivor's own row stays where both have one).
        jdbc.update("UPDATE feed_order SET hub_id = ? WHERE hub_id = ?", survivor, merged);
        jdbc.update("UPDATE feed_waitlist s SET joined_at = (SELECT m.joined_at FROM feed_waitlist m WHERE m.hub_id = ?"
                + " AND m.sku = s.sku) WHERE s.hub_id = ? AND EXISTS (SELECT 1 FROM feed_waitlist m WHERE m.hub_id = ?"
                + " AND m.sku = s.sku AND m.joined_at < s.joined_at)", merged, survivor, merged);
        for (String[] table : new String[][] { { "feed_waitlist", "sku" }, { "feed_loyalty_tier", "program" },
            { "feed_promotion", "promotion_id" } }) {
            jdbc.update("DELETE FROM " + table[0] + " m WHERE m.hub_id = ? AND EXISTS (SELECT 1 FROM " + table[0]
                    + " s WHERE s.hub_id = ? AND s." + table[1] + " = m." + table[1] + ")", merged, survivor);
            jdbc.update("UPDATE " + table[0] + " SET hub_id = ? WHERE hub_id = ?", survivor, merged);
        }
        return held;
    }
}
