package io.handoff.hub.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The start-up line names the database without its parameters: a PostgreSQL URL may carry the password. */
class StartupSummaryTest {

    @Test
    void jdbcUrlsLoseTheirParameters() {
        assertEquals("jdbc:postgresql://db:5432/handoff",
                StartupSummary.withoutParameters("jdbc:postgresql://db:5432/handoff?user=hub&password=s3cret"));
        assertEquals("jdbc:h2:file:./data/h2/handoff", StartupSummary.withoutParameters(
                "jdbc:h2:file:./data/h2/handoff;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;PASSWORD=x"));
        assertEquals("jdbc:postgresql://db/handoff", StartupSummary.withoutParameters("jdbc:postgresql://db/handoff"));
    }
}
