package io.handoff.hub.persistence;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

import javax.sql.DataSource;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Named;

import org.apache.camel.quarkus.main.events.AfterStart;
import org.apache.camel.quarkus.main.events.BeforeStop;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;
import org.jboss.logging.Logger;

import io.quarkus.scheduler.Scheduled.ConcurrentExecution;
import io.quarkus.scheduler.Scheduler;

/**
 * Lets the embedded H2 reuse the space of old chunks. H2 writes each commit as a new chunk of the pages it changed and
 * reuses a chunk's space once none of its pages is live; rewriting the last live pages out of sparse chunks is the
 * work of the store's background thread, which H2 runs only when commits are written late ({@code WRITE_DELAY} above
 * 0). The hub writes every commit before it returns ({@code WRITE_DELAY=0}, for the fault runs' SIGKILL), so nothing
 * rewrote them: after a burst of 60,000 consent changes the file was 16 GB, its chunks 3 % live (docs/benchmarks.md).
 * This job does that rewriting instead: every {@code hub.db.h2.compact-interval}, when the live share of the chunks is
 * below {@code hub.db.h2.compact-fill-rate} percent, it rewrites up to {@code hub.db.h2.compact-write-bytes} of live
 * pages from the emptiest chunks ({@link MVStore#compact(int, int)}). H2 rewrites and frees only chunks older than its
 * retention time (45 s, so that the file stays consistent after a power failure), so under load the file still holds
 * several GB. Every replica of the embedded default has its own file and runs it; on PostgreSQL it does nothing.
 */
@ApplicationScoped
public class H2Compaction {

    private static final Logger LOG = Logger.getLogger(H2Compaction.class);
    static final String JOB = "h2-compaction";

    private final DataSource dataSource;
    private final boolean h2;
    private final Scheduler scheduler;
    private final String interval;
    private final int fillRate;
    private final int writeBytes;
    private volatile boolean stopping;
    private volatile boolean failing;
    private volatile MVStore store;

    public H2Compaction(@Named("hubDataSource") DataSource dataSource, Scheduler scheduler,
            @ConfigProperty(name = "hub.db.kind") String dbKind,
            @ConfigProperty(name = "hub.db.h2.compact-interval", defaultValue = "1s") String interval,
            @ConfigProperty(name = "hub.db.h2.compact-fill-rate", defaultValue = "50") int fillRate,
            @ConfigProperty(name = "hub.db.h2.compact-write-bytes", defaultValue = "16777216") int writeBytes) {
        this.dataSource = dataSource;
        this.scheduler = scheduler;
        this.h2 = "h2".equals(dbKind);
        this.interval = interval;
        this.fillRate = fillRate;
        this.writeBytes = writeBytes;
    }

    void start(@Observes AfterStart event) {
        if (!h2) {
            return;
        }
        scheduler.newJob(JOB).setInterval(interval).setConcurrentExecution(ConcurrentExecution.SKIP)
                .setTask(execution -> compactNow()).schedule();
    }

    /** The pool closes after Camel stops: no pass begins from now on. */
    void stopping(@Observes BeforeStop event) {
        stopping = true;
        if (h2) {
            scheduler.unscheduleJob(JOB);
        }
    }

    /**
     * One pass: rewrites live pages out of the emptiest chunks if their live share is below the fill rate. Returns
     * whether anything was rewritten. A failure is logged once (and its end once), and the next pass tries again.
     */
    public boolean compactNow() {
        if (stopping) {
            return false;
        }
        try {
            boolean rewrote = store().map(this::compact).orElse(false);
            if (failing) {
                failing = false;
                LOG.infof("H2 compaction works again");
            }
            return rewrote;
        } catch (SQLException | RuntimeException e) {
            store = null;
            if (!stopping && !failing) {
                failing = true;
                LOG.warnf("H2 compaction failed, tried again every %s (said once): %s", interval, e.toString());
            }
            return false;
        }
    }

    /** The store, found once through a pooled connection that goes back to the pool at once. */
    private Optional<MVStore> store() throws SQLException {
        MVStore known = store;
        if (known != null && !known.isClosed()) {
            return Optional.of(known);
        }
        try (Connection connection = dataSource.getConnection()) {
            Optional<MVStore> found = store(connection);
            store = found.orElse(null);
            return found;
        }
    }

    private boolean compact(MVStore store) {
        long start = System.nanoTime();
        // Under H2's store lock, which commits wait for: hub.db.h2.compact-write-bytes bounds the pass.
        if (store.isClosed() || !store.compact(fillRate, writeBytes)) {
            return false;
        }
        // The rewritten pages are written now (H2's background thread would, at its next auto-commit), which releases
        // the chunks they came from.
        store.tryCommit();
        LOG.debugf("H2 compaction pass took %d ms", (System.nanoTime() - start) / 1_000_000);
        return true;
    }

    /** The store of the database file this connection is local to (empty: a connection to another process's H2). */
    static Optional<MVStore> store(Connection connection) throws SQLException {
        if (connection.unwrap(JdbcConnection.class).getSession() instanceof SessionLocal session) {
            return Optional.of(session.getDatabase().getStore().getMvStore());
        }
        return Optional.empty();
    }
}
