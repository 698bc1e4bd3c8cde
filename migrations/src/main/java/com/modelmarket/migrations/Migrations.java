package com.modelmarket.migrations;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Applies the SQL migrations in {@code db/migration} (this module's resources) with Flyway.
 *
 * <p>Flyway speaks JDBC and blocks: callers run {@link #migrate} on a worker thread, never on an
 * event loop.
 */
public final class Migrations {

    /** Where the SQL files live on the classpath. */
    public static final String LOCATION = "classpath:db/migration";

    private Migrations() {
    }

    /**
     * Migrates the database to the newest version.
     *
     * @param jdbcUrl  a {@code jdbc:postgresql://} URL
     * @param user     database user
     * @param password database password (may be empty)
     * @return the number of migrations applied by this call (0 when already current)
     */
    public static int migrate(String jdbcUrl, String user, String password) {
        Flyway flyway = Flyway.configure(Migrations.class.getClassLoader())
                .dataSource(jdbcUrl, user, password)
                .locations(LOCATION)
                .failOnMissingLocations(true)
                .validateMigrationNaming(true)
                .load();
        MigrateResult result = flyway.migrate();
        return result.migrationsExecuted;
    }
}
