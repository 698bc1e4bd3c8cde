package com.modelmarket.marketplace.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * SQL lives in repositories: a main class holds an SQL string literal only if it is a
 * {@code *Repository}, in {@code db} (connections, tenant scope, readiness), or one of the few
 * table owners below with another name. Services read as rules.
 */
class SqlPlacementTest {

    /** Table owners that are not called *Repository, each with its reason. */
    private static final Map<String, String> OWNERS = Map.of(
            "AuditLog", "owns audit_log: appends entries in the caller's transaction and reads them",
            "UsageQueries", "the read side of usage_rollups: usage summaries and a month's count for quotas",
            "PgUsageSink", "the write side of usage_rollups and usage_commits: the meter's batched, idempotent commits");

    private static final Pattern SQL_LITERAL = Pattern.compile("\"\\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\\s");

    @Test
    @DisplayName("no main class outside the repositories contains an SQL statement")
    void sqlOnlyInRepositories() {
        List<String> found = new ArrayList<>();
        for (MainSources.Source file : MainSources.read().files()) {
            if (file.className().endsWith("Repository") || OWNERS.containsKey(file.className())
                    || file.packageName().equals(MainSources.ROOT_PACKAGE + ".db")) {
                continue;
            }
            Matcher m = SQL_LITERAL.matcher(file.code());
            while (m.find()) {
                found.add(file.path() + ": " + m.group());
            }
        }
        assertEquals(List.of(), found);
    }

    @Test
    @DisplayName("the scan recognises a statement in a service")
    void recognisesSql() {
        Matcher m = SQL_LITERAL.matcher("c.preparedQuery(\"SELECT 1 FROM tenants\"); c.query(\"UPDATE plans SET x = 1\")");
        int n = 0;
        while (m.find()) {
            n++;
        }
        assertEquals(2, n);
    }
}
