package com.modelmarket.marketplace.support;

import com.modelmarket.marketplace.db.DbTarget;
import com.modelmarket.marketplace.db.EmbeddedDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One PostgreSQL server for the whole test JVM (the same embedded binaries the product uses), and
 * a fresh database on it for each test class.
 */
public final class TestDatabases {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static EmbeddedDatabase server;

    private TestDatabases() {
    }

    public static synchronized DbTarget server() {
        if (server == null) {
            try {
                Path dir = Files.createTempDirectory("mm-test-pg");
                server = EmbeddedDatabase.start(dir.resolve("cluster"), 0);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        server.close();
                    } catch (Exception ignored) {
                        // the JVM is going away
                    }
                }));
            } catch (Exception e) {
                throw new IllegalStateException("cannot start the test PostgreSQL server", e);
            }
        }
        return server.target();
    }

    /** A new, empty database on the shared server. */
    public static DbTarget freshDatabase() {
        DbTarget admin = server().withDatabase("postgres");
        String name = "mm_test_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
        try {
            EmbeddedDatabase.createDatabaseIfMissing(admin, name);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create test database " + name, e);
        }
        return admin.withDatabase(name);
    }

    public static String url(DbTarget target) {
        return "postgresql://" + target.user() + ":" + target.password() + "@" + target.host() + ":"
                + target.port() + "/" + target.database();
    }
}
