package com.modelmarket.marketplace.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server run from the binaries on the classpath, with its data under the data
 * directory so it survives restarts. Blocking: start and stop it on a worker thread.
 */
public final class EmbeddedDatabase implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDatabase.class);
    static final String DATABASE = "modelmarket";

    private final EmbeddedPostgres postgres;
    private final DbTarget target;

    private EmbeddedDatabase(EmbeddedPostgres postgres, DbTarget target) {
        this.postgres = postgres;
        this.target = target;
    }

    /**
     * Starts (initialising on first use) the server whose cluster lives in {@code directory}, and
     * makes sure the application database exists.
     *
     * @param port 0 for any free port
     */
    public static EmbeddedDatabase start(Path directory, int port) throws IOException {
        return start(directory, port, "128MB");
    }

    /**
     * As {@link #start(Path, int)}, with the server's {@code shared_buffers} (a PostgreSQL size such
     * as {@code 512MB}; setting {@code db.embedded-shared-buffers}).
     */
    public static EmbeddedDatabase start(Path directory, int port, String sharedBuffers) throws IOException {
        Files.createDirectories(directory);
        long t0 = System.nanoTime();
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(directory)
                .setCleanDataDirectory(false)
                .setServerConfig("max_connections", "200")
                .setServerConfig("fsync", "on")
                .setServerConfig("shared_buffers", sharedBuffers);
        if (port > 0) {
            builder.setPort(port);
        }
        EmbeddedPostgres pg = builder.start();
        DbTarget admin = new DbTarget("localhost", pg.getPort(), "postgres", "postgres", "");
        try {
            createDatabaseIfMissing(admin, DATABASE);
        } catch (SQLException e) {
            pg.close();
            throw new IOException("embedded PostgreSQL: cannot create database " + DATABASE + ": " + e.getMessage(), e);
        }
        LOG.info("Embedded PostgreSQL on port {} with data in {}, shared_buffers {} (started in {} ms)",
                pg.getPort(), directory, sharedBuffers, (System.nanoTime() - t0) / 1_000_000);
        return new EmbeddedDatabase(pg, admin.withDatabase(DATABASE));
    }

    /** Creates {@code name} on the server of {@code admin} unless it exists. */
    public static void createDatabaseIfMissing(DbTarget admin, String name) throws SQLException {
        if (!name.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("bad database name " + name);
        }
        try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.user(), admin.password());
             PreparedStatement check = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            check.setString(1, name);
            try (ResultSet rs = check.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
            try (Statement create = c.createStatement()) {
                create.execute("CREATE DATABASE " + name);
            }
        }
    }

    public DbTarget target() {
        return target;
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
