package com.modelmarket.marketplace.db;

import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.migrations.Migrations;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database as the application sees it: the embedded server (when no URL is configured),
 * migrations applied by Flyway, and a bounded reactive pool. Blocking steps run on worker threads.
 */
public final class Database {

    private static final Logger LOG = LoggerFactory.getLogger(Database.class);

    private final Pool pool;
    private final DbTarget target;
    private final Optional<EmbeddedDatabase> embedded;
    private final AtomicBoolean migrated = new AtomicBoolean();

    private Database(Pool pool, DbTarget target, Optional<EmbeddedDatabase> embedded) {
        this.pool = pool;
        this.target = target;
        this.embedded = embedded;
        this.migrated.set(true);
    }

    /** Starts or connects to the database, migrates it, and opens the pool. */
    public static Future<Database> open(Vertx vertx, AppConfig config) {
        return vertx.executeBlocking(() -> {
            Optional<EmbeddedDatabase> embedded = Optional.empty();
            DbTarget target;
            if (config.dbUrl().isPresent()) {
                target = DbTarget.parse(config.dbUrl().get());
            } else {
                // the data directory holds keys and every tenant's data: owner-only from its first
                // moment, before the embedded server creates it with its own (looser) permissions
                com.modelmarket.marketplace.util.PrivateFiles.directory(config.dataDir());
                EmbeddedDatabase db = EmbeddedDatabase.start(config.dataDir().resolve("postgres"), config.dbEmbeddedPort(),
                        config.dbEmbeddedSharedBuffers());
                embedded = Optional.of(db);
                target = db.target();
            }
            try {
                long t0 = System.nanoTime();
                int applied = Migrations.migrate(target.jdbcUrl(), target.user(), target.password());
                LOG.info("Database {}: {} migration(s) applied in {} ms", target, applied,
                        (System.nanoTime() - t0) / 1_000_000);
            } catch (RuntimeException e) {
                if (embedded.isPresent()) {
                    embedded.get().close();
                }
                throw e;
            }
            Pool pool = PgBuilder.pool()
                    .with(new PoolOptions().setMaxSize(config.dbPoolSize()).setMaxWaitQueueSize(config.dbMaxWaitQueue()))
                    .connectingTo(appConnectOptions(target))
                    .using(vertx)
                    .build();
            return new Database(pool, target, embedded);
        }, false);
    }

    /**
     * The pool's connections act as {@link TenantScope#APP_ROLE} from their first statement on (the
     * role is a startup parameter, so a connection that cannot take it fails to open instead of
     * running as the owner, whom row-level security does not bind). Flyway keeps the owner.
     */
    static PgConnectOptions appConnectOptions(DbTarget target) {
        PgConnectOptions options = target.connectOptions();
        options.addProperty("role", TenantScope.APP_ROLE);
        return options;
    }

    public Pool pool() {
        return pool;
    }

    /** How a connection of the application's own (outside the pool) connects: as the pool's do. */
    public PgConnectOptions appConnectOptions() {
        return appConnectOptions(target);
    }

    /** Runs {@code work} in a transaction scoped to one tenant's rows; see {@link TenantScope}. */
    public <T> Future<T> tenant(UUID tenantId, Function<SqlConnection, Future<T>> work) {
        return TenantScope.tenant(pool, tenantId, work);
    }

    /** Runs {@code work} in a transaction that sees every tenant; see {@link TenantScope#system}. */
    public <T> Future<T> system(Function<SqlConnection, Future<T>> work) {
        return TenantScope.system(pool, work);
    }

    public DbTarget target() {
        return target;
    }

    /** True when the schema is current and a query answers. */
    public Future<Boolean> ready() {
        if (!migrated.get()) {
            return Future.succeededFuture(false);
        }
        return pool.query("SELECT 1").execute().map(rows -> true).otherwise(false);
    }

    /** Closes the pool, then stops the embedded server if there is one. */
    public Future<Void> close(Vertx vertx) {
        return pool.close().eventually(() -> vertx.executeBlocking(() -> {
            if (embedded.isPresent()) {
                embedded.get().close();
            }
            return null;
        }, false)).mapEmpty();
    }
}
